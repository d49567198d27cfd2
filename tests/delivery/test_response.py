"""The decision maker's response link, their response mailed once per consenting signer through the real
SMTP server, the outcome on the petition page, and who in the console may do any of it."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from tests.campaigns.campaign_factories import staff
from tests.factories import login_as
from tests.helpers import csrf_token, submit, text_of
from tests.mailings.supporters import Sponsors, three_sponsors
from undersign.audit import AuditEvent
from undersign.campaigns.models import Campaign, Update
from undersign.db import utcnow
from undersign.delivery.models import Delivery, ResponseLink
from undersign.extensions import db
from undersign.organizations.models import Role

DM_EMAIL = "grandi@unhcr.example"


@pytest.fixture
def sponsors() -> Sponsors:
    return three_sponsors()


def lead_admin(client, found: Sponsors):  # type: ignore[no-untyped-def]
    admin = staff(found.lead, Role.ADMIN)
    login_as(client, admin)
    return admin


def send_link(client, mailbox, found: Sponsors) -> str:  # type: ignore[no-untyped-def]
    """As the lead's admin: record the decision maker, e-mail them a link; returns the link's path."""
    page = found.url(found.lead, "delivery")
    saved = submit(client, page, {"name": "Filippo Grandi", "role": "High Commissioner", "email": DM_EMAIL},
                   action=page + "/recipient")
    assert saved.status_code == 302
    assert submit(client, page, {}, action=page + "/links").status_code == 302
    [mail] = [m for m in mailbox.deliver() if m.to == [DM_EMAIL]]
    return mail.link("/respond/")


def events(action: str) -> int:
    return int(db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == action)) or 0)


def test_the_link_works_only_with_its_token_and_not_after_revocation(app, client, mailbox, sponsors):
    lead_admin(client, sponsors)
    path = send_link(client, mailbox, sponsors)
    link = db.session.scalar(select(ResponseLink))
    assert link.token_hash not in path  # only the hash is stored

    dm = app.test_client()  # the decision maker: no account
    page = dm.get(path)
    assert page.status_code == 200
    assert sponsors.campaign.title in text_of(page)
    assert "Download the delivery packet" in text_of(page)
    token = csrf_token(page.get_data(as_text=True))
    assert dm.get(path + "x").status_code == 404
    assert dm.get("/respond/dm_" + "A" * 43).status_code == 404
    # Opening the link (twice now, as a mail scanner would) spends nothing and writes only the audit log.
    dm.get(path)
    assert events("delivery.link_viewed") == 2
    assert db.session.scalar(select(func.count(Update.id))) == 0
    assert db.session.scalar(select(Delivery)).responded_at is None

    console = sponsors.url(sponsors.lead, "delivery")
    assert submit(client, console, {}, action=f"{console}/links/{link.id}/revoke").status_code == 302
    assert dm.get(path).status_code == 410
    assert post_response(dm, token, path, "Too late.").status_code == 410
    assert events("delivery.link_refused") == 2
    assert db.session.scalar(select(func.count(Update.id))) == 0


def post_response(browser, token: str, path: str, body: str):  # type: ignore[no-untyped-def]
    """The form posted again with the CSRF token of an earlier view of the page (which no longer shows it)."""
    return browser.post(path, data={"body": body, "csrf_token": token})


def test_an_expired_link_is_refused(app, client, mailbox, sponsors):
    lead_admin(client, sponsors)
    path = send_link(client, mailbox, sponsors)
    link = db.session.scalar(select(ResponseLink))
    assert link.expires_at - link.created_at == dt.timedelta(days=30)
    link.expires_at = utcnow() - dt.timedelta(seconds=1)
    db.session.commit()
    dm = app.test_client()
    assert dm.get(path).status_code == 410
    assert dm.get(path + "/packet.pdf").status_code == 410


def test_a_response_reaches_each_consenting_signer_once_and_shows_on_every_sponsor_page(app, client, mailbox,
                                                                                       sponsors):
    lead_admin(client, sponsors)
    path = send_link(client, mailbox, sponsors)
    mailbox.clear()
    client = app.test_client()  # the decision maker: no account

    token = csrf_token(client.get(path).get_data(as_text=True))
    # Without the form's CSRF token nothing happens.
    assert client.post(path, data={"body": "No token."}).status_code == 400
    # An empty response is refused with a message.
    empty = submit(client, path, {"body": "   "})
    assert empty.status_code == 400 and "Write a response" in text_of(empty)

    sent = submit(client, path, {"body": "We will **review** the cases.\n\n<script>alert(1)</script>"})
    assert sent.status_code == 302
    received = mailbox.deliver()
    # ann: Fathom · bob: Fathom and Hanvoice (one mail) · eve: Hanvoice (unsubscribed from Fathom) ·
    # gus: the festival. Not cat (no consent), dan (withdrew), fay (never confirmed).
    assert sorted(t for m in received for t in m.to) == [
        "ann@example.org", "bob@example.org", "eve@example.org", "gus@example.org"]
    by_person = {m.to[0]: m for m in received}
    assert "Fathom Film Group" in by_person["bob@example.org"].body
    assert "To stop hearing from Hanvoice" in by_person["eve@example.org"].body
    assert "To stop hearing from Film Festival" in by_person["gus@example.org"].body
    assert by_person["ann@example.org"].headers["List-Unsubscribe"].startswith("<http://localhost/unsubscribe/")
    assert "<strong>review</strong>" in (by_person["ann@example.org"].html or "")
    assert "<script>alert" not in (by_person["ann@example.org"].html or "")

    slug = sponsors.campaign.slug
    for page in (f"/p/{slug}", f"/o/{sponsors.partner.slug}/p/{slug}", f"/o/{sponsors.festival.slug}/p/{slug}"):
        html = client.get(page).get_data(as_text=True)
        assert "Response from Filippo Grandi, High Commissioner" in html
        assert "<strong>review</strong>" in html and "<script>alert" not in html
    update = db.session.scalar(select(Update))
    assert update.title == "Response from Filippo Grandi" and update.organization_id == sponsors.lead.id
    assert events("delivery.responded") == 1

    # Answered once: the page shows the response, a second one is refused and mails nobody.
    assert "You responded on" in text_of(client.get(path))
    mailbox.clear()
    assert post_response(client, token, path, "Again.").status_code == 409
    assert mailbox.deliver() == []


def test_the_outcome_shows_on_the_closed_page(app, client, mailbox, sponsors):
    lead_admin(client, sponsors)
    path = send_link(client, mailbox, sponsors)
    assert submit(app.test_client(), path, {"body": "We agree."}).status_code == 302
    page = sponsors.url(sponsors.lead, "delivery")
    assert submit(client, page, {"outcome": "won"}, action=page + "/outcome").status_code == 302
    db.session.expire_all()
    assert db.session.get(Campaign, sponsors.campaign.id).status == "victory"
    assert submit(client, page, {"outcome": "maybe"}, action=page + "/outcome").status_code == 400
    text = text_of(app.test_client().get(f"/p/{sponsors.campaign.slug}"))
    assert "Victory — Filippo Grandi, High Commissioner responded on" in text


def test_only_the_leads_admins_deliver(app, sponsors):
    page = sponsors.url(sponsors.lead, "delivery")
    editor = app.test_client()
    login_as(editor, sponsors.editors[sponsors.lead.slug])
    assert editor.get(page).status_code == 403
    assert editor.get(page + "/packet.pdf").status_code == 403
    token = csrf_token(editor.get(sponsors.url(sponsors.lead)).get_data(as_text=True))
    assert editor.post(page + "/links", data={"csrf_token": token}).status_code == 403
    # A co-sponsor's admin sees the petition but may not deliver it.
    partner = app.test_client()
    login_as(partner, staff(sponsors.partner, Role.ADMIN))
    assert partner.get(sponsors.url(sponsors.partner, "delivery")).status_code == 403
    # Through their own organization, or through the lead's URL: another organization's admin gets 404.
    outsider = app.test_client()
    login_as(outsider, staff(sponsors.outsider, Role.ADMIN))
    assert outsider.get(sponsors.url(sponsors.outsider, "delivery")).status_code == 404
    assert outsider.get(page).status_code == 404
    assert db.session.scalar(select(func.count(ResponseLink.id))) == 0
