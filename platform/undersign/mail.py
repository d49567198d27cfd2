"""Mail through a transactional outbox.

`queue_mail` writes the message in the caller's transaction, so a rolled-back
request sends nothing and a committed one cannot lose its mail. Delivery runs
outside the request (`deliver_pending`), with retries and backoff: SMTP when
``MAIL_SERVER`` is set, otherwise the message goes to the log.

**Composed at delivery.** The mails a signature sends (its confirmation link,
"you already signed", its receipt) are the write path's: a viral petition
queues hundreds a second. The request writes them as a compact row
(`queue_composed`: recipient, kind, signature id and the little that cannot be
recomputed, the raw confirmation token) and the worker writes the text just
before sending, with the composer the owning domain registered for that kind
(`register_composer`, at app creation: this module imports no domain). A batch
is composed with a few queries for all its messages. The text is stored on the
row once composed (and the token dropped: the body holds it now), so what was
sent can be read afterwards like any other mail. A message whose signature was
withdrawn or erased meanwhile, or whose data is gone, is abandoned unsent
(`NotToBeSent`, the reason in ``last_error``); any other failure to compose
follows the retry rules below.
"""

from __future__ import annotations

import datetime as dt
import logging
import email.policy
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app, render_template
from sqlalchemy import JSON, Select, String, Text, delete, or_, select
from sqlalchemy.orm import Mapped, mapped_column

from undersign.db import Model, utcnow
from undersign.transaction import unit_of_work
from undersign.extensions import db

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


class OutboxMessage(Model):
    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed for the per-address caps on mail that anyone can trigger (accounts.service).
    recipient: Mapped[str] = mapped_column(String(254), index=True)
    # Empty on a message the worker composes (``kind`` set) until it is composed.
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    # An HTML alternative to the text (the updates' sanitized Markdown), and extra headers such as
    # List-Unsubscribe: both optional, both written with the message.
    body_html: Mapped[str | None] = mapped_column(Text)
    headers: Mapped[dict[str, str] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    failed_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # A message composed at delivery (`queue_composed`): what it is ("signature.confirm"), about which
    # signature (no foreign key: a signature erased meanwhile leaves the message to be abandoned), and
    # the raw confirmation link token it carries, kept only until the body holds it.
    kind: Mapped[str | None] = mapped_column(String(40))
    signature_id: Mapped[int | None]
    token: Mapped[str | None] = mapped_column(String(100))

    @property
    def composed(self) -> bool:
        return self.kind is None or bool(self.body_text)


@dataclass(frozen=True)
class Composed:
    """A message's text, as a composer writes it."""

    subject: str
    body_text: str
    body_html: str | None = None


class NotToBeSent(Exception):
    """The message must not go out: its signature was withdrawn or erased, or what it tells of is gone."""


# A composer gets a batch's messages of its kind, loads what they need in a few queries, and returns
# the function that writes one of them (raising `NotToBeSent` when that one must not go out).
ComposeOne = Callable[[OutboxMessage], Composed]
Composer = Callable[[list[OutboxMessage]], ComposeOne]
_composers: dict[str, Composer] = {}


def register_composer(kind: str, composer: Composer) -> None:
    """Have the worker compose messages of ``kind`` with ``composer`` (the owning domain, at app creation)."""
    _composers[kind] = composer


def queue_composed(recipient: str, kind: str, *, signature_id: int, token: str | None = None) -> OutboxMessage:
    """Add a message the worker composes when it sends it (see the module docstring): one INSERT at the
    next flush, no rendering in the caller."""
    message = OutboxMessage(recipient=recipient, subject="", body_text="", kind=kind, signature_id=signature_id,
                            token=token)
    db.session.add(message)
    db.session.info["mail_queued"] = True
    return message


def compose(messages: list[OutboxMessage]) -> list[OutboxMessage]:
    """Write the text of the messages not composed yet; returns those that may be sent.

    Abandons (``failed_at``, the reason in ``last_error``) those that must not go out or whose kind
    no composer knows; records a failure, retried with backoff, where composing raised anything else.
    """
    waiting: dict[str, list[OutboxMessage]] = {}
    failed: set[int] = set()
    for message in messages:
        if not message.composed:
            waiting.setdefault(message.kind or "", []).append(message)
    for kind, group in waiting.items():
        composer = _composers.get(kind)
        if composer is None:
            for message in group:
                _abandon(message, f"no composer for mail of kind {kind!r}")
            continue
        try:
            compose_one = composer(group)
        except Exception as exc:
            log.exception("composing %s mail(s) of kind %s failed", len(group), kind)
            for message in group:
                _record_failure(message, exc)
                failed.add(id(message))
            continue
        for message in group:
            try:
                text = compose_one(message)
            except NotToBeSent as exc:
                _abandon(message, str(exc))
            except Exception as exc:
                log.exception("composing mail %s (%s) failed", message.id, kind)
                _record_failure(message, exc)
                failed.add(id(message))
            else:
                message.subject = text.subject
                message.body_text = text.body_text
                message.body_html = text.body_html
                message.token = None
    return [m for m in messages if m.composed and m.failed_at is None and id(m) not in failed]


def compose_pending() -> int:
    """Compose every message still waiting to be composed, without sending (flush, no commit); returns how many.

    For readers of the outbox that need the text before the worker came by (tests, scripts).
    """
    messages = [m for m in db.session.scalars(pending_query().where(OutboxMessage.kind.is_not(None))) if not m.composed]
    compose(messages)
    db.session.flush()
    return sum(1 for m in messages if m.composed)


def _abandon(message: OutboxMessage, reason: str) -> None:
    message.failed_at = utcnow()
    message.last_error = reason[:2000]
    message.token = None
    log.info("mail %s to %s not sent: %s", message.id, message.recipient, message.last_error)


def queue_mail(recipient: str, subject: str, template: str, **context: object) -> OutboxMessage:
    """Render ``templates/mail/<template>.txt`` and add it to the outbox (flush, no commit)."""
    return queue_message(recipient, subject, template, context)


def queue_message(recipient: str, subject: str, template: str, context: Mapping[str, Any], *, html: bool = False,
                  headers: dict[str, str] | None = None, flush: bool = True) -> OutboxMessage:
    """`queue_mail` with more: an HTML alternative (``templates/mail/<template>.html``), extra
    ``headers`` (List-Unsubscribe and the like), and ``flush=False`` for a batch that flushes once."""
    body = render_template(f"mail/{template}.txt", **context)
    body_html = render_template(f"mail/{template}.html", **context) if html else None
    message = OutboxMessage(recipient=recipient, subject=subject, body_text=body, body_html=body_html,
                            headers=headers or None)
    db.session.add(message)
    if flush:
        db.session.flush()
    db.session.info["mail_queued"] = True
    return message


def _smtp_address(address: str) -> str:
    """The address with an internationalized domain in its ASCII (IDNA) form, which every server accepts."""
    local, _, domain = address.rpartition("@")
    if domain.isascii():
        return address
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return address


# Extra headers are URLs (List-Unsubscribe) that have no place to fold: under the usual 78-column
# limit the email package would turn them into RFC 2047 encoded words, which mail clients do not
# read as a URL. RFC 5322's hard limit is 998.
_LONG_HEADERS = email.policy.default.clone(max_line_length=998)


def _build(message: OutboxMessage) -> EmailMessage:
    email = EmailMessage(policy=_LONG_HEADERS) if message.headers else EmailMessage()
    email["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    email["To"] = _smtp_address(message.recipient)
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(domain="undersign")
    for name, value in (message.headers or {}).items():
        email[name] = value
    email.set_content(message.body_text)
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
    return email


def _connect() -> smtplib.SMTP:
    config = current_app.config
    smtp = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10)
    try:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def _send(messages: list[OutboxMessage]) -> None:
    """Send over one SMTP connection, recording on each message whether it went out.

    A message the server refuses for good (5xx for its recipient) or that cannot
    be encoded is abandoned; anything else (server down, 4xx, a dropped
    connection) is retried later with backoff, and never blocks the messages
    behind it for longer than its own backoff.
    """
    if not current_app.config["MAIL_SERVER"]:
        for message in messages:
            log.info("mail to %s: %s\n%s", message.recipient, message.subject, message.body_text)
            message.sent_at = utcnow()
        return
    try:
        smtp = _connect()
    except (OSError, smtplib.SMTPException) as exc:
        for message in messages:
            _record_failure(message, exc)
        return
    try:
        for index, message in enumerate(messages):
            try:
                smtp.send_message(_build(message))
            except smtplib.SMTPRecipientsRefused as exc:
                codes = [code for code, _ in exc.recipients.values()]
                _record_failure(message, exc, permanent=bool(codes) and min(codes) >= 500)
            except smtplib.SMTPSenderRefused as exc:  # our configuration, not this message: retry
                _record_failure(message, exc)
            except smtplib.SMTPResponseException as exc:
                _record_failure(message, exc, permanent=exc.smtp_code >= 500)
            except (smtplib.SMTPNotSupportedError, UnicodeError, ValueError) as exc:
                _record_failure(message, exc, permanent=True)
            except (OSError, smtplib.SMTPException) as exc:  # the connection is gone
                for unsent in messages[index:]:
                    _record_failure(unsent, exc)
                return
            else:
                message.sent_at = utcnow()
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


def _record_failure(message: OutboxMessage, exc: Exception, permanent: bool = False) -> None:
    message.attempts += 1
    message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    if permanent or message.attempts >= MAX_ATTEMPTS:
        message.failed_at = utcnow()
        log.error("mail %s to %s abandoned: %s", message.id, message.recipient, message.last_error)
    else:
        message.next_attempt_at = utcnow() + retry_delay(message.attempts)
        log.warning("mail %s to %s failed (attempt %s): %s", message.id, message.recipient, message.attempts, message.last_error)


def retry_delay(attempts: int) -> dt.timedelta:
    """Backoff after ``attempts`` failures: 30 s, 1 min, 2 min, ... at most an hour."""
    return dt.timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def pending_query(now: dt.datetime | None = None) -> Select[OutboxMessage]:
    now = now or utcnow()
    return (
        select(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None))
        .where(or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now))
        .order_by(OutboxMessage.id)
    )


def deliver_pending(batch_size: int = 50) -> int:
    """Compose and send what is due, one unit of work per batch; returns how many were sent.

    Several workers may run this at once: on PostgreSQL rows are claimed with
    ``FOR UPDATE SKIP LOCKED`` so no message goes out twice. On SQLite a lock
    is the whole database, and holding it while SMTP answers would make every
    signer wait for the mail server: see `_deliver_batch_sqlite`.
    """
    sent = 0
    while True:
        if db.engine.dialect.name == "sqlite":
            messages, ready = _deliver_batch_sqlite(batch_size)
            went, trouble = _outcome(messages, ready)
        else:
            with unit_of_work():
                messages = list(db.session.scalars(
                    pending_query().limit(batch_size).with_for_update(skip_locked=True)))
                ready = compose(messages)
                if ready:
                    _send(ready)
                # Read before the commit expires them (after it, each would be loaded again, one query apiece).
                went, trouble = _outcome(messages, ready)
        if not messages:
            return sent
        sent += went
        if trouble:
            return sent  # the server is in trouble: leave the rest for the next round


def _outcome(messages: list[OutboxMessage], ready: list[OutboxMessage]) -> tuple[int, bool]:
    """How many of the batch went out, and whether one that was ready to go did not (to be retried)."""
    return (sum(1 for m in messages if m.sent_at is not None),
            any(m.sent_at is None and m.failed_at is None for m in ready))


# How long a batch claimed on SQLite is left alone by other senders; a sender that died
# mid-batch leaves its messages to be retried after this.
SQLITE_CLAIM = dt.timedelta(minutes=5)


def _deliver_batch_sqlite(batch_size: int) -> tuple[list[OutboxMessage], list[OutboxMessage]]:
    """Claim a batch in one short write transaction, compose and send it holding no lock, record the
    outcome in another; returns the batch and the messages of it that were ready to send.

    The claim (``next_attempt_at`` pushed past `SQLITE_CLAIM`) keeps a second
    sender (another process, ``flask deliver-mail``) from sending the same
    messages meanwhile. Composing reads in a plain read transaction (WAL: no
    writer waits for it), ended before SMTP is spoken to.
    """
    with unit_of_work():
        messages = list(db.session.scalars(pending_query().limit(batch_size)))
        claimed_until = utcnow() + SQLITE_CLAIM
        for message in messages:
            message.next_attempt_at = claimed_until
        db.session.flush()
        for message in messages:
            db.session.expunge(message)
    if not messages:
        return messages, []
    try:
        ready = compose(messages)
    finally:
        db.session.rollback()
    _send(ready)
    with unit_of_work():
        list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_([m.id for m in messages]))))
        for message in messages:
            if message.sent_at is not None:
                message.next_attempt_at = None
            db.session.merge(message)
    return messages, ready


def delete_finished(before: dt.datetime) -> int:
    """Delete the copies of mail sent or abandoned before ``before`` (``MAIL_LOG_DAYS``); returns how many.

    Mail still waiting for delivery is never deleted here.
    """
    result = db.session.execute(delete(OutboxMessage).where(or_(
        OutboxMessage.sent_at < before, OutboxMessage.failed_at < before,
    )).execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0))
