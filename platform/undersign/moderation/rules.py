"""The rules of moderation decisions: which decision applies to which status, and what it needs."""

from __future__ import annotations

import enum

REASON_MAX = 2000


class Decision(str, enum.Enum):
    """What a platform administrator can decide about an organization."""

    APPROVE = "approve"
    REJECT = "reject"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"


# decision -> (statuses it applies to, resulting status, needs a reason, audit action)
DECISIONS: dict[Decision, tuple[frozenset[str], str, bool, str]] = {
    Decision.APPROVE: (frozenset({"pending", "rejected"}), "approved", False, "organization.approved"),
    Decision.REJECT: (frozenset({"pending"}), "rejected", True, "organization.rejected"),
    Decision.SUSPEND: (frozenset({"approved"}), "suspended", True, "organization.suspended"),
    Decision.REINSTATE: (frozenset({"suspended"}), "approved", False, "organization.reinstated"),
}


def decisions_for(status: str) -> list[Decision]:
    """The decisions an administrator can take on an organization in ``status``."""
    return [d for d, (sources, *_rest) in DECISIONS.items() if status in sources]


def needs_reason(decision: Decision) -> bool:
    return DECISIONS[decision][2]


PAST = {
    Decision.APPROVE: "approved",
    Decision.REJECT: "rejected",
    Decision.SUSPEND: "suspended",
    Decision.REINSTATE: "reinstated",
}

# A takedown's reason is public: it is shown on the petition's page.
TAKEDOWN_REASON_MAX = 1000
