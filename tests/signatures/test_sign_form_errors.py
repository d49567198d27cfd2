"""A sign form sent back with errors: at the petition's own address, on its first problem, in plain words."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.helpers import text_of
from tests.signatures.petitions import form_action, hidden_fields, make_petition, sign, signature_rows, supporter
from undersign.extensions import db
from undersign.signatures.models import Signature

PLAIN_EMAIL_ERROR = "That doesn't look like an e-mail address — check for typos, e.g. name@example.org"


def _tag(html: str, element_id: str) -> str:
    match = re.search(rf'<(?:input|select|textarea)[^>]*id="{element_id}"[^>]*>', html)
    assert match, f"no control #{element_id}"
    return match.group(0)


def test_bad_email_comes_back_on_the_petition_page_focused_and_in_plain_words(client, mailbox):
    petition = make_petition()
    page = client.get(petition.url).get_data(as_text=True)
    assert form_action(page) == petition.url  # the form posts to the page it is on

    response = sign(client, petition.url, supporter("Ann Lee", "ann@example", comment="Typed with care."))
    assert response.status_code == 400
    assert response.request.path == petition.url
    assert response.headers["Cache-Control"] == "no-store"  # it holds what the person typed
    text = text_of(response)
    assert PLAIN_EMAIL_ERROR in text
    assert "period" not in text and "@-sign" not in text  # not the validator's words
    assert petition.campaign.title in text and "Sign this petition" in text  # the petition page itself
    html = response.get_data(as_text=True)
    email = _tag(html, "sign-email")
    assert 'value="ann@example"' in email and "autofocus" in email
    assert 'aria-invalid="true"' in email and 'aria-describedby="sign-email-error sign-email-help"' in email
    assert re.search(r'<small id="sign-email-error" class="field-error">\s*That doesn', html)
    # Only the first problem takes the focus; what was typed elsewhere is kept.
    assert html.count("autofocus") == 1
    assert 'value="Ann Lee"' in _tag(html, "sign-name") and "Typed with care." in html
    assert signature_rows(petition.campaign) == 0


def test_the_first_of_several_problems_is_focused(client):
    petition = make_petition()
    response = sign(client, petition.url, {"name": "", "email": "nope", "country": ""})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "autofocus" in _tag(html, "sign-name")
    assert html.count("autofocus") == 1
    for control in ("sign-name", "sign-email", "sign-country"):
        assert 'aria-invalid="true"' in _tag(html, control), control
    assert "Enter your name." in text_of(response) and PLAIN_EMAIL_ERROR in text_of(response)


def test_a_fresh_page_focuses_nothing(client):
    html = client.get(make_petition().url).get_data(as_text=True)
    assert "autofocus" not in html and 'aria-invalid="true"' not in html


def test_signing_through_the_page_address_counts_as_before(client, mailbox):
    petition = make_petition()
    response = sign(client, petition.url, supporter(email="posted@example.org"))
    assert response.status_code == 303 and response.headers["Location"].endswith(f"{petition.url}/signed")
    row = db.session.scalars(select(Signature).where(Signature.email == "posted@example.org")).one()
    assert row.sponsorship_id == petition.sponsorship(petition.lead).id
    assert mailbox.last_to("posted@example.org").link("/confirm/")


def test_hosted_page_form_comes_back_on_the_hosted_page(client, mailbox):
    petition = make_petition()
    hosted = petition.hosted_url(petition.co_sponsor)
    assert form_action(client.get(hosted).get_data(as_text=True)) == hosted
    response = sign(client, hosted, supporter(email="ann@@example.org"))
    assert response.status_code == 400 and response.request.path == hosted
    assert PLAIN_EMAIL_ERROR in text_of(response)
    assert f"through {petition.co_sponsor.name}" in text_of(response)  # still the sponsor's own page
    assert "autofocus" in _tag(response.get_data(as_text=True), "sign-email")

    response = sign(client, hosted, supporter(email="hosted@example.org"))
    assert response.status_code == 303
    row = db.session.scalars(select(Signature).where(Signature.email == "hosted@example.org")).one()
    assert row.sponsorship_id == petition.sponsorship(petition.co_sponsor).id


def test_opening_the_sign_address_leads_to_the_form_instead_of_405(client):
    petition = make_petition()
    response = client.get(f"{petition.url}/sign")
    assert response.status_code == 303 and response.headers["Location"] == f"{petition.url}#sign"
    hosted = petition.hosted_url(petition.co_sponsor)
    response = client.get(f"{hosted}/sign")
    assert response.status_code == 303 and response.headers["Location"] == f"{hosted}#sign"
    assert client.get(f"{petition.hosted_url(petition.invited)}/sign").status_code == 404
    assert client.get("/p/no-such-petition/sign").status_code == 404


def test_the_embed_shows_the_email_error_in_plain_words(client):
    petition = make_petition()
    html = client.get(f"{petition.url}/embed").get_data(as_text=True)
    response = client.post(form_action(html), data={**hidden_fields(html), **supporter(email="ann@example")},
                           headers={"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 400 and PLAIN_EMAIL_ERROR in text_of(response)
    assert "autofocus" in _tag(response.get_data(as_text=True), "sign-email")


# ---------------------------------------------------------------------------------------------
# A real phone-sized browser

PHONE_390 = {"width": 390, "height": 844}


@pytest.mark.browser
def test_bad_email_on_a_phone_lands_on_the_error(app, committed, live_server, browser):
    with app.app_context():
        petition = make_petition(body="\n\n".join(f"Paragraph {n} of a long story." for n in range(40)))
        slug = petition.slug
    page = browser.new_page(viewport=PHONE_390, device_scale_factor=1)
    try:
        response = page.goto(f"{live_server}/p/{slug}")
        assert response is not None and response.status == 200
        page.get_by_label("Your name", exact=True).fill("Ann Lee")
        # Accepted by the browser's own check for type=email, refused by ours (no dot in the domain).
        page.get_by_label("E-mail", exact=True).fill("ann@example")
        page.get_by_label("Country", exact=True).select_option("KR")
        with page.expect_navigation():
            page.locator("#sign button[type=submit]").click()
        assert page.url == f"{live_server}/p/{slug}"
        error = page.locator("#sign-email-error")
        assert error.inner_text().strip() == PLAIN_EMAIL_ERROR
        box = error.bounding_box()
        assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= PHONE_390["height"], box
        assert page.evaluate("document.activeElement.id") == "sign-email"
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_390["width"]
        page.screenshot(path="/tmp/sign-error-390.png")

        # Reloading sends the form again (the same answer), it is not a 405.
        again = page.reload()
        assert again is not None and again.status == 400 and again.request.method == "POST"
        assert page.url == f"{live_server}/p/{slug}"
        assert page.locator("#sign-email").input_value() == "ann@example"
        # The old address, opened directly, shows the petition's form.
        opened = page.goto(f"{live_server}/p/{slug}/sign")
        assert opened is not None and opened.status == 200 and page.url == f"{live_server}/p/{slug}#sign"
    finally:
        page.context.close()
    with app.app_context():
        assert db.session.scalars(select(Signature).where(Signature.email == "ann@example")).first() is None
