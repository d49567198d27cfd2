"""Taking a petition down: a platform administrator's decision, with a reason the public reads."""

from __future__ import annotations

import unicodedata

from undersign.accounts.models import User
from undersign.audit import record
from undersign.campaigns.models import Campaign
from undersign.db import db, utcnow
from undersign.errors import Conflict, InvalidInput, PermissionDenied
from undersign.text import LINE_BREAKS_AND_TABS, has_control_characters

TAKEDOWN_REASON_MAX = 2000


def take_down(admin: User, campaign: Campaign, reason: str, *, ip: str | None = None) -> None:
    """Take ``campaign`` down with a public ``reason``; its count and signatures are kept.

    :raise PermissionDenied: ``admin`` is not a platform administrator.
    :raise InvalidInput: ``field="reason"``: missing, too long, or with control characters.
    :raise Conflict: the petition is down already.
    """
    if not admin.is_admin:
        raise PermissionDenied("Only platform administrators take petitions down.")
    text = unicodedata.normalize("NFC", (reason or "").replace("\r\n", "\n").strip())
    if not text:
        raise InvalidInput("Give a reason: the public reads it on the petition's page.", field="reason")
    if has_control_characters(text, allow=LINE_BREAKS_AND_TABS):
        raise InvalidInput("The reason cannot contain control characters.", field="reason")
    if len(text) > TAKEDOWN_REASON_MAX:
        raise InvalidInput(f"The reason can have at most {TAKEDOWN_REASON_MAX:,} characters.", field="reason")
    if campaign.taken_down_at is not None:
        raise Conflict(f"“{campaign.title}” is taken down already.")
    campaign.taken_down_at = utcnow()
    campaign.takedown_reason = text
    campaign.changed_at = campaign.taken_down_at
    db.session.flush()
    record(admin, "campaign.taken_down", campaign, ip=ip, organization_id=campaign.lead_organization_id,
           details={"reason": text})
