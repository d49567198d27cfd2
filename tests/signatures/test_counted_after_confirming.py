"""The supporter who just confirmed sees themself counted, whatever the caches hold.

With the micro-cache on (and a long ``max-age``, so that the browser's own cache
is in play too): the thank-you page, the petition they go back to, the list of
petitions and the live count all include them; a visitor who did not confirm
still gets the cached figure (README: ``PUBLIC_PAGE_CACHE_SECONDS``).
"""

from __future__ import annotations

import re

import pytest

from tests.helpers import csrf_token
from tests.signatures.petitions import make_petition, sign, supporter
from undersign.web.cache import page_cache

SLUG = "end-forced-repatriation"  # the demo's open petition: 12 supporters


@pytest.fixture
def caches_on(app, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "PUBLIC_PAGE_CACHE_SECONDS", 60)
    monkeypatch.setitem(app.config, "PUBLIC_CACHE_MAX_AGE", 300)
    page_cache().clear()
    yield
    page_cache().clear()


def test_after_confirming_every_page_and_the_figures_count_the_supporter(app, client, mailbox, caches_on):  # type: ignore[no-untyped-def]
    petition = make_petition()
    assert client.get(petition.url + ".json").json["signature_count"] == 0   # now in the micro-cache
    assert app.test_client().get(petition.url).status_code == 200             # the anonymous page too

    assert sign(client, petition.url, supporter(email="cho@example.org")).status_code == 303
    link = mailbox.last_to("cho@example.org").link("/confirm/")
    button = client.get(link)
    confirmed = client.post(link, data={"csrf_token": csrf_token(button.get_data(as_text=True))})
    assert "You are one of <strong>1</strong> supporters" in confirmed.get_data(as_text=True)

    figures = client.get(petition.url + ".json")
    assert figures.json["signature_count"] == 1
    # The browser drops the copies it kept from before, and keeps none of what it gets now.
    assert confirmed.headers["Clear-Site-Data"] == '"cache"'
    assert figures.headers["Cache-Control"] == "private, no-store"
    for url in (petition.url, petition.hosted_url(petition.co_sponsor), "/", f"/o/{petition.lead.slug}"):
        page = client.get(url)
        assert re.search(r">1</strong>\s+supporter\b", page.get_data(as_text=True)), url
        assert page.headers["Cache-Control"] == "private, no-store", url

    # Someone else may still be shown the figure the process cached a moment ago.
    stranger = app.test_client()
    assert stranger.get(petition.url + ".json").json["signature_count"] == 0
    assert re.search(r">0</strong>\s+supporters", stranger.get(petition.url).get_data(as_text=True))


@pytest.mark.browser
def test_in_a_browser_the_confirmer_sees_themself_counted(app, live_server, phone, browser, mailbox,
                                                           committed_db, caches_on):  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    from undersign import demo

    demo.load()
    committed_db.session.commit()
    committed_db.session.remove()
    count = ".petition-count .count-number"

    # The supporter reads the petition and the list first: both now sit in the browser's cache
    # and in the process's micro-cache.
    phone.goto(f"{live_server}/p/{SLUG}")
    expect(phone.locator(count)).to_have_text("12")
    phone.evaluate("fetch(document.querySelector('[data-count-url]').dataset.countUrl)")
    phone.goto(f"{live_server}/")
    phone.goto(f"{live_server}/p/{SLUG}")
    phone.fill("#sign-name", "Cho Mi-rae")
    phone.fill("#sign-email", "mirae@example.org")
    phone.select_option("#sign-country", "KR")
    phone.click("button.sign-button")
    expect(phone.locator("h1")).to_have_text("Check your e-mail")

    phone.goto(live_server + mailbox.last_to("mirae@example.org").link("/confirm/"))
    phone.click("button.sign-button")
    expect(phone.locator("article strong").first).to_have_text("13")

    phone.click("text=Back to the petition and share it")
    expect(phone.locator(count)).to_have_text("13")
    # The live count re-reads the figures (here: when the tab becomes visible) and keeps 13.
    with phone.expect_response(lambda r: r.url.endswith(f"/p/{SLUG}.json")):
        phone.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(phone.locator(count)).to_have_text("13")
    phone.goto(f"{live_server}/")
    expect(phone.locator(".campaign-card", has_text="End Forced Repatriation").locator(".campaign-card-count strong")).to_have_text("13")
    assert phone.problems == [], phone.problems

    # A visitor who did not confirm may get the copy the process made before (documented).
    other = browser.new_page()
    try:
        other.goto(f"{live_server}/p/{SLUG}")
        expect(other.locator(count)).to_have_text("12")
    finally:
        other.context.close()
