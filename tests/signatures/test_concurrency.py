"""Exactly once under real concurrency: PostgreSQL, real threads, each with its own connection and commits."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from tests.signatures.petitions import make_petition
from undersign.campaigns.models import Campaign, Sponsorship
from undersign.extensions import db
from undersign.mail import OutboxMessage, compose_pending
from undersign.signatures import service
from undersign.signatures.models import Signature
from undersign.signatures.rules import SignatureInput
from undersign.signatures.tokens import withdraw_token

pytestmark = pytest.mark.postgres_only


def run_in_threads(app, count: int, work: Callable[[int], None]) -> list[BaseException]:  # type: ignore[no-untyped-def]
    """Run ``work(i)`` in ``count`` threads started together, each in its own app context (own session)."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                work(i)
            except BaseException as exc:  # noqa: BLE001
                db.session.rollback()
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def test_fifty_concurrent_signs_with_one_address_leave_one_signature(app, committed):
    petition = make_petition()
    campaign_id = petition.campaign.id
    spellings = ["same.person@gmail.com", "SamePerson+{i}@googlemail.com", "s.a.m.e.person+x{i}@GMAIL.com"]

    def work(i: int) -> None:
        campaign = db.session.get(Campaign, campaign_id)
        service.sign(campaign, service.attributed_sponsorship(campaign, None),
                     SignatureInput(f"Person {i}", spellings[i % 3].format(i=i), "KR"), ip=f"10.0.0.{i}")
        db.session.commit()

    assert run_in_threads(app, 50, work) == []
    db.session.expire_all()
    rows = db.session.scalars(select(Signature).where(Signature.campaign_id == campaign_id)).all()
    assert len(rows) == 1 and rows[0].email_key == "sameperson@gmail.com"
    assert rows[0].confirmation_sends == service.MAX_MAILS
    mails = db.session.scalar(select(func.count()).select_from(OutboxMessage)
                              .where(OutboxMessage.recipient == rows[0].email))
    assert mails == service.MAX_MAILS  # one confirmation, then "already signed" until the cap


def test_two_hundred_signers_confirmed_from_sixteen_threads_count_exactly(app, committed):
    petition = make_petition()
    campaign_id = petition.campaign.id
    vias = [None, petition.co_sponsor.slug, petition.lead.slug, petition.invited.slug]

    def sign_share(i: int) -> None:
        for n in range(i, 200, 16):
            campaign = db.session.get(Campaign, campaign_id)
            service.sign(campaign, service.attributed_sponsorship(campaign, vias[n % 4]),
                         SignatureInput(f"Signer {n}", f"signer{n}@example.org", "CA"))
            db.session.commit()

    assert run_in_threads(app, 16, sign_share) == []
    compose_pending()  # the worker writes the mail's text; the links are in it once composed
    db.session.commit()
    bodies = db.session.scalars(select(OutboxMessage.body_text)).all()
    tokens = sorted({m for body in bodies for m in re.findall(r"/confirm/([A-Za-z0-9_-]+)", body)})
    assert len(tokens) == 200

    def confirm_share(i: int) -> None:
        # Every token is confirmed by two threads at about the same time: it must count once.
        for token in tokens[i::16] + tokens[(i + 1) % 16::16]:
            service.confirm(db.session.get(Campaign, campaign_id), token)
            db.session.commit()

    assert run_in_threads(app, 16, confirm_share) == []

    db.session.expire_all()
    campaign = db.session.get(Campaign, campaign_id)
    rows = db.session.scalar(select(func.count()).select_from(Signature)
                             .where(Signature.campaign_id == campaign_id, Signature.counted()))
    parts = db.session.scalars(select(Sponsorship.signature_count).where(Sponsorship.campaign_id == campaign_id)).all()
    assert campaign.signature_count == rows == 200
    assert sum(parts) == 200 and sorted(parts) == [0, 50, 150]

    # Withdrawals racing each other and the confirmations already done: each takes one off, once.
    victims = db.session.scalars(select(Signature).where(Signature.campaign_id == campaign_id)
                                 .order_by(Signature.id).limit(32)).all()
    withdraw_tokens = [withdraw_token(s) for s in victims]

    def withdraw_share(i: int) -> None:
        for token in withdraw_tokens[i % 8::8]:
            service.withdraw(db.session.get(Campaign, campaign_id), token)
            db.session.commit()

    assert run_in_threads(app, 16, withdraw_share) == []
    db.session.expire_all()
    assert db.session.get(Campaign, campaign_id).signature_count == 168

    result = app.test_cli_runner().invoke(args=["recount"])
    assert result.exit_code == 0, result.output
    assert f"{petition.slug}: stored 168, actual 168" in result.output
    assert "no drift" in result.output
