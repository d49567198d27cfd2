"""Campaign rows put straight into the database, for tests that start from an existing petition."""

from __future__ import annotations

from typing import Any

from tests.factories import add_member, make_campaign, png_bytes
from undersign.campaigns.models import Campaign
from undersign.organizations.models import Organization, Role

__all__ = ["console", "make_campaign", "png_bytes", "staff"]


def staff(org: Organization, role: Role) -> Any:
    """A new member of ``org`` with ``role``."""
    return add_member(org, role=role)


def console(org: Organization, campaign: Campaign | None = None, rest: str = "") -> str:
    """A console URL of ``campaign`` (or the campaign list) as seen through ``org``."""
    if campaign is None:
        return f"/orgs/{org.slug}/campaigns/{rest}"
    return f"/orgs/{org.slug}/campaigns/{campaign.slug}/{rest}"
