"""Signers' mail is composed by the job worker when it sends it: the sign and confirm requests only
write a compact outbox row, and what the worker writes is what the request used to."""

from __future__ import annotations

import json
from typing import Any

from flask_babel import force_locale
from sqlalchemy import select

from tests.helpers import Mailbox, csrf_token
from tests.public.test_campaign_languages import KO_TITLE, korean_petition
from tests.signatures.petitions import make_petition, sign, supporter
from undersign import mail, verify
from undersign.extensions import db
from undersign.mail import OutboxMessage, queue_composed, queue_mail
from undersign.signatures import service
from undersign.signatures.models import Signature
from undersign.signatures.tokens import withdraw_token


def rows_to(address: str) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == address)
                                   .order_by(OutboxMessage.id)))


def signature_of(address: str) -> Signature:
    signature = db.session.scalar(select(Signature).where(Signature.email == address))
    assert signature is not None
    return signature


def fetch(client: Any) -> verify.Fetch:
    def get(path: str) -> Any:
        response = client.get(path)
        assert response.status_code == 200, path
        return response.json
    return get


def test_the_worker_writes_the_confirmation_in_korean_for_a_signer_of_the_korean_page(client, mailbox: Mailbox):
    petition = korean_petition()
    assert sign(client, f"{petition.url}?lang=ko", supporter(email="seoyeon@example.org")).status_code == 303

    # The request wrote what the mail is about, not the mail.
    [row] = rows_to("seoyeon@example.org")
    assert (row.kind, row.subject, row.body_text, row.body_html) == ("signature.confirm", "", "", None)
    assert row.signature_id == signature_of("seoyeon@example.org").id and row.token and row.sent_at is None
    token = row.token

    # The worker composes it in English surroundings: the signer's language wins.
    with force_locale("en"):
        mail = mailbox.last_to("seoyeon@example.org")
    assert mail.subject == f"서명을 확인해 주세요: {KO_TITLE}"
    assert f"“{KO_TITLE}” 청원에 서명해 주셔서 감사합니다." in mail.body
    confirm_link = mail.link("/confirm/")
    assert confirm_link == f"/p/{petition.slug}/confirm/{token}?lang=ko"
    assert mail.link("/withdraw/").endswith("?lang=ko")

    # What was sent stays readable in the outbox; the token now lives only in the text.
    [sent] = rows_to("seoyeon@example.org")
    assert sent.sent_at is not None and sent.token is None
    assert sent.subject == mail.subject and sent.body_text.strip() == mail.body.replace("\r\n", "\n").strip()

    page = client.get(confirm_link)
    assert page.status_code == 200
    done = client.post(confirm_link, data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert done.status_code == 200
    receipt_row = rows_to("seoyeon@example.org")[-1]
    assert (receipt_row.kind, receipt_row.subject, receipt_row.body_text) == ("signature.receipt", "", "")
    assert receipt_row.token is None
    assert mailbox.last_to("seoyeon@example.org").subject == f"서명 영수증: {KO_TITLE}"


def test_a_signature_withdrawn_before_its_mail_is_composed_gets_no_mail(client, mailbox: Mailbox):
    petition = make_petition()
    assert sign(client, petition.url, supporter(email="changed.mind@example.org")).status_code == 303
    assert sign(client, petition.url, supporter(email="stays@example.org")).status_code == 303
    signature = signature_of("changed.mind@example.org")
    assert service.withdraw(petition.campaign, withdraw_token(signature)) is True
    db.session.commit()

    received = mailbox.deliver()

    assert [m.to for m in received] == [["stays@example.org"]]  # the other message of the batch went out
    [row] = rows_to("changed.mind@example.org")
    assert row.sent_at is None and row.failed_at is not None and row.token is None
    assert row.last_error == "the signature was withdrawn or erased before its mail was composed"
    assert mailbox.deliver() == received  # abandoned: never tried again


def test_a_receipt_composed_after_a_newer_head_carries_that_head_and_verifies(app, client, mailbox: Mailbox,
                                                                              monkeypatch):  # type: ignore[no-untyped-def]
    petition = make_petition()
    for address in ("first@example.org", "second@example.org"):
        assert sign(client, petition.url, supporter(email=address)).status_code == 303
        link = mailbox.last_to(address).link("/confirm/")
        page = client.get(link)
        assert client.post(link, data={"csrf_token": csrf_token(page.get_data(as_text=True))}).status_code == 200
        if address == "first@example.org":
            assert client.get(petition.url + "/log/head").json["tree_size"] == 1  # signed as someone reads it
    # Before the worker comes by, a minute passes and a reader has the next head signed.
    monkeypatch.setitem(app.config, "LOG_HEAD_SECONDS", 0)
    assert client.get(petition.url + "/log/head").json["tree_size"] == 2

    mail = mailbox.last_to("second@example.org")
    lines = mail.body.splitlines()
    start = lines.index("{")
    receipt = json.loads("\n".join(lines[start:lines.index("}", start) + 1]))
    assert receipt["index"] == 1 and receipt["head"]["tree_size"] == 2
    # The head already covers the entry: it verifies at once, no "try again in a minute".
    assert verify.check(fetch(client), petition.slug, receipt=receipt, email="second@example.org") == []


def test_a_message_that_cannot_be_composed_is_abandoned_and_the_rest_goes_out(client, mailbox: Mailbox):
    petition = make_petition()
    assert sign(client, petition.url, supporter(email="ok@example.org")).status_code == 303
    queue_composed("nobody@example.org", "signature.confirm", signature_id=10**9, token="x" * 43)
    queue_composed("odd@example.org", "no.such.kind", signature_id=signature_of("ok@example.org").id)
    queue_mail("plain@example.org", "Plain", "accounts/verify", user=signature_of("ok@example.org"),
               verify_url="http://localhost/v")
    db.session.commit()

    received = {tuple(m.to) for m in mailbox.deliver()}

    assert received == {("ok@example.org",), ("plain@example.org",)}
    [gone] = rows_to("nobody@example.org")
    [odd] = rows_to("odd@example.org")
    assert gone.failed_at is not None and gone.last_error == "the signature was withdrawn or erased before its mail was composed"
    assert odd.failed_at is not None and odd.last_error == "no composer for mail of kind 'no.such.kind'"


def test_a_composer_that_fails_is_retried_later_and_does_not_hold_up_the_batch(client, mailbox: Mailbox,
                                                                              monkeypatch):  # type: ignore[no-untyped-def]
    def broken(messages: list[OutboxMessage]) -> Any:
        def compose_one(message: OutboxMessage) -> Any:
            raise ValueError("the template service is down")
        return compose_one

    monkeypatch.setitem(mail._composers, "test.broken", broken)
    petition = make_petition()
    assert sign(client, petition.url, supporter(email="on.time@example.org")).status_code == 303
    queue_composed("later@example.org", "test.broken", signature_id=signature_of("on.time@example.org").id)
    db.session.commit()

    assert [m.to for m in mailbox.deliver()] == [["on.time@example.org"]]
    [waiting] = rows_to("later@example.org")
    assert (waiting.attempts, waiting.failed_at, waiting.sent_at) == (1, None, None)
    assert waiting.next_attempt_at is not None and waiting.last_error == "ValueError: the template service is down"
