"""Test helpers: the loopback SMTP server, CSRF-aware form posting, link extraction."""

from __future__ import annotations

import email
import re
import threading
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import Message
from html import unescape
from typing import Any

from aiosmtpd.controller import Controller

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
URL_RE = re.compile(r"https?://[^\s<>\"']+")


@dataclass
class ReceivedMail:
    to: list[str]
    subject: str
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    html: str | None = None

    @property
    def links(self) -> list[str]:
        return URL_RE.findall(self.body)

    def link(self, contains: str) -> str:
        """The first link containing ``contains``, as a path for the test client."""
        for url in self.links:
            if contains in url:
                return re.sub(r"^https?://[^/]+", "", url)
        raise AssertionError(f"no link containing {contains!r} in mail {self.subject!r}:\n{self.body}")


@dataclass
class Mailbox:
    """What the loopback SMTP server has received."""

    host: str = "127.0.0.1"
    port: int = 0
    messages: list[ReceivedMail] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    app: Any = None

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()

    def deliver(self) -> list[ReceivedMail]:
        """Run the outbox delivery (as the worker would) and return everything received so far."""
        from undersign.mail import deliver_pending

        with self.app.app_context():
            deliver_pending()
        return list(self.messages)

    def to(self, address: str) -> list[ReceivedMail]:
        self.deliver()
        return [m for m in self.messages if address.lower() in (t.lower() for t in m.to)]

    def last_to(self, address: str) -> ReceivedMail:
        found = self.to(address)
        assert found, f"no mail to {address}; received: {[(m.to, m.subject) for m in self.messages]}"
        return found[-1]


class _Handler:
    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message: Message = email.message_from_bytes(envelope.content)
        parts = {part.get_content_type(): _text(part) for part in message.walk() if not part.is_multipart()}
        body = parts.get("text/plain", next(iter(parts.values()), ""))
        subject = str(make_header(decode_header(message["Subject"] or "")))  # as a mail client shows it
        headers = {name: str(value) for name, value in message.items()}
        with self.mailbox.lock:
            self.mailbox.messages.append(ReceivedMail(list(envelope.rcpt_tos), subject, body,
                                                      headers, parts.get("text/html")))
        return "250 OK"


def _text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    return payload.decode(part.get_content_charset() or "utf-8") if isinstance(payload, bytes) else str(payload)


def start_smtp_server() -> tuple[Mailbox, Controller]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mailbox = Mailbox(port=port)
    controller = Controller(_Handler(mailbox), hostname="127.0.0.1", port=port)
    controller.start()
    return mailbox, controller


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no csrf_token in the page"
    return unescape(match.group(1))


def submit(client: Any, page: str, data: dict[str, Any] | None = None, action: str | None = None, **kwargs: Any) -> Any:
    """Open ``page`` like a browser, take its CSRF token, and post ``data`` to ``action`` (default: the page)."""
    response = client.get(page)
    assert response.status_code == 200, f"GET {page} gave {response.status_code}"
    payload = dict(data or {})
    payload["csrf_token"] = csrf_token(response.get_data(as_text=True))
    return client.post(action or page, data=payload, **kwargs)


def text_of(response: Any) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def build_app(base_app: Any, instance: Any, **overrides: Any) -> Any:
    """A second application like the test one (same database unless overridden), for routes added
    by a test (they can only be added before the first request) or a broken setting.

    Its requests use the real ``db.session``, so combine it with the ``committed_db`` fixture
    when it touches the database. The rate limiter is shared by all apps: keep ``RATELIMIT_*``.
    Prefer the ``make_app`` fixture, which also puts the limiter and logging back afterwards.
    """
    from tests.conftest import app_config
    from undersign import create_app

    smtp = Mailbox(port=base_app.config["MAIL_PORT"])
    config = app_config(base_app.config["SQLALCHEMY_DATABASE_URI"], smtp, instance)
    config.update(overrides)
    return create_app(config)
