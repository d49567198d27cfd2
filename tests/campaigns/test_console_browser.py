"""The campaign console in a real browser on a phone-sized screen (375 × 800): no sideways scrolling,
every control labelled, no script or CSP errors, and a draft made and published without JavaScript tricks."""

from __future__ import annotations

import pytest

from tests.browser import PHONE, UNLABELLED_CONTROLS
from tests.campaigns.campaign_factories import make_campaign
from tests.factories import PASSWORD, add_member, make_org, make_user
from undersign.organizations.models import Role

pytestmark = pytest.mark.browser


@pytest.fixture
def console_login(committed_db) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A lead organization with a published petition and a co-sponsor, and an invitation to a third one."""
    owner = make_user("owner@lead.example", "Lead Owner")
    lead = make_org("Fathom Film Group", slug="fathom-film-group", owner=owner)
    partner = make_org("North Korean Human Rights Film Festival", slug="nkhr-film-festival")
    invitee = make_org("Hanvoice", slug="hanvoice")
    add_member(invitee, owner, Role.ADMIN)
    make_campaign(lead, status="published", co_sponsors=(partner,), signature_count=586, goal=1000,
                  slug="help-north-korean-refugees",
                  title="Help North Korean Refugees — a rather long title that has to wrap on a small phone screen")
    make_campaign(partner, invited=(invitee,), slug="a-festival-draft", title="A festival petition")
    committed_db.session.remove()
    return {"email": "owner@lead.example"}


def _fits(page, url: str) -> None:  # type: ignore[no-untyped-def]
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 376)
      .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], (url, wide)
    assert page.evaluate(UNLABELLED_CONTROLS) == [], url


def test_console_pages_on_a_phone(console_login, live_server, phone):
    base, login = live_server, console_login
    phone.goto(f"{base}/login")
    phone.fill("input[name=email]", login["email"])
    phone.fill("input[name=password]", PASSWORD)
    phone.locator("form:has(input[name=password]) button[type=submit]").click()
    phone.wait_for_load_state()

    console = f"{base}/orgs/fathom-film-group/campaigns"
    for rest in ("/", "/new", "/help-north-korean-refugees/", "/help-north-korean-refugees/edit",
                 "/help-north-korean-refugees/sponsors", "/help-north-korean-refugees/updates",
                 "/help-north-korean-refugees/updates/new", "/help-north-korean-refugees/revisions"):
        _fits(phone, console + rest)
    _fits(phone, f"{base}/orgs/hanvoice/campaigns/")
    assert phone.get_by_text("Invitations to co-sponsor").is_visible()
    _fits(phone, f"{base}/orgs/hanvoice/campaigns/a-festival-draft/")
    phone.screenshot(path="/tmp/console-invitation-375.png", full_page=True)

    # Draft a petition and publish it, the way a phone user would.
    phone.goto(console + "/new")
    phone.fill("#title", "Stop forced repatriation")
    phone.fill("#body", "China returns refugees to **danger**.")
    phone.fill("#demands", "Recognize defectors as refugees\nUnder international law.\n\nStop deportations")
    phone.fill("#goal", "500")
    phone.get_by_role("button", name="Save the draft").click()
    phone.wait_for_load_state()
    assert phone.url.endswith("/campaigns/stop-forced-repatriation/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.get_by_role("button", name="Publish").click()
    phone.wait_for_load_state()
    # A page says what publishing does before anything happens.
    assert phone.url.endswith("/campaigns/stop-forced-repatriation/publish")
    assert phone.get_by_text("Publishing opens the petition for signatures").is_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.get_by_role("button", name="Publish now").click()
    phone.wait_for_load_state()
    assert phone.get_by_text("The petition is published").is_visible()
    phone.screenshot(path="/tmp/console-detail-375.png", full_page=True)
    assert phone.problems == [], phone.problems
