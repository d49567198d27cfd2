"""Signing with the keyboard alone: Tab to the form, type, Enter to send; focus visible at every step.

A form sent back with errors is announced (role="alert"), opens on its first problem, and each
field names its error with aria-describedby.
"""

from __future__ import annotations

import pytest

from tests.campaigns.campaign_factories import make_campaign
from tests.factories import make_org
from tests.journeys.steps import DESKTOP, check_accessibility, new_page, visit

pytestmark = pytest.mark.browser

SLUG = "stop-forced-repatriation"
MAX_TABS = 80

# What has the focus, and whether a sighted keyboard user can see it: the browser's own
# :focus-visible, and an outline or a focus ring (Pico draws a box-shadow) actually painted.
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  const ring = style.boxShadow !== 'none';
  const box = el.getBoundingClientRect();
  return {tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute('name') || '', type: el.type || '',
          text: (el.innerText || el.value || '').trim().slice(0, 40),
          visible: el.matches(':focus-visible') && (outline || ring) && box.width > 0 && box.height > 0,
          inSignForm: !!el.closest('#sign form')};
}"""


@pytest.fixture
def petition(committed_db) -> str:  # type: ignore[no-untyped-def]
    lead = make_org("Fathom Film Group", slug="fathom-film-group")
    partner = make_org("Hanvoice", slug="hanvoice")
    make_campaign(lead, status="published", co_sponsors=(partner,), slug=SLUG, title="Stop forced repatriation")
    committed_db.session.remove()
    return SLUG


def tab_to(page, wanted: str) -> list[dict]:  # type: ignore[no-untyped-def]
    """Press Tab until the element with id ``wanted`` has the focus; every stop on the way must show it."""
    stops = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        assert focused is not None, f"Tab left the page after {[s['id'] or s['text'] for s in stops]}"
        assert focused["visible"], f"the focus is not visible on {focused}"
        stops.append(focused)
        if focused["id"] == wanted:
            return stops
    raise AssertionError(f"#{wanted} not reached in {MAX_TABS} presses of Tab: {stops}")


def tab_to_the_button(page, tick_consents: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Tab past the optional fields and the consent boxes to the sign button (Space ticks the boxes)."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        assert focused is not None and focused["visible"], focused
        assert focused["inSignForm"], f"the focus left the form before its button: {focused}"
        if tick_consents and focused["type"] == "checkbox" and focused["name"] == "consent":
            page.keyboard.press("Space")
        if focused["tag"] == "button":
            return
    raise AssertionError(f"the sign button not reached in {MAX_TABS} presses of Tab")


def test_sign_with_the_keyboard_only(live_server, browser, petition, mailbox):
    page = new_page(browser, DESKTOP)
    try:
        visit(page, f"{live_server}/p/{petition}")
        stops = tab_to(page, "sign-name")
        assert stops[0]["text"] == "Skip to content"  # the first stop skips the navigation
        page.keyboard.type("Ann Lee")
        assert tab_to(page, "sign-email")[-1]["inSignForm"]
        page.keyboard.type("ann@example.org")
        tab_to(page, "sign-country")
        page.keyboard.type("South Korea")  # a closed <select> picks the option typed
        assert page.locator("#sign-country").input_value() == "KR"
        tab_to_the_button(page, tick_consents=True)
        assert page.get_by_label("Keep me updated by Hanvoice").is_checked()
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.url == f"{live_server}/p/{petition}/signed"
        assert page.get_by_role("heading", name="Check your e-mail").is_visible()
        check_accessibility(page)
        assert "/confirm/" in mailbox.last_to("ann@example.org").body
        assert page.problems == [], page.problems
    finally:
        page.context.close()


def test_a_refused_form_is_announced_and_each_error_tied_to_its_field(live_server, browser, petition):
    page = new_page(browser, DESKTOP)
    try:
        visit(page, f"{live_server}/p/{petition}")
        tab_to(page, "sign-name")
        page.keyboard.type("Ann Lee")
        tab_to(page, "sign-email")
        page.keyboard.type("ann@example")  # no dot in the domain: the browser lets it through, we do not
        tab_to(page, "sign-country")
        page.keyboard.type("South Korea")
        tab_to_the_button(page)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        check_accessibility(page)
        alert = page.locator("#sign [role=alert]")
        assert alert.count() == 1 and alert.is_visible()
        assert "E-mail: That doesn't look like an e-mail address" in alert.inner_text()
        assert alert.locator("li").count() == 1  # only the field that is wrong
        # The first problem has the focus, visibly, and a screen reader hears its error with it.
        focused = page.evaluate(FOCUSED)
        assert focused["id"] == "sign-email" and focused["visible"], focused
        described = page.evaluate("""() => document.activeElement.getAttribute('aria-describedby').split(' ')
          .map(id => document.getElementById(id).innerText.trim())""")
        assert described == [alert.locator("li").inner_text().removeprefix("E-mail: "),
                             "We send you a link to confirm your signature."]
        assert page.locator("#sign-email").get_attribute("aria-invalid") == "true"
        assert page.locator("#sign-name").get_attribute("aria-invalid") is None
        # The summary's link leads to the field.
        page.locator("#sign-name").focus()
        alert.get_by_role("link").click()
        assert page.evaluate("document.activeElement.id") == "sign-email"
    finally:
        page.context.close()
