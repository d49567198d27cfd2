"""HTTP plumbing shared by every blueprint: access guards, tenancy, errors, redirects, headers."""
