"""An invalid save in the console: every problem at once, and the chosen image is not lost."""

from __future__ import annotations

import io
import re
from html import unescape

from sqlalchemy import func, select

from tests.campaigns.campaign_factories import console, make_campaign, png_bytes, staff
from tests.campaigns.test_drafting import draft_data
from tests.factories import login_as, make_org, make_user
from tests.helpers import csrf_token, submit, text_of
from undersign.campaigns.models import Campaign
from undersign.extensions import db
from undersign.images.models import Image
from undersign.organizations.models import Role

# Each of these breaks one rule; the first two are the form's own, the others the service's.
BROKEN = {
    "title": ("x" * 201, "Use at most 200 characters."),
    "goal": ("0", "Choose a goal between 1 and"),
    "slug": ("Not A Slug!", "Use lower-case letters a–z, digits and single hyphens"),
    "hashtag": ("#two words", "A hashtag is one word"),
    "social_handle": ("@not a handle", "A handle has letters, digits and underscores only"),
    "closes_on": ("2001-01-01", "Choose a closing date in the future"),
}


def _editor():  # type: ignore[no-untyped-def]
    org = make_org("Fathom Film Group", slug="fathom", owner=make_user())
    return org, staff(org, Role.EDITOR)


def _image_ref(response) -> str:  # type: ignore[no-untyped-def]
    match = re.search(r'<input[^>]*name="image_ref"[^>]*>', response.get_data(as_text=True))
    assert match, "no image_ref field"
    value = re.search(r'value="([^"]*)"', match.group(0))
    return unescape(value.group(1)) if value else ""


def _invalid_fields(response) -> set[str]:  # type: ignore[no-untyped-def]
    tags = re.findall(r"<(?:input|textarea|select)[^>]*>", response.get_data(as_text=True))
    return {re.search(r' id="([^"]+)"', tag).group(1) for tag in tags if 'aria-invalid="true"' in tag}


def test_every_problem_shows_at_once_and_the_image_is_kept(client):
    org, editor = _editor()
    login_as(client, editor)
    data = draft_data(**{field: value for field, (value, _) in BROKEN.items()},
                      image=(io.BytesIO(png_bytes(64, 48, "green")), "poster.png"))
    response = submit(client, console(org, rest="new"), data, content_type="multipart/form-data")
    assert response.status_code == 400
    text = text_of(response)
    for field, (_, message) in BROKEN.items():
        assert message in text, field
    assert _invalid_fields(response) == set(BROKEN)
    assert "autofocus" in re.search(r'<input[^>]*id="title"[^>]*>', response.get_data(as_text=True)).group(0)
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0

    # The picture was stored and comes back with the form: shown, and carried in a hidden field.
    ref = _image_ref(response)
    assert ref
    assert "The image you chose is kept" in text
    src = re.search(r'<img src="([^"]+)" alt="The image you chose"', response.get_data(as_text=True)).group(1)
    assert client.get(src).status_code == 200

    # Fixed without choosing the file again: the petition gets that picture.
    fixed = submit(client, console(org, rest="new"), draft_data(title="Free them", image_ref=ref))
    assert fixed.status_code == 302
    campaign = db.session.scalar(select(Campaign).where(Campaign.title == "Free them"))
    assert campaign.image is not None and (campaign.image.width, campaign.image.height) == (64, 48)


def test_rules_the_service_checks_show_together_when_the_form_is_fine(client):
    org, editor = _editor()
    login_as(client, editor)
    campaign = make_campaign(org, title="As it was")
    broken = {k: BROKEN[k] for k in ("hashtag", "social_handle", "closes_on")}
    response = submit(client, console(org, campaign, "edit"), draft_data(**{k: v for k, (v, _) in broken.items()}))
    assert response.status_code == 400
    for field, (_, message) in broken.items():
        assert message in text_of(response), field
    assert _invalid_fields(response) == set(broken)
    db.session.expire_all()
    assert campaign.title == "As it was"


def test_an_edit_with_errors_keeps_the_new_image_and_the_old_one_until_saved(client):
    org, editor = _editor()
    login_as(client, editor)
    campaign = make_campaign(org)
    url = console(org, campaign, "edit")
    assert submit(client, url, draft_data(image=(io.BytesIO(png_bytes(20, 20)), "old.png")),
                  content_type="multipart/form-data").status_code == 302
    db.session.expire_all()
    old_image = campaign.image_id

    response = submit(client, url, draft_data(hashtag="#two words", image=(io.BytesIO(png_bytes(30, 10, "blue")), "new.png")),
                      content_type="multipart/form-data")
    assert response.status_code == 400 and "A hashtag is one word" in text_of(response)
    db.session.expire_all()
    assert campaign.image_id == old_image  # nothing of the petition changed

    assert submit(client, url, draft_data(image_ref=_image_ref(response))).status_code == 302
    db.session.expire_all()
    assert campaign.image_id != old_image and (campaign.image.width, campaign.image.height) == (30, 10)


def test_an_unreadable_image_is_one_more_problem_and_nothing_is_kept(client):
    org, editor = _editor()
    login_as(client, editor)
    images = db.session.scalar(select(func.count()).select_from(Image))
    response = submit(client, console(org, rest="new"),
                      draft_data(hashtag="#two words", image=(io.BytesIO(b"<svg onload=alert(1)>"), "x.png")),
                      content_type="multipart/form-data")
    assert response.status_code == 400
    assert "A hashtag is one word" in text_of(response) and "not an image we can read" in text_of(response)
    assert _image_ref(response) == ""
    assert db.session.scalar(select(func.count()).select_from(Image)) == images


def test_a_reference_made_for_another_organization_or_forged_is_ignored(client):
    org, editor = _editor()
    other = make_org("Another group", slug="another", owner=make_user())
    other_editor = staff(other, Role.EDITOR)
    login_as(client, other_editor)
    response = submit(client, console(other, rest="new"),
                      draft_data(hashtag="#two words", image=(io.BytesIO(png_bytes()), "theirs.png")),
                      content_type="multipart/form-data")
    theirs = _image_ref(response)
    assert theirs

    login_as(client, editor)
    for ref in (theirs, theirs[:-2] + "xx", "not-a-reference"):
        page = client.get(console(org, rest="new"))
        title = f"Mine {len(ref)} {ref[-2:]}"
        response = client.post(console(org, rest="new"),
                               data={**draft_data(title=title, image_ref=ref), "csrf_token": csrf_token(page.get_data(as_text=True))})
        assert response.status_code == 302
        campaign = db.session.scalar(select(Campaign).where(Campaign.title == title))
        assert campaign.image is None, ref


def test_a_request_without_the_csrf_token_stores_no_image(client):
    org, editor = _editor()
    login_as(client, editor)
    images = db.session.scalar(select(func.count()).select_from(Image))
    response = client.post(console(org, rest="new"), data=draft_data(image=(io.BytesIO(png_bytes()), "p.png")),
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Image)) == images
