"""The petition page in a real browser on a phone-sized screen (375 × 800)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.browser import PHONE, UNLABELLED_CONTROLS
from undersign.campaigns.models import Campaign
from undersign.db import utcnow

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def demo_data(committed_db) -> None:  # type: ignore[no-untyped-def]
    """The demo petitions and organizations, committed for the live server."""
    from undersign import demo

    demo.load()
    committed_db.session.commit()
    committed_db.session.remove()


def _check_phone_layout(page, url: str, count_text: str) -> None:  # type: ignore[no-untyped-def]
    response = page.goto(url)
    assert response is not None and response.status == 200
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    count = page.locator(".petition-count .count-number").first
    assert count.inner_text() == count_text
    box = count.bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE["height"], box
    bar = page.locator(".petition-count progress")
    if bar.count():
        bar_box = bar.bounding_box()
        assert bar_box is not None and bar_box["y"] + bar_box["height"] <= PHONE["height"], bar_box
    assert page.evaluate(UNLABELLED_CONTROLS) == []
    assert page.problems == [], page.problems  # CSP violations and script errors land here
    # The footer's text keeps the page's side margin instead of touching the screen's edges.
    footer = page.locator(".site-footer small").bounding_box()
    assert footer is not None and footer["x"] >= 12 and footer["x"] + footer["width"] <= PHONE["width"] - 12, footer


def test_open_petition_on_a_phone(live_server, phone, committed_db):
    _check_phone_layout(phone, f"{live_server}/p/end-forced-repatriation", "12")
    # The sign form is on the page, and the copy-link button appears once its script ran.
    assert phone.locator("#sign form").count() == 1
    assert phone.locator(".copy-button").is_visible()
    phone.screenshot(path="/tmp/petition-375.png", full_page=True)

    # The count refreshes itself from /p/<slug>.json (here: when the tab becomes visible again).
    from playwright.sync_api import expect

    campaign = committed_db.session.scalar(select(Campaign).where(Campaign.slug == "end-forced-repatriation"))
    campaign.signature_count = 1013
    campaign.changed_at = utcnow()
    committed_db.session.commit()
    phone.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(phone.locator(".petition-count .count-number")).to_have_text("1,013")
    assert phone.locator(".petition-count progress").evaluate("bar => bar.value") == 1000  # full, not past the end

    # On a wide screen the count and the form sit in a column beside the story.
    phone.set_viewport_size({"width": 1280, "height": 900})
    assert phone.evaluate("document.documentElement.scrollWidth") <= 1280
    story = phone.locator(".petition-story").bounding_box()
    sign = phone.locator("#sign").bounding_box()
    assert story is not None and sign is not None and sign["x"] > story["x"] + story["width"], (story, sign)
    phone.screenshot(path="/tmp/petition-1280.png")


def test_closed_petition_and_a_hosted_page_on_a_phone(live_server, phone):
    _check_phone_layout(phone, f"{live_server}/o/hanvoice/p/help-north-korean-refugees", "586")
    assert phone.get_by_text("This petition had 586 supporters").first.is_visible()
    assert phone.locator("#sign form").count() == 0
    phone.screenshot(path="/tmp/petition-closed-375.png", full_page=True)


def test_list_and_organization_pages_on_a_phone(live_server, phone):
    for path, shot in (("/?q=refugees", "/tmp/home-375.png"), ("/o/hanvoice", "/tmp/organization-375.png")):
        response = phone.goto(live_server + path)
        assert response is not None and response.status == 200
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert phone.evaluate(UNLABELLED_CONTROLS) == []
        assert phone.get_by_text("Help North Korean Refugees").first.is_visible()
        phone.screenshot(path=shot, full_page=True)
    assert phone.problems == [], phone.problems
