"""Staff accounts: sign-up, e-mail verification, sign-in, password reset, sessions."""
