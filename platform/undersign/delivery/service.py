"""Delivering a petition: its decision maker, the response link mailed to them, their response and the outcome.

The lead organization (admin and up) does all of it; a co-sponsor reads. The
decision maker has no account: they get a link whose token is stored only as
its SHA-256, which expires (``DELIVERY_LINK_DAYS``) and can be revoked. Opening
the link changes nothing but the audit log (mail scanners fetch links); only
the form's POST writes a response. Like the other services: flush, never commit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from undersign.accounts.models import User
from undersign.audit import record
from undersign.campaigns.models import Campaign, CampaignStatus, Update
from undersign.campaigns.rules import refuse_control_characters
from undersign.campaigns.service import declare_victory, require_lead
from undersign.db import db, utcnow
from undersign.delivery.models import Delivery, Outcome, ResponseLink
from undersign.errors import Conflict, DomainError, InvalidInput, NotFound
from undersign.links import absolute_url
from undersign.campaigns.translations import in_signers_language
from undersign.mail import queue_message
from undersign.mailings.service import unsubscribe_headers
from undersign.mailings.tokens import unsubscribe_token
from undersign.organizations.models import Organization
from undersign.signatures.models import Consent, Signature
from undersign.tokens import hash_token, new_token

RESPONSE_MAX = 20_000
LINK_TEMPLATE = "delivery/response_link"
RESPONSE_TEMPLATE = "delivery/response"


class LinkEnded(DomainError):
    """The response link was revoked or has expired."""

    status_code = 410

    def __init__(self, message: str, link: ResponseLink | None = None) -> None:
        super().__init__(message)
        self.link = link


@dataclass(frozen=True)
class Recipient:
    name: str
    role: str
    email: str


def delivery_of(campaign: Campaign) -> Delivery | None:
    return db.session.scalar(select(Delivery).where(Delivery.campaign_id == campaign.id))


def _delivery(campaign: Campaign) -> Delivery:
    found = delivery_of(campaign)
    if found is None:
        found = Delivery(campaign_id=campaign.id, recipient_name=campaign.decision_maker or "")
        db.session.add(found)
        db.session.flush()
    return found


def record_recipient(actor: User, org: Organization, campaign: Campaign, recipient: Recipient, *,
                     ip: str | None = None) -> Delivery:
    """Who receives the petition. :raise PermissionDenied: ``org`` does not lead it."""
    require_lead(org, campaign)
    delivery = _delivery(campaign)
    delivery.recipient_name, delivery.recipient_role = recipient.name, recipient.role
    delivery.recipient_email = recipient.email
    db.session.flush()
    record(actor, "delivery.recipient", delivery, organization_id=org.id, ip=ip, details={"campaign": campaign.slug})
    return delivery


def send_response_link(actor: User, org: Organization, campaign: Campaign, now: dt.datetime | None = None, *,
                       ip: str | None = None) -> tuple[ResponseLink, str]:
    """A new link for the decision maker, mailed to them; returns it and its raw token (shown nowhere else).

    :raise PermissionDenied: not the lead. :raise Conflict: no address recorded, or already answered.
    """
    require_lead(org, campaign)
    delivery = delivery_of(campaign)
    if delivery is None or not delivery.recipient_email:
        raise Conflict("Record the decision maker's e-mail address first.")
    if delivery.responded_at is not None:
        raise Conflict("The decision maker has already responded.")
    now = now or utcnow()
    raw, digest = new_token("dm_")
    link = ResponseLink(delivery_id=delivery.id, token_hash=digest, email=delivery.recipient_email,
                        created_by_id=actor.id, created_at=now,
                        expires_at=now + dt.timedelta(days=int(current_app.config.get("DELIVERY_LINK_DAYS", 30))))
    db.session.add(link)
    db.session.flush()
    queue_message(link.email, f"{campaign.title}: a petition for {delivery.recipient_name or campaign.decision_maker}",
                  LINK_TEMPLATE, {"campaign": campaign, "delivery": delivery, "org": org, "link": link,
                                  "url": absolute_url("delivery.respond", token=raw)})
    record(actor, "delivery.link_sent", link, organization_id=org.id, ip=ip, details={"campaign": campaign.slug})
    return link, raw


def revoke_link(actor: User, org: Organization, campaign: Campaign, link_id: int, now: dt.datetime | None = None, *,
                ip: str | None = None) -> ResponseLink:
    """:raise NotFound: no such link on this campaign. :raise PermissionDenied: not the lead."""
    require_lead(org, campaign)
    link = db.session.scalar(select(ResponseLink).join(Delivery).where(
        ResponseLink.id == link_id, Delivery.campaign_id == campaign.id))
    if link is None:
        raise NotFound("There is no such link.")
    if link.revoked_at is None:
        link.revoked_at = now or utcnow()
        db.session.flush()
        record(actor, "delivery.link_revoked", link, organization_id=org.id, ip=ip,
               details={"campaign": campaign.slug})
    return link


def link_by_token(token: str, now: dt.datetime | None = None) -> ResponseLink:
    """:raise NotFound: no link has this token. :raise LinkEnded: it was revoked or has expired."""
    link = db.session.scalar(select(ResponseLink).where(ResponseLink.token_hash == hash_token(token or "")))
    if link is None:
        raise NotFound("This link is not valid.")
    if not link.usable(now or utcnow()):
        raise LinkEnded("This link has expired or was withdrawn. Ask the petition's organizers for a new one.", link)
    return link


def campaign_of(link: ResponseLink) -> Campaign:
    return db.session.get_one(Campaign, link.delivery.campaign_id)


def record_view(link: ResponseLink, what: str, *, ip: str | None = None) -> None:
    """Every opening of the link (or download of the packet) goes to the audit log; nothing else changes."""
    campaign = campaign_of(link)
    record(None, f"delivery.link_{what}", link, organization_id=campaign.lead_organization_id, ip=ip,
           details={"campaign": campaign.slug})


def respond(link: ResponseLink, body: str, now: dt.datetime | None = None, *, ip: str | None = None) -> Delivery:
    """The decision maker's response: kept, posted as the lead's update, and mailed once to every signer who
    agreed to hear from any sponsor, through one of their consents (the lead's first).

    :raise InvalidInput: empty or too long. :raise Conflict: a response was already given.
    """
    text = (body or "").strip()
    refuse_control_characters(text, "body")
    if not text:
        raise InvalidInput("Write a response before sending it.", field="body")
    if len(text) > RESPONSE_MAX:
        raise InvalidInput(f"A response can be at most {RESPONSE_MAX:,} characters.", field="body")
    delivery = link.delivery
    if delivery.responded_at is not None:
        raise Conflict("A response was already given. Thank you.")
    campaign = campaign_of(link)
    now = now or utcnow()
    who = delivery.recipient_name or campaign.decision_maker
    title = f"Response from {who}"[:200]
    update = Update(campaign_id=campaign.id, organization_id=campaign.lead_organization_id, author_id=None,
                    title=title, body=text, created_at=now, emailed_at=now)
    db.session.add(update)
    db.session.flush()
    delivery.response_body, delivery.responded_at, delivery.response_update_id = text, now, update.id
    if delivery.outcome is None:
        delivery.outcome, delivery.outcome_at = Outcome.RESPONDED.value, now
    campaign.edited(now)
    sent = mail_response(campaign, who, title, text)
    record(None, "delivery.responded", delivery, organization_id=campaign.lead_organization_id, ip=ip,
           details={"campaign": campaign.slug, "supporters": sent})
    return delivery


def response_audience(campaign: Campaign) -> list[tuple[Signature, Organization]]:
    """Each counted signature with an address and a current consent to an accepted sponsor, once, with the
    sponsor whose consent carries the mail (the lead first, then in the page's order)."""
    sponsors = [s.organization for s in campaign.accepted_sponsorships]
    rank = {org.id: n for n, org in enumerate(sponsors)}
    rows = db.session.execute(
        select(Signature, Consent.organization_id).join(Consent, Consent.signature_id == Signature.id)
        .where(Signature.campaign_id == campaign.id, Signature.counted(), Signature.email.is_not(None),
               Consent.current(), Consent.organization_id.in_(rank))
        .order_by(Signature.id)
    ).all()
    chosen: dict[int, tuple[Signature, int]] = {}
    for signature, org_id in rows:
        kept = chosen.get(signature.id)
        if kept is None or rank[org_id] < rank[kept[1]]:
            chosen[signature.id] = (signature, org_id)
    by_id = {org.id: org for org in sponsors}
    return [(signature, by_id[org_id]) for signature, org_id in chosen.values()]


def mail_response(campaign: Campaign, who: str, title: str, body: str) -> int:
    """Write the response to the outbox for its audience; returns how many messages."""
    from undersign.campaigns.content import render_markdown

    body_html = render_markdown(body)
    petition_url = absolute_url("public.petition", slug=campaign.slug)
    audience = response_audience(campaign)
    for signature, org in audience:
        url = absolute_url("mailings.unsubscribe", token=unsubscribe_token(signature.id, org.id))
        assert signature.email is not None
        with in_signers_language(campaign, signature.language) as text:
            queue_message(signature.email, " ".join(f"{text.title}: {title}".split())[:300], RESPONSE_TEMPLATE,
                          {"campaign": text, "org": org, "who": who, "body": body, "body_html": body_html,
                           "name": signature.name, "petition_url": petition_url, "unsubscribe_url": url},
                          html=True, flush=False, headers=unsubscribe_headers(url))
    db.session.flush()
    return len(audience)


def set_outcome(actor: User, org: Organization, campaign: Campaign, outcome: str, now: dt.datetime | None = None, *,
                ip: str | None = None) -> Delivery:
    """won / lost / responded. Won also declares the victory (`campaigns.service.declare_victory`) if not yet.

    :raise PermissionDenied: not the lead. :raise InvalidInput: unknown outcome, or a draft petition.
    """
    require_lead(org, campaign)
    if outcome not in {o.value for o in Outcome}:
        raise InvalidInput("Choose won, lost or responded.", field="outcome")
    if campaign.status == CampaignStatus.DRAFT.value:
        raise InvalidInput("A draft petition has no outcome yet.")
    now = now or utcnow()
    if outcome == Outcome.WON.value and campaign.status != CampaignStatus.VICTORY.value:
        declare_victory(actor, org, campaign, now, ip=ip)
    delivery = _delivery(campaign)
    delivery.outcome, delivery.outcome_at = outcome, now
    campaign.edited(now)
    db.session.flush()
    record(actor, "delivery.outcome", delivery, organization_id=org.id, ip=ip,
           details={"campaign": campaign.slug, "outcome": outcome})
    return delivery


@dataclass(frozen=True)
class PublicDelivery:
    """What every sponsor's page of the petition shows of its delivery."""

    outcome: str | None
    outcome_at: dt.datetime | None
    who: str
    responded_at: dt.datetime | None
    response: str | None


def public_delivery(campaign: Campaign) -> PublicDelivery | None:
    delivery = delivery_of(campaign) if campaign.id is not None else None
    if delivery is None or (delivery.outcome is None and delivery.responded_at is None):
        return None
    who = delivery.recipient_name or campaign.decision_maker
    if delivery.recipient_role:
        who = f"{who}, {delivery.recipient_role}"
    return PublicDelivery(delivery.outcome, delivery.outcome_at, who, delivery.responded_at, delivery.response_body)
