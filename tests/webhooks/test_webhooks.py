"""Webhooks against a real HTTP receiver on loopback: signed, retried, only consented signers, no SSRF."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import select

from tests.factories import add_member, login_as, make_campaign, make_org, make_user
from tests.helpers import csrf_token
from tests.webhooks.receiver import Receiver
from undersign.audit import AuditEvent
from undersign.campaigns.service import close_campaign
from undersign.db import utcnow
from undersign.errors import InvalidFields
from undersign.extensions import db
from undersign.organizations.models import Organization, Role
from undersign.signatures.models import Consent, Signature
from undersign.signatures.service import confirm, withdraw
from undersign.signatures.tokens import issue_confirm_token, withdraw_token
from undersign.tokens import hash_token
from undersign.webhooks import delivery
from undersign.webhooks.models import EVENTS, WebhookDelivery, WebhookEndpoint
from undersign.webhooks.service import register_endpoint

SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]+")


def add_endpoint(client: Any, org: Organization, url: str, events: tuple[str, ...] = EVENTS) -> tuple[int, str]:
    """Register an endpoint through the console, as an owner does; (endpoint id, the secret shown once)."""
    page = client.get(f"/orgs/{org.slug}/webhooks/")
    assert page.status_code == 200
    response = client.post(f"/orgs/{org.slug}/webhooks/", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "url": url, "events": list(events)})
    assert response.status_code == 201, response.get_data(as_text=True)
    html = response.get_data(as_text=True)
    endpoint_id = int(re.search(r"/webhooks/(\d+)", html).group(1))  # type: ignore[union-attr]
    return endpoint_id, SECRET.search(html).group(0)  # type: ignore[union-attr]


def pending_signature(campaign: Any, email: str, consents: tuple[Organization, ...]) -> tuple[Signature, str]:
    signature = Signature(campaign_id=campaign.id, sponsorship_id=campaign.sponsorships[0].id, name=email.split("@")[0],
                          email=email, email_key=email, country="DE", postcode="10115")
    db.session.add(signature)
    db.session.flush()
    raw = issue_confirm_token(signature)
    signature.withdraw_token_hash = hash_token(withdraw_token(signature))
    for org in consents:
        db.session.add(Consent(signature_id=signature.id, organization_id=org.id, wording=f"News from {org.name}"))
    db.session.commit()
    return signature, raw


def signed_and_confirmed(campaign: Any, email: str, consents: tuple[Organization, ...]) -> Signature:
    signature, raw = pending_signature(campaign, email, consents)
    confirm(campaign, raw)  # as the link in the confirmation e-mail does
    db.session.commit()
    return signature


@pytest.fixture
def scene(client):  # type: ignore[no-untyped-def]
    owner = make_user(email="owner@fathom.example.org")
    lead = make_org("Fathom", owner=owner)
    partner = make_org("Hanvoice", owner=make_user())
    festival = make_org("Festival", owner=make_user())
    campaign = make_campaign(lead, status="published", co_sponsors=(partner, festival))
    db.session.commit()
    return {"owner": owner, "lead": lead, "partner": partner, "festival": festival, "campaign": campaign}


def sign_in_owner(client: Any, org: Organization) -> None:
    from undersign.organizations.models import Membership

    owner_id = db.session.scalar(select(Membership.user_id).where(Membership.organization_id == org.id,
                                                                  Membership.role == Role.OWNER.value))
    from undersign.accounts.models import User

    login_as(client, db.session.get(User, owner_id))


# ---------------------------------------------------------------------------------------------


def test_a_confirmed_signature_arrives_signed_with_the_secret_shown_at_registration(client, scene, receiver: Receiver):
    lead, campaign = scene["lead"], scene["campaign"]
    login_as(client, scene["owner"])
    endpoint_id, secret = add_endpoint(client, lead, receiver.url("/crm"))
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "webhook.created")).ip_hash is not None

    signed_and_confirmed(campaign, "ann@example.org", (lead,))
    assert delivery.deliver_due() == 1

    (request,) = receiver.to("/crm")
    payload = request.verified(secret)  # raises unless the signature is right
    assert request.headers["webhook-signature"].startswith("v1,")
    assert request.headers["webhook-id"].startswith("msg_")
    assert payload["type"] == "signature.confirmed"
    person = payload["data"]["person"]
    assert person["email_addresses"] == [{"address": "ann@example.org", "primary": True}]
    assert person["postal_addresses"] == [{"country": "DE", "postal_code": "10115"}]
    assert payload["data"]["referrer_data"]["sponsor"]["slug"] == lead.slug
    assert payload["data"]["petition"]["total_signatures"] == 1
    with pytest.raises(Exception):
        request.verified("whsec_" + "QUJD" * 8)  # another secret does not verify it

    page = client.get(f"/orgs/{lead.slug}/webhooks/{endpoint_id}").get_data(as_text=True)
    assert "delivered" in page and "200" in page and " ms" in page


def test_each_sponsor_hears_only_of_the_signers_who_consented_to_it(client, scene, receiver: Receiver):
    lead, partner, festival, campaign = scene["lead"], scene["partner"], scene["festival"], scene["campaign"]
    secrets = {}
    for org in (lead, partner, festival):
        sign_in_owner(client, org)
        secrets[org.slug] = add_endpoint(client, org, receiver.url(f"/{org.slug}"))[1]

    signed_and_confirmed(campaign, "ann@example.org", (lead,))
    bob = signed_and_confirmed(campaign, "bob@example.org", (lead, partner))
    signed_and_confirmed(campaign, "cat@example.org", ())
    delivery.deliver_due()

    def emails(org: Organization) -> list[str]:
        return [r.verified(secrets[org.slug])["data"]["person"]["email_addresses"][0]["address"]
                for r in receiver.to(f"/{org.slug}")]

    assert sorted(emails(lead)) == ["ann@example.org", "bob@example.org"]
    assert emails(partner) == ["bob@example.org"]
    assert emails(festival) == []

    # Bob withdraws: the two organizations that have his data are told to delete it, nobody else.
    withdraw(campaign, withdraw_token(bob))
    db.session.commit()
    delivery.deliver_due()
    for org, told in ((lead, True), (partner, True), (festival, False)):
        tombstones = [r.payload for r in receiver.to(f"/{org.slug}") if r.payload["type"] == "signature.withdrawn"]
        assert len(tombstones) == (1 if told else 0)
        if told:
            assert tombstones[0]["data"]["identifiers"] == [f"undersign:{bob.id}"]
            assert "person" not in tombstones[0]["data"]

    # A campaign event goes to every sponsor.
    close_campaign(scene["owner"], lead, campaign)
    db.session.commit()
    delivery.deliver_due()
    for org in (lead, partner, festival):
        closed = [r.verified(secrets[org.slug]) for r in receiver.to(f"/{org.slug}")
                  if r.payload["type"] == "campaign.closed"]
        assert [c["data"]["status"] for c in closed] == ["closed"]


def test_a_receiver_that_fails_twice_gets_the_event_again_and_once_it_answers_2xx_no_more(client, scene, receiver):
    lead, campaign = scene["lead"], scene["campaign"]
    login_as(client, scene["owner"])
    _, secret = add_endpoint(client, lead, receiver.url("/flaky"), ("signature.confirmed",))
    receiver.answers["/flaky"] = [500, 503]
    signed_and_confirmed(campaign, "ann@example.org", (lead,))

    now = utcnow()
    assert delivery.deliver_due(now) == 0
    assert delivery.deliver_due(now) == 0  # not due again yet: no second request
    assert len(receiver.to("/flaky")) == 1
    row = db.session.scalar(select(WebhookDelivery))
    db.session.refresh(row)
    assert (row.status, row.attempts, row.response_status) == ("pending", 1, 500)
    assert row.next_attempt_at >= now + dt.timedelta(seconds=delivery.RETRY_DELAYS[0])

    assert delivery.deliver_due(now + dt.timedelta(minutes=1)) == 0  # second attempt: 503
    assert delivery.deliver_due(now + dt.timedelta(minutes=10)) == 1  # third: 200
    for later in (1, 6, 30):
        delivery.deliver_due(now + dt.timedelta(hours=later))
    attempts = receiver.to("/flaky")
    assert len(attempts) == 3
    assert len({a.headers["webhook-id"] for a in attempts}) == 1  # the same event id every time
    for attempt in attempts:
        attempt.verified(secret)
    db.session.refresh(row)
    assert (row.status, row.attempts, row.response_status) == ("delivered", 3, 200)


def test_an_endpoint_failing_for_a_day_is_disabled_and_its_owners_told(client, scene, receiver, mailbox):
    lead, campaign = scene["lead"], scene["campaign"]
    login_as(client, scene["owner"])
    endpoint_id, _ = add_endpoint(client, lead, receiver.url("/down"), ("signature.confirmed",))
    receiver.answers["/down"] = [500] * 20
    signed_and_confirmed(campaign, "ann@example.org", (lead,))

    moment = utcnow()
    delivery.deliver_due(moment)
    for delay in delivery.RETRY_DELAYS:
        moment += dt.timedelta(seconds=delay + 1)
        delivery.deliver_due(moment)
    assert len(receiver.to("/down")) == len(delivery.RETRY_DELAYS) + 1
    assert moment - utcnow() > dt.timedelta(hours=23)
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    db.session.refresh(endpoint)
    assert not endpoint.enabled
    mail = mailbox.last_to("owner@fathom.example.org")
    assert "disabled" in mail.subject and receiver.url("/down") in mail.body
    page = client.get(f"/orgs/{lead.slug}/webhooks/{endpoint_id}").get_data(as_text=True)
    assert "every delivery attempt failed for a day" in page

    # Disabled: nothing is sent to it, until it is enabled again.
    signed_and_confirmed(campaign, "bob@example.org", (lead,))
    delivery.deliver_due(moment)
    assert len(receiver.to("/down")) == len(delivery.RETRY_DELAYS) + 1
    receiver.answers["/down"] = []  # it works again
    token = csrf_token(page)
    assert client.post(f"/orgs/{lead.slug}/webhooks/{endpoint_id}/enable", data={"csrf_token": token}).status_code == 302
    signed_and_confirmed(campaign, "cat@example.org", (lead,))
    assert delivery.deliver_due() == 1
    assert receiver.to("/down")[-1].payload["data"]["person"]["name"] == "cat"


def test_redirects_are_not_followed(client, scene, receiver):
    lead, campaign = scene["lead"], scene["campaign"]
    login_as(client, scene["owner"])
    add_endpoint(client, lead, receiver.url("/moved"), ("signature.confirmed",))
    signed_and_confirmed(campaign, "ann@example.org", (lead,))
    assert delivery.deliver_due() == 0
    assert len(receiver.to("/moved")) == 1 and receiver.to("/landed") == []
    row = db.session.scalar(select(WebhookDelivery))
    db.session.refresh(row)
    assert (row.status, row.response_status) == ("pending", 307)
    assert "Redirects are not followed" in row.last_error


def test_send_again_sends_the_same_event_once_more(client, scene, receiver):
    lead, campaign = scene["lead"], scene["campaign"]
    login_as(client, scene["owner"])
    endpoint_id, secret = add_endpoint(client, lead, receiver.url("/crm"), ("signature.confirmed",))
    signed_and_confirmed(campaign, "ann@example.org", (lead,))
    delivery.deliver_due()
    row = db.session.scalar(select(WebhookDelivery))
    page = client.get(f"/orgs/{lead.slug}/webhooks/{endpoint_id}").get_data(as_text=True)
    response = client.post(f"/orgs/{lead.slug}/webhooks/{endpoint_id}/deliveries/{row.id}/send-again",
                           data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    assert delivery.deliver_due() == 1
    first, second = receiver.to("/crm")
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert second.verified(secret) == first.verified(secret)
    # Another organization's delivery id names nothing here.
    other = make_org(owner=make_user())
    db.session.commit()
    assert client.post(f"/orgs/{lead.slug}/webhooks/{endpoint_id}/deliveries/{row.id + 999}/send-again",
                       data={"csrf_token": csrf_token(page)}).status_code == 404
    assert client.get(f"/orgs/{other.slug}/webhooks/{endpoint_id}").status_code == 404


def test_editors_cannot_manage_webhooks_and_bad_input_is_named(client, scene, receiver):
    lead = scene["lead"]
    editor = add_member(lead, role=Role.EDITOR)
    login_as(client, editor)
    assert client.get(f"/orgs/{lead.slug}/webhooks/").status_code == 403
    login_as(client, scene["owner"])
    page = client.get(f"/orgs/{lead.slug}/webhooks/").get_data(as_text=True)
    response = client.post(f"/orgs/{lead.slug}/webhooks/", data={
        "csrf_token": csrf_token(page), "url": "ftp://example.org/x", "events": ["signature.confirmed"]})
    assert response.status_code == 400
    assert "Enter a full URL starting with https://" in response.get_data(as_text=True)
    response = client.post(f"/orgs/{lead.slug}/webhooks/", data={
        "csrf_token": csrf_token(page), "url": receiver.url("/x"), "events": ["signature.made-up"]})
    assert response.status_code == 400
    assert db.session.scalar(select(WebhookEndpoint)) is None


@pytest.mark.parametrize("url", ["https://127.0.0.1/hooks", "https://10.1.2.3/hooks", "https://169.254.169.254/latest",
                                 "https://[::1]/hooks", "https://localhost/hooks", "https://0.0.0.0/",
                                 "http://example.org/hooks"])
def test_in_production_private_addresses_and_plain_http_are_refused(make_app, scene, url):
    production = make_app(UNDERSIGN_ENV="production", LOG_FORMAT="text")
    with production.app_context():
        with pytest.raises(InvalidFields) as refused:
            register_endpoint(scene["owner"], scene["lead"], url, ["signature.confirmed"])
        assert refused.value.field == "url"


def test_in_production_a_url_that_now_resolves_to_loopback_is_not_called(make_app, scene, receiver):
    lead, campaign = scene["lead"], scene["campaign"]
    # Registered when it was fine (or before the rule); the address is checked again at every attempt.
    endpoint = WebhookEndpoint(organization_id=lead.id, url=receiver.url("/crm").replace("http:", "https:"),
                               events=["signature.confirmed"], secret="whsec_" + "QUJD" * 8)
    db.session.add(endpoint)
    db.session.commit()
    production = make_app(UNDERSIGN_ENV="production", LOG_FORMAT="text")
    with production.app_context():
        signed_and_confirmed(campaign, "ann@example.org", (lead,))
        assert delivery.deliver_due() == 0
    assert receiver.requests == []
    row = db.session.scalar(select(WebhookDelivery))
    db.session.refresh(row)
    assert row.response_status is None and "private or reserved address" in row.last_error


def test_a_sweep_stops_within_its_time_budget_and_the_next_one_goes_on(client, scene, receiver):
    lead, campaign = scene["lead"], scene["campaign"]
    login_as(client, scene["owner"])
    add_endpoint(client, lead, receiver.url("/crm"), ("signature.confirmed",))
    for name in ("ann", "bob", "cat"):
        signed_and_confirmed(campaign, f"{name}@example.org", (lead,))
    assert delivery.deliver_due(budget_seconds=0) == 0
    assert receiver.requests == []
    assert delivery.deliver_due() == 3
