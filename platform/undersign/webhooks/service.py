"""Webhook endpoints (registering, enabling, deleting) and the events they are told of.

Who is told what (DESIGN §9): a signature event goes only to the
organizations the signer consented to (`Consent.current()`), never to the
other sponsors of the campaign; a campaign event goes to every sponsor that
accepted. `emit` writes one `WebhookDelivery` per endpoint in the caller's
transaction, so an event that rolls back is never sent; `undersign.jobs`
sends them after the commit (`webhooks.delivery`).

Like the other services: explicit inputs, flush, never commit.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
from typing import Any

from flask import Flask
from flask_babel import gettext as _
from sqlalchemy import delete, select

from undersign import events
from undersign.accounts.models import User
from undersign.audit import record
from undersign.campaigns.models import Campaign, CampaignStatus, Sponsorship, SponsorshipStatus
from undersign.db import db, utcnow
from undersign.errors import DomainError, InvalidFields, InvalidInput
from undersign.links import absolute_url
from undersign.mail import queue_message
from undersign.organizations.models import Membership, Organization, Role
from undersign.scoped import of_organization
from undersign.signatures.models import Consent, Signature
from undersign.webhooks.delivery import check_url
from undersign.webhooks.models import EVENTS, DeliveryStatus, WebhookDelivery, WebhookEndpoint

RECENT_DELIVERIES = 50
NO_SUCH_ENDPOINT = "There is no such webhook endpoint."


# ---------------------------------------------------------------------------------------------
# Endpoints


def new_secret() -> str:
    """``whsec_`` and 24 random bytes in base64 (Standard Webhooks)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def endpoints_of(org: Organization) -> list[WebhookEndpoint]:
    return list(db.session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.organization_id == org.id).order_by(WebhookEndpoint.id)
    ))


def endpoint_of(org: Organization, endpoint_id: int) -> WebhookEndpoint:
    """:raise NotFound: no such endpoint of ``org``."""
    return of_organization(WebhookEndpoint, endpoint_id, org.id, NO_SUCH_ENDPOINT)


def register_endpoint(actor: User, org: Organization, url: str, chosen: list[str], *,
                      ip: str | None = None) -> WebhookEndpoint:
    """A new enabled endpoint with a fresh secret (the caller shows it once).

    :raise InvalidFields: a URL that may not be used (see `delivery.check_url`), no or unknown events.
    """
    problems: list[DomainError] = []
    url = (url or "").strip()
    try:
        if len(url) > 2000:
            raise InvalidInput(_("That URL is too long (2,000 characters at most)."), field="url")
        check_url(url)
    except InvalidInput as exc:
        problems.append(exc)
    wanted = [name for name in EVENTS if name in set(chosen)]
    if not wanted or len(wanted) != len(set(chosen)):
        problems.append(InvalidInput(_("Choose at least one of the events listed."), field="events"))
    if problems:
        raise InvalidFields(problems)
    endpoint = WebhookEndpoint(organization_id=org.id, url=url, events=wanted, secret=new_secret(),
                               created_by_id=actor.id)
    db.session.add(endpoint)
    db.session.flush()
    record(actor, "webhook.created", endpoint, ip=ip, organization_id=org.id, details={"url": url, "events": wanted})
    return endpoint


def set_enabled(actor: User, org: Organization, endpoint: WebhookEndpoint, enabled: bool, *,
                ip: str | None = None) -> None:
    """A disabled endpoint is sent nothing and given no new events; enabling it sends what was still
    pending when it was disabled. What failed for good stays failed (send it again by hand)."""
    if endpoint.enabled == enabled:
        return
    endpoint.enabled = enabled
    endpoint.disabled_reason = None if enabled else "Disabled by a member of the organization."
    if enabled:
        db.session.info["webhooks_queued"] = True
    db.session.flush()
    record(actor, "webhook.enabled" if enabled else "webhook.disabled", endpoint, ip=ip, organization_id=org.id,
           details={"url": endpoint.url})


def delete_endpoint(actor: User, org: Organization, endpoint: WebhookEndpoint, *, ip: str | None = None) -> None:
    record(actor, "webhook.deleted", endpoint, ip=ip, organization_id=org.id, details={"url": endpoint.url})
    db.session.delete(endpoint)
    db.session.flush()


def recent_deliveries(endpoint: WebhookEndpoint) -> list[WebhookDelivery]:
    return list(db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc()).limit(RECENT_DELIVERIES)
    ))


def send_again(actor: User, org: Organization, endpoint: WebhookEndpoint, delivery_id: int, *,
               ip: str | None = None) -> WebhookDelivery:
    """Queue the delivery for an attempt now, with the same ``webhook-id`` and a full set of retries.

    :raise NotFound: not a delivery of this endpoint.
    """
    delivery = of_organization(WebhookDelivery, delivery_id, endpoint.id, "There is no such delivery.",
                               column=WebhookDelivery.endpoint_id)
    delivery.status = DeliveryStatus.PENDING.value
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    db.session.info["webhooks_queued"] = True
    db.session.flush()
    record(actor, "webhook.resent", endpoint, ip=ip, organization_id=org.id,
           details={"delivery": delivery.id, "event_id": delivery.event_id})
    return delivery


def endpoint_gave_up(endpoint: WebhookEndpoint, now: dt.datetime) -> None:
    """Every retry of a delivery failed (a day of failures): disable the endpoint and tell the owners."""
    if not endpoint.enabled:
        return
    endpoint.enabled = False
    endpoint.disabled_reason = f"Disabled on {now:%d %B %Y, %H:%M} UTC: every delivery attempt failed for a day."
    org = db.session.get(Organization, endpoint.organization_id)
    assert org is not None
    owners = db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organization_id == org.id, Membership.role == Role.OWNER.value)
    )
    page = absolute_url("webhooks.endpoint", org=org.slug, endpoint_id=endpoint.id)
    for owner in owners:
        queue_message(owner.email, f"{org.name}: a webhook endpoint was disabled after a day of failures",
                      "webhooks/disabled", {"org": org, "endpoint": endpoint, "page": page})
    record(None, "webhook.disabled", endpoint, organization_id=org.id,
           details={"url": endpoint.url, "reason": "failing"})


# ---------------------------------------------------------------------------------------------
# Events


def listening(event_type: str, organization_ids: Any) -> list[WebhookEndpoint]:
    """The enabled endpoints of ``organization_ids`` (a set, or a subquery of ids) that chose ``event_type``."""
    found = db.session.scalars(select(WebhookEndpoint).where(
        WebhookEndpoint.organization_id.in_(organization_ids), WebhookEndpoint.enabled.is_(True)))
    return [endpoint for endpoint in found if event_type in (endpoint.events or [])]


def emit(event_type: str, organization_ids: set[int], data: dict[str, Any]) -> int:
    """Write a delivery of one event for every enabled endpoint of ``organization_ids`` that chose it."""
    return _deliver_to(listening(event_type, organization_ids), event_type, data) if organization_ids else 0


def _deliver_to(endpoints: list[WebhookEndpoint], event_type: str, data: dict[str, Any]) -> int:
    if not endpoints:
        return 0
    now = utcnow()
    event_id = "msg_" + secrets.token_urlsafe(18)
    body = json.dumps({"type": event_type, "timestamp": _iso(now), "data": data},
                      ensure_ascii=False, separators=(",", ":"))
    for endpoint in endpoints:
        db.session.add(WebhookDelivery(endpoint_id=endpoint.id, event_id=event_id, event_type=event_type, body=body,
                                       next_attempt_at=now, created_at=now))
    db.session.flush()
    db.session.info["webhooks_queued"] = True
    return len(endpoints)


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.replace(tzinfo=dt.timezone.utc).isoformat().replace("+00:00", "Z") if moment else None


def _petition(campaign: Campaign) -> dict[str, Any]:
    return {
        "identifiers": [f"undersign:{campaign.slug}"],
        "title": campaign.title,
        "summary": campaign.summary,
        "target": [{"name": campaign.decision_maker}] if campaign.decision_maker else [],
        "status": campaign.status,
        "total_signatures": campaign.signature_count,
        "browser_url": absolute_url("public.petition", slug=campaign.slug),
        "created_date": _iso(campaign.created_at),
        "modified_date": _iso(campaign.changed_at),
    }


def _signature_identifier(signature_id: int) -> str:
    return f"undersign:{signature_id}"


def _consented(signature_id: int, *, current: bool = True) -> Any:
    """The organizations the signer consented to, as a subquery (ended consents too unless ``current``)."""
    query = select(Consent.organization_id).where(Consent.signature_id == signature_id)
    return query.where(Consent.current()) if current else query


def on_signature_confirmed(signature_id: int, consented: bool = True) -> None:
    """``consented=False``: the publisher read, in this transaction, that the signer consents to no
    organization now, so none is told and nothing is looked up (a confirmation's usual case: the boxes
    are unticked by default). Otherwise one query, and the rest only when some consented organization
    listens."""
    if not consented:
        return
    endpoints = listening("signature.confirmed", _consented(signature_id))
    if not endpoints:
        return
    db.session.flush()  # the refreshes below must not drop anything the caller has not written yet
    signature = db.session.get(Signature, signature_id)
    campaign = db.session.get(Campaign, signature.campaign_id) if signature is not None else None
    if signature is None or campaign is None:
        return
    db.session.refresh(signature)
    db.session.refresh(campaign)
    sponsor = signature.sponsorship.organization
    _deliver_to(endpoints, "signature.confirmed", {
        "identifiers": [_signature_identifier(signature.id)],
        "action_date": _iso(signature.confirmed_at),
        "petition": _petition(campaign),
        "person": {
            "name": signature.name,
            "email_addresses": [{"address": signature.email, "primary": True}] if signature.email else [],
            "postal_addresses": [{"country": signature.country, "postal_code": signature.postcode}],
        },
        "referrer_data": {"source": signature.source, "sponsor": {"slug": sponsor.slug, "name": sponsor.name}},
    })


def on_signature_withdrawn(signature_id: int) -> None:
    """A tombstone (the identifier, no personal data) for every organization the signer had consented to:
    they may hold a copy to delete. Called before the consents themselves are deleted."""
    endpoints = listening("signature.withdrawn", _consented(signature_id, current=False))
    if not endpoints:
        return
    row = db.session.execute(
        select(Signature.campaign_id, Signature.confirmed_at, Signature.invalidated_at, Signature.withdrawn_at,
               Signature.held_at)
        .where(Signature.id == signature_id)
    ).first()
    if row is None or row.confirmed_at is None or row.invalidated_at is not None or row.held_at is not None:
        return  # never counted, so never sent
    campaign = db.session.get(Campaign, row.campaign_id)
    if campaign is None:
        return
    _deliver_to(endpoints, "signature.withdrawn", {
        "identifiers": [_signature_identifier(signature_id)],
        "action_date": _iso(row.withdrawn_at),
        "petition": {"identifiers": [f"undersign:{campaign.slug}"]},
    })


def on_signature_erased(signature_id: int, at: dt.datetime) -> None:
    """The supporter erased everything (`undersign.supporters.service.erase`; called before the consents go).

    The deliveries that carried their details (``signature.confirmed``, sent or still waiting) are
    deleted, and every organization that had their consent is sent the tombstone of
    ``signature.withdrawn`` (delete your copy): to a receiver an erased signature is one it may no
    longer hold, like a withdrawn one, even though the petition keeps it in its count.
    """
    deliveries = select(WebhookDelivery.id).where(
        WebhookDelivery.event_type == "signature.confirmed",
        WebhookDelivery.body.contains(f'"{_signature_identifier(signature_id)}"', autoescape=True))
    db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(deliveries))
                       .execution_options(synchronize_session=False))
    endpoints = listening("signature.withdrawn", _consented(signature_id, current=False))
    campaign_id = db.session.scalar(select(Signature.campaign_id).where(Signature.id == signature_id))
    campaign = db.session.get(Campaign, campaign_id) if campaign_id is not None else None
    if not endpoints or campaign is None:
        return
    _deliver_to(endpoints, "signature.withdrawn", {
        "identifiers": [_signature_identifier(signature_id)],
        "action_date": _iso(at),
        "petition": {"identifiers": [f"undersign:{campaign.slug}"]},
    })


def on_signatures_anonymized(campaign_id: int) -> None:
    """Retention anonymized a petition's signers: no stored payload may still name one.

    Delivered ``signature.confirmed`` payloads keep their identifier, date and
    country, and lose the person's name, address and postcode; one not yet
    delivered is abandoned (the organization would only receive a blank).
    """
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        return
    petition = json.dumps(f"undersign:{campaign.slug}")
    deliveries = db.session.scalars(select(WebhookDelivery).where(
        WebhookDelivery.event_type == "signature.confirmed", WebhookDelivery.body.contains(petition, autoescape=True)))
    for delivery in deliveries:
        payload = json.loads(delivery.body)
        data = payload.get("data", {})
        if data.get("petition", {}).get("identifiers") != [f"undersign:{campaign.slug}"]:
            continue
        countries = [{"country": a.get("country")} for a in data.get("person", {}).get("postal_addresses", [])]
        data["person"] = {"name": None, "email_addresses": [], "postal_addresses": countries}
        delivery.body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        if delivery.status == DeliveryStatus.PENDING.value:
            delivery.status = DeliveryStatus.FAILED.value
            delivery.next_attempt_at = None
            delivery.last_error = "Not sent: the signer's data was anonymized (retention) before delivery."
    db.session.flush()


def _sponsors(campaign_id: int) -> set[int]:
    return set(db.session.scalars(select(Sponsorship.organization_id).where(
        Sponsorship.campaign_id == campaign_id, Sponsorship.status == SponsorshipStatus.ACCEPTED.value)))


def on_campaign_edited(campaign_id: int) -> None:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is not None:
        emit("campaign.updated", _sponsors(campaign_id), _petition(campaign))


def on_campaign_status(campaign_id: int, status: str) -> None:
    if status not in (CampaignStatus.CLOSED.value, CampaignStatus.VICTORY.value):
        return
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is not None:
        emit("campaign.closed", _sponsors(campaign_id), _petition(campaign))


def subscribe(app: Flask) -> None:
    """Called by the application factory."""
    events.subscribe(app, "signature.confirmed", on_signature_confirmed)
    events.subscribe(app, "signature.withdrawn", on_signature_withdrawn)
    events.subscribe(app, "signature.erased", on_signature_erased)
    events.subscribe(app, "signatures.anonymized", on_signatures_anonymized)
    events.subscribe(app, "campaign.edited", on_campaign_edited)
    events.subscribe(app, "campaign.status_changed", on_campaign_status)
