"""Absolute links come from ``BASE_URL``, never from the request's ``Host`` (DESIGN §11).

Public pages are cacheable by shared caches: a page built from a foreign
``Host`` would hand every later visitor links to another site. So every public
GET route in the URL map is requested with ``Host: evil.example`` and the name
must appear nowhere in the answer. A new public route without a value here
fails the test, so it cannot be forgotten. API routes (declared public, authenticated
by a token) are requested with a token of the demo organization.
"""

from __future__ import annotations

import io
import datetime as dt

import pytest
from sqlalchemy import select

from tests.factories import png_bytes
from tests.helpers import submit
from tests.signatures.petitions import sign, supporter
from undersign.campaigns.models import Campaign
from undersign.extensions import db
from undersign.images.store import store_image
from undersign.db import utcnow
from undersign.delivery.models import Delivery, ResponseLink
from undersign.mailings.tokens import unsubscribe_token
from undersign.tokens import new_token
from undersign.organizations.models import Organization
from undersign.signatures.models import Signature
from undersign.signatures.tokens import withdraw_token

FOREIGN = "evil.example"
SLUG = "end-forced-repatriation"
# Staff links with a made-up token answer "invalid link" (4xx); the signing tokens below are real.
REDIRECTS = {"signing.sign_page", "signing.sign_hosted_page"}  # GET on the sign form's address leads to the form on the page
# The answer each of those gives: a made-up account token is refused (400), an unknown invitation is
# not found (404), and the development mailbox does not exist outside development (404).
# The second step of signing in, with nobody half signed in, sends the visitor to the first.
SIGN_IN_FIRST = {"accounts.two_factor"}
INVALID_LINK_STATUS = {"accounts.verify": 400, "accounts.reset_password": 400, "organizations.invitation": 404,
                       "web.recent_mail": 404, "me.data": 401, "delivery.respond_packet": 404}  # /me/data.json: a fresh visitor is not signed in


@pytest.fixture
def demo(app):  # type: ignore[no-untyped-def]
    from undersign import demo as demo_data

    demo_data.load()
    # A picture, so that the image route and the og:image link are walked too.
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == SLUG))
    campaign.image = store_image(io.BytesIO(png_bytes()), max_bytes=1_000_000)
    db.session.commit()


def _values(client, mailbox) -> dict[str, dict[str, object]]:  # type: ignore[no-untyped-def]
    """A working URL value for each argument of each public GET route."""
    sign(client, f"/p/{SLUG}", supporter(email="host-test@example.org"))
    mail = mailbox.last_to("host-test@example.org")
    confirm_path = mail.link("/confirm/")
    token = confirm_path.rsplit("/", 1)[-1]
    assert submit(client, "/me", {"email": "host-test@example.org"}).status_code == 200
    me_token = mailbox.last_to("host-test@example.org").link("/me/link/").rsplit("/", 1)[-1]
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == SLUG))
    signature = db.session.scalar(
        select(Signature).where(Signature.campaign_id == campaign.id, Signature.email == "host-test@example.org")
    )
    hanvoice = db.session.scalar(select(Organization).where(Organization.slug == "hanvoice"))
    images = {"image_id": campaign.image.id, "sha": campaign.image.sha256[:16]}
    response_token, response_hash = new_token("dm_")
    delivery = Delivery(campaign_id=campaign.id, recipient_name="The decision maker", recipient_email="dm@example.org")
    delivery.links.append(ResponseLink(token_hash=response_hash, email="dm@example.org",
                                       expires_at=utcnow() + dt.timedelta(days=1)))
    db.session.add(delivery)
    db.session.commit()
    return {
        "static": {"filename": "css/undersign.css"},
        "web.choose_language": {"code": "ko"},
        "accounts.verify": {"token": "not-a-token"},
        "accounts.reset_password": {"token": "not-a-token"},
        "organizations.invitation": {"token": "not-a-token"},
        "me.link": {"token": me_token},
        "images.image": images,
        "public.organization": {"org": "hanvoice"},
        "public.petition": {"slug": SLUG},
        "public.hosted_petition": {"org": "hanvoice", "slug": SLUG},
        "signing.sign_page": {"slug": SLUG},
        "signing.sign_hosted_page": {"org": "hanvoice", "slug": SLUG},
        "signing.signed": {"slug": SLUG},
        "signing.confirm": {"slug": SLUG, "token": token},
        "signing.withdraw": {"slug": SLUG, "token": withdraw_token(signature)},
        "signing.figures": {"slug": SLUG},
        "public.history": {"slug": SLUG},
        "public.history_as_csv": {"slug": SLUG},
        "transparency.head": {"slug": SLUG},
        "transparency.entries": {"slug": SLUG},
        "transparency.inclusion": {"slug": SLUG, "index": "0", "tree_size": "1"},
        "transparency.consistency": {"slug": SLUG, "first": 1, "second": 1},
        "transparency.verify_page": {"slug": SLUG},
        "reports.report": {"slug": SLUG},
        "reports.thanks": {"slug": SLUG},
        "signing.embed": {"slug": SLUG},
        "signing.embed_signed": {"slug": SLUG},
        "mailings.unsubscribe": {"token": unsubscribe_token(signature.id, hanvoice.id)},
        "delivery.respond": {"token": response_token},
        "delivery.respond_packet": {"token": "not-a-token"},  # a real one would render a PDF per query
        "api.campaign": {"slug": SLUG},
        "api.campaign_signatures": {"slug": SLUG},
    }


def test_no_public_page_takes_links_from_the_host_header(app, client, mailbox, demo):  # type: ignore[no-untyped-def]
    from undersign.web.access import Audience

    from undersign.api.service import create_token

    values = _values(client, mailbox)
    hanvoice = db.session.scalar(select(Organization).where(Organization.slug == "hanvoice"))
    _token, secret = create_token(None, hanvoice, "host header test", write=False)
    db.session.commit()
    checked = []
    for rule in app.url_map.iter_rules():
        access = getattr(app.view_functions[rule.endpoint], "access", None)
        if access is None or access.audience is not Audience.PUBLIC or "GET" not in (rule.methods or ()):
            continue
        args = values.get(rule.endpoint, {})
        missing = set(rule.arguments) - set(args)
        assert not missing, f"give {rule.endpoint} a value for {missing} in this test"
        with app.test_request_context():
            from flask import url_for

            path = url_for(rule.endpoint, **args)
        for query in ("", "?via=hanvoice"):
            # A fresh visitor each time: no session, so shared-cache rules apply.
            headers = {"Host": FOREIGN}
            if hasattr(app.view_functions[rule.endpoint], "api_scope"):
                headers["Authorization"] = f"Bearer {secret}"
            response = app.test_client().get(path + (query.replace("?", "&") if "?" in path else query), headers=headers)
            if rule.endpoint == "web.healthz":
                assert response.status_code in (200, 503)
            elif rule.endpoint in REDIRECTS:
                assert response.status_code == 303, (path, response.status_code)
                assert response.headers["Location"].endswith(f"/p/{SLUG}#sign"), response.headers["Location"]
            elif rule.endpoint == "web.choose_language":
                assert (response.status_code, response.headers["Location"]) == (303, "/"), path
            elif rule.endpoint in SIGN_IN_FIRST:
                assert (response.status_code, response.headers["Location"]) == (302, "/login"), path
            elif rule.endpoint in INVALID_LINK_STATUS:
                assert response.status_code == INVALID_LINK_STATUS[rule.endpoint], (path, response.status_code)
            else:
                assert response.status_code == 200, (path, response.status_code)
            body = response.get_data()
            assert FOREIGN.encode() not in body, f"{path}{query} links to the request's host"
            for name, value in response.headers.items():
                assert FOREIGN not in value, f"{path}{query}: header {name}: {value}"
        checked.append(rule.endpoint)
    # The pages the issue names are among those walked.
    assert {"signing.embed", "signing.embed_signed", "signing.figures", "public.hosted_petition",
            "public.organization", "public.petition", "public.home"} <= set(checked)


def test_links_on_the_embed_point_at_base_url(app, demo):  # type: ignore[no-untyped-def]
    base = app.config["BASE_URL"]
    for path in (f"/p/{SLUG}/embed", f"/p/{SLUG}/embed/signed"):
        body = app.test_client().get(path, headers={"Host": FOREIGN}).get_data(as_text=True)
        assert f'href="{base}/p/{SLUG}"' in body, path
