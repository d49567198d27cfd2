"""The sign POST's short way (one light query, the form read once, one INSERT per table) behaves as the full way:
blocked sources changed anywhere hold the next signature, a refused form comes back whole, consents are
written as ticked, and every withdrawal link ever mailed keeps working."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import event, select, text

from tests.factories import login_as, make_user
from tests.helpers import csrf_token, submit, text_of
from tests.moderation.test_fraud import admin_client, sign_from
from tests.signatures.petitions import make_petition, sign, signature_rows, supporter
from undersign.extensions import db
from undersign.signatures import screening
from undersign.signatures.models import Consent, Signature
from undersign.signatures.tokens import _withdraw_mac, withdraw_token
from undersign.tokens import hash_token


def _held(email: str) -> str | None:
    db.session.expire_all()
    return db.session.scalar(select(Signature.held_reason).where(Signature.email == email))


def test_a_domain_an_administrator_blocks_holds_the_next_signature_and_unblocking_frees_the_one_after(app, client):
    petition = make_petition()
    sign_from(client, petition, "first@newly-bad.example", "10.9.0.1")  # the lists are now in this process
    assert _held("first@newly-bad.example") is None
    admin = admin_client(app)
    assert submit(admin, "/admin/blocked", {"pattern": "newly-bad.example", "reason": "Seen in a flood"},
                  action="/admin/blocked/domains").status_code == 302
    assert sign_from(client, petition, "second@newly-bad.example", "10.9.0.2").status_code == 303
    assert _held("second@newly-bad.example") == "blocked e-mail domain newly-bad.example"

    entry = admin.get("/admin/blocked").get_data(as_text=True)
    remove = re.search(r'action="(/admin/blocked/domains/\d+/remove)"', entry)
    assert remove and submit(admin, "/admin/blocked", {}, action=remove.group(1)).status_code == 302
    sign_from(client, petition, "third@newly-bad.example", "10.9.0.3")
    assert _held("third@newly-bad.example") is None


def test_a_range_blocked_through_another_instance_holds_the_next_signature_here(app, client, make_app):
    petition = make_petition()
    sign_from(client, petition, "one@example.org", "198.51.100.7")
    assert _held("one@example.org") is None
    other = make_app()  # another web process, on the same database
    admin = other.test_client()
    login_as(admin, make_user(admin=True))
    assert submit(admin, "/admin/blocked", {"network": "198.51.100.0/24", "reason": "Botnet"},
                  action="/admin/blocked/ranges").status_code == 302
    sign_from(client, petition, "two@example.org", "198.51.100.8")
    assert _held("two@example.org") == "blocked address range 198.51.100.0/24"


def test_rows_written_straight_into_the_database_hold_within_the_stated_bound(client, monkeypatch):
    petition = make_petition()
    sign_from(client, petition, "a@by-hand.example", "10.9.1.1")
    db.session.execute(text("INSERT INTO blocked_domains (pattern, reason, created_at) "
                            "VALUES ('by-hand.example', 'typed in psql', CURRENT_TIMESTAMP)"))
    # Until the copy is LISTS_MAX_AGE old, this process may still sign with the lists it read...
    sign_from(client, petition, "b@by-hand.example", "10.9.1.2")
    # ... and once it is, the next signature is checked against the rows as they are.
    clock = screening.time.monotonic() + screening.LISTS_MAX_AGE + 1
    monkeypatch.setattr(screening.time, "monotonic", lambda: clock)
    sign_from(client, petition, "c@by-hand.example", "10.9.1.3")
    assert _held("c@by-hand.example") == "blocked e-mail domain by-hand.example"


def test_the_post_reads_no_list_and_rewrites_no_row_while_the_lists_stand_still(client, app):
    petition = make_petition()
    sign_from(client, petition, "warm@example.org", "10.9.2.1")
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(" ".join(statement.lower().split()))

    page = client.get(petition.url)
    assert page.status_code == 200
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = sign_from(client, petition, "quiet@example.org", "10.9.2.2")
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert response.status_code == 303 and _held("quiet@example.org") is None
    posted = statements[statements.index(next(s for s in statements if "blocked_sources_version" in s)):]
    assert not [s for s in posted if "from blocked_domains" in s or "from blocked_address_ranges" in s]
    assert not [s for s in posted if s.startswith("update signatures")]
    assert len([s for s in posted if s.startswith("select")]) == 2  # the petition, and the per-address rate


def test_a_form_with_every_field_wrong_comes_back_with_every_message_and_what_was_typed(client):
    petition = make_petition()
    typed = {"name": "=HYPERLINK(x)", "email": "not-an-address", "country": "XX", "postcode": "!!!",
             "comment": "Bad \x07 bell", "public": "y"}
    response = sign(client, petition.url, typed)
    assert response.status_code == 400
    page = text_of(response)
    for message in ("A name cannot start with =, +, - or @.",
                    "That doesn't look like an e-mail address",
                    "Choose your country from the list.",
                    "Enter a postcode of up to 16 letters, digits, spaces or hyphens, or leave it empty.",
                    "Your comment contains characters we cannot accept (control characters)."):
        assert message in page, message
    html = response.get_data(as_text=True)
    assert 'value="=HYPERLINK(x)"' in html and 'value="not-an-address"' in html and 'value="!!!"' in html
    assert signature_rows(petition.campaign) == 0


def test_an_expired_form_comes_back_with_its_message_and_the_typed_values(client):
    petition = make_petition()
    response = client.post(petition.url, data={**supporter("Kim Lee", "kim@example.org"), "csrf_token": "stale"})
    assert response.status_code == 400
    assert "This form had expired." in text_of(response) and 'value="kim@example.org"' in response.get_data(as_text=True)
    assert signature_rows(petition.campaign) == 0


def test_consents_are_written_exactly_as_ticked(client):
    petition = make_petition()
    ticked = [petition.co_sponsor.slug, petition.invited.slug, "no-such-org", petition.co_sponsor.slug]
    sign(client, petition.url, supporter(email="ticks@example.org", consent=ticked))
    sign(client, petition.url, supporter(email="none@example.org"))
    sign(client, petition.url, supporter(email="both@example.org", consent=[petition.lead.slug, petition.co_sponsor.slug]))

    def consents(email: str) -> list[tuple[int, str]]:
        return [tuple(row) for row in db.session.execute(
            select(Consent.organization_id, Consent.wording).join(Signature, Signature.id == Consent.signature_id)
            .where(Signature.email == email, Consent.withdrawn_at.is_(None)).order_by(Consent.id))]

    co, lead = petition.co_sponsor, petition.lead
    assert consents("ticks@example.org") == [(co.id, f"Keep me updated by {co.name}")]  # not the invited one
    assert consents("none@example.org") == []
    assert consents("both@example.org") == [(lead.id, f"Keep me updated by {lead.name}"),
                                            (co.id, f"Keep me updated by {co.name}")]


def test_withdrawal_links_of_both_kinds_work_and_a_forged_one_does_not(client):
    petition = make_petition()
    sign(client, petition.url, supporter(email="new@example.org"))
    sign(client, petition.url, supporter(email="old@example.org"))
    new, old = (db.session.scalars(select(Signature).where(Signature.email == e)).one()
                for e in ("new@example.org", "old@example.org"))
    assert new.withdraw_token_hash is None  # nothing stored: the link carries the id and its HMAC
    # A link mailed before the id was part of the token: the bare HMAC, found by its stored hash.
    old_link = _withdraw_mac(old.id, old.created_at)
    old.withdraw_token_hash = hash_token(old_link)
    db.session.commit()

    mac = withdraw_token(new).partition("-")[2]
    forged = [f"{old.id}-{mac}", f"{new.id}-{'A' * 43}", f"{new.id}-{mac[:-1]}", "99999-" + mac]
    for token in forged:
        assert client.get(f"{petition.url}/withdraw/{token}").status_code == 404, token
    other = make_petition()
    assert client.get(f"{other.url}/withdraw/{withdraw_token(new)}").status_code == 404

    for token in (withdraw_token(new), old_link):
        page = client.get(f"{petition.url}/withdraw/{token}")
        assert page.status_code == 200, token
        done = client.post(f"{petition.url}/withdraw/{token}", data={"csrf_token": csrf_token(page.get_data(as_text=True))})
        assert done.status_code == 200
    db.session.expire_all()
    assert db.session.get(Signature, new.id).withdrawn_at is not None
    assert db.session.get(Signature, old.id).withdrawn_at is not None
