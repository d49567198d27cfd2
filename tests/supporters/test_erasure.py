"""Erasure through /me: a full dump of the database afterwards holds none of the person's details."""

from __future__ import annotations

import os
import sqlite3
import subprocess

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from tests.helpers import text_of
from tests.signatures.petitions import counts, make_petition, sign, supporter
from tests.supporters.me import ask_for_link, link_from, open_link, post_on_me, sign_and_confirm
from undersign.audit import AuditEvent
from undersign.extensions import db
from undersign.mail import OutboxMessage
from undersign.signatures.models import Signature, SignatureTombstone
from undersign.webhooks.models import WebhookDelivery, WebhookEndpoint
from undersign.webhooks.service import new_secret

NAME, POSTCODE = "Zebedee Quartermaine", "ZQ9 8XW"
EMAIL, VARIANT = "zebedee.quartermaine@example.org", "Zebedee.Quartermaine+second@Example.org"


def dump(app) -> str:  # type: ignore[no-untyped-def]
    """Everything in the database, as its own dump tool writes it (SQLite's iterdump, pg_dump)."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(url.database)
        try:
            return "\n".join(connection.iterdump())
        finally:
            connection.close()
    env = {**os.environ, "PGPASSWORD": url.password or ""}
    return subprocess.run(
        ["pg_dump", "--data-only", "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432),
         "-U", url.username or "postgres", url.database or ""],
        check=True, capture_output=True, text=True, env=env).stdout


def test_erasure_leaves_nothing_of_the_person_in_a_dump(app, committed_db, client, mailbox):
    first, second = make_petition(), make_petition()
    db.session.add(WebhookEndpoint(organization_id=first.co_sponsor.id, url="http://127.0.0.1:9/hook",
                                   events=["signature.confirmed", "signature.withdrawn"], secret=new_secret()))
    db.session.commit()
    # Confirmed on the first petition, with a consent (so a webhook delivery carries the details).
    sign_and_confirm(client, mailbox, first, EMAIL, name=NAME, postcode=POSTCODE, comment="Free them.",
                     public="y", consent=[first.co_sponsor.slug])
    assert ask_for_link(client, EMAIL).status_code == 200
    link = link_from(mailbox, EMAIL)
    # The second, under another spelling of the address, whose confirmation mail is still in the outbox.
    assert sign(client, second.url, supporter(NAME, VARIANT, postcode=POSTCODE)).status_code == 303
    assert db.session.scalar(select(OutboxMessage).where(func.lower(OutboxMessage.recipient) == VARIANT.lower(),
                                                         OutboxMessage.sent_at.is_(None))) is not None
    before = dump(app)
    assert NAME in before and EMAIL in before and POSTCODE in before

    assert open_link(client, link).status_code == 303
    page = client.get("/me")
    assert first.campaign.title in text_of(page) and second.campaign.title in text_of(page)
    refused = post_on_me(client, "/me/erase")
    assert refused.status_code == 400 and "Tick the box" in text_of(refused)
    assert NAME in dump(app)
    response = post_on_me(client, "/me/erase", {"understood": "y"})
    assert response.status_code == 200 and "Everything is erased" in text_of(response)

    after = dump(app).lower()
    for detail in (NAME, EMAIL, VARIANT, "zebedee.quartermaine@example.org", POSTCODE, "Quartermaine", "Free them."):
        assert detail.lower() not in after, detail
    # As documented: the confirmed signature stays counted, anonymous; the unconfirmed one can never count.
    db.session.expire_all()
    assert counts(first)[0] == 1 and counts(second)[0] == 0
    rows = list(db.session.scalars(select(Signature).order_by(Signature.id)))
    assert [(r.confirmed_at is not None, r.withdrawn_at is not None, r.email_key) for r in rows] == [
        (True, False, None), (False, True, None)]
    # The sponsor that had consent is told: a tombstone for its API, a withdrawn webhook.
    assert db.session.scalar(select(SignatureTombstone.organization_id)) == first.co_sponsor.id
    assert [d.event_type for d in db.session.scalars(select(WebhookDelivery))] == ["signature.withdrawn"]
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "supporter.erased"))
    assert event.details == {"signatures": 2, "still_counted": 1, "mails_deleted": 4}  # with the receipt
    assert event.ip_hash is None and event.object_label is None
    # Signed out, and the used link is gone with the rest.
    assert client.get("/me/data.json").status_code == 401
    assert client.get(link).status_code == 404
    db.session.remove()


@pytest.fixture(autouse=True)
def _tidy(committed_db):  # type: ignore[no-untyped-def]
    yield
    committed_db.session.remove()
