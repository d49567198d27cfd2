"""Updates: posted by the editors of any accepted sponsor, listed newest first."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.campaigns.campaign_factories import console, make_campaign, staff
from tests.factories import login_as, make_org, make_user
from tests.helpers import submit, text_of
from undersign.campaigns.models import Update
from undersign.db import utcnow
from undersign.extensions import db
from undersign.audit import AuditEvent
from undersign.organizations.models import Role


def test_co_sponsor_editor_posts_an_update_and_it_is_listed_newest_first(client):
    lead = make_org("Fathom", owner=make_user())
    partner = make_org("Hanvoice")
    editor = staff(partner, Role.EDITOR)
    campaign = make_campaign(lead, status="published", co_sponsors=(partner,))
    db.session.add(Update(campaign_id=campaign.id, organization_id=lead.id, title="Older news", body="From before.",
                          created_at=utcnow() - dt.timedelta(days=2)))
    db.session.commit()

    login_as(client, editor)
    response = submit(client, console(partner, campaign, "updates/new"),
                      {"title": "We met the UNHCR", "body": "It went **well**.\n\n<script>alert(1)</script>"})
    assert response.status_code == 302
    update = db.session.scalar(select(Update).where(Update.title == "We met the UNHCR"))
    assert (update.organization_id, update.author_id) == (partner.id, editor.id)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "update.posted")) is not None

    page = client.get(console(partner, campaign, "updates"))
    html = page.get_data(as_text=True)
    assert html.index("We met the UNHCR") < html.index("Older news")
    assert "<strong>well</strong>" in html
    assert "<script>alert" not in html
    assert "Hanvoice" in text_of(page)


def test_only_the_posting_sponsor_changes_its_update(client):
    lead = make_org(owner=make_user())
    partner = make_org()
    lead_editor = staff(lead, Role.EDITOR)
    partner_editor = staff(partner, Role.EDITOR)
    campaign = make_campaign(lead, status="published", co_sponsors=(partner,))
    update = Update(campaign_id=campaign.id, organization_id=partner.id, title="Partner news", body="Text")
    db.session.add(update)
    db.session.commit()

    login_as(client, lead_editor)
    assert client.get(console(lead, campaign, f"updates/{update.id}/edit")).status_code == 403
    page = console(lead, campaign, "updates")
    assert submit(client, page, {}, action=console(lead, campaign, f"updates/{update.id}/delete")).status_code == 403
    assert submit(client, console(lead, campaign, "updates"), {"title": "Lead's words", "body": "Text"},
                  action=console(lead, campaign, f"updates/{update.id}/edit")).status_code == 403
    db.session.expire_all()
    assert (update.title, update.edited_at) == ("Partner news", None)

    client.get("/logout")
    login_as(client, partner_editor)
    url = console(partner, campaign, f"updates/{update.id}/edit")
    assert "Partner news" in client.get(url).get_data(as_text=True)
    assert submit(client, url, {"title": "Corrected news", "body": "Better text"}).status_code == 302
    db.session.expire_all()
    assert (update.title, update.body) == ("Corrected news", "Better text") and update.edited_at is not None
    assert submit(client, console(partner, campaign, "updates"), {},
                  action=console(partner, campaign, f"updates/{update.id}/delete")).status_code == 302
    assert db.session.get(Update, update.id) is None


def test_update_of_another_campaign_is_not_found(client):
    lead_owner = make_user()
    lead = make_org(owner=lead_owner)
    campaign = make_campaign(lead)
    mine_elsewhere = make_campaign(lead)
    update = Update(campaign_id=mine_elsewhere.id, organization_id=lead.id, title="Elsewhere", body="Text")
    db.session.add(update)
    db.session.commit()
    login_as(client, lead_owner)
    assert client.get(console(lead, campaign, f"updates/{update.id}/edit")).status_code == 404
    updates = console(lead, campaign, "updates")
    assert submit(client, updates, {}, action=console(lead, campaign, f"updates/{update.id}/delete")).status_code == 404
    assert submit(client, updates, {"title": "Moved", "body": "Text"},
                  action=console(lead, campaign, f"updates/{update.id}/edit")).status_code == 404
    db.session.expire_all()
    assert db.session.get(Update, update.id).title == "Elsewhere"
