"""POST /api/v1/campaigns/<slug>/signatures: signatures collected elsewhere, recorded a batch at a time."""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

import pytest
from sqlalchemy import func, select, update

from tests.api.test_resources import signers, token_for
from tests.factories import add_member, login_as, make_campaign, make_org, make_user
from tests.helpers import csrf_token
from tests.mailings.supporters import three_sponsors
from tests.webhooks.receiver import Receiver, receiver  # noqa: F401
from tests.webhooks.test_webhooks import add_endpoint
from undersign.api.models import IdempotencyKey
from undersign.campaigns.models import Campaign, CampaignStatus, Sponsorship
from undersign.db import utcnow
from undersign.extensions import db
from undersign.organizations.models import OrgStatus
from undersign.mail import OutboxMessage
from undersign.organizations.models import Organization, Role
from undersign.signatures.counting import recount
from undersign.signatures.models import Consent, Signature, SignatureBreakdown, SignatureTally
from undersign.webhooks import delivery

WORDING = "Tick to hear from us about this campaign"


def person(n: int | str, **extra: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"given_name": "Paper", "family_name": f"Signer {n}",
                             "email_addresses": [{"address": f"paper{n}@example.org"}],
                             "postal_addresses": [{"country": "KR", "postal_code": "04524"}]}
    found.update(extra)
    return found


def item(n: int | str, *, verified: bool = True, **extra: Any) -> dict[str, Any]:
    return {"person": person(n), "email_verified": verified, **extra}


def post(client: Any, slug: str, body: Any, headers: dict[str, str], status: int, **kwargs: Any) -> Any:
    response = client.post(f"/api/v1/campaigns/{slug}/signatures", data=json.dumps(body),
                           content_type="application/json", headers=headers, **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)
    return response


def rows(campaign: Campaign) -> int:
    return db.session.scalar(select(func.count()).select_from(Signature).where(Signature.campaign_id == campaign.id))


def shown_count(client: Any, campaign: Campaign) -> int:
    response = client.get(f"/p/{campaign.slug}.json")
    assert response.status_code == 200
    return response.get_json()["signature_count"]


def credited(org: Organization, campaign: Campaign) -> int:
    db.session.expire_all()
    return db.session.scalar(select(Sponsorship.signature_count).where(
        Sponsorship.campaign_id == campaign.id, Sponsorship.organization_id == org.id))


def figures(campaign: Campaign) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    tally = db.session.execute(select(SignatureTally.sponsorship_id, SignatureTally.hour, SignatureTally.submitted,
                                      SignatureTally.confirmed).where(SignatureTally.campaign_id == campaign.id)
                               .order_by(SignatureTally.sponsorship_id, SignatureTally.hour)).all()
    parts = db.session.execute(select(SignatureBreakdown.sponsorship_id, SignatureBreakdown.country,
                                      SignatureBreakdown.channel, SignatureBreakdown.signatures)
                               .where(SignatureBreakdown.campaign_id == campaign.id, SignatureBreakdown.signatures > 0)
                               .order_by(SignatureBreakdown.sponsorship_id, SignatureBreakdown.country,
                                         SignatureBreakdown.channel)).all()
    return [tuple(r) for r in tally], [tuple(r) for r in parts]


def confirm_by_mail(client: Any, mailbox: Any, address: str) -> None:
    link = mailbox.last_to(address).link("/confirm/")
    page = client.get(link)
    assert page.status_code == 200
    assert client.post(link, data={"csrf_token": csrf_token(page.get_data(as_text=True))}).status_code == 200


# ---------------------------------------------------------------------------------------------


def test_a_batch_of_500_with_3_duplicates_and_2_invalid_rows_records_495_and_counts_the_verified(client, mailbox):
    found = three_sponsors()  # five confirmed, counted signers already (ann, bob, cat, eve, gus), fay unconfirmed
    campaign, partner = found.campaign, found.partner
    recount(campaign)  # the factory writes rows without moving the counters
    db.session.commit()
    before, partner_before, rows_before = shown_count(client, campaign), credited(partner, campaign), rows(campaign)
    batch = [item(i, verified=i % 50 != 7) for i in range(500)]  # items 7, 57, ... 457 unverified: 10
    batch[100]["person"]["email_addresses"] = [{"address": "ANN@example.org"}]  # signed online already
    batch[200]["person"]["email_addresses"] = [{"address": "paper10+stall@example.org"}]  # item 10, canonically
    batch[300]["person"]["email_addresses"] = [{"address": "fay@example.org"}]  # signed, never confirmed
    batch[400]["person"]["email_addresses"] = [{"address": "not an address"}]
    batch[450]["person"]["postal_addresses"] = [{"country": "XX"}]

    response = post(client, campaign.slug, {"signatures": batch, "consent": {"wording": WORDING}},
                    token_for(partner, write=True), 201)

    body = response.get_json()
    assert (body["created"], body["duplicates"], body["invalid"]) == (495, 3, 2)
    assert [r["index"] for r in body["results"]] == list(range(500))
    odd = {r["index"]: r for r in body["results"] if r["status"] != "created"}
    assert set(odd) == {100, 200, 300, 400, 450}
    assert {i: odd[i]["status"] for i in (100, 200, 300)} == dict.fromkeys((100, 200, 300), "duplicate")
    assert "item 10" in odd[200]["message"]
    assert odd[400]["field"] == "person.email_addresses[0].address" and "e-mail address" in odd[400]["message"]
    assert odd[450]["field"] == "person.postal_addresses[0].country"
    created = [r for r in body["results"] if r["status"] == "created"]
    assert all(r["identifiers"][0].startswith("undersign:") for r in created)
    assert sum(r["confirmed"] for r in created) == 485

    assert rows(campaign) == rows_before + 495
    assert shown_count(client, campaign) == before + 485  # only the verified ones count
    assert credited(partner, campaign) == partner_before + 485  # credited to the organization that recorded them
    consents = db.session.scalars(select(Consent).join(Signature, Signature.id == Consent.signature_id).where(
        Signature.campaign_id == campaign.id, Signature.source == "offline")).all()
    assert len(consents) == 495 and {(c.organization_id, c.wording) for c in consents} == {(partner.id, WORDING)}
    # The counters, tallies and breakdowns moved for the batch are what a recount finds in the rows.
    moved = figures(campaign)
    assert not recount(campaign).drifted
    assert figures(campaign) == moved

    # The unverified get the form's confirmation mail, and count once they confirm.
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 10
    assert mailbox.to("paper400@example.org") == []
    confirm_by_mail(client, mailbox, "paper57@example.org")
    assert shown_count(client, campaign) == before + 486
    assert credited(partner, campaign) == partner_before + 486


def test_one_signature_without_the_list_a_whole_name_and_consent_appear_in_the_organizations_list(client):
    found = three_sponsors()
    campaign, festival = found.campaign, found.festival
    one = {"person": {"name": "Hana Park", "email_addresses": [{"address": "hana@example.org", "primary": True}],
                      "postal_addresses": [{"country": "de", "postal_code": "10115"}]},
           "comments": "Signed at the Berlin screening.", "email_verified": True, "source": "api",
           "consent": {"wording": "Keep me posted by the festival", "given": True}}
    no_consent = item("quiet", consent={"wording": "Keep me posted by the festival", "given": False})

    body = post(client, campaign.slug, one, token_for(festival, write=True), 201).get_json()
    post(client, campaign.slug, no_consent, token_for(festival, write=True), 201)

    assert body["created"] == 1 and body["results"][0]["confirmed"] is True
    [signature] = db.session.scalars(select(Signature).where(Signature.email == "hana@example.org")).all()
    assert (signature.name, signature.country, signature.postcode, signature.source) == ("Hana Park", "DE", "10115", "api")
    assert body["results"][0]["identifiers"] == [f"undersign:{signature.id}"]
    assert signers(client, found, festival)[0] == {"Gus", "Hana Park"}  # not "Paper Signer quiet": no consent
    assert "Hana Park" not in signers(client, found, found.lead)[0]  # the lead was not consented to


def test_rows_of_the_wrong_shape_are_reported_by_field_and_the_rest_recorded(client):
    found = three_sponsors()
    batch = [item(1, person=dict(person(1), given_name=5)), item(2, email_verified="yes"), item(3),
             item(4, source="paper"), item(5, consent={"given": True}), {"person": {"name": "=cmd"}},
             item(7, person=dict(person(7), given_name="", family_name=""))]

    body = post(client, found.campaign.slug, {"signatures": batch}, token_for(found.partner, write=True), 201).get_json()

    results = body["results"]
    assert [r["status"] for r in results] == ["invalid", "invalid", "created", "invalid", "invalid", "invalid", "invalid"]
    assert [r.get("field") for r in results] == ["person.given_name", "email_verified", None, "source",
                                                  "consent.wording", "person.name", "person.given_name"]
    assert all(r["message"] for r in results if r["status"] == "invalid")
    assert db.session.scalar(select(func.count()).select_from(Signature).where(
        Signature.email.like("paper%@example.org"))) == 1


@pytest.mark.parametrize(("data", "content_type", "status", "words"), [
    ('{"signatures": [', "application/json", 400, "not valid JSON"),
    ("name=Ann", "application/x-www-form-urlencoded", 415, "application/json"),
    ("[]", "application/json", 422, "JSON object"),
    ('{"signatures": []}', "application/json", 422, "1 to 500"),
    ('{"signatures": [{"person": {}}, 7]}', "application/json", 422, "item 1"),
    ('{"signatures": [{}], "source": "fax"}', "application/json", 422, "source"),
    (json.dumps({"signatures": [item(i) for i in range(501)]}), "application/json", 413, "at most 500"),
])
def test_a_body_the_api_cannot_take_is_a_problem_naming_it_and_writes_nothing(client, data, content_type, status, words):
    found = three_sponsors()
    before = rows(found.campaign)

    response = client.post(f"/api/v1/campaigns/{found.campaign.slug}/signatures", data=data,
                           content_type=content_type, headers=token_for(found.partner, write=True))

    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert words in response.get_json()["detail"]
    assert rows(found.campaign) == before


def test_who_may_post_read_tokens_other_organizations_and_closed_petitions(client):
    found = three_sponsors()
    slug = found.campaign.slug
    before = rows(found.campaign)

    forbidden = post(client, slug, item(1), token_for(found.partner), 403)
    assert forbidden.mimetype == "application/problem+json" and "read+write" in forbidden.get_json()["detail"]
    post(client, slug, item(1), token_for(found.outsider, write=True), 404)
    post(client, "no-such-petition", item(1), token_for(found.partner, write=True), 404)
    found.campaign.taken_down_at = utcnow()
    db.session.commit()
    taken_down = post(client, slug, item(1), token_for(found.partner, write=True), 409)
    assert "no longer taking signatures" in taken_down.get_json()["detail"]
    found.campaign.taken_down_at = None
    found.campaign.status = CampaignStatus.CLOSED.value
    db.session.commit()
    closed = post(client, slug, item(1), token_for(found.partner, write=True), 409)
    assert closed.mimetype == "application/problem+json"
    assert rows(found.campaign) == before


def test_nothing_is_recorded_for_a_suspended_lead_or_by_a_suspended_organization(client):
    found = three_sponsors()
    slug = found.campaign.slug
    partner_token = token_for(found.partner, write=True)
    lead_token = token_for(found.lead, write=True)
    before = rows(found.campaign)

    found.lead.status = OrgStatus.SUSPENDED.value
    db.session.commit()
    refused = post(client, slug, item(1), partner_token, 409)
    assert "no longer taking signatures" in refused.get_json()["detail"]
    found.lead.status = OrgStatus.APPROVED.value
    found.partner.status = OrgStatus.SUSPENDED.value
    db.session.commit()
    refused = post(client, slug, item(2), partner_token, 409)
    assert "cannot record signatures" in refused.get_json()["detail"]
    assert rows(found.campaign) == before
    post(client, slug, item(3), lead_token, 201)  # the petition runs on without the suspended co-sponsor
    assert rows(found.campaign) == before + 1


def test_the_same_idempotency_key_replays_the_answer_and_another_body_with_it_is_refused(client):
    found = three_sponsors()
    slug, headers = found.campaign.slug, token_for(found.partner, write=True)
    keyed = dict(headers, **{"Idempotency-Key": "stall-2026-12-04-batch-1"})
    body = {"signatures": [item(1), item(2, verified=False)]}

    first = post(client, slug, body, keyed, 201)
    after_first, count_after_first = rows(found.campaign), shown_count(client, found.campaign)
    # Sent again (the connection dropped before the answer arrived): the same answer, nothing recorded again.
    again = post(client, slug, {"signatures": [item(1), item(2, verified=False)]}, keyed, 201)
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert (rows(found.campaign), shown_count(client, found.campaign)) == (after_first, count_after_first)
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1

    other = post(client, slug, {"signatures": [item(3)]}, keyed, 422)
    assert other.mimetype == "application/problem+json" and "Idempotency-Key" in other.get_json()["detail"]
    assert rows(found.campaign) == after_first
    # Another organization's key of the same name is its own.
    post(client, slug, {"signatures": [item(4)]}, dict(token_for(found.lead, write=True), **{
        "Idempotency-Key": "stall-2026-12-04-batch-1"}), 201)
    post(client, slug, item(5), dict(headers, **{"Idempotency-Key": ""}), 400)

    # After a day the key is forgotten: the request is done again (its signers are duplicates now).
    db.session.execute(update(IdempotencyKey).values(created_at=utcnow() - dt.timedelta(hours=25)))
    db.session.commit()
    late = post(client, slug, body, keyed, 200).get_json()
    assert (late["created"], late["duplicates"]) == (0, 2)
    assert "Idempotent-Replayed" not in late


def test_a_verified_posted_signature_reaches_the_webhook_of_the_consented_organization_only(client, receiver: Receiver):
    found = three_sponsors()
    secrets = {}
    for org in (found.lead, found.partner):
        owner = add_member(org, make_user(), Role.OWNER)
        db.session.commit()
        login_as(client, owner)
        secrets[org.slug] = add_endpoint(client, org, receiver.url(f"/{org.slug}"), ("signature.confirmed",))[1]

    post(client, found.campaign.slug, {"signatures": [item("hook"), item("unverified", verified=False)],
                                       "consent": {"wording": WORDING}},
         token_for(found.partner, write=True), 201)
    assert delivery.deliver_due() == 1

    (request,) = receiver.to(f"/{found.partner.slug}")
    payload = request.verified(secrets[found.partner.slug])
    assert payload["type"] == "signature.confirmed"
    assert payload["data"]["person"]["email_addresses"] == [{"address": "paperhook@example.org", "primary": True}]
    assert payload["data"]["referrer_data"]["sponsor"]["slug"] == found.partner.slug
    assert receiver.to(f"/{found.lead.slug}") == []


def test_concurrent_requests_with_one_key_record_once(app, committed_db):
    lead = make_org("Fathom", owner=make_user())
    campaign = make_campaign(lead, status="published")
    db.session.commit()
    headers = dict(token_for(lead, write=True), **{"Idempotency-Key": "same-key"})
    body = json.dumps({"signatures": [item(i) for i in range(50)]})
    slug = campaign.slug
    barrier = threading.Barrier(4)
    answers: list[tuple[int, Any]] = []

    def send() -> None:
        with app.test_client() as own:
            barrier.wait()
            response = own.post(f"/api/v1/campaigns/{slug}/signatures", data=body, content_type="application/json",
                                headers=headers)
            answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [status for status, _ in answers] == [201] * 4
    assert all(answer == answers[0][1] for _, answer in answers)
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 50
    assert db.session.scalar(select(Campaign.signature_count).where(Campaign.slug == slug)) == 50


def test_the_api_answers_in_english_whatever_language_the_client_asks_for(client):
    found = three_sponsors()
    headers = token_for(found.partner, write=True)
    # The name-length rule's message is translated on the sign form (it carries a number): here it stays English.
    too_long = {"signatures": [{"person": {"name": "가" * 101}}]}
    answer = post(client, found.campaign.slug, too_long, {**headers, "Accept-Language": "ko"}, 200)
    assert answer.get_json()["results"][0]["message"] == "Use at most 100 characters for your name."
