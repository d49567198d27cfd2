"""Drafting a petition in the lead organization's console."""

from __future__ import annotations

import datetime as dt
import io

from sqlalchemy import select

from tests.campaigns.campaign_factories import console, make_campaign, png_bytes, staff
from tests.factories import login_as, make_org, make_user
from tests.helpers import submit, text_of
from undersign.campaigns.models import Campaign, CampaignRevision, SponsorshipStatus
from undersign.db import utcnow
from undersign.extensions import db
from undersign.audit import AuditEvent
from undersign.organizations.models import OrgStatus, Role


def draft_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "title": "Help North Korean Refugees",
        "slug": "",
        "summary": "Ask the UN to recognize North Korean defectors as refugees.",
        "body": "Imagine living in a country where **hunger** is everyday life.\n\n- prison camps\n- executions",
        "decision_maker": "UN High Commissioner for Refugees",
        "decision_maker_handle": "@Refugees",
        "demands": "1) Rethink deportation laws\nRecognize defectors as refugees.\n\n"
                   "2) Rethink human smuggling laws\nAllow private sponsorship of defectors.",
        "hashtag": "#EscapeNorthKorea",
        "social_handle": "@thedefectormov",
        "calls_to_action": "Walk in a defector's shoes | https://example.org/defector\n"
                           "Join the community on Facebook | https://facebook.com/example",
        "goal": "1000",
        "closes_on": "",
    }
    data.update(overrides)
    return data


def _lead_editor():  # type: ignore[no-untyped-def]
    owner = make_user()
    org = make_org("Fathom Film Group", slug="fathom", owner=owner)
    return org, staff(org, Role.EDITOR)


def test_editor_drafts_a_petition_with_everything(client):
    org, editor = _lead_editor()
    login_as(client, editor)
    data = draft_data(image=(io.BytesIO(png_bytes()), "picture.png"))
    response = submit(client, console(org, rest="new"), data, content_type="multipart/form-data")
    assert response.status_code == 302

    campaign = db.session.scalar(select(Campaign).where(Campaign.title == "Help North Korean Refugees"))
    assert campaign.slug == "help-north-korean-refugees"
    assert response.headers["Location"].endswith(f"/orgs/fathom/campaigns/{campaign.slug}/")
    assert campaign.status == "draft"
    assert campaign.hashtag == "EscapeNorthKorea"
    assert campaign.social_handle == "thedefectormov"
    assert campaign.decision_maker_handle == "Refugees"
    assert campaign.demands == [
        {"title": "Rethink deportation laws", "text": "Recognize defectors as refugees."},
        {"title": "Rethink human smuggling laws", "text": "Allow private sponsorship of defectors."},
    ]
    assert campaign.calls_to_action[1] == {"label": "Join the community on Facebook", "url": "https://facebook.com/example"}
    assert campaign.goal == 1000
    assert campaign.image is not None and campaign.image.content_type == "image/webp"
    [lead] = campaign.sponsorships
    assert (lead.organization_id, lead.role, lead.status) == (org.id, "lead", SponsorshipStatus.ACCEPTED.value)
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.organization_id == org.id)))
    assert {"campaign.created", "sponsorship.created"} <= actions

    page = client.get(console(org, campaign))
    assert page.status_code == 200
    assert "Help North Korean Refugees" in text_of(page)
    listing = text_of(client.get(console(org)))
    assert "Help North Korean Refugees" in listing and "Draft" in listing


def test_edit_form_shows_what_was_saved_and_saves_changes(client):
    org, editor = _lead_editor()
    login_as(client, editor)
    submit(client, console(org, rest="new"), draft_data())
    campaign = db.session.scalar(select(Campaign).where(Campaign.lead_organization_id == org.id))
    form = client.get(console(org, campaign, "edit")).get_data(as_text=True)
    assert "#EscapeNorthKorea" in form and "@thedefectormov" in form
    assert "Join the community on Facebook | https://facebook.com/example" in form

    closes_on = (utcnow() + dt.timedelta(days=200)).date().isoformat()
    response = submit(client, console(org, campaign, "edit"),
                      draft_data(title="Help refugees now", slug="help-now", closes_on=closes_on, goal=""))
    assert response.status_code == 302
    db.session.expire_all()
    assert (campaign.title, campaign.slug, campaign.goal) == ("Help refugees now", "help-now", None)
    assert campaign.closes_at.date().isoformat() == closes_on
    # No one has signed yet: no history is kept.
    assert db.session.scalar(select(CampaignRevision).where(CampaignRevision.campaign_id == campaign.id)) is None


def test_slug_is_made_unique_or_refused(client):
    org, editor = _lead_editor()
    login_as(client, editor)
    make_campaign(org, slug="save-the-river")
    assert submit(client, console(org, rest="new"), draft_data(title="Save the river!")).status_code == 302
    assert db.session.scalar(select(Campaign).where(Campaign.slug == "save-the-river-2")) is not None

    taken = submit(client, console(org, rest="new"), draft_data(title="Another", slug="save-the-river"))
    assert taken.status_code == 409
    assert "already used by another petition" in text_of(taken)

    for bad, message in (("new", "reserved"), ("Hello World", "lower-case letters"), ("a--b", "lower-case letters"),
                         ("-start", "lower-case letters"), ("ünïcode", "lower-case letters")):
        response = submit(client, console(org, rest="new"), draft_data(title="Another", slug=bad))
        assert response.status_code == 400, bad
        assert message in text_of(response), bad
    assert db.session.scalar(select(Campaign).where(Campaign.title == "Another")) is None


def test_title_without_latin_letters_gets_a_slug(client):
    org, editor = _lead_editor()
    login_as(client, editor)
    assert submit(client, console(org, rest="new"), draft_data(title="북한 난민을 도와주세요")).status_code == 302
    campaign = db.session.scalar(select(Campaign).where(Campaign.title == "북한 난민을 도와주세요"))
    assert campaign.slug == "petition"


def test_slug_is_fixed_once_published(client):
    org, editor = _lead_editor()
    campaign = make_campaign(org, status="published", slug="fixed-address")
    login_as(client, editor)
    response = submit(client, console(org, campaign, "edit"), draft_data(slug="moved"))
    assert response.status_code == 400
    assert "cannot change once the petition is published" in text_of(response)
    db.session.expire_all()
    assert campaign.slug == "fixed-address"


def test_image_is_checked_replaced_and_removed(client, app, monkeypatch):
    org, editor = _lead_editor()
    login_as(client, editor)
    campaign = make_campaign(org)
    url = console(org, campaign, "edit")

    not_an_image = submit(client, url, draft_data(image=(io.BytesIO(b"<svg onload=alert(1)>"), "x.png")),
                          content_type="multipart/form-data")
    assert not_an_image.status_code == 400
    assert "Upload a JPEG, PNG or WebP image" in text_of(not_an_image) or "not an image" in text_of(not_an_image)

    monkeypatch.setitem(app.config, "IMAGE_MAX_BYTES", 200)
    too_big = submit(client, url, draft_data(image=(io.BytesIO(png_bytes(400, 400, "blue") + b"\0" * 300), "big.png")),
                     content_type="multipart/form-data")
    assert too_big.status_code == 400
    assert "at most" in text_of(too_big)
    monkeypatch.undo()

    assert submit(client, url, draft_data(image=(io.BytesIO(png_bytes()), "ok.png")),
                  content_type="multipart/form-data").status_code == 302
    db.session.expire_all()
    first = campaign.image_id
    assert first is not None
    edit_page = client.get(url).get_data(as_text=True)
    assert "Remove the current image" in edit_page

    assert submit(client, url, draft_data(remove_image="y")).status_code == 302
    db.session.expire_all()
    assert campaign.image_id is None


def test_edits_after_the_first_signature_are_kept_and_every_sponsor_reads_them(client):
    org, editor = _lead_editor()
    partner = make_org("Hanvoice", slug="hanvoice")
    partner_viewer = staff(partner, Role.VIEWER)
    campaign = make_campaign(org, status="published", co_sponsors=(partner,), signature_count=12,
                             title="Original title", body="The **original** text.")
    login_as(client, editor)
    # Changing only the summary keeps no history: supporters did not sign the summary.
    assert submit(client, console(org, campaign, "edit"),
                  draft_data(title="Original title", body="The **original** text.", demands="Stop deportations\nNow.",
                             summary="New summary")).status_code == 302
    assert db.session.scalar(select(CampaignRevision).where(CampaignRevision.campaign_id == campaign.id)) is None

    response = submit(client, console(org, campaign, "edit"),
                      draft_data(title="Changed title", body="A *new* text.", demands="Stop deportations\nNow."))
    assert response.status_code == 302
    revision = db.session.scalar(select(CampaignRevision).where(CampaignRevision.campaign_id == campaign.id))
    assert (revision.title, revision.body, revision.signature_count_at_edit) == ("Original title", "The **original** text.", 12)
    assert revision.edited_by_id == editor.id

    client.get("/logout")
    login_as(client, partner_viewer)
    history = client.get(console(partner, campaign, "revisions"))
    assert history.status_code == 200
    assert "Original title" in text_of(history) and "12 people had signed" in text_of(history)
    old = client.get(console(partner, campaign, f"revisions/{revision.id}"))
    assert old.status_code == 200
    assert "<strong>original</strong>" in old.get_data(as_text=True)
    assert "Changed title" in text_of(client.get(console(partner, campaign)))


def test_preview_shows_the_public_page_of_a_draft(client):
    org, editor = _lead_editor()
    campaign = make_campaign(org, title="A draft to check", body="Body with **bold** words.",
                             demands=[{"title": "First demand", "text": "Its reason."}])
    login_as(client, editor)
    response = client.get(console(org, campaign, "preview"))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "A draft to check" in html
    assert "<strong>bold</strong>" in html
    assert "First demand" in html
    # The draft itself stays invisible to the public.
    client.get("/logout")
    assert client.get(f"/p/{campaign.slug}").status_code == 404


def test_pending_organization_can_draft(client):
    owner = make_user()
    org = make_org(owner=owner, status=OrgStatus.PENDING)
    login_as(client, owner)
    assert submit(client, console(org, rest="new"), draft_data(title="Prepared early")).status_code == 302
    assert db.session.scalar(select(Campaign).where(Campaign.title == "Prepared early")) is not None
