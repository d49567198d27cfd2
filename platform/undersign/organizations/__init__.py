"""Organizations (the tenants): profile, members and roles, invitations, public page."""
