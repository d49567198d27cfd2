"""Signing-test helpers: a published petition with sponsors, and signing through the real pages."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from tests.factories import make_campaign, make_org
from tests.helpers import csrf_token
from undersign.campaigns.models import Campaign, CampaignStatus, Sponsorship
from undersign.extensions import db
from undersign.organizations.models import Organization
from undersign.signatures.models import Signature

_seq = itertools.count(1)


@dataclass
class Petition:
    campaign: Campaign
    lead: Organization
    co_sponsor: Organization
    invited: Organization

    @property
    def slug(self) -> str:
        return self.campaign.slug

    @property
    def url(self) -> str:
        return f"/p/{self.slug}"

    def hosted_url(self, org: Organization) -> str:
        return f"/o/{org.slug}/p/{self.slug}"

    def sponsorship(self, org: Organization) -> Sponsorship:
        return next(s for s in self.campaign.sponsorships if s.organization_id == org.id)


def make_petition(status: CampaignStatus = CampaignStatus.PUBLISHED, **fields: Any) -> Petition:
    """Fathom (lead) with Hanvoice (accepted co-sponsor) and a festival that was only invited."""
    n = next(_seq)
    lead = make_org(f"Fathom Film Group {n}", slug=f"fathom-{n}")
    co = make_org(f"Hanvoice {n}", slug=f"hanvoice-{n}")
    invited = make_org(f"Film Festival {n}", slug=f"festival-{n}")
    values: dict[str, Any] = {
        "slug": f"let-them-go-{n}", "title": f"Let refugees go free ({n})", "summary": "Stop the deportations.",
        "body": "Why this matters.", "demands": [], "decision_maker": "UNHCR",
    }
    values.update(fields)
    campaign = make_campaign(lead, status=status, co_sponsors=(co,), invited=(invited,), **values)
    return Petition(campaign, lead, co, invited)


def supporter(name: str = "Ann Lee", email: str = "ann@example.org", **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"name": name, "email": email, "country": "CA"}
    data.update(extra)
    return data


def sign(client: Any, page: str, data: dict[str, Any], **kwargs: Any) -> Any:
    """Open ``page`` like a browser and send its sign form with ``data`` (hidden fields kept)."""
    response = client.get(page)
    assert response.status_code == 200, f"GET {page} gave {response.status_code}"
    html = response.get_data(as_text=True)
    payload = dict(hidden_fields(html))
    payload["csrf_token"] = csrf_token(html)
    payload.update(data)
    action = form_action(html)
    return client.post(action, data=payload, **kwargs)


def hidden_fields(html: str) -> dict[str, str]:
    import re
    from html import unescape

    found = {}
    for tag in re.findall(r"<input[^>]*type=\"hidden\"[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            found[name.group(1)] = unescape(value.group(1)) if value else ""
    return found


def form_action(html: str) -> str:
    import re
    from html import unescape

    match = re.search(r'<form method="post" action="([^"]+)" class="sign-form"', html)
    assert match, "no sign form on the page"
    return unescape(match.group(1))


def signature_rows(campaign: Campaign) -> int:
    return db.session.scalar(select(func.count()).select_from(Signature).where(Signature.campaign_id == campaign.id)) or 0


def counts(petition: Petition) -> tuple[int, dict[str, int]]:
    """The cached counters as the database has them now."""
    db.session.expire_all()
    campaign = db.session.get(Campaign, petition.campaign.id)
    assert campaign is not None
    return campaign.signature_count, {s.organization.slug: s.signature_count for s in campaign.sponsorships}
