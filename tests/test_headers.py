"""Security headers on every response: one walk over every GET route of the URL map.

Each route is requested as an anonymous visitor and as a signed-in platform
administrator who owns the organization in the URL, with its parameters taken
from real objects made here (a petition with sponsors, a revision, an update,
an invitation, an image, and the tokens from the real e-mails). A route whose
parameters this file cannot build fails the test with its name, unless it is
listed in ``SKIPPED`` with the reason.
"""

from __future__ import annotations

import io
import re
import secrets
from typing import Any

import pytest
from PIL import Image as PILImage

from tests.factories import add_member, login_as, make_user
from tests.helpers import submit
from tests.signatures.petitions import make_petition, sign, supporter
from undersign.moderation.models import Report
from undersign.mailings.tokens import unsubscribe_token
from undersign.signatures.models import Signature
from undersign.delivery.models import Delivery, ResponseLink
from undersign.tokens import hash_token, new_token
from undersign.campaigns.models import CampaignRevision, Update
from undersign.db import utcnow
from undersign.extensions import db
from undersign.images.store import store_image
from undersign.organizations.models import Invitation, Membership, Role
from undersign.web.access import Audience, access_of
from undersign.webhooks.models import WebhookEndpoint
from undersign.webhooks.service import new_secret

# Pages made to be shown inside other sites' iframes (DESIGN §9: only the embed).
FRAMABLE = {"signing.embed", "signing.embed_signed"}
# Routes whose parameters cannot be built here, with the reason. Keep it empty if you can.
SKIPPED: dict[str, str] = {}

TAG_RE = re.compile(r"<[a-zA-Z][^>]*>")
INLINE_SCRIPT_RE = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*\bnonce=)[^>]*>", re.I)
STYLE_ATTR_RE = re.compile(r"\sstyle\s*=", re.I)
EVENT_ATTR_RE = re.compile(r"\son[a-z]+\s*=", re.I)


def _png() -> io.BytesIO:
    buffer = io.BytesIO()
    PILImage.new("RGB", (8, 8), (200, 30, 30)).save(buffer, "PNG")
    buffer.seek(0)
    return buffer


def build_world(client: Any, mailbox: Any, app: Any) -> dict[str, Any]:
    """Real objects for every URL parameter, and the tokens from the real e-mails."""
    petition = make_petition()
    walker = make_user("walker@example.org", admin=True)
    db.session.add(Membership(organization_id=petition.lead.id, user_id=walker.id, role=Role.OWNER.value))
    colleague = add_member(petition.lead, role=Role.EDITOR)
    membership = db.session.scalar(
        db.select(Membership).where(Membership.user_id == colleague.id, Membership.organization_id == petition.lead.id)
    )
    image = store_image(_png(), max_bytes=app.config["IMAGE_MAX_BYTES"])
    revision = CampaignRevision(campaign_id=petition.campaign.id, title="Earlier title", body="Earlier text.",
                                demands=[], signature_count_at_edit=0)
    update = Update(campaign_id=petition.campaign.id, organization_id=petition.lead.id, title="News", body="Progress.")
    invitation_raw = secrets.token_urlsafe(32)
    invitation = Invitation(organization_id=petition.lead.id, email="newcomer@example.org", role=Role.EDITOR.value,
                            token_hash=hash_token(invitation_raw), expires_at=utcnow().replace(year=utcnow().year + 1))
    endpoint = WebhookEndpoint(organization_id=petition.lead.id, url="https://crm.example.org/hooks",
                               events=["campaign.updated"], secret=new_secret())
    report = Report(campaign_id=petition.campaign.id, reason="spam", text="A report.")
    db.session.add_all([revision, update, invitation, endpoint, report])
    response_raw, response_hash = new_token("dm_")
    delivery = Delivery(campaign_id=petition.campaign.id, recipient_name="The decision maker",
                        recipient_email="dm@example.org")
    delivery.links.append(ResponseLink(token_hash=response_hash, email="dm@example.org",
                                       expires_at=utcnow().replace(year=utcnow().year + 1)))
    db.session.add(delivery)
    db.session.commit()

    anonymous = client.application.test_client()
    assert sign(anonymous, petition.url, supporter(email="signer@example.org")).status_code == 303
    signed_mail = mailbox.last_to("signer@example.org")
    assert submit(anonymous, "/signup", {"name": "Newcomer", "email": "fresh@example.org",
                                         "password": "a long enough passphrase"}).status_code == 200
    verify_mail = mailbox.last_to("fresh@example.org")
    assert submit(anonymous, "/reset", {"email": "walker@example.org"}).status_code == 200
    reset_mail = mailbox.last_to("walker@example.org")
    assert submit(anonymous, "/me", {"email": "signer@example.org"}).status_code == 200
    me_mail = mailbox.last_to("signer@example.org")

    def last_segment(path: str) -> str:
        return path.rstrip("/").rsplit("/", 1)[1]

    co_sponsorship = petition.sponsorship(petition.co_sponsor)
    return {
        "user": walker,
        "by_name": {
            "org": petition.lead.slug,
            "slug": petition.slug,
            "code": "ko",
            "org_id": petition.lead.id,
            "campaign_id": petition.campaign.id,
            "image_id": image.id,
            "sha": image.sha256[:16],  # as image_url() builds it
            "revision_id": revision.id,
            "update_id": update.id,
            "sponsorship_id": co_sponsorship.id,
            "member_id": membership.id,
            "invitation_id": invitation.id,
            "endpoint_id": endpoint.id,
            "report_id": report.id,
            "link_id": delivery.links[0].id,
            "filename": "css/undersign.css",
        },
        "tokens": {
            "accounts.verify": last_segment(verify_mail.link("/verify/")),
            "accounts.reset_password": last_segment(reset_mail.link("/reset/")),
            "organizations.invitation": invitation_raw,
            "me.link": last_segment(me_mail.link("/me/link/")),
            "signing.confirm": last_segment(signed_mail.link("/confirm/")),
            "signing.withdraw": last_segment(signed_mail.link("/withdraw/")),
            "delivery.respond": response_raw,
            "delivery.respond_packet": response_raw,
            "mailings.unsubscribe": unsubscribe_token(
                db.session.scalar(db.select(Signature.id).where(Signature.email == "signer@example.org")),
                petition.lead.id),
        },
    }


def get_routes(app: Any, world: dict[str, Any]) -> tuple[list[tuple[str, str]], list[str]]:
    """(endpoint, url) for every GET rule, and the rules whose parameters are unknown here."""
    routes, unknown = [], []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in (rule.methods or ()) or rule.endpoint in SKIPPED:
            continue
        values: dict[str, Any] = {}
        for name in rule.arguments:
            if name == "token" and rule.endpoint in world["tokens"]:
                values[name] = world["tokens"][rule.endpoint]
            elif name in world["by_name"]:
                values[name] = world["by_name"][name]
            else:
                unknown.append(f"{rule.endpoint} ({rule.rule}): no value for <{name}>")
                break
        else:
            with app.test_request_context():
                from flask import url_for

                routes.append((rule.endpoint, url_for(rule.endpoint, **values)))
    return routes, unknown


def check_headers(endpoint: str, url: str, response: Any, signed_in: bool) -> list[str]:
    problems = []
    where = f"{endpoint} {url} [{response.status_code}, {'signed in' if signed_in else 'anonymous'}]"
    if response.status_code >= 500:
        problems.append(f"{where}: server error")
    csp = response.headers.get("Content-Security-Policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    if "'unsafe-inline'" in csp or "'unsafe-eval'" in csp:
        problems.append(f"{where}: CSP allows unsafe-inline/eval: {csp}")
    if directives.get("object-src") != ["'none'"] or directives.get("base-uri") != ["'none'"]:
        problems.append(f"{where}: CSP lacks object-src/base-uri 'none': {csp!r}")
    if not directives.get("script-src") or any(src not in ("'self'",) and not src.startswith("'nonce-") for src in directives["script-src"]):
        problems.append(f"{where}: script-src is not 'self' + nonce: {directives.get('script-src')}")
    frame = directives.get("frame-ancestors")
    if endpoint in FRAMABLE and response.status_code == 200:
        if frame == ["'none'"] or response.headers.get("X-Frame-Options"):
            problems.append(f"{where}: the embed must be framable")
    elif frame != ["'none'"]:
        problems.append(f"{where}: frame-ancestors is {frame}, not 'none'")
    if response.headers.get("X-Content-Type-Options") != "nosniff":
        problems.append(f"{where}: no X-Content-Type-Options: nosniff")
    if not response.headers.get("Referrer-Policy"):
        problems.append(f"{where}: no Referrer-Policy")
    rule = access_of(endpoint)
    staff = rule is not None and rule.audience is not Audience.PUBLIC
    if (staff or signed_in) and endpoint != "static" and "no-store" not in response.headers.get("Cache-Control", ""):
        problems.append(f"{where}: staff or signed-in page without Cache-Control: no-store")
    if "Strict-Transport-Security" in response.headers:
        problems.append(f"{where}: HSTS outside production")
    if response.mimetype == "text/html":
        html = response.get_data(as_text=True)
        if INLINE_SCRIPT_RE.search(html):
            problems.append(f"{where}: inline <script> without a nonce (CSP blocks it)")
        if re.search(r"<style\b", html, re.I):
            problems.append(f"{where}: inline <style> block (CSP blocks it)")
        for tag in TAG_RE.findall(html):
            if STYLE_ATTR_RE.search(tag) or EVENT_ATTR_RE.search(tag):
                problems.append(f"{where}: inline style or event handler (CSP blocks it): {tag[:120]}")
                break
    return problems


def test_every_get_route_sends_the_security_headers(app, client, mailbox):
    world = build_world(client, mailbox, app)
    routes, unknown = get_routes(app, world)
    assert not unknown, "add these parameters to build_world (or list the route in SKIPPED): " + "; ".join(unknown)
    assert len(routes) >= 20, routes

    staff_client = app.test_client()
    login_as(staff_client, world["user"])
    problems: list[str] = []
    for endpoint, url in routes:
        for who, browser in (("anonymous", app.test_client()), ("staff", staff_client)):
            response = browser.get(url)
            problems += check_headers(endpoint, url, response, signed_in=who == "staff")
            response.close()
    assert not problems, "\n".join(problems)


def test_error_pages_send_the_security_headers_too(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert not check_headers("none", "/no/such/page", response, signed_in=False)
    response = client.post("/login", data={"email": "x@example.org"})  # no CSRF token
    assert response.status_code == 400
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_every_response_gets_its_own_script_nonce(client):
    first = client.get("/login").headers["Content-Security-Policy"]
    second = client.get("/login").headers["Content-Security-Policy"]
    nonce = re.compile(r"'nonce-([A-Za-z0-9_-]{16,})'")
    assert nonce.search(first) and nonce.search(second)
    assert nonce.search(first).group(1) != nonce.search(second).group(1)


@pytest.mark.parametrize("path", ["/login", "/orgs"])
def test_staff_pages_are_never_stored(client, path):
    login_as(client, make_user())
    assert client.get(path).headers["Cache-Control"] == "no-store"
