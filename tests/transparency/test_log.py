"""The public signature log: roots recomputed here with hashlib, count = net log, tampering found."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from sqlalchemy import delete, update

from tests.helpers import csrf_token
from tests.signatures.petitions import make_petition, sign, supporter
from undersign import verify
from undersign.extensions import db
from undersign.signatures import service
from undersign.signatures.models import Signature
from undersign.transparency.heads import latest_head
from undersign.transparency.models import LogEntry


def _leaf(entry: dict[str, Any]) -> bytes:
    data = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(b"\x00" + data).digest()


def _root(nodes: list[bytes]) -> bytes:
    """RFC 6962 MTH, written out again here from the RFC's recursive definition."""
    if len(nodes) == 1:
        return nodes[0]
    k = 1
    while k * 2 < len(nodes):
        k *= 2
    return hashlib.sha256(b"\x01" + _root(nodes[:k]) + _root(nodes[k:])).digest()


def _confirm(client: Any, mailbox: Any, petition: Any, email: str) -> Any:
    assert sign(client, petition.url, supporter(email=email)).status_code == 303
    link = mailbox.last_to(email).link("/confirm/")
    page = client.get(link)
    return client.post(link, data={"csrf_token": csrf_token(page.get_data(as_text=True))})


def _fetch(client: Any) -> verify.Fetch:
    def fetch(path: str) -> Any:
        response = client.get(path)
        assert response.status_code == 200, path
        return response.json
    return fetch


def test_served_head_matches_a_root_recomputed_from_the_entries(app, client, mailbox):  # type: ignore[no-untyped-def]
    petition = make_petition()
    for n in range(5):
        _confirm(client, mailbox, petition, f"s{n}@example.org")
    signature = db.session.query(Signature).filter_by(email="s1@example.org").one()
    service.invalidate(signature, "bulk sign-up", actor=None)
    db.session.commit()

    entries = client.get(petition.url + "/log/entries").json["entries"]
    head = client.get(petition.url + "/log/head").json
    assert head["tree_size"] == len(entries) == 6
    assert head["root_hash"] == _root([_leaf(e) for e in entries]).hex()
    assert [e["event"]["kind"] for e in entries][-1] == "invalidated"
    net = sum(e["event"]["delta"] for e in entries)
    assert net == client.get(petition.url + ".json").json["signature_count"] == 4
    key = client.get("/.well-known/undersign-log-key").json
    assert key["algorithm"] == "ed25519" and len(base64.b64decode(key["public_key"])) == 32
    assert verify.check(_fetch(client), petition.slug) == []


def test_a_changed_entry_is_reported_and_breaks_consistency(app, client, mailbox):  # type: ignore[no-untyped-def]
    petition = make_petition()
    for n in range(3):
        _confirm(client, mailbox, petition, f"t{n}@example.org")
    old = client.get(petition.url + "/log/head").json
    _confirm(client, mailbox, petition, "t3@example.org")
    entries = client.get(petition.url + "/log/entries").json["entries"]
    leaves = [_leaf(e) for e in entries]
    proof = client.get(petition.url + "/log/proof/consistency?first=3&second=4").json["proof"]
    from undersign.transparency import merkle
    assert merkle.verify_consistency(3, 4, bytes.fromhex(old["root_hash"]), _root(leaves),
                                     [bytes.fromhex(p) for p in proof])

    db.session.execute(update(LogEntry).where(LogEntry.campaign_id == petition.campaign.id, LogEntry.index == 1)
                       .values(sponsor="someone-else"))
    db.session.commit()
    proof = client.get(petition.url + "/log/proof/consistency?first=3&second=4").json["proof"]
    assert not merkle.verify_consistency(3, 4, bytes.fromhex(old["root_hash"]), bytes.fromhex(
        merkle.root([_leaf(e) for e in client.get(petition.url + "/log/entries").json["entries"]]).hex()),
        [bytes.fromhex(p) for p in proof])
    problems = verify.check(_fetch(client), petition.slug)
    assert problems == ["the entries do not hash to the head's root: the log was changed"]


def test_bad_parameters_are_a_400_with_a_message(app, client):  # type: ignore[no-untyped-def]
    petition = make_petition()
    response = client.get(petition.url + "/log/proof/inclusion?index=x&tree_size=1")
    assert response.status_code == 400
    assert response.json == {"error": "index must be a whole number, at least 0."}
    assert client.get(petition.url + "/log/proof/consistency?first=1&second=5").status_code == 400
    assert client.get("/p/no-such-petition/log/head").status_code == 404


def _receipt_from(message_text: str) -> dict[str, Any]:
    lines = message_text.splitlines()
    start = lines.index("{")
    end = lines.index("}", start)
    return json.loads("\n".join(lines[start:end + 1]))


def test_a_receipt_from_the_confirmation_mail_verifies_and_a_forged_one_does_not(app, client, mailbox,
                                                                                 monkeypatch):  # type: ignore[no-untyped-def]
    petition = make_petition()
    _confirm(client, mailbox, petition, "first@example.org")
    assert client.get(petition.url + "/log/head").json["tree_size"] == 1   # someone reads the count
    page = _confirm(client, mailbox, petition, "Kim.Ji@Example.org")
    assert "Your receipt comes by e-mail" in page.get_data(as_text=True)
    mail = mailbox.last_to("Kim.Ji@Example.org")
    assert mail.subject == f"Your receipt: {petition.campaign.title}"
    receipt = _receipt_from(mail.body)
    assert receipt["campaign"] == petition.slug and receipt["index"] == 1 and len(receipt["salt"]) == 32
    # The head in the receipt is the one signed when it was written: the first, before this signature.
    assert receipt["head"]["tree_size"] == 1

    assert verify.check(_fetch(client), petition.slug, receipt=receipt, email="kim.ji@example.org") == [
        "entry 1 is not in a signed head yet (it covers 1): try again in a minute"]
    monkeypatch.setitem(app.config, "LOG_HEAD_SECONDS", 0)   # a minute later: the next read signs a new head
    assert verify.check(_fetch(client), petition.slug, receipt=receipt, email="kim.ji@example.org ") == []
    assert verify.check(_fetch(client), petition.slug, receipt=receipt, email="someone@example.org") == [
        "the receipt's entry 1 is not this address's signature"]
    forged = {**receipt, "salt": "00" * 16}
    assert verify.check(_fetch(client), petition.slug, receipt=forged, email="kim.ji@example.org") == [
        "the receipt's entry 1 is not this address's signature"]


def test_withdrawal_appends_a_minus_one_with_the_same_commitment(app, client, mailbox):  # type: ignore[no-untyped-def]
    petition = make_petition()
    _confirm(client, mailbox, petition, "lee@example.org")
    link = mailbox.last_to("lee@example.org").link("/withdraw/")
    form = client.get(link)
    assert client.post(link, data={"csrf_token": csrf_token(form.get_data(as_text=True))}).status_code == 200
    entries = client.get(petition.url + "/log/entries").json["entries"]
    assert [(e["event"]["delta"], e["event"]["kind"]) for e in entries] == [(1, "confirmed"), (-1, "withdrawn")]
    assert entries[0]["commitment"] == entries[1]["commitment"]
    assert client.get(petition.url + ".json").json["signature_count"] == 0


def test_flask_log_check_reports_a_changed_and_a_removed_entry(app, client, mailbox):  # type: ignore[no-untyped-def]
    petition = make_petition()
    for n in range(3):
        _confirm(client, mailbox, petition, f"c{n}@example.org")
    assert client.get(petition.url + "/log/head").json["tree_size"] == 3
    runner = app.test_cli_runner()
    result = runner.invoke(args=["log", "check", "--slug", petition.slug])
    assert result.exit_code == 0, result.output
    assert f"{petition.slug}: ok" in result.output

    db.session.execute(update(LogEntry).where(LogEntry.campaign_id == petition.campaign.id, LogEntry.index == 0)
                       .values(time=LogEntry.time + 1))
    db.session.commit()
    result = runner.invoke(args=["log", "check", "--slug", petition.slug])
    assert result.exit_code == 1
    assert "the head of size 3 does not match the entries: the log was changed" in result.output

    db.session.execute(delete(LogEntry).where(LogEntry.campaign_id == petition.campaign.id, LogEntry.index == 1))
    db.session.commit()
    result = runner.invoke(args=["log", "check", "--slug", petition.slug])
    assert "entry 1 is missing (the next one is 2)" in result.output
    assert "the log's net total is 2, the counter says 3" in result.output
    assert verify.check(_fetch(client), petition.slug) == [
        "entry 1 carries index 2", "the entries do not hash to the head's root: the log was changed"]


def test_the_job_signs_a_head_for_a_log_that_grew(app, client, mailbox, monkeypatch):  # type: ignore[no-untyped-def]
    from undersign.jobs import sign_log_heads

    petition = make_petition()
    _confirm(client, mailbox, petition, "job@example.org")
    db.session.commit()
    assert latest_head(petition.campaign.id) is None
    assert sign_log_heads(app) >= 1
    head = latest_head(petition.campaign.id)
    assert head is not None and head["tree_size"] == 1
    assert client.get(petition.url + "/log/head").json == head
    assert client.get(petition.url + ".json").json["log_head"] == head


def test_each_head_extends_the_last_ones_frontier_and_matches_a_recomputed_root(app, client, mailbox,
                                                                                 monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "LOG_HEAD_SECONDS", 0)
    from undersign.transparency.models import TreeHead
    petition = make_petition()
    for n in range(7):
        _confirm(client, mailbox, petition, f"f{n}@example.org")
        head = client.get(petition.url + "/log/head").json
        entries = client.get(petition.url + "/log/entries").json["entries"]
        assert head["tree_size"] == n + 1
        assert head["root_hash"] == _root([_leaf(e) for e in entries]).hex()
    stored = db.session.query(TreeHead).filter_by(campaign_id=petition.campaign.id, tree_size=7).one()
    assert len(stored.frontier.split(",")) == 3   # 7 = 4 + 2 + 1: one hash per perfect subtree
    assert verify.check(_fetch(client), petition.slug) == []
