"""Public figures: the .json, the recent public signers, `flask recount`."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from werkzeug.http import http_date

from tests.signatures.petitions import counts, make_petition
from undersign.audit import AuditEvent, ip_hash
from undersign.campaigns.models import Campaign, Sponsorship
from undersign.db import utcnow
from undersign.extensions import db
from undersign.signatures import service
from undersign.signatures.counting import recent_public_signers
from undersign.signatures.models import Signature
from undersign.signatures.rules import SignatureInput
from undersign.signatures.tokens import withdraw_token
from undersign.tokens import hash_token


def _signed(petition, name: str, email: str, *, public: bool = True, comment: str | None = None,
            confirmed_ago: dt.timedelta | None = dt.timedelta(minutes=5), via=None) -> Signature:
    """A signature through the service, confirmed ``confirmed_ago`` (None: unconfirmed)."""
    campaign = petition.campaign
    signature = service.sign(campaign, service.attributed_sponsorship(campaign, via),
                             SignatureInput(name, email, "KR", comment=comment, show_publicly=public))
    assert signature is not None
    if confirmed_ago is not None:
        db.session.execute(update(Signature).where(Signature.id == signature.id)
                           .values(token_hash=hash_token("t" + email)))
        service.confirm(campaign, "t" + email)
        signature.confirmed_at = utcnow() - confirmed_ago
    db.session.commit()
    return signature


def test_json_figures_cors_and_revalidation(client):
    petition = make_petition(goal=1000)
    _signed(petition, "Ann Lee", "ann@example.org")
    _signed(petition, "Bo Kim", "bo@example.org", via=petition.co_sponsor.slug)
    _signed(petition, "Cy Park", "cy@example.org", confirmed_ago=None)

    response = client.get(f"{petition.url}.json")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    cache = response.headers["Cache-Control"]
    assert "public" in cache and "max-age=" in cache and "stale-while-revalidate=" in cache
    body = response.json
    assert body == {
        "slug": petition.slug, "title": petition.campaign.title, "language": "en", "languages": ["en"],
        "status": "published", "signature_count": 2,
        "goal": 1000,
        "sponsors": [
            {"slug": petition.lead.slug, "name": petition.lead.name, "signature_count": 1},
            {"slug": petition.co_sponsor.slug, "name": petition.co_sponsor.name, "signature_count": 1},
        ],
        "former_sponsors": {"signature_count": 0},
        "updated_at": body["updated_at"],
        "log_head": None,  # no head signed yet: nobody asked for one and the job did not run
    }
    assert dt.datetime.fromisoformat(body["updated_at"]) <= utcnow()

    last_modified = response.headers["Last-Modified"]
    again = client.get(f"{petition.url}.json", headers={"If-Modified-Since": last_modified})
    assert again.status_code == 304
    assert again.headers["Access-Control-Allow-Origin"] == "*"

    # A new confirmation moves Last-Modified forward, so a revalidation gets the new count.
    db.session.execute(update(Campaign).where(Campaign.id == petition.campaign.id)
                       .values(changed_at=utcnow() - dt.timedelta(minutes=1)))
    db.session.commit()
    stale = http_date(utcnow() - dt.timedelta(seconds=30))
    _signed(petition, "Di Cho", "di@example.org")
    fresh = client.get(f"{petition.url}.json", headers={"If-Modified-Since": stale})
    assert fresh.status_code == 200 and fresh.json["signature_count"] == 3


def test_recent_public_signers(client):
    petition = make_petition()
    _signed(petition, "Ann Lee Park", "ann@example.org", comment="<b>Free them</b>", confirmed_ago=dt.timedelta(hours=3))
    _signed(petition, "Bo", "bo@example.org", confirmed_ago=dt.timedelta(minutes=2))
    _signed(petition, "Hidden Person", "hid@example.org", public=False)
    _signed(petition, "Not Confirmed", "nc@example.org", confirmed_ago=None)
    for n in range(12):
        _signed(petition, f"Old Signer{n}", f"old{n}@example.org", confirmed_ago=dt.timedelta(days=3 + n))

    signers = recent_public_signers(petition.campaign)
    assert len(signers) == 10
    assert [s.display_name for s in signers[:3]] == ["Bo", "Ann P.", "Old S."]
    assert signers[1].country_name == "South Korea" and signers[1].comment == "<b>Free them</b>"
    assert signers[0].ago() == "2 minutes ago" and signers[1].ago() == "3 hours ago" and signers[2].ago() == "3 days ago"
    # The Korean page says it in Korean.
    korean = client.get(petition.url, headers={"Accept-Language": "ko"}).get_data(as_text=True)
    assert "2분 전" in korean and "3시간 전" in korean and "minutes ago" not in korean
    names = " ".join(s.display_name for s in signers)
    assert "Hidden" not in names and "Not" not in names

    # Withdrawal takes a signer off the list at once.
    signature = db.session.query(Signature).filter_by(email="bo@example.org").one()
    service.withdraw(petition.campaign, withdraw_token(signature))
    db.session.commit()
    assert "Bo" not in [s.display_name for s in recent_public_signers(petition.campaign)]


def test_recent_signers_partial_renders_escaped(app, client):
    from flask import render_template

    petition = make_petition()
    _signed(petition, "Ann Lee", "ann@example.org", comment="<script>x()</script>")
    with app.test_request_context():
        html = render_template("public/_recent_signers.html",
                               recent_signers=recent_public_signers(petition.campaign))
    assert "Ann L." in html and "&lt;script&gt;" in html and "<script>" not in html


def test_recount_reports_and_fixes_drift(app):
    petition = make_petition()
    _signed(petition, "Ann Lee", "ann@example.org")
    _signed(petition, "Bo Kim", "bo@example.org", via=petition.co_sponsor.slug)
    runner = app.test_cli_runner()

    result = runner.invoke(args=["recount", petition.slug])
    assert result.exit_code == 0, result.output
    assert f"{petition.slug}: stored 2, actual 2" in result.output and "no drift" in result.output

    db.session.execute(update(Campaign).where(Campaign.id == petition.campaign.id).values(signature_count=7))
    db.session.execute(update(Sponsorship).where(Sponsorship.id == petition.sponsorship(petition.lead).id)
                       .values(signature_count=0))
    db.session.commit()
    result = runner.invoke(args=["recount"])
    assert result.exit_code == 0, result.output
    assert f"{petition.slug}: stored 7, actual 2  DRIFT (fixed)" in result.output
    assert f"{petition.lead.slug}: stored 0, actual 1  DRIFT (fixed)" in result.output
    total, parts = counts(petition)
    assert total == 2 and parts[petition.lead.slug] == 1 and parts[petition.co_sponsor.slug] == 1
    assert "no drift" in runner.invoke(args=["recount", petition.slug]).output
    assert runner.invoke(args=["recount", "no-such-petition"]).exit_code != 0


def test_page_reads_the_counter_not_the_rows(client):
    """The page shows the cached counter even when it disagrees with the rows (until `recount`)."""
    petition = make_petition()
    db.session.execute(update(Campaign).where(Campaign.id == petition.campaign.id).values(signature_count=586))
    db.session.commit()
    assert "586 supporters" in client.get(petition.url).get_data(as_text=True)
    assert client.get(f"{petition.url}.json").json["signature_count"] == 586


def test_invalidation_takes_a_signature_off_the_count_once(app):
    from tests.factories import make_user

    petition = make_petition()
    counted = _signed(petition, "Ann Lee", "ann@example.org")
    pending = _signed(petition, "Bo Kim", "bo@example.org", confirmed_ago=None)
    admin = make_user(admin=True)
    assert service.invalidate(counted, "Same address as 40 others from one IP", actor=admin, ip="192.0.2.7") is True
    assert service.invalidate(counted, "again", actor=admin) is False
    db.session.commit()
    assert counts(petition)[0] == 0
    # One audit event, for the call that did it: who, from where, on which signature, and why.
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "signature.invalidated")).all()
    assert [(e.actor_id, e.ip_hash, e.object_type, e.object_id, e.details) for e in events] == [
        (admin.id, ip_hash("192.0.2.7"), "signatures", counted.id,
         {"campaign_id": petition.campaign.id, "reason": "Same address as 40 others from one IP"})]
    # An invalidated signature that is confirmed later does not count either.
    assert service.invalidate(pending, "bot", actor=admin) is True
    db.session.execute(update(Signature).where(Signature.id == pending.id).values(token_hash=hash_token("p")))
    service.confirm(petition.campaign, "p")
    db.session.commit()
    assert counts(petition)[0] == 0
    assert "no drift" in app.test_cli_runner().invoke(args=["recount", petition.slug]).output
