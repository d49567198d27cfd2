"""Co-sponsors witnessing the log: cosignatures accepted, an inconsistent head refused, the page line, the
verifier's check of each cosignature, and who may do what."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import update

from tests.api.test_resources import token_for
from tests.factories import add_member, login_as, make_org, make_user
from tests.helpers import csrf_token
from tests.signatures.petitions import make_petition
from tests.transparency.test_log import _confirm, _fetch
from undersign import verify
from undersign.db import utcnow
from undersign.extensions import db
from undersign.organizations.models import Role
from undersign.transparency.models import Cosignature, LogEntry


def _signed_bytes(head: dict[str, Any]) -> bytes:
    part = {k: head[k] for k in ("campaign", "tree_size", "root_hash", "timestamp")}
    return json.dumps(part, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _own_key(client: Any, headers: dict[str, str]) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    public = base64.b64encode(key.public_key().public_bytes(serialization.Encoding.Raw,
                                                            serialization.PublicFormat.Raw)).decode()
    response = client.put("/api/v1/witness-key", json={"public_key": public}, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return key


def _cosign(client: Any, slug: str, key: Ed25519PrivateKey, head: dict[str, Any], headers: dict[str, str]) -> Any:
    signature = base64.b64encode(key.sign(_signed_bytes(head))).decode()
    return client.post(f"/api/v1/campaigns/{slug}/log/cosignatures", headers=headers,
                       json={"tree_size": head["tree_size"], "root_hash": head["root_hash"], "signature": signature})


def test_a_cosignature_through_the_api_is_published_and_checked_by_the_verifier(app, client, mailbox):  # type: ignore[no-untyped-def]
    petition = make_petition()
    headers = token_for(petition.co_sponsor, write=True)
    key = _own_key(client, headers)
    for n in range(2):
        _confirm(client, mailbox, petition, f"w{n}@example.org")
    head = client.get(petition.url + "/log/head").json

    response = _cosign(client, petition.slug, key, head, headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["tree_size"] == head["tree_size"]
    served = client.get(petition.url + "/log/head").json
    assert [w["sponsor"] for w in served["witnesses"]] == [petition.co_sponsor.slug]
    published = client.get("/.well-known/undersign-log-key").json["witnesses"]
    assert {w["sponsor"] for w in published} == {petition.co_sponsor.slug}
    assert verify.check(_fetch(client), petition.slug) == []

    forged = base64.b64encode(Ed25519PrivateKey.generate().sign(_signed_bytes(head))).decode()
    db.session.execute(update(Cosignature).values(signature=forged))
    db.session.commit()
    assert verify.check(_fetch(client), petition.slug) == [
        f"the cosignature by {petition.co_sponsor.slug} does not verify with its published key"]

    bad = client.post(f"/api/v1/campaigns/{petition.slug}/log/cosignatures", headers=headers,
                      json={"tree_size": head["tree_size"], "root_hash": head["root_hash"], "signature": forged})
    assert bad.status_code == 400


def test_a_head_inconsistent_with_the_last_cosigned_is_refused(app, client, mailbox, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "LOG_HEAD_SECONDS", 0)
    petition = make_petition()
    headers = token_for(petition.co_sponsor, write=True)
    key = _own_key(client, headers)
    for n in range(2):
        _confirm(client, mailbox, petition, f"c{n}@example.org")
    first = client.get(petition.url + "/log/head").json
    assert _cosign(client, petition.slug, key, first, headers).status_code == 201

    _confirm(client, mailbox, petition, "c2@example.org")
    honest = client.get(petition.url + "/log/head").json
    assert honest["tree_size"] == 3
    db.session.execute(update(LogEntry).where(LogEntry.campaign_id == petition.campaign.id, LogEntry.index == 0)
                       .values(commitment="00" * 32, leaf_hash="11" * 32))   # a full rewrite
    db.session.commit()
    response = _cosign(client, petition.slug, key, honest, headers)
    assert response.status_code == 409
    assert "not consistent with the head of size 2" in response.json["detail"]
    assert _cosign(client, petition.slug, key, first, headers).status_code == 201  # the same head again: kept


def _console(client: Any, org: Any, role: Role) -> None:
    user = make_user()
    add_member(org, user, role)
    db.session.commit()
    login_as(client, user)


def _press(client: Any, page: str, action: str) -> Any:
    html = client.get(page).get_data(as_text=True)
    return client.post(action, data={"csrf_token": csrf_token(html)})


def test_the_page_says_who_witnessed_the_count_and_when(app, client, mailbox):  # type: ignore[no-untyped-def]
    petition = make_petition()
    _confirm(client, mailbox, petition, "p0@example.org")
    for org in (petition.lead, petition.co_sponsor):
        with client.session_transaction() as session:
            session.clear()
        _console(client, org, Role.ADMIN)
        page = f"/orgs/{org.slug}/campaigns/{petition.slug}/witness"
        assert _press(client, page, page + "/enable").status_code == 302
        assert _press(client, page, page + "/cosign").status_code == 302
        assert "Your organization witnessed the head of 1 entries." in client.get(page).get_data(as_text=True)
    db.session.execute(update(Cosignature).values(created_at=utcnow() - dt.timedelta(minutes=3)))
    db.session.commit()
    with client.session_transaction() as session:
        session.clear()
    html = client.get(petition.url).get_data(as_text=True)
    assert f"Count witnessed by {petition.lead.name}, {petition.co_sponsor.name} — 3 minutes ago" in html
    assert verify.check(_fetch(client), petition.slug) == []


def test_only_a_sponsor_with_the_right_role_witnesses(app, client, mailbox):  # type: ignore[no-untyped-def]
    petition = make_petition()
    _confirm(client, mailbox, petition, "a0@example.org")
    stranger = make_org("Open Frame Lab", slug="open-frame-lab")
    _console(client, stranger, Role.OWNER)
    assert client.get(f"/orgs/{stranger.slug}/campaigns/{petition.slug}/witness").status_code == 404
    stranger_api = token_for(stranger, write=True)
    head = client.get(petition.url + "/log/head").json
    assert _cosign(client, petition.slug, Ed25519PrivateKey.generate(), head, stranger_api).status_code == 404

    with client.session_transaction() as session:
        session.clear()
    _console(client, petition.co_sponsor, Role.VIEWER)
    page = f"/orgs/{petition.co_sponsor.slug}/campaigns/{petition.slug}/witness"
    assert client.get(page).status_code == 200
    assert _press(client, page, page + "/enable").status_code == 403
    assert client.get("/.well-known/undersign-log-key").json["witnesses"] == []
