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
