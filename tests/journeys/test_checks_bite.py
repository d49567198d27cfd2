"""The journeys' checks fail when what they check is broken: a count that did not rise, a page
axe-core should refuse. (A check that always passes would let a broken step through.)"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import pytest

from tests.accounts.flows import press_button
from tests.browser import serving
from tests.signatures.petitions import make_petition, sign, supporter
from tests.journeys.steps import check_accessibility, expect_counts, new_page, visit

pytestmark = pytest.mark.browser

INACCESSIBLE = b"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Bad page</title></head>
<body><main><h1>Bad page</h1>
<p style="color:#bbb;background:#fff">Pale grey words on white.</p>
<form><input type="text" name="nameless"><button type="submit">Send</button></form>
</main></body></html>"""


def bad_page(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
    return [INACCESSIBLE]


def test_the_count_check_fails_while_the_signature_is_unconfirmed(app, committed_db, live_server, browser, mailbox):
    petition = make_petition()
    slug, hosts = petition.slug, (petition.lead.slug, petition.co_sponsor.slug)
    client = app.test_client()
    assert sign(client, petition.hosted_url(petition.co_sponsor), supporter(email="ann@example.org")).status_code == 303
    committed_db.session.remove()

    page = new_page(browser)
    try:
        with pytest.raises(AssertionError) as refused:
            expect_counts(page, live_server, slug, hosts, 1)
        message = str(refused.value)
        for place in (f"/o/{hosts[0]}/p/{slug} shows 0", f"/o/{hosts[1]}/p/{slug} shows 0",
                      f"/p/{slug}.json says 0", f"/p/{slug}/embed shows 0"):
            assert place in message, message

        confirm = mailbox.last_to("ann@example.org").link("/confirm/")
        assert press_button(client, confirm).status_code == 200
        committed_db.session.remove()
        expect_counts(page, live_server, slug, hosts, 1)  # and once confirmed, it passes
    finally:
        page.context.close()


def test_the_accessibility_check_fails_on_a_page_with_violations(browser):
    with serving(bad_page) as address:
        page = new_page(browser)
        try:
            with pytest.raises(AssertionError) as refused:
                visit(page, address)
            message = str(refused.value)
            assert "color-contrast (serious) at p" in message and "label (critical) at input" in message, message
        finally:
            page.context.close()
