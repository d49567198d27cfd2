"""Mail through the transactional outbox: sent only if the request commits, retried when SMTP is down."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from sqlalchemy import func, select, update

from tests.conftest import free_port
from tests.factories import make_user
from tests.helpers import csrf_token, submit, text_of
from undersign.db import utcnow
from undersign.extensions import db
from undersign.mail import MAX_ATTEMPTS, OutboxMessage, deliver_pending, queue_mail
from undersign.web.access import public


def outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def make_due() -> None:
    db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow() - dt.timedelta(seconds=1)))
    db.session.commit()


@pytest.fixture
def mail_app(make_app):  # type: ignore[no-untyped-def]
    test_app = make_app(TESTING=False, PROPAGATE_EXCEPTIONS=False)

    @test_app.post("/_test/mail-then-commit")
    @public
    def mail_then_commit():  # type: ignore[no-untyped-def]
        queue_mail("kept@example.org", "Committed", "accounts/already_registered",
                   user=make_user_like("Kept"), login_url="http://localhost/login", reset_url="http://localhost/reset")
        db.session.commit()
        return "ok"

    @test_app.post("/_test/mail-then-fail")
    @public
    def mail_then_fail():  # type: ignore[no-untyped-def]
        queue_mail("lost@example.org", "Rolled back", "accounts/already_registered",
                   user=make_user_like("Lost"), login_url="http://localhost/login", reset_url="http://localhost/reset")
        raise RuntimeError("after queueing the mail")

    return test_app


def make_user_like(name: str) -> object:
    return type("Someone", (), {"name": name})()


def test_a_rolled_back_request_sends_nothing(mail_app, committed_db, mailbox):
    client = mail_app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    assert client.post("/_test/mail-then-fail", data={"csrf_token": token}).status_code == 500
    assert client.post("/_test/mail-then-commit", data={"csrf_token": token}).status_code == 200

    received = mailbox.deliver()
    assert [(m.to, m.subject) for m in received] == [(["kept@example.org"], "Committed")]
    assert [m.recipient for m in outbox()] == ["kept@example.org"]


def test_a_refused_form_sends_nothing(client, mailbox):
    submit(client, "/signup", {"name": "Refused", "email": "refused@example.org", "password": "password1234"})
    assert outbox() == [] and mailbox.deliver() == []


def test_mail_waits_and_retries_while_smtp_is_down(app, client, mailbox, monkeypatch):
    make_user("patient@example.org")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nothing listens there

    # The request itself does not care: the mail is in the outbox.
    assert submit(client, "/reset", {"email": "patient@example.org"}).status_code == 200
    assert deliver_pending() == 0
    [message] = outbox()
    assert message.sent_at is None and message.failed_at is None
    assert message.attempts == 1 and "Error" in message.last_error
    first_wait = message.next_attempt_at - utcnow()
    assert dt.timedelta(seconds=20) < first_wait <= dt.timedelta(seconds=30)

    # Not due yet: nothing is tried.
    deliver_pending()
    assert outbox()[0].attempts == 1

    make_due()
    deliver_pending()
    [message] = outbox()
    assert message.attempts == 2
    assert message.next_attempt_at - utcnow() > first_wait  # backoff grows

    # The server is back: the next round delivers, with the link intact.
    monkeypatch.setitem(app.config, "MAIL_PORT", mailbox.port)
    make_due()
    mail = mailbox.last_to("patient@example.org")
    assert client.get(mail.link("/reset/")).status_code == 200
    [message] = outbox()
    assert message.sent_at is not None and message.attempts == 2


def test_mail_is_abandoned_after_the_last_attempt(app, mailbox, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())
    queue_mail("never@example.org", "Doomed", "accounts/already_registered",
               user=make_user_like("Never"), login_url="x", reset_url="y")
    db.session.execute(update(OutboxMessage).values(attempts=MAX_ATTEMPTS - 1))
    db.session.commit()
    deliver_pending()
    [message] = outbox()
    assert message.failed_at is not None and message.attempts == MAX_ATTEMPTS
    monkeypatch.setitem(app.config, "MAIL_PORT", mailbox.port)
    make_due()
    assert mailbox.deliver() == []


def test_one_connection_failure_does_not_lose_later_mail(app, mailbox, monkeypatch):
    for n in range(3):
        queue_mail(f"batch{n}@example.org", f"Batch {n}", "accounts/already_registered",
                   user=make_user_like("B"), login_url="x", reset_url="y")
    db.session.commit()
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())
    deliver_pending()
    assert all(m.attempts == 1 and m.sent_at is None for m in outbox())
    monkeypatch.setitem(app.config, "MAIL_PORT", mailbox.port)
    make_due()
    assert sorted(m.subject for m in mailbox.deliver()) == ["Batch 0", "Batch 1", "Batch 2"]


def test_log_only_mode_without_a_mail_server(app, client, mailbox, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "MAIL_SERVER", None)
    make_user("logged@example.org")
    submit(client, "/reset", {"email": "logged@example.org"})
    with caplog.at_level(logging.INFO, logger="undersign.mail"):
        assert deliver_pending() == 1
    [message] = outbox()
    assert message.sent_at is not None
    logged = caplog.text
    assert "logged@example.org" in logged and "Reset your undersign password" in logged and "/reset/" in logged
    assert mailbox.messages == []


def test_internationalized_domains_are_delivered(mailbox):
    queue_mail("zoë@bücher.example", "IDN", "accounts/already_registered",
               user=make_user_like("Zoë"), login_url="x", reset_url="y")
    db.session.commit()
    [received] = mailbox.deliver()
    assert received.to == ["zoë@xn--bcher-kva.example"]


def test_recent_mail_page_only_in_debug_mode(app, client, monkeypatch):
    make_user("debug@example.org")
    submit(client, "/reset", {"email": "debug@example.org"})
    assert client.get("/_mail").status_code == 404

    monkeypatch.setitem(app.config, "DEBUG", True)
    page = client.get("/_mail")
    assert page.status_code == 200
    body = text_of(page)
    assert "Reset your undersign password" in body and "debug@example.org" in body and "waiting" in body
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_recent_mail_page_under_plain_flask_run_in_development(make_app):
    """``flask run`` without ``--debug``: development mode and no MAIL_SERVER is enough."""
    plain = make_app(UNDERSIGN_ENV="development", MAIL_SERVER=None)
    assert not plain.debug
    with plain.app_context():
        make_user("plain-run@example.org")
    browser = plain.test_client()
    submit(browser, "/reset", {"email": "plain-run@example.org"})
    page = browser.get("/_mail")
    assert page.status_code == 200
    assert "Reset your undersign password" in text_of(page) and "plain-run@example.org" in text_of(page)

    # Where real mail goes out, or in production, the page does not exist.
    assert make_app(UNDERSIGN_ENV="development").test_client().get("/_mail").status_code == 404
    production = make_app(UNDERSIGN_ENV="production", MAIL_SERVER=None)
    assert production.test_client().get("/_mail").status_code == 404
