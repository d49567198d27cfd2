"""Platform administrators: approval queue, takedowns, fraud tools, audit log."""
