"""The confirm and withdraw buttons: no session, a token signed for their link, and a log that stays exact
when many people confirm at once."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import func, select, update

from tests.helpers import csrf_token, text_of
from tests.signatures.petitions import counts, make_petition, sign, supporter
from undersign.campaigns.models import Campaign
from undersign.extensions import db
from undersign.signatures import service
from undersign.signatures.models import Signature
from undersign.signatures.rules import SignatureInput
from undersign.signatures.tokens import issue_confirm_token
from undersign.transaction import unit_of_work
from undersign.transparency.models import LogEntry


def _signed(client, mailbox, petition, email: str) -> str:  # type: ignore[no-untyped-def]
    assert sign(client, petition.url, supporter(email=email)).status_code == 303
    return mailbox.last_to(email).link("/confirm/")


def test_the_confirmation_page_and_its_button_set_no_cookie(client, mailbox):  # type: ignore[no-untyped-def]
    petition = make_petition()
    link = _signed(client, mailbox, petition, "ann@example.org")
    client.delete_cookie("session")
    page = client.get(link)
    assert page.status_code == 200 and "Confirm my signature" in text_of(page)
    assert "Set-Cookie" not in page.headers
    # A browser that keeps no cookies at all (none sent) confirms with the button alone.
    response = client.post(link, data={"csrf_token": csrf_token(page.get_data(as_text=True))},
                           headers={"Sec-Fetch-Site": "same-origin", "Origin": "null"})
    assert response.status_code == 200 and "your signature counts" in text_of(response)
    assert counts(petition)[0] == 1


def test_a_button_without_its_token_or_from_another_site_counts_nothing(client, mailbox):  # type: ignore[no-untyped-def]
    petition = make_petition()
    link = _signed(client, mailbox, petition, "ann@example.org")
    other = _signed(client, mailbox, petition, "bo@example.org")
    token = csrf_token(client.get(link).get_data(as_text=True))
    other_token = csrf_token(client.get(other).get_data(as_text=True))

    refused = client.post(link, data={})
    assert refused.status_code == 400
    assert "nothing happened" in text_of(refused) and "Confirm my signature" in text_of(refused)
    assert client.post(link, data={"csrf_token": "forged"}).status_code == 400
    # The token of one link's page does not work on another's.
    assert client.post(link, data={"csrf_token": other_token}).status_code == 400
    # A page on another site posting the right token (say, copied from a leaked link's page) is refused too.
    assert client.post(link, data={"csrf_token": token}, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert client.post(link, data={"csrf_token": token}, headers={"Origin": "https://evil.example"}).status_code == 403
    assert counts(petition)[0] == 0
    assert db.session.scalar(select(func.count()).select_from(LogEntry)
                             .where(LogEntry.campaign_id == petition.campaign.id)) == 0

    assert client.post(link, data={"csrf_token": token}).status_code == 200
    assert client.post(other, data={"csrf_token": other_token}).status_code == 200
    assert counts(petition)[0] == 2


def test_a_withdraw_button_without_its_token_withdraws_nothing(client, mailbox):  # type: ignore[no-untyped-def]
    petition = make_petition()
    link = _signed(client, mailbox, petition, "ann@example.org")
    page = client.get(link)
    confirmed = client.post(link, data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert confirmed.status_code == 200
    withdraw = mailbox.last_to("ann@example.org").link("/withdraw/")

    refused = client.post(withdraw, data={})
    assert refused.status_code == 400 and "Withdraw my signature" in text_of(refused)
    assert client.post(withdraw, data={"csrf_token": csrf_token(page.get_data(as_text=True))}).status_code == 400
    assert counts(petition)[0] == 1

    button = client.get(withdraw)
    assert "Set-Cookie" not in button.headers
    done = client.post(withdraw, data={"csrf_token": csrf_token(button.get_data(as_text=True))})
    assert done.status_code == 200
    assert counts(petition)[0] == 0


def _in_threads(app, count: int, work: Callable[[int], None]) -> list[BaseException]:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                work(i)
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def test_many_confirmations_at_once_give_the_log_one_index_each_in_order(app, committed):  # type: ignore[no-untyped-def]
    petition = make_petition()
    campaign_id = petition.campaign.id
    db.session.commit()
    raws = []
    for n in range(48):
        with unit_of_work():
            campaign = db.session.get(Campaign, campaign_id)
            signature = service.sign(campaign, service.attributed_sponsorship(campaign, None),
                                     SignatureInput(f"Signer {n}", f"signer{n}@example.org", "KR"))
            assert signature is not None
            raws.append(issue_confirm_token(signature))

    def confirm_share(i: int) -> None:
        # Each link pressed by two threads at about the same time: it counts once.
        for raw in raws[i::8] + raws[(i + 1) % 8::8]:
            with unit_of_work():
                service.confirm(db.session.get(Campaign, campaign_id), raw)

    assert _in_threads(app, 8, confirm_share) == []

    db.session.expire_all()
    campaign = db.session.get(Campaign, campaign_id)
    rows = db.session.scalar(select(func.count()).select_from(Signature)
                             .where(Signature.campaign_id == campaign_id, Signature.counted()))
    indexes = db.session.scalars(select(LogEntry.index).where(LogEntry.campaign_id == campaign_id)
                                 .order_by(LogEntry.index)).all()
    net = db.session.scalar(select(func.sum(LogEntry.delta)).where(LogEntry.campaign_id == campaign_id))
    assert indexes == list(range(48))
    assert campaign.signature_count == rows == net == campaign.log_size == 48
    db.session.rollback()
    result = app.test_cli_runner().invoke(args=["log", "check", "--slug", petition.slug])
    assert result.exit_code == 0 and "all hold" in result.output, result.output

    # A log size that is not the log's own is found.
    with unit_of_work():
        db.session.execute(update(Campaign).where(Campaign.id == campaign_id).values(log_size=47))
    result = app.test_cli_runner().invoke(args=["log", "check", "--slug", petition.slug])
    assert result.exit_code == 1 and "holds 48" in result.output, result.output
