"""Retention (issue 14, point 3): a closed petition's signers anonymized, owners warned, unconfirmed deleted."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import make_url

from tests.conftest import TEST_DB
from tests.factories import add_member, make_user
from tests.signatures.petitions import Petition, counts, make_petition, sign, supporter
from undersign.campaigns.models import Campaign, CampaignStatus
from undersign.config import ConfigError, load
from undersign.db import utcnow
from undersign.extensions import db
from undersign.mail import OutboxMessage
from undersign.organizations.models import Role
from undersign.signatures import retention
from undersign.signatures.counting import recount
from undersign.signatures.models import (
    Consent, RetentionNotice, Signature, SignatureBreakdown, SignatureTally, SignatureTombstone,
)
from undersign.webhooks.models import WebhookDelivery, WebhookEndpoint

DAYS = 183
SIGNERS = [  # name, e-mail, postcode: spelled so that nothing else in the database can contain them
    ("Annabel Quistorff", "annabel.quistorff@example.org", "QX4 7ZV"),
    ("Borislav Yanchev", "b.yanchev@example.net", "YB-9931"),
    ("Cressida Vollmark", "cressida.vollmark@example.com", "VC 3Q8"),   # confirmed, her mail never sent
    ("Dagny Ulvestad", "dagny.ulvestad@example.org", "UD 5W2"),         # never confirmed, mail in the outbox
]


def _run(now: dt.datetime) -> retention.RetentionReport:
    report = retention.run(now, retention_days=DAYS, unconfirmed_days=30, mail_days=30)
    db.session.commit()
    return report


def _confirm(petition: Petition, email: str) -> None:
    """Confirm through the service as the link would (the token is set to a known one)."""
    from undersign.signatures import service
    from undersign.tokens import hash_token

    db.session.execute(update(Signature).where(Signature.email == email).values(token_hash=hash_token("t" + email)))
    service.confirm(petition.campaign, "t" + email)
    db.session.commit()


def _signed_petition(client: Any, mailbox: Any) -> Petition:
    petition = make_petition()
    for org in (petition.lead, petition.co_sponsor):
        add_member(org, make_user(), Role.OWNER)
    db.session.add(WebhookEndpoint(organization_id=petition.lead.id, url="http://127.0.0.1:9/hook",
                                   events=["signature.confirmed"], secret="whsec_" + "A" * 32))
    db.session.commit()
    consents = {0: [petition.lead.slug], 1: [petition.co_sponsor.slug], 2: [petition.lead.slug], 3: [petition.lead.slug]}
    countries = ["KR", "CA", "KR", "GB"]
    for i, (name, email, postcode) in enumerate(SIGNERS):
        page = petition.hosted_url(petition.co_sponsor) if i == 1 else petition.url
        response = sign(client, page, supporter(name, email, postcode=postcode, country=countries[i],
                                                comment=f"{name} says free them", public="y", consent=consents[i]))
        assert response.status_code == 303
        if i < 2:
            assert mailbox.last_to(email).subject.startswith("Please confirm")  # delivered: a sent outbox row
    for _name, email, _postcode in SIGNERS[:3]:
        _confirm(petition, email)
    return petition


def _figures(client: Any, petition: Petition) -> dict[str, Any]:
    db.session.expire_all()
    campaign_id = petition.campaign.id
    history = client.get(f"{petition.url}/history.json")
    assert history.status_code == 200
    return {
        "counts": counts(petition),
        "history": history.json,
        "json": {k: v for k, v in client.get(f"{petition.url}.json").json.items() if k != "updated_at"},
        "breakdowns": sorted(map(tuple, db.session.execute(select(
            SignatureBreakdown.sponsorship_id, SignatureBreakdown.country, SignatureBreakdown.channel,
            SignatureBreakdown.signatures).where(SignatureBreakdown.campaign_id == campaign_id)))),
        "tallies": sorted(map(tuple, db.session.execute(select(
            SignatureTally.sponsorship_id, SignatureTally.hour, SignatureTally.confirmed, SignatureTally.withdrawn,
            SignatureTally.invalidated).where(SignatureTally.campaign_id == campaign_id)))),
    }


def _dump() -> str:
    """Every row of every table, as the operator's backup would hold them."""
    db.session.commit()  # nothing of this test's session left uncommitted or holding a lock
    url = make_url(db.engine.url)
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(url.database) as conn:
            return "\n".join(conn.iterdump())
    server = db.session.scalar(text("SHOW server_version"))
    db.session.commit()
    tool = subprocess.run(["pg_dump", "--version"], capture_output=True, text=True, check=False)
    if tool.returncode == 0 and str(server).split()[0] in tool.stdout:
        env = {"PGPASSWORD": url.password or ""}
        done = subprocess.run(["pg_dump", "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U",
                               url.username or "postgres", "--data-only", url.database or ""],
                              capture_output=True, text=True, check=True, env=env)
        return done.stdout
    rows = []  # pg_dump of another version refuses this server: COPY every table instead
    with db.engine.connect() as conn:
        raw = conn.connection.driver_connection
        for table in db.metadata.sorted_tables:
            with raw.cursor().copy(f'COPY "{table.name}" TO STDOUT') as copy:  # type: ignore[union-attr]
                rows.extend(bytes(block).decode() for block in copy)
    return "\n".join(rows)


def test_anonymization_leaves_no_signer_in_a_full_dump_and_keeps_every_figure(committed, client, mailbox):
    petition = _signed_petition(client, mailbox)
    dump = _dump()
    for name, email, postcode in SIGNERS:  # the test can fail: they are all there before
        assert name in dump and email in dump and postcode in dump
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 2  # Annabel, Cressida
    closed = utcnow() - dt.timedelta(days=DAYS + 10)
    db.session.execute(update(Campaign).where(Campaign.id == petition.campaign.id)
                       .values(status=CampaignStatus.CLOSED.value, closed_at=closed))
    db.session.commit()
    before = _figures(client, petition)
    assert before["counts"][0] == 3
    from undersign.api.service import create_token

    _token, secret = create_token(None, petition.lead, "CRM sync", write=False)
    db.session.commit()
    api = f"/api/v1/campaigns/{petition.slug}/signatures"
    names = [item["person"]["name"] for item in client.get(api, headers={"Authorization": f"Bearer {secret}"})
             .get_json()["_embedded"]["osdi:signatures"]]
    assert sorted(names) == [SIGNERS[0][0], SIGNERS[2][0]]

    # Past its date but never warned: the owners are warned first, and get a week.
    now = utcnow()
    first = _run(now)
    assert first.anonymized == [] and [(slug, days) for slug, days, _ in first.warned] == [(petition.slug, 7)]
    assert SIGNERS[0][1] in _dump()
    report = _run(now + dt.timedelta(days=7, minutes=1))
    assert report.anonymized == [(petition.slug, 3)]

    dump = _dump()
    for name, email, postcode in SIGNERS:
        assert name not in dump and email not in dump and postcode not in dump
        assert name.split()[1] not in dump
    assert _figures(client, petition) == before
    # The sponsors that could have copied Annabel, Borislav or Cressida are told to delete them.
    tombstones = set(db.session.execute(select(SignatureTombstone.organization_id)).scalars())
    assert tombstones == {petition.lead.id, petition.co_sponsor.id}
    assert db.session.scalar(select(func.count()).select_from(Consent)) == 0
    listed = client.get(api, headers={"Authorization": f"Bearer {secret}"})
    assert listed.status_code == 200
    items = listed.get_json()["_embedded"]["osdi:signatures"]
    assert len(items) == 2 and all(item["deleted"] is True and "person" not in item for item in items)
    assert db.session.get(Campaign, petition.campaign.id).anonymized_at is not None  # type: ignore[union-attr]
    # Done once: a later run finds nothing to do, and a recount from the rows gives the same figures.
    assert _run(now + dt.timedelta(days=9)).anonymized == []
    recount(db.session.get(Campaign, petition.campaign.id))  # type: ignore[arg-type]
    db.session.commit()
    assert _figures(client, petition) == before


def test_owners_are_warned_30_and_7_days_ahead_once_each(client, mailbox):
    petition = make_petition()
    owners = [add_member(org, make_user(), Role.OWNER) for org in (petition.lead, petition.co_sponsor, petition.invited)]
    editor = add_member(petition.lead, make_user(), Role.EDITOR)
    closed = utcnow() - dt.timedelta(days=1)
    petition.campaign.status, petition.campaign.closed_at = CampaignStatus.CLOSED.value, closed
    db.session.commit()

    assert _run(closed + dt.timedelta(days=DAYS - 31)).warned == []
    report = _run(closed + dt.timedelta(days=DAYS - 30))
    assert report.warned == [(petition.slug, 30, 2)]
    lead_mail = mailbox.last_to(owners[0].email)
    assert "in 30 days" in lead_mail.body and petition.campaign.title in lead_mail.body
    assert lead_mail.link("/export") == f"/orgs/{petition.lead.slug}/campaigns/{petition.slug}/export"
    assert mailbox.last_to(owners[1].email).link("/export") == f"/orgs/{petition.co_sponsor.slug}/campaigns/{petition.slug}/export"
    assert mailbox.to(owners[2].email) == [] and mailbox.to(editor.email) == []  # only invited; not an owner

    assert _run(closed + dt.timedelta(days=DAYS - 29)).warned == []  # once
    assert _run(closed + dt.timedelta(days=DAYS - 7)).warned == [(petition.slug, 7, 2)]
    assert "in 7 days" in mailbox.last_to(owners[0].email).body
    assert _run(closed + dt.timedelta(days=DAYS - 6)).warned == []
    assert len(mailbox.to(owners[0].email)) == 2 and len(mailbox.to(owners[1].email)) == 2
    assert sorted(db.session.scalars(select(RetentionNotice.days_ahead))) == [7, 30]
    assert _run(closed + dt.timedelta(days=DAYS, minutes=1)).anonymized == [(petition.slug, 0)]


def test_unconfirmed_signatures_are_deleted_after_30_days_with_their_mail(client, mailbox):
    petition = make_petition()
    for name, email, _postcode in SIGNERS[:3]:
        assert sign(client, petition.url, supporter(name, email)).status_code == 303
    _confirm(petition, SIGNERS[2][1])
    db.session.execute(update(Signature).where(Signature.email.in_([SIGNERS[0][1], SIGNERS[2][1]]))
                       .values(created_at=utcnow() - dt.timedelta(days=30, minutes=1)))
    db.session.commit()
    before = counts(petition)

    report = _run(utcnow())
    assert report.unconfirmed_deleted == 1
    left = set(db.session.scalars(select(Signature.email).where(Signature.campaign_id == petition.campaign.id)))
    assert left == {SIGNERS[1][1], SIGNERS[2][1]}  # a day younger, and the confirmed one
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.recipient == SIGNERS[0][1])) == 0
    assert mailbox.to(SIGNERS[0][1]) == []  # the mail waiting for delivery went with the signature
    assert counts(petition) == before
    assert mailbox.to(SIGNERS[1][1])  # the younger one still gets hers


def test_copies_of_finished_mail_leave_the_outbox_after_the_mail_log_days(client, mailbox):
    now = utcnow()
    old, recent = now - dt.timedelta(days=30, minutes=1), now - dt.timedelta(days=29)
    rows = {
        "sent long ago": OutboxMessage(recipient="a@example.org", subject="a", body_text="a", sent_at=old),
        "given up long ago": OutboxMessage(recipient="b@example.org", subject="b", body_text="b", failed_at=old),
        "sent lately": OutboxMessage(recipient="c@example.org", subject="c", body_text="c", sent_at=recent),
        "still to send": OutboxMessage(recipient="d@example.org", subject="d", body_text="d", created_at=old,
                                       next_attempt_at=now + dt.timedelta(hours=1)),
    }
    db.session.add_all(rows.values())
    db.session.commit()
    assert _run(now).mail_deleted == 2
    left = set(db.session.scalars(select(OutboxMessage.subject)))
    assert left == {"c", "d"}


def test_flask_retention_says_what_it_did_and_a_dry_run_keeps_nothing(app, mailbox):
    petition = make_petition()
    owner = add_member(petition.lead, make_user(), Role.OWNER)
    petition.campaign.status = CampaignStatus.CLOSED.value
    petition.campaign.closed_at = utcnow() - dt.timedelta(days=DAYS - 10)
    db.session.commit()
    runner = app.test_cli_runner()

    dry = runner.invoke(args=["retention", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"would have warned 1 owner(s) of {petition.slug}: anonymized in 10 days" in dry.output
    assert "would have deleted 0 unconfirmed signature(s)" in dry.output
    assert "would have deleted 0 copies of mail sent or given up on" in dry.output
    assert db.session.scalar(select(func.count()).select_from(RetentionNotice)) == 0
    assert mailbox.to(owner.email) == []

    done = runner.invoke(args=["retention"])
    assert done.exit_code == 0, done.output
    assert f"warned 1 owner(s) of {petition.slug}: anonymized in 10 days" in done.output
    assert not done.output.startswith("would")
    assert mailbox.last_to(owner.email).subject.endswith("will be anonymized")
    again = runner.invoke(args=["retention"])
    assert "warned" not in again.output and "deleted 0 unconfirmed signature(s)" in again.output


def test_the_background_sweep_runs_retention_at_most_once_an_hour(app, mailbox):
    from undersign import jobs

    petition = make_petition()
    owner = add_member(petition.lead, make_user(), Role.OWNER)
    petition.campaign.status = CampaignStatus.CLOSED.value
    petition.campaign.closed_at = utcnow() - dt.timedelta(days=DAYS - 10)
    db.session.commit()
    jobs.sweep_retention(app, force=True)
    assert len(mailbox.to(owner.email)) == 1
    db.session.execute(text("DELETE FROM retention_notices"))
    db.session.commit()
    jobs.sweep_retention(app)  # within the hour: nothing, although a warning would be due again
    assert len(mailbox.to(owner.email)) == 1
    assert db.session.scalar(select(func.count()).select_from(RetentionNotice)) == 0


@pytest.mark.parametrize("name", ["SIGNER_DATA_RETENTION_DAYS", "UNCONFIRMED_SIGNATURE_DAYS", "MAIL_LOG_DAYS"])
@pytest.mark.parametrize("value", ["0", "-3", "six months"])
def test_retention_settings_are_checked_at_start(tmp_path, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        load(tmp_path)


def test_retention_settings_default_to_six_months_and_thirty_days(tmp_path, monkeypatch):
    monkeypatch.delenv("SIGNER_DATA_RETENTION_DAYS", raising=False)
    monkeypatch.delenv("UNCONFIRMED_SIGNATURE_DAYS", raising=False)
    config = load(tmp_path)
    assert (config["SIGNER_DATA_RETENTION_DAYS"], config["UNCONFIRMED_SIGNATURE_DAYS"]) == (183, 30)


def test_retention_counts_from_the_first_end_of_a_petition(client):
    from undersign.campaigns.service import close_campaign, declare_victory

    petition = make_petition()
    owner = add_member(petition.lead, make_user(), Role.OWNER)
    closed = utcnow() - dt.timedelta(days=DAYS - 20)
    close_campaign(owner, petition.lead, petition.campaign, closed)
    declare_victory(owner, petition.lead, petition.campaign, closed + dt.timedelta(days=30))
    db.session.commit()
    assert petition.campaign.closed_at == closed  # the victory did not move it
    assert retention.closed_since(petition.campaign, utcnow()) == closed
    assert _run(utcnow()).warned == [(petition.slug, 20, 1)]

    # A petition that closed by its date counts from that date, even before the status is written down.
    dated = make_petition(closes_at=utcnow() - dt.timedelta(days=DAYS - 5))
    assert retention.closed_since(dated.campaign, utcnow()) == dated.campaign.closes_at
    assert _run(utcnow()).warned == [(dated.slug, 7, 0)]
    assert retention.closed_since(make_petition().campaign, utcnow()) is None  # still open
