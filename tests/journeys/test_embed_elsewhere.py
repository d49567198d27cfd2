"""The embed on another site: a page served from another origin frames the sign widget, a supporter
signs inside the frame, confirms from the mail, and the frame then shows the count with them in it."""

from __future__ import annotations

from typing import Any, Callable, Iterable

import pytest

from tests.browser import serving
from tests.factories import make_org
from tests.campaigns.campaign_factories import make_campaign
from tests.journeys.steps import PHONE_390, check_accessibility, mail_link, new_page, press, screenshot, visit

pytestmark = pytest.mark.browser

SLUG = "stop-forced-repatriation"


def host_site(embed_origin: str) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """A supporters' blog on another origin that pastes the snippet the petition page offers."""
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Our blog: sign with us</title></head>
<body><main><h1>Sign with us</h1><p>We support this petition.</p>
<iframe src="{embed_origin}/p/{SLUG}/embed" title="Sign: Stop forced repatriation" width="100%" height="560"
  style="border:0;max-width:32rem"></iframe>
<script src="{embed_origin}/static/js/embed.js" async></script>
</main></body></html>""".encode()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(page)))])
        return [page]

    return app


def test_signing_in_the_embed_on_another_sites_page(app, committed_db, live_server, browser, mailbox, monkeypatch):
    monkeypatch.setitem(app.config, "BASE_URL", live_server)
    lead = make_org("Fathom Film Group", slug="fathom-film-group")
    make_campaign(lead, status="published", slug=SLUG, title="Stop forced repatriation")
    committed_db.session.remove()

    # Another origin: another port, and another host name than the petition's 127.0.0.1.
    with serving(host_site(live_server)) as blog:
        blog = blog.replace("127.0.0.1", "localhost") + "/"
        page = new_page(browser, PHONE_390)
        try:
            visit(page, blog)  # axe-core checks the blog's page and the frame inside it
            frame = page.frame_locator("iframe")
            assert frame.locator(".embed-count strong").inner_text() == "0"
            frame.get_by_label("Your name", exact=True).fill("Ann Lee")
            frame.get_by_label("E-mail", exact=True).fill("ann@example.org")
            frame.get_by_label("Country", exact=True).select_option("KR")
            frame.locator("button[type=submit]").click()
            frame.get_by_role("heading", name="Check your e-mail").wait_for()
            assert page.url == blog  # the blog stays; only the frame moved on
            check_accessibility(page)
            # The frame told the blog its height (embed.js): no scrollbar inside the frame.
            page.wait_for_function("document.querySelector('iframe').style.height !== ''")
            screenshot(page, "embed-signed-phone")
            assert page.problems == [], page.problems

            confirm = new_page(browser, PHONE_390)
            try:
                visit(confirm, mail_link(mailbox, "ann@example.org", "/confirm/", live_server))
                press(confirm, confirm.get_by_role("button", name="Confirm my signature"))
            finally:
                confirm.context.close()

            visit(page, blog)
            assert page.frame_locator("iframe").locator(".embed-count strong").inner_text() == "1"
        finally:
            page.context.close()
