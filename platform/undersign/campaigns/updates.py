"""Updates: news about a petition, posted by any of its accepted sponsors and changed only by the
sponsor that posted it. Like `campaigns.service`: explicit inputs, flush, never commit.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import select

from undersign.accounts.models import User
from undersign.campaigns.models import Campaign, Update
from undersign.campaigns.rules import clean_update
from undersign.campaigns.service import require_accepted
from undersign.db import db, utcnow
from undersign.errors import PermissionDenied
from undersign.audit import record
from undersign.organizations.models import Organization
from undersign.scoped import of_organization


def updates_of(campaign: Campaign) -> list[Update]:
    """The campaign's updates, newest first."""
    return list(db.session.scalars(
        select(Update).where(Update.campaign_id == campaign.id).order_by(Update.created_at.desc(), Update.id.desc())
    ))


def post_update(actor: User, org: Organization, campaign: Campaign, title: str, body: str,
                now: dt.datetime | None = None, *, ip: str | None = None) -> Update:
    """News from one of the sponsors, dated now.

    :raise NotFound: ``org`` is not an accepted sponsor.
    :raise InvalidInput: empty or too long.
    """
    require_accepted(org, campaign)
    now = now or utcnow()
    title, body = clean_update(title, body)
    update = Update(campaign_id=campaign.id, organization_id=org.id, author_id=actor.id, title=title, body=body,
                    created_at=now)
    db.session.add(update)
    campaign.edited(now)
    db.session.flush()
    record(actor, "update.posted", update, organization_id=org.id, details={"campaign": campaign.slug}, ip=ip)
    return update


def update_of(campaign: Campaign, update_id: int) -> Update:
    """:raise NotFound: no such update on this campaign."""
    return of_organization(Update, update_id, campaign.id, _("There is no such update."), column=Update.campaign_id)


def require_author_org(org: Organization, update: Update) -> None:
    """:raise PermissionDenied: another sponsor posted ``update``."""
    if update.organization_id != org.id:
        raise PermissionDenied(_("This update was posted by %(name)s; only they can change it.",
                                 name=update.organization.name))


def edit_update(actor: User, org: Organization, campaign: Campaign, update_id: int, title: str, body: str,
                now: dt.datetime | None = None, *, ip: str | None = None) -> Update:
    """:raise NotFound: no such update. :raise PermissionDenied: another sponsor posted it."""
    require_accepted(org, campaign)
    update = update_of(campaign, update_id)
    require_author_org(org, update)
    now = now or utcnow()
    update.title, update.body = clean_update(title, body)
    update.edited_at = now
    campaign.edited(now)
    db.session.flush()
    record(actor, "update.edited", update, organization_id=org.id, details={"campaign": campaign.slug}, ip=ip)
    return update


def delete_update(actor: User, org: Organization, campaign: Campaign, update_id: int,
                  now: dt.datetime | None = None, *, ip: str | None = None) -> None:
    """:raise NotFound: no such update. :raise PermissionDenied: another sponsor posted it."""
    require_accepted(org, campaign)
    update = update_of(campaign, update_id)
    require_author_org(org, update)
    record(actor, "update.deleted", update, organization_id=org.id,
           details={"campaign": campaign.slug, "title": update.title}, ip=ip)
    db.session.delete(update)
    campaign.edited(now or utcnow())
    db.session.flush()