"""The public append-only signature log: every move of a campaign's count is a Merkle-tree leaf (RFC 6962),
heads are signed with Ed25519, and anyone can check the count, a head's history and their own signature."""
