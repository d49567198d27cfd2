"""Each sponsor is credited on its own hosted page, and its organization page links to those pages.

On the demo's co-sponsored petition (Fathom Film Group leads; Hanvoice and the
festival co-sponsor; 6 + 4 + 2 = 12 supporters).
"""

from __future__ import annotations

import re

import pytest

from tests.helpers import text_of

OPEN = "end-forced-repatriation"
CLOSED = "help-north-korean-refugees"


@pytest.mark.parametrize(("org", "name", "credited"), [
    ("hanvoice", "Hanvoice", 4),
    ("nkhr-film-festival", "North Korean Human Rights Film Festival", 2),
    ("fathom-film-group", "Fathom Film Group", 6),
])
def test_a_sponsors_page_calls_on_that_sponsor_with_its_own_count(client, demo, org, name, credited):  # type: ignore[no-untyped-def]
    text = text_of(client.get(f"/o/{org}/p/{OPEN}"))
    assert f"Today: {name} is counting on you" in text
    assert f"Join {name} and {credited} supporters today." in text
    assert "12 supporters" in text  # the shared count stays on top
    others = {"Hanvoice", "North Korean Human Rights Film Festival", "Fathom Film Group"} - {name}
    for other in others:
        assert f"Today: {other} is counting" not in text and f"Join {other} and" not in text


def test_the_canonical_page_calls_on_the_lead_with_the_shared_count(client, demo):  # type: ignore[no-untyped-def]
    text = text_of(client.get(f"/p/{OPEN}"))
    assert "Today: Fathom Film Group is counting on you" in text
    assert "Join Fathom Film Group and 12 supporters today." in text


@pytest.mark.parametrize("org", ["hanvoice", "fathom-film-group", "nkhr-film-festival"])
def test_an_organization_page_links_to_its_own_hosted_pages(client, demo, org):  # type: ignore[no-untyped-def]
    html = client.get(f"/o/{org}").get_data(as_text=True)
    links = re.findall(r'<h3>\s*<a href="([^"]+)"', html)
    assert sorted(links) == sorted([f"/o/{org}/p/{OPEN}", f"/o/{org}/p/{CLOSED}"])
    for link in links:
        assert client.get(link).status_code == 200


def test_the_home_page_links_to_the_canonical_pages(client, demo):  # type: ignore[no-untyped-def]
    html = client.get("/").get_data(as_text=True)
    assert sorted(re.findall(r'<h3>\s*<a href="([^"]+)"', html)) == sorted([f"/p/{OPEN}", f"/p/{CLOSED}", "/p/heat-for-harbour-street"])
