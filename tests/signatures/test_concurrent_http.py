"""Many people at once, through the real pages: the app on a threaded HTTP server on loopback.

Each simulated person is a thread with its own cookies and its own address
(``X-Forwarded-For`` behind one trusted proxy, so per-address rate limits stay
on). They load a page, wait for the others, and press the button together.
Meanwhile the outbox is delivered to the loopback SMTP server, as the
in-process delivery thread does on the embedded default. On SQLite, writers
must wait their turn (``BEGIN IMMEDIATE``); nobody may get an error page.
"""

from __future__ import annotations

import http.cookiejar
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select

from tests.browser import serving
from tests.conftest import free_port
from tests.helpers import csrf_token
from tests.signatures.petitions import form_action, hidden_fields, make_petition
from undersign.campaigns.models import Campaign, Sponsorship
from undersign.extensions import db
from undersign.mail import OutboxMessage, deliver_pending
from undersign.signatures.models import Signature
from undersign.transparency.models import LogEntry

SIGNERS = 40
PRESSES_OF_ONE_LINK = 8
WITHDRAWALS = 10


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@dataclass
class Person:
    """A browser of one supporter: its own cookie jar and its own address."""

    base: str
    address: str
    jar: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)

    def __post_init__(self) -> None:
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect)

    def request(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, headers={"X-Forwarded-For": self.address})
        try:
            with self.opener.open(req, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")


def together(work: list[Callable[[threading.Barrier], int]]) -> list[int]:
    """Run each ``work(barrier)`` in its own thread; they press their button at the same moment.

    Returns the status of each final request (599 if the thread itself failed).
    """
    barrier = threading.Barrier(len(work))
    statuses = [599] * len(work)

    def run(i: int) -> None:
        try:
            statuses[i] = work[i](barrier)
        except threading.BrokenBarrierError:
            pass

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    return statuses


@pytest.fixture
def server(make_app, committed) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The app (one trusted proxy in front) served by werkzeug's threaded server on 127.0.0.1."""
    with serving(make_app(PROXY_COUNT=1)) as address:
        yield address


class Delivery:
    """The outbox delivered in a loop beside the requests, as the in-process delivery thread does."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.errors: list[BaseException] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while True:
            last = self.stop.is_set()
            with self.app.app_context():
                try:
                    deliver_pending()
                except BaseException as exc:  # noqa: BLE001
                    db.session.rollback()
                    self.errors.append(exc)
                finally:
                    db.session.remove()
            if last:
                return
            self.stop.wait(0.02)

    def __enter__(self) -> Delivery:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=60)


def press(person: Person, page: str, fields: Callable[[str], dict[str, str]], action: Callable[[str], str],
          got: dict[int, str] | None = None, key: int = 0) -> Callable[[threading.Barrier], int]:
    """Open ``page``, wait for everyone, then post its form; keeps the answer's page in ``got[key]``."""

    def work(barrier: threading.Barrier) -> int:
        status, html = person.request(page)
        assert status == 200, f"GET {page}: {status}"
        barrier.wait(timeout=60)
        status, answer = person.request(action(html), fields(html))
        if got is not None:
            got[key] = answer
        return status

    return work


def test_forty_signers_and_confirmations_at_once_all_count(app, server, mailbox):
    petition = make_petition()
    slug, campaign_id = petition.slug, petition.campaign.id
    pages = [petition.url, petition.hosted_url(petition.co_sponsor)]

    def sign_fields(i: int) -> Callable[[str], dict[str, str]]:
        def fields(html: str) -> dict[str, str]:
            data = hidden_fields(html)
            data.update(csrf_token=csrf_token(html), name=f"Signer {i}", email=f"signer{i}@example.org", country="KR")
            return data
        return fields

    def button(html: str) -> dict[str, str]:
        return {"csrf_token": csrf_token(html)}

    with Delivery(app) as delivery:
        signs = together([
            press(Person(server, f"10.1.{i // 200}.{i % 200 + 1}"), pages[i % 2], sign_fields(i), form_action)
            for i in range(SIGNERS)
        ])
    assert delivery.errors == []
    assert signs == [303] * SIGNERS, Counter(signs)  # every signer reaches "check your e-mail"

    links = {}
    for mail in mailbox.messages:
        links[mail.to[0]] = mail.link(f"/p/{slug}/confirm/")
    assert len(links) == SIGNERS
    confirm_links = [links[f"signer{i}@example.org"] for i in range(SIGNERS)]

    # Every link pressed once, and the first one pressed again from other tabs at the same moment.
    confirmed_pages: dict[int, str] = {}
    presses = confirm_links + [confirm_links[0]] * PRESSES_OF_ONE_LINK
    with Delivery(app) as delivery:
        confirms = together([
            press(Person(server, f"10.2.0.{i + 1}"), link, button, lambda _html, link=link: link, confirmed_pages, i)
            for i, link in enumerate(presses)
        ])
    assert delivery.errors == []
    assert confirms == [200] * len(presses), Counter(confirms)
    assert all("your signature counts" in confirmed_pages[i] for i in range(len(presses)))

    # Withdrawals through the link on the confirmation page, all at once, while more people sign.
    withdraw_links = [re.search(rf'href="(/p/{re.escape(slug)}/withdraw/[^"]+)"', confirmed_pages[i]).group(1)
                      for i in range(1, WITHDRAWALS + 1)]
    late = range(SIGNERS, SIGNERS + WITHDRAWALS)
    with Delivery(app) as delivery:
        mixed = together(
            [press(Person(server, f"10.3.0.{i + 1}"), link, button, lambda _html, link=link: link)
             for i, link in enumerate(withdraw_links)]
            + [press(Person(server, f"10.4.0.{i + 1}"), petition.url, sign_fields(i), form_action) for i in late]
        )
    assert delivery.errors == []
    assert mixed == [200] * WITHDRAWALS + [303] * WITHDRAWALS, Counter(mixed)

    db.session.rollback()  # a new transaction: this test's last one (on SQLite, a snapshot) began before the requests
    counted = db.session.scalar(select(func.count()).select_from(Signature)
                                .where(Signature.campaign_id == campaign_id, Signature.counted()))
    campaign = db.session.get(Campaign, campaign_id)
    parts = db.session.scalars(select(Sponsorship.signature_count).where(Sponsorship.campaign_id == campaign_id)).all()
    assert counted == SIGNERS - WITHDRAWALS
    assert campaign.signature_count == counted
    assert sum(parts) == counted
    unsent = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None)))
    assert unsent == 0
    # Each a confirmation link and, once confirmed, a receipt; nothing sent twice.
    assert len(mailbox.messages) == SIGNERS * 2 + WITHDRAWALS
    # The public log took every move, one index each, under the same lock as the counter.
    indexes = db.session.scalars(select(LogEntry.index).where(LogEntry.campaign_id == campaign_id)
                                 .order_by(LogEntry.index)).all()
    assert indexes == list(range(SIGNERS + WITHDRAWALS))
    assert db.session.scalar(select(func.sum(LogEntry.delta)).where(LogEntry.campaign_id == campaign_id)) == counted


class _StallingHandler:
    """An SMTP server that holds each message until the test lets it through."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.entered = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        import asyncio

        self.entered.set()
        while not self.release.is_set():
            await asyncio.sleep(0.01)
        self.received.extend(envelope.rcpt_tos)  # type: ignore[attr-defined]
        return "250 OK"


@pytest.fixture
def stalling_smtp() -> Iterator[tuple[_StallingHandler, int]]:
    from aiosmtpd.controller import Controller

    handler = _StallingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        handler.release.set()
        controller.stop()


def test_people_sign_while_the_mail_server_is_slow_and_each_gets_one_mail(make_app, committed, stalling_smtp):
    from tests.signatures.petitions import sign, supporter

    smtp, port = stalling_smtp
    app = make_app(MAIL_PORT=port)
    petition = make_petition()
    client = app.test_client()
    assert sign(client, petition.url, supporter("First Signer", "first@example.org")).status_code == 303

    errors: list[BaseException] = []

    def deliver() -> None:
        with app.app_context():
            try:
                deliver_pending()
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                db.session.remove()

    delivery = threading.Thread(target=deliver)
    delivery.start()
    assert smtp.entered.wait(timeout=30)
    # The mail server is still chewing on the first message: signing goes on meanwhile.
    assert sign(client, petition.url, supporter("Second Signer", "second@example.org")).status_code == 303
    smtp.release.set()
    delivery.join(timeout=60)
    assert errors == []
    deliver()
    assert errors == []
    assert sorted(smtp.received) == ["first@example.org", "second@example.org"]  # each exactly once
