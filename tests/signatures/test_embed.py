"""The embeddable sign form: framable, cookie-less, and it signs from a page on another origin."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import free_port
from tests.helpers import text_of
from tests.signatures.petitions import form_action, hidden_fields, make_petition, supporter
from undersign.extensions import db
from undersign.signatures.models import Consent, Signature


def test_embed_is_the_only_framable_page_and_sets_no_cookie(app, client):
    petition = make_petition()
    response = client.get(f"{petition.url}/embed?via={petition.co_sponsor.slug}")
    assert response.status_code == 200
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in response.headers
    assert "Set-Cookie" not in response.headers
    html = response.get_data(as_text=True)
    assert "Keep me updated by" in html and 'name="postcode"' not in html

    page = client.get(petition.url)
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    # The petition page offers the snippet.
    snippet = client.get(petition.url).get_data(as_text=True)
    assert f"/p/{petition.slug}/embed" in snippet


def test_embed_signs_without_any_cookie(app, mailbox):
    petition = make_petition()
    browser = FlaskClient(app, use_cookies=False)
    page = browser.get(f"{petition.url}/embed?via={petition.co_sponsor.slug}&source=blog")
    html = page.get_data(as_text=True)
    data = {**hidden_fields(html), **supporter(email="frame@example.org")}
    response = browser.post(form_action(html), data=data,
                            headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 303
    assert "Set-Cookie" not in response.headers
    done = browser.get(response.headers["Location"])
    assert "Check your e-mail" in text_of(done) and "frame-ancestors *" in done.headers["Content-Security-Policy"]
    row = db.session.scalars(select(Signature).where(Signature.email == "frame@example.org")).one()
    assert row.sponsorship_id == petition.sponsorship(petition.co_sponsor).id and row.source == "blog"
    assert mailbox.last_to("frame@example.org").link("/confirm/")

    # Errors re-render the compact form inside the frame; a post from another site is refused.
    bad = browser.post(form_action(html), data={**data, "email": "nope"})
    assert bad.status_code == 400 and "look like an e-mail address" in text_of(bad)
    assert "frame-ancestors *" in bad.headers["Content-Security-Policy"]
    assert browser.post(form_action(html), data=data, headers={"Origin": "https://evil.example"}).status_code == 403
    # The sign form's token of the hosted page does not work for the embed, nor the other way round.
    hosted = hidden_fields(browser.get(petition.url).get_data(as_text=True))
    assert browser.post(form_action(html), data={**data, "csrf_token": hosted["csrf_token"]}).status_code == 400


# ---------------------------------------------------------------------------------------------
# A real browser: the form inside an iframe on another origin


@pytest.fixture
def other_site(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A static site on localhost:<other port> (another origin, and another site, than 127.0.0.1)."""
    port = free_port()
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://localhost:{port}"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.mark.browser
def test_embedded_form_signs_from_another_origin(app, committed, live_server, other_site, browser):
    with app.app_context():
        petition = make_petition()
        slug, co_slug, co_name = petition.slug, petition.co_sponsor.slug, petition.co_sponsor.name
        co_sponsorship_id = petition.sponsorship(petition.co_sponsor).id
    folder, site = other_site
    (folder / "index.html").write_text(
        f'<!doctype html><title>A friendly blog</title><h1>Our campaign</h1>'
        f'<iframe id="petition" src="{live_server}/p/{slug}/embed?via={co_slug}" title="Sign" width="100%" height="200"></iframe>'
        f'<script src="{live_server}/static/js/embed.js" async></script>'
    )

    page = browser.new_page()
    try:
        page.goto(f"{site}/index.html")
        # embed.js sizes the frame to the form inside (taller than the 200px it starts with) ...
        page.wait_for_function("() => document.getElementById('petition').offsetHeight > 300", timeout=10_000)
        form_height = page.eval_on_selector("#petition", "f => f.offsetHeight")
        frame = page.frame_locator("#petition")
        frame.get_by_label("Your name", exact=True).fill("Framed Supporter")
        frame.get_by_label("E-mail", exact=True).fill("framed@example.org")
        frame.get_by_label("Country", exact=True).select_option("KR")
        frame.get_by_label(f"Keep me updated by {co_name}").check()
        frame.get_by_role("button", name="Sign this petition").click()
        frame.get_by_text("Check your e-mail").wait_for(timeout=10_000)
        # ... and shrinks it to the short "check your e-mail" page after signing.
        page.wait_for_function(f"() => document.getElementById('petition').offsetHeight < {form_height}",
                               timeout=10_000)
    finally:
        page.context.close()

    with app.app_context():
        row = db.session.scalars(select(Signature).where(Signature.email == "framed@example.org")).one()
        assert row.name == "Framed Supporter" and row.country == "KR"
        assert row.sponsorship_id == co_sponsorship_id
        assert [c.wording for c in db.session.scalars(select(Consent).where(Consent.signature_id == row.id))] == [
            f"Keep me updated by {co_name}"]
