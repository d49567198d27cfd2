"""A petition with three sponsors and supporters who consented to some of them (or to none)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from tests.campaigns.campaign_factories import console, make_campaign, staff
from tests.factories import make_org, make_user
from undersign.campaigns.models import Campaign
from undersign.db import utcnow
from undersign.extensions import db
from undersign.organizations.models import Organization, Role
from undersign.signatures.models import Consent, Signature
from undersign.signatures.service import withdraw
from undersign.signatures.tokens import withdraw_token
from undersign.tokens import hash_token

_seq = itertools.count(1)


@dataclass
class Sponsors:
    campaign: Campaign
    lead: Organization
    partner: Organization
    festival: Organization
    outsider: Organization
    editors: dict[str, Any] = field(default_factory=dict)
    signatures: dict[str, Signature] = field(default_factory=dict)

    def url(self, org: Organization, rest: str = "") -> str:
        return console(org, self.campaign, rest)


def add_signature(campaign: Campaign, name: str, email: str, consents: tuple[Organization, ...] = (), *,
                  confirmed: bool = True, unsubscribed_from: tuple[Organization, ...] = ()) -> Signature:
    now = utcnow()
    n = next(_seq)
    signature = Signature(campaign_id=campaign.id, sponsorship_id=campaign.sponsorships[0].id, name=name, email=email,
                          email_key=email.lower(), country="KR", confirmed_at=now if confirmed else None,
                          created_at=now - dt.timedelta(minutes=n))
    db.session.add(signature)
    db.session.flush()
    signature.withdraw_token_hash = hash_token(withdraw_token(signature))
    for org in consents + unsubscribed_from:
        db.session.add(Consent(signature_id=signature.id, organization_id=org.id, wording=f"Keep me posted by {org.name}",
                               withdrawn_at=now if org in unsubscribed_from else None))
    db.session.commit()
    return signature


def three_sponsors() -> Sponsors:
    """Fathom (lead), Hanvoice and a festival (co-sponsors), an outsider; supporters:

    - ann: Fathom · bob: Fathom and Hanvoice · cat: nobody · dan: Fathom, then withdrew his signature
    - eve: Hanvoice, unsubscribed from Fathom earlier · fay: Fathom, never confirmed · gus: the festival
    """
    lead = make_org("Fathom Film Group", owner=make_user())
    partner = make_org("Hanvoice")
    festival = make_org("Film Festival")
    outsider = make_org("Outsider")
    campaign = make_campaign(lead, status="published", co_sponsors=(partner, festival))
    found = Sponsors(campaign, lead, partner, festival, outsider)
    for org in (lead, partner, festival, outsider):
        found.editors[org.slug] = staff(org, Role.EDITOR)
    s = found.signatures
    s["ann"] = add_signature(campaign, "Ann 김", "ann@example.org", (lead,))
    s["bob"] = add_signature(campaign, "Bob", "bob@example.org", (lead, partner))
    s["cat"] = add_signature(campaign, "Cat", "cat@example.org")
    s["dan"] = add_signature(campaign, "Dan", "dan@example.org", (lead,))
    withdraw(campaign, withdraw_token(s["dan"]))  # as his "withdraw my signature" button does
    db.session.commit()
    s["eve"] = add_signature(campaign, "Eve", "eve@example.org", (partner,), unsubscribed_from=(lead,))
    s["fay"] = add_signature(campaign, "Fay", "fay@example.org", (lead,), confirmed=False)
    s["gus"] = add_signature(campaign, "Gus", "gus@example.org", (festival,))
    return found


def editor(found: Sponsors, org: Organization) -> Any:
    return found.editors[org.slug]


def consent(signature: Signature, org: Organization) -> Consent | None:
    db.session.expire_all()
    return db.session.scalar(select(Consent).where(Consent.signature_id == signature.id,
                                                   Consent.organization_id == org.id))
