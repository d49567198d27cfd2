"""Every page's footer: the platform's contact address and the privacy page."""

from __future__ import annotations

import re

import pytest

from tests.factories import make_campaign, make_org
from tests.helpers import text_of


def footer(response) -> str:  # type: ignore[no-untyped-def]
    match = re.search(r'<footer class="site-footer[^>]*>(.*?)</footer>', response.get_data(as_text=True), re.S)
    assert match, "the page has no footer"
    return match.group(1)


@pytest.mark.parametrize("path", ["/", "/login", "/signup", "/privacy", "/no-such-page", "PETITION"])
def test_every_page_links_to_privacy_and_gives_the_contact_address(client, path):
    if path == "PETITION":
        path = f"/p/{make_campaign(make_org(), status='published').slug}"
    response = client.get(path)
    assert response.status_code == (404 if path == "/no-such-page" else 200)
    assert 'href="/privacy"' in footer(response)
    assert 'href="mailto:contact@undersign.localhost"' in footer(response)


def test_the_contact_address_comes_from_the_settings(make_app):
    configured = make_app(CONTACT_EMAIL="help@petitions.example")
    page = configured.test_client().get("/privacy")
    assert 'href="mailto:help@petitions.example"' in footer(page)
    assert "Write to help@petitions.example" in text_of(page)
    # Production has no made-up default: without the setting the footer leaves the address out.
    bare = make_app(UNDERSIGN_ENV="production").test_client().get("/login", base_url="https://localhost")
    assert bare.status_code == 200
    assert "mailto:" not in footer(bare) and 'href="/privacy"' in footer(bare)


def test_privacy_page_says_what_is_kept_about_supporters(client):
    page = client.get("/privacy")
    assert page.status_code == 200
    text = text_of(page)
    assert "Privacy" in text
    assert "withdraw your signature" in text
    assert "No advertising, no analytics, no trackers" in text


def test_the_privacy_page_gives_the_periods_this_site_runs_with(client, make_app):
    default = text_of(client.get("/privacy"))
    assert "183 days (about 6 months) after a petition closes" in default
    assert "never confirmed is deleted after 30 days" in default
    assert "kept for 30 days after it went out" in default
    assert "The link works for 30 days" in default

    configured = make_app(SIGNER_DATA_RETENTION_DAYS=90, UNCONFIRMED_SIGNATURE_DAYS=14, MAIL_LOG_DAYS=7)
    page = configured.test_client().get("/privacy")
    assert page.status_code == 200
    text = text_of(page)
    assert "90 days (about 3 months) after a petition closes" in text
    assert "never confirmed is deleted after 14 days" in text
    assert "kept for 7 days after it went out" in text
    assert "183 days" not in text


def test_the_privacy_page_says_who_sees_what_and_how_to_erase(client):
    page = client.get("/privacy")
    text = text_of(page)
    assert "Sponsors share the count, not the people." in text
    assert "go only to the sponsors whose box you ticked, each separately" in text
    assert "keyed hash of your network address" in text and "never store the address itself" in text
    assert 'href="/me"' in page.get_data(as_text=True)
    assert "erase it all" in text and "withdraw your signature" in text
    assert "stays in the petition's count as an anonymous one" in text


def _privacy_link_outside_the_footer(html: str) -> bool:
    body = re.sub(r'<footer class="site-footer.*?</footer>', "", html, flags=re.S)
    return 'href="/privacy' in body


@pytest.mark.parametrize("page", ["petition", "hosted", "embed", "report", "signup", "me"])
def test_every_form_that_takes_personal_data_links_to_the_privacy_page(client, page):
    lead, co = make_org(), make_org()
    campaign = make_campaign(lead, status="published", co_sponsors=(co,))
    path = {"petition": f"/p/{campaign.slug}", "hosted": f"/o/{co.slug}/p/{campaign.slug}",
            "embed": f"/p/{campaign.slug}/embed", "report": f"/p/{campaign.slug}/report", "signup": "/signup", "me": "/me"}[page]
    response = client.get(path)
    assert response.status_code == 200
    assert _privacy_link_outside_the_footer(response.get_data(as_text=True))
