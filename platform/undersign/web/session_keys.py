"""Names of the values the Flask session carries between blueprints.

Kept outside the domains so that a domain's views need not import another's.
"""

from __future__ import annotations

# The invitation a signed-out visitor opened, so that sign-up, verification and
# sign-in (which all end on /orgs) can bring them back to it.
PENDING_INVITATION = "pending_invitation"
