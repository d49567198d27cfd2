"""Steps that cannot be undone are asked once more; an invitation shows the whole petition before Accept."""

from __future__ import annotations

import io
import re

import pytest

from tests.campaigns.campaign_factories import console, make_campaign, staff
from tests.factories import login_as, make_org, make_user, png_bytes
from tests.helpers import csrf_token, text_of
from undersign.extensions import db
from undersign.images.store import store_image
from undersign.images.models import Image
from undersign.organizations.models import OrgStatus, Role


def _forms_posting_to(html: str, url: str) -> int:
    return len(re.findall(rf'<form method="post" action="{re.escape(url)}"', html))


@pytest.mark.parametrize(
    ("status", "action", "words", "confirm", "after"),
    [
        ("draft", "publish", "Publishing opens the petition for signatures", "Publish now", "published"),
        ("published", "close", "A closed petition cannot be reopened.", "Close the petition", "closed"),
        ("published", "victory", "This cannot be undone.", "Declare victory", "victory"),
    ],
)
def test_the_detail_page_asks_before_it_acts(client, status, action, words, confirm, after):
    org = make_org(owner=make_user())
    admin = staff(org, Role.ADMIN)
    campaign = make_campaign(org, status=status, title="Free them all", signature_count=7)
    login_as(client, admin)
    detail = client.get(console(org, campaign)).get_data(as_text=True)
    step = console(org, campaign, action)
    # The detail page offers a link to the step, not a button that acts at once.
    assert _forms_posting_to(detail, step) == 0
    assert f'href="{step}"' in detail

    page = client.get(step)
    assert page.status_code == 200
    text = text_of(page)
    assert words in text and "Free them all" in text
    html = page.get_data(as_text=True)
    assert _forms_posting_to(html, step) == 1 and f">{confirm}</button>" in html
    assert re.search(rf'<a href="{re.escape(console(org, campaign))}" role="button"[^>]*>Cancel</a>', html)
    db.session.expire_all()
    assert campaign.status == status  # looking at the question changes nothing

    response = client.post(step, data={"csrf_token": csrf_token(html)})
    assert response.status_code == 302
    db.session.expire_all()
    assert campaign.status == after


def test_the_question_is_asked_only_of_those_who_may_answer(client):
    lead = make_org(owner=make_user())
    partner = make_org(slug="partner-org", owner=make_user())
    campaign = make_campaign(lead, status="published", co_sponsors=(partner,))
    login_as(client, staff(lead, Role.EDITOR))
    assert client.get(console(lead, campaign, "close")).status_code == 403
    login_as(client, staff(partner, Role.OWNER))
    assert client.get(console(partner, campaign, "close")).status_code == 403
    login_as(client, staff(make_org(slug="stranger"), Role.OWNER))
    assert client.get(f"/orgs/stranger/campaigns/{campaign.slug}/close").status_code == 404


def test_an_unapproved_lead_is_told_why_instead_of_asked(client):
    org = make_org(owner=make_user(), status=OrgStatus.PENDING)
    campaign = make_campaign(org)
    login_as(client, staff(org, Role.ADMIN))
    page = client.get(console(org, campaign, "publish"))
    assert page.status_code == 200 and "waiting for approval" in text_of(page)
    assert _forms_posting_to(page.get_data(as_text=True), console(org, campaign, "publish")) == 0


def test_the_invitation_shows_the_whole_petition(client):
    lead = make_org("Fathom Film Group", slug="fathom", owner=make_user())
    festival = make_org("Film Festival", slug="festival", owner=make_user())
    partner = make_org("Hanvoice", slug="hanvoice", owner=make_user())
    picture = store_image(io.BytesIO(png_bytes(50, 40)), max_bytes=1_000_000)
    campaign = make_campaign(
        lead, status="published", co_sponsors=(festival,), invited=(partner,), image_id=picture.id,
        title="Help North Korean Refugees", summary="Ask the UN to act.", hashtag="EscapeNorthKorea",
        body="Imagine living where **hunger** is everyday life.", decision_maker="UN High Commissioner for Refugees",
        decision_maker_handle="Refugees", goal=1000,
        demands=[{"title": "Rethink deportation laws", "text": "Recognize defectors as *refugees*."},
                 {"title": "Allow private sponsorship", "text": ""}],
        calls_to_action=[{"label": "Watch the film", "url": "https://example.org/film"}],
    )
    db.session.commit()
    login_as(client, staff(partner, Role.ADMIN))
    page = client.get(console(partner, campaign))
    assert page.status_code == 200
    text = text_of(page)
    for words in ("Help North Korean Refugees", "#EscapeNorthKorea", "Ask the UN to act.",
                  "Imagine living where hunger is everyday life.", "UN High Commissioner for Refugees (@Refugees)",
                  "Rethink deportation laws", "Recognize defectors as refugees", "Allow private sponsorship",
                  "Fathom Film Group (lead), Film Festival", "1,000 signatures", "Watch the film"):
        assert words in text, words
    html = page.get_data(as_text=True)
    assert "<strong>hunger</strong>" in html and "<em>refugees</em>" in html
    image = db.session.get(Image, picture.id)
    src = re.search(r'<img class="petition-image" src="([^"]+)"', html).group(1)
    assert str(image.id) in src and image.sha256[:16] in src and client.get(src).status_code == 200
    # The answer comes after the petition.
    assert text.index("Imagine living") < text.index("Accept and co-sponsor")
