"""draft -> published -> closed | victory, publishing only by approved organizations, closing by date."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.campaigns.campaign_factories import console, make_campaign, staff
from tests.factories import login_as, make_org, make_user
from tests.helpers import submit, text_of
from undersign.campaigns.models import Campaign
from undersign.campaigns.service import close_expired_campaigns
from undersign.db import utcnow
from undersign.extensions import db
from undersign.audit import AuditEvent, ip_hash
from undersign.organizations.models import OrgStatus, Role


def _post(client, org, campaign, action, **kwargs):  # type: ignore[no-untyped-def]
    return submit(client, console(org, campaign), {}, action=console(org, campaign, action), **kwargs)


def test_admin_publishes_closes_and_declares_victory(client):
    org = make_org(owner=make_user())
    admin = staff(org, Role.ADMIN)
    campaign = make_campaign(org)
    login_as(client, admin)

    response = _post(client, org, campaign, "publish")
    assert response.status_code == 302
    db.session.expire_all()
    assert campaign.status == "published" and campaign.published_at is not None
    assert "is published" in text_of(client.get(console(org, campaign)))

    assert _post(client, org, campaign, "close").status_code == 302
    db.session.expire_all()
    assert campaign.status == "closed"
    assert _post(client, org, campaign, "victory").status_code == 302
    db.session.expire_all()
    assert campaign.status == "victory"
    actions = list(db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "campaigns", AuditEvent.object_id == campaign.id)
        .order_by(AuditEvent.id)
    ))
    assert actions == ["campaign.published", "campaign.closed", "campaign.victory"]


def test_lifecycle_events_carry_the_client_address(client):
    org = make_org(owner=make_user())
    campaign = make_campaign(org)
    login_as(client, staff(org, Role.ADMIN))
    assert _post(client, org, campaign, "publish", environ_base={"REMOTE_ADDR": "192.0.2.44"}).status_code == 302
    assert db.session.scalars(select(AuditEvent.ip_hash).where(
        AuditEvent.object_id == campaign.id, AuditEvent.action == "campaign.published")).all() == [ip_hash("192.0.2.44")]


def test_wrong_transitions_are_refused_with_a_message(client):
    org = make_org(owner=make_user())
    admin = staff(org, Role.ADMIN)
    draft = make_campaign(org)
    login_as(client, admin)
    response = _post(client, org, draft, "close")
    assert response.status_code == 302
    assert "Only a published petition can be closed" in text_of(client.get(response.headers["Location"]))
    response = _post(client, org, draft, "victory")
    assert response.status_code == 302
    assert "Only a published or closed petition can be declared a victory" in text_of(
        client.get(response.headers["Location"]))
    published = make_campaign(org, status="published")
    follow = client.get(console(org, published))
    _post(client, org, published, "publish")
    assert "already was" in text_of(client.get(console(org, published)))
    db.session.expire_all()
    assert (draft.status, published.status) == ("draft", "published")
    assert follow.status_code == 200


def test_draft_without_text_cannot_be_published(client):
    org = make_org(owner=make_user())
    admin = staff(org, Role.ADMIN)
    campaign = make_campaign(org, body="")
    login_as(client, admin)
    _post(client, org, campaign, "publish")
    assert "Write the petition's text" in text_of(client.get(console(org, campaign)))
    db.session.expire_all()
    assert campaign.status == "draft"


@pytest.mark.parametrize("status, words", [
    (OrgStatus.PENDING, "waiting for approval"),
    (OrgStatus.SUSPENDED, "is suspended"),
    (OrgStatus.REJECTED, "was not approved"),
])
def test_unapproved_organization_cannot_publish(client, status, words):
    owner = make_user()
    org = make_org(owner=owner, status=status, status_reason="Unclear purpose.")
    campaign = make_campaign(org)
    login_as(client, owner)
    page = text_of(client.get(console(org, campaign)))
    assert words in page  # told before trying, in place of the button
    response = _post(client, org, campaign, "publish")
    if status is OrgStatus.SUSPENDED:  # its whole console is read-only
        assert response.status_code == 403 and "Unclear purpose." in text_of(response)
    else:
        assert response.status_code == 302
        assert words in text_of(client.get(response.headers["Location"]))
    db.session.expire_all()
    assert campaign.status == "draft"


def test_editor_cannot_publish(client):
    org = make_org(owner=make_user())
    editor = staff(org, Role.EDITOR)
    campaign = make_campaign(org)
    login_as(client, editor)
    assert _post(client, org, campaign, "publish").status_code == 403
    db.session.expire_all()
    assert campaign.status == "draft"


def test_past_closing_date_blocks_publishing(client):
    org = make_org(owner=make_user())
    admin = staff(org, Role.ADMIN)
    campaign = make_campaign(org, closes_at=utcnow() - dt.timedelta(hours=1))
    login_as(client, admin)
    assert _post(client, org, campaign, "publish").status_code == 302
    assert "closing date has passed" in text_of(client.get(console(org, campaign)))
    db.session.expire_all()
    assert (campaign.status, campaign.published_at) == ("draft", None)


def test_closing_date_must_lie_ahead(client):
    org = make_org(owner=make_user())
    editor = staff(org, Role.EDITOR)
    login_as(client, editor)
    response = submit(client, console(org, rest="new"), {"title": "Too late", "closes_on": "2001-01-01"})
    assert response.status_code == 400
    assert "in the future" in text_of(response)
    response = submit(client, console(org, rest="new"), {"title": "Too far", "closes_on": "9999-12-31"})
    assert response.status_code == 400
    assert "within the next 10 years" in text_of(response)
    assert db.session.scalars(select(Campaign).where(Campaign.lead_organization_id == org.id)).all() == []


def test_petitions_close_by_themselves_at_their_closing_date(client, app):
    org = make_org(owner=make_user())
    now = utcnow()
    due = make_campaign(org, status="published", closes_at=now - dt.timedelta(minutes=1))
    later = make_campaign(org, status="published", closes_at=now + dt.timedelta(days=3))
    draft = make_campaign(org, status="draft", closes_at=now - dt.timedelta(days=1))
    # Readers see it closed before the job has run.
    assert due.public_status(now) == "closed" and not due.accepts_signatures(now)

    assert close_expired_campaigns(now) == 1
    db.session.commit()
    db.session.expire_all()
    assert (due.status, later.status, draft.status) == ("closed", "published", "draft")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.object_id == due.id, AuditEvent.action == "campaign.closed"))
    assert event is not None and event.actor_id is None
    assert close_expired_campaigns(now) == 0


def test_close_expired_command(app):
    org = make_org(owner=make_user())
    campaign = make_campaign(org, status="published", closes_at=utcnow() - dt.timedelta(seconds=5))
    result = app.test_cli_runner().invoke(args=["close-expired"])
    assert result.exit_code == 0, result.output
    assert "1 petition(s) closed" in result.output
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).status == "closed"
