"""A supporter's own signatures at ``/me``: a sign-in link by mail, the list, its choices, the data, erasure."""
