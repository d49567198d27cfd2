"""Bad input on every console form: a message and a 4xx, never a 500, never half-written data."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.campaigns.campaign_factories import console, make_campaign, staff
from tests.campaigns.test_drafting import draft_data
from tests.factories import login_as, make_org, make_user
from tests.helpers import submit, text_of
from undersign.campaigns.models import Campaign, Sponsorship, Update
from undersign.extensions import db
from undersign.organizations.models import Role

BAD_CAMPAIGN_FIELDS = [
    ("title", "", "Give the petition a title"),
    ("title", "   ", "Give the petition a title"),
    ("title", "x" * 201, "at most 200"),
    ("title", "Null\x00byte", "control characters"),
    ("title", "Two\nlines", "control characters"),
    ("title", "Escape \x1b[31m red", "control characters"),
    ("slug", "Ünïcödé", "lower-case letters"),
    ("slug", "<script>", "lower-case letters"),
    ("slug", "x" * 81, "at most 80"),
    ("slug", "admin", "reserved"),
    ("summary", "s" * 281, "280 characters"),
    ("summary", "bell\x07", "control characters"),
    ("body", "b" * 20_001, "at most 20,000"),
    ("body", "text\x00with NUL", "control characters"),
    ("decision_maker", "d" * 201, "at most 200"),
    ("decision_maker_handle", "@has spaces", "letters, digits and underscores"),
    ("decision_maker_handle", "@<script>", "letters, digits and underscores"),
    ("social_handle", "@" + "h" * 64, "at most 64"),
    ("social_handle", "@bad-handle!", "letters, digits and underscores"),
    ("hashtag", "#two words", "one word"),
    ("hashtag", "#2024", "one word"),
    ("hashtag", "#<b>", "one word"),
    ("demands", "\n\n".join(f"Demand {i}" for i in range(21)), "at most 20 demands"),
    ("demands", "h" * 201 + "\ntext", "at most 200"),
    ("demands", "Heading\n" + "t" * 2_001, "at most 2,000"),
    ("calls_to_action", "Run this | javascript:alert(1)", "http:// or https://"),
    ("calls_to_action", "Download | ftp://example.org/file", "http:// or https://"),
    ("calls_to_action", "Open | data:text/html,<script>alert(1)</script>", "http:// or https://"),
    ("calls_to_action", "Empty host | https://", "http:// or https://"),
    ("calls_to_action", "| https://example.org", "write a label"),
    ("calls_to_action", "nourl", "write a label"),
    ("calls_to_action", "\n".join(f"Act {i} | https://example.org/{i}" for i in range(11)), "at most 10"),
    ("goal", "0", "between 1 and"),
    ("goal", "-5", "between 1 and"),
    ("goal", "abc", "Not a valid integer"),
    ("goal", "1.5", "Not a valid integer"),
    ("goal", "1e9", "Not a valid integer"),
    ("goal", "100000001", "between 1 and"),
    ("goal", "99999999999999999999999999999999", "between 1 and"),
    ("goal", "9" * 5000, "Not a valid integer"),
    ("closes_on", "not a date", "Not a valid date"),
    ("closes_on", "2030-02-30", "Not a valid date"),
    ("closes_on", "31/12/2030", "Not a valid date"),
    ("closes_on", "99999-01-01", "Not a valid date"),
    ("closes_on", "0001-01-01", "in the future"),
    ("closes_on", "9999-12-31", "within the next 10 years"),
]


@pytest.fixture
def lead_editor(db_session):  # type: ignore[no-untyped-def]
    org = make_org(owner=make_user())
    return org, staff(org, Role.EDITOR)


def _campaign_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Campaign))


@pytest.mark.parametrize("name, value, message", BAD_CAMPAIGN_FIELDS, ids=[f"{n}:{v[:20]!r}" for n, v, _ in BAD_CAMPAIGN_FIELDS])
def test_bad_campaign_input_is_refused_with_a_message(client, lead_editor, name, value, message):
    org, editor = lead_editor
    existing = make_campaign(org, title="Kept title", slug="kept-slug")
    login_as(client, editor)
    before = _campaign_count()

    created = submit(client, console(org, rest="new"), draft_data(**{name: value}))
    assert 400 <= created.status_code < 500, created.status_code
    assert message in text_of(created)
    assert _campaign_count() == before

    edited = submit(client, console(org, existing, "edit"), draft_data(**{name: value, "title": "Changed title"}
                                                                       if name != "title" else {name: value}))
    assert 400 <= edited.status_code < 500, edited.status_code
    assert message in text_of(edited)
    db.session.expire_all()
    assert (existing.title, existing.slug) == ("Kept title", "kept-slug")


def test_unicode_and_html_are_kept_as_text(client, lead_editor):
    org, editor = lead_editor
    login_as(client, editor)
    title = "Ayudad a los refugiados 🕊️ — 북한 <b>bold</b> ‏עברית‎"
    response = submit(client, console(org, rest="new"), draft_data(title=title, summary="<script>alert(1)</script>",
                                                                   hashtag="#탈북민", decision_maker="ＵＮＨＣＲ"))
    assert response.status_code == 302
    campaign = db.session.scalar(select(Campaign).where(Campaign.lead_organization_id == org.id))
    assert (campaign.title, campaign.hashtag) == (title, "탈북민")
    html = client.get(console(org, campaign)).get_data(as_text=True)
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and "<b>bold</b>" not in html
    listing = client.get(console(org)).get_data(as_text=True)
    assert "&lt;b&gt;bold&lt;/b&gt;" in listing


def test_wrong_types_and_missing_fields_do_not_break_the_form(client, lead_editor):
    org, editor = lead_editor
    login_as(client, editor)
    page = console(org, rest="new")
    # Only a title: everything else is optional.
    assert submit(client, page, {"title": "Just a title"}).status_code == 302
    # A text where a file belongs, and a list where text belongs.
    # The form reads the first of repeated values, and files only from the upload part: the text is no image.
    response = submit(client, page, {"title": ["One", "Two"], "image": "not a file", "goal": ["1", "2"]})
    assert response.status_code == 302
    saved = db.session.scalar(select(Campaign).where(Campaign.lead_organization_id == org.id, Campaign.title == "One"))
    assert saved is not None and (saved.goal, saved.image_id) == (1, None)
    before = _campaign_count()
    response = submit(client, page, {})
    assert response.status_code == 400 and "Give the petition a title" in text_of(response)
    assert _campaign_count() == before


BAD_INVITES = [
    ("", "Name the organization"),
    ("x" * 81, "at most 80"),
    ("nul\x00byte", "control characters"),
    ("<script>alert(1)</script>", "Only approved organizations"),
    ("한국", "Only approved organizations"),
    ("org with spaces", "Only approved organizations"),
]


@pytest.mark.parametrize("value, message", BAD_INVITES)
def test_bad_invitation_input(client, value, message):
    owner = make_user()
    lead = make_org(owner=owner)
    campaign = make_campaign(lead)
    login_as(client, owner)
    response = submit(client, console(lead, campaign, "sponsors"), {"organization": value},
                      action=console(lead, campaign, "sponsors/invite"))
    assert response.status_code == 400
    assert message in text_of(response)
    assert db.session.scalar(select(func.count()).select_from(Sponsorship).where(Sponsorship.campaign_id == campaign.id)) == 1


BAD_UPDATES = [
    ({"title": "", "body": "Text"}, "Give the update a title"),
    ({"title": "Title", "body": ""}, "Write the update"),
    ({"title": "Title", "body": "   \n  "}, "Write the update"),
    ({"title": "t" * 201, "body": "Text"}, "at most 200"),
    ({"title": "Title", "body": "b" * 20_001}, "at most 20,000"),
    ({"title": "Tab\tin title", "body": "Text"}, "control characters"),
    ({"title": "Title", "body": "NUL \x00 here"}, "control characters"),
]


@pytest.mark.parametrize("data, message", BAD_UPDATES)
def test_bad_update_input(client, data, message):
    lead = make_org(owner=make_user())
    editor = staff(lead, Role.EDITOR)
    campaign = make_campaign(lead)
    login_as(client, editor)
    response = submit(client, console(lead, campaign, "updates/new"), data)
    assert response.status_code == 400 and message in text_of(response)
    assert db.session.scalar(select(func.count()).select_from(Update)) == 0

    update = Update(campaign_id=campaign.id, organization_id=lead.id, title="Kept", body="Kept body")
    db.session.add(update)
    db.session.commit()
    response = submit(client, console(lead, campaign, f"updates/{update.id}/edit"), data)
    assert response.status_code == 400 and message in text_of(response)
    db.session.expire_all()
    assert (update.title, update.body) == ("Kept", "Kept body")


@pytest.mark.parametrize("path", [
    "/orgs/{org}/campaigns/%00/", "/orgs/{org}/campaigns/%00/edit", "/orgs/{org}/campaigns/" + "x" * 500 + "/",
    "/orgs/{org}/campaigns/{slug}/revisions/99999999999999999999999", "/orgs/{org}/campaigns/{slug}/updates/-1/edit",
    "/orgs/{org}/campaigns/%F0%9F%95%8A/",
])
def test_odd_urls_are_not_found(client, path):
    owner = make_user()
    lead = make_org(owner=owner)
    campaign = make_campaign(lead)
    login_as(client, owner)
    response = client.get(path.format(org=lead.slug, slug=campaign.slug))
    assert response.status_code == 404


@pytest.mark.parametrize("sponsorship_id", ["0", "99999999999999999999999", "another campaign's"])
def test_removing_an_odd_sponsor_is_not_found_and_changes_nothing(client, sponsorship_id):
    """The remove button is a POST (a GET is 405 whatever the id): with its CSRF token, an id that names
    no sponsor of this petition is a 404, and no sponsorship anywhere changes."""
    owner = make_user()
    lead = make_org(owner=owner)
    campaign = make_campaign(lead, co_sponsors=(make_org(),))
    other = make_campaign(make_org(), co_sponsors=(make_org(),))
    if sponsorship_id == "another campaign's":
        sponsorship_id = str(other.sponsorships[1].id)
    login_as(client, owner)
    sponsors = console(lead, campaign, "sponsors")
    assert client.get(console(lead, campaign, f"sponsors/{sponsorship_id}/remove")).status_code == 405
    response = submit(client, sponsors, {}, action=console(lead, campaign, f"sponsors/{sponsorship_id}/remove"))
    assert response.status_code == 404
    db.session.expire_all()
    assert {s.status for s in campaign.sponsorships + other.sponsorships} == {"accepted"}


def test_service_refuses_nul_from_any_caller(db_session):
    """The API and the CLI call the same service without the form in front: PostgreSQL cannot store NUL."""
    from undersign.campaigns.rules import CampaignDraft, Demand
    from undersign.campaigns.service import create_campaign
    from undersign.campaigns.updates import post_update
    from undersign.errors import InvalidInput

    user = make_user()
    org = make_org(owner=user)
    for draft, field in ((CampaignDraft(title="Fine", body="bad\x00body"), "body"),
                         (CampaignDraft(title="Fine", demands=(Demand("bad\x00"),)), "demands")):
        with pytest.raises(InvalidInput) as caught:
            create_campaign(user, org, draft)
        assert caught.value.field == field
    campaign = make_campaign(org)
    with pytest.raises(InvalidInput):
        post_update(user, org, campaign, "Title", "NUL\x00")
