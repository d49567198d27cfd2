"""/me: the sign-in link (its address only, an hour, once), the same answer for every address, the list's choices."""

from __future__ import annotations

import datetime as dt
import json
import statistics
import time

from sqlalchemy import func, select, update

from tests.helpers import csrf_token, text_of
from tests.signatures.petitions import counts, make_petition
from tests.supporters.me import ask_for_link, link_from, open_link, post_on_me, sign_and_confirm, sign_in, without_nonces
from undersign.api.resources import signature_page
from undersign.db import utcnow
from undersign.extensions import db, limiter
from undersign.mail import OutboxMessage
from undersign.signatures.models import Consent, Signature
from undersign.supporters.models import SupporterLink


def _signature(email_key: str) -> Signature:
    found = db.session.scalar(select(Signature).where(Signature.email_key == email_key))
    assert found is not None
    return found


def test_the_link_lists_every_signature_of_its_address_and_no_one_elses(client, mailbox):
    first, second = make_petition(), make_petition()
    sign_and_confirm(client, mailbox, first, "ann.kim@example.org", name="Ann Kim")
    # Another way of writing the same address (case, +tag) on another petition is the same person.
    sign_and_confirm(client, mailbox, second, "Ann.Kim+petitions@Example.org", name="Ann Kim")
    sign_and_confirm(client, mailbox, second, "bo.lee@example.org", name="Bo Lee")

    page = sign_in(client, mailbox, "ANN.KIM@example.org")
    assert page.status_code == 200
    text = text_of(page)
    assert first.campaign.title in text and second.campaign.title in text
    assert "Bo Lee" not in text and "bo.lee" not in text
    # The session cookie (signed, readable by anyone who holds it) does not carry the address.
    with client.session_transaction() as session:
        assert "example.org" not in repr(dict(session)).lower()
    # Ann's session cannot touch Bo's signature: 404, as for one that does not exist.
    bo = _signature("bo.lee@example.org")
    response = post_on_me(client, f"/me/signatures/{bo.id}/withdraw")
    assert response.status_code == 404
    assert counts(second)[0] == 2


def test_the_link_works_once(client, mailbox):
    make_petition()
    ask_for_link(client, "cy@example.org")
    link = link_from(mailbox, "cy@example.org")
    assert open_link(client, link).status_code == 303
    other = client.application.test_client()
    page = other.get(link)
    assert page.status_code == 410
    assert "This link was used already. Ask for a new one" in text_of(page)
    assert other.get("/me/data.json").status_code == 401


def test_the_link_expires_after_an_hour(client, mailbox):
    ask_for_link(client, "di@example.org")
    link = link_from(mailbox, "di@example.org")
    page = client.get(link)
    assert page.status_code == 200
    # An hour and a second later.
    db.session.execute(update(SupporterLink).values(
        created_at=utcnow() - dt.timedelta(hours=1, seconds=1), expires_at=utcnow() - dt.timedelta(seconds=1)))
    response = client.post(link, data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.status_code == 410
    assert "This link has expired" in text_of(response)
    assert client.get("/me/data.json").status_code == 401
    assert client.get("/me/link/not-a-token").status_code == 404


def test_the_request_page_answers_the_same_for_a_known_and_an_unknown_address(client, mailbox):
    petition = make_petition()
    sign_and_confirm(client, mailbox, petition, "known@example.org")
    known = ask_for_link(client, "known@example.org")
    unknown = ask_for_link(client, "nobody-signed@example.org")
    assert known.status_code == unknown.status_code == 200
    assert without_nonces(known.get_data(as_text=True)) == without_nonces(unknown.get_data(as_text=True))
    assert known.headers.get("Set-Cookie") is None and unknown.headers.get("Set-Cookie") is None
    # Both get a mail, with a link, in the same words.
    mails = [mailbox.last_to(a) for a in ("known@example.org", "nobody-signed@example.org")]
    assert [m.subject for m in mails] == ["Your signatures: your sign-in link"] * 2
    assert mails[0].body.split("/me/link/")[0] == mails[1].body.split("/me/link/")[0]


def test_the_request_page_takes_as_long_for_a_known_and_an_unknown_address(client, mailbox):
    petition = make_petition()
    for n in range(20):
        db.session.add(Signature(campaign_id=petition.campaign.id, sponsorship_id=petition.sponsorship(petition.lead).id,
                                 name=f"Known {n}", email=f"known{n}@example.org", email_key=f"known{n}@example.org",
                                 country="CA"))
    db.session.flush()
    page = client.get("/me")
    token = csrf_token(page.get_data(as_text=True))

    def timed(email: str) -> float:
        limiter.reset()  # the per-address-of-client limit, not what is measured
        start = time.perf_counter()
        response = client.post("/me", data={"email": email, "csrf_token": token})
        elapsed = time.perf_counter() - start
        assert response.status_code == 200
        return elapsed

    known, unknown = [], []
    for n in range(20):  # interleaved, so that the machine's other load falls on both alike
        known.append(timed(f"known{n}@example.org"))
        unknown.append(timed(f"unknown{n}@example.org"))
    a, b = statistics.median(known), statistics.median(unknown)
    assert abs(a - b) < max(0.5 * min(a, b), 0.005), (a, b)


def test_links_per_address_are_capped_and_the_answer_stays_the_same(client, mailbox):
    answers = {without_nonces(ask_for_link(client, "Ed+%d@example.org" % n).get_data(as_text=True)) for n in range(5)}
    assert len(answers) == 1
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 3


def test_bad_address_gets_a_message_and_nothing_is_written(client):
    response = ask_for_link(client, "not an address")
    assert response.status_code == 400
    assert "doesn't look like an e-mail address" in text_of(response)
    assert db.session.scalar(select(func.count()).select_from(SupporterLink)) == 0


def test_consent_ticks_are_a_ledger_and_the_api_sees_them(client, mailbox):
    petition = make_petition()
    sign_and_confirm(client, mailbox, petition, "fay@example.org", consent=[petition.co_sponsor.slug])
    signature = _signature("fay@example.org")
    co = petition.co_sponsor
    sign_in(client, mailbox, "fay@example.org")

    assert post_on_me(client, f"/me/signatures/{signature.id}/consents/{co.id}/withdraw").status_code == 303
    [ended] = db.session.scalars(select(Consent).where(Consent.signature_id == signature.id))
    assert ended.withdrawn_at is not None
    [item] = signature_page(petition.sponsorship(co)).items
    assert item["deleted"] is True  # the sponsor's API list: delete your copy

    assert post_on_me(client, f"/me/signatures/{signature.id}/consents/{co.id}/give").status_code == 303
    ledger = list(db.session.scalars(select(Consent).where(Consent.signature_id == signature.id).order_by(Consent.id)))
    assert [c.withdrawn_at is None for c in ledger] == [False, True]
    assert ledger[1].wording == ledger[0].wording and ledger[1].created_at >= ended.withdrawn_at
    [item] = signature_page(petition.sponsorship(co)).items
    assert item.get("deleted") is None and item["person"]["email_addresses"][0]["address"] == "fay@example.org"

    # A sponsor never ticked is ticked here; a campaign's non-sponsor cannot be.
    assert post_on_me(client, f"/me/signatures/{signature.id}/consents/{petition.lead.id}/give").status_code == 303
    assert post_on_me(client, f"/me/signatures/{signature.id}/consents/{petition.invited.id}/give").status_code == 404
    current = set(db.session.scalars(select(Consent.organization_id).where(
        Consent.signature_id == signature.id, Consent.withdrawn_at.is_(None))))
    assert current == {co.id, petition.lead.id}


def test_hiding_the_name_takes_it_off_the_public_list(client, mailbox):
    petition = make_petition()
    sign_and_confirm(client, mailbox, petition, "gil@example.org", name="Gil Moreno", public="y")
    assert "Gil M." in text_of(client.get(petition.url))
    signature = _signature("gil@example.org")
    sign_in(client, mailbox, "gil@example.org")
    assert post_on_me(client, f"/me/signatures/{signature.id}/name/hide").status_code == 303
    assert "Gil M." not in text_of(client.get(petition.url))
    assert post_on_me(client, f"/me/signatures/{signature.id}/name/show").status_code == 303
    assert "Gil M." in text_of(client.get(petition.url))


def test_withdraw_from_the_list(client, mailbox):
    petition = make_petition()
    sign_and_confirm(client, mailbox, petition, "hal@example.org")
    signature = _signature("hal@example.org")
    sign_in(client, mailbox, "hal@example.org")
    assert post_on_me(client, f"/me/signatures/{signature.id}/withdraw").status_code == 303
    assert counts(petition)[0] == 0
    db.session.refresh(signature)
    assert signature.withdrawn_at is not None and signature.email is None
    assert "No petition has a signature with this address." in text_of(client.get("/me"))


def test_the_download_holds_what_is_kept(client, mailbox):
    petition = make_petition()
    sign_and_confirm(client, mailbox, petition, "ida@example.org", name="Ida Berg", postcode="K1A 0B1",
                     comment="For my sister.", consent=[petition.co_sponsor.slug])
    assert client.get("/me/data.json").status_code == 401
    sign_in(client, mailbox, "ida@example.org")
    response = client.get("/me/data.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    held = json.loads(response.get_data(as_text=True))
    [signature] = held["signatures"]
    assert (signature["name"], signature["email"], signature["postcode"], signature["comment"]) == (
        "Ida Berg", "ida@example.org", "K1A 0B1", "For my sister.")
    assert signature["petition"]["title"] == petition.campaign.title and signature["confirmed_at"]
    assert [c["sponsor"] for c in signature["consents"]] == [petition.co_sponsor.name]
    assert {m["subject"] for m in held["mail"]} >= {f"Please confirm your signature: {petition.campaign.title}"}
    assert [link["used_at"] is not None for link in held["sign_in_links"]] == [True]


def test_every_confirmation_mail_links_to_me(client, mailbox):
    petition = make_petition()
    sign_and_confirm(client, mailbox, petition, "jo@example.org")
    assert mailbox.last_to("jo@example.org").link("/me") == "/me"


def test_sign_out_ends_it(client, mailbox):
    make_petition()
    sign_in(client, mailbox, "kai@example.org")
    assert post_on_me(client, "/me/sign-out").status_code == 303
    assert client.get("/me/data.json").status_code == 401
    assert "E-mail me a link" in text_of(client.get("/me"))
