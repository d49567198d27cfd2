"""A supporter's own signatures, without an account: the sign-in link, the list and its choices, the data, erasure.

**Who is asking.** ``/me`` mails a sign-in link (`request_link`) to the address
typed in; opening it (`use_link`) proves the person reads that mailbox, and
from then on the browser is signed in, for a short while, as the address's
canonical key (`undersign.signatures.canonical.email_key`). Every signature
with that key, on any petition, is theirs: a case, dot or ``+tag`` variant of
the address reaches the same signatures because the key folds it.

**Saying nothing about who signed.** `request_link` does the same work for
every well-formed address, signed or not: it counts the address's recent
links, writes a link row and queues one mail (which says the same words
either way). It never looks at the signatures, so neither its answer nor its
time can tell whether an address has signed anything.

**Erasure** (`erase`): every signature of the key loses its name, e-mail,
key, postcode, comment, IP hash and tokens; the consents are deleted (each
sponsor that held one gets an API tombstone and a ``signature.withdrawn``
webhook, see `undersign.webhooks.service`); mail to the address is deleted from
the outbox, sent or not, with its mailing recipient rows; the links of the key
are deleted; one audit event without personal data records it. A confirmed,
valid signature stays in the count as an anonymous row (the petition keeps
the support it had, nothing about the person); any other signature is marked
withdrawn so that it can never be confirmed.

Like the other services: explicit inputs, flush, never commit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, or_, select, update

from undersign.audit import record
from undersign.campaigns.models import Campaign
from undersign.db import db, utcnow
from undersign.errors import Conflict, DomainError, NotFound
from undersign.events import publish
from undersign.links import absolute_url
from undersign.mail import OutboxMessage, queue_mail
from undersign.mailings.models import MailingRecipient
from undersign.moderation.models import Report
from undersign.organizations.models import Organization
from undersign.signatures import rules
from undersign.signatures import service as signatures
from undersign.signatures.canonical import current_rules, email_key
from undersign.signatures.models import Consent, Signature, latest_consent
from undersign.signatures.tokens import withdraw_token
from undersign.supporters.models import SupporterLink
from undersign.tokens import hash_token, new_token

LINK_LIFETIME = dt.timedelta(hours=1)
# How long a browser stays signed in to /me after opening a link.
SESSION_LIFETIME = dt.timedelta(minutes=30)
# Sign-in links mailed to one address (its canonical key) per hour; beyond, nothing is sent (the page is the same).
LINKS_PER_HOUR = 3

NO_SUCH_LINK = "This link is not valid. Ask for a new one on the “My signatures” page."
USED_LINK = "This link was used already. Ask for a new one on the “My signatures” page."
EXPIRED_LINK = "This link has expired (links work for an hour). Ask for a new one on the “My signatures” page."
NOT_YOURS = "There is no such signature among yours."


class LinkGone(DomainError):
    """A sign-in link that existed but works no more: used, or expired (HTTP 410)."""

    status_code = 410


class Supporter:
    """What the audit log names for an erasure: a supporter, with no id and no label (no personal data)."""

    __tablename__ = "supporters"
    id = None


# ---------------------------------------------------------------------------------------------
# Signing in


def request_link(address: str, now: dt.datetime | None = None) -> None:
    """Mail a single-use sign-in link for ``address`` (see the module docstring: the same work for any address).

    At most `LINKS_PER_HOUR` links go to one canonical address an hour; beyond that nothing is
    written or sent, and the caller answers as usual.

    :raise InvalidInput: not an e-mail address (``field="email"``).
    """
    typed, key = rules.clean_email(address, current_rules())
    now = now or utcnow()
    recent = db.session.scalar(select(func.count()).select_from(SupporterLink).where(
        SupporterLink.email_key == key, SupporterLink.created_at > now - dt.timedelta(hours=1))) or 0
    if recent >= LINKS_PER_HOUR:
        return
    raw, digest = new_token()
    db.session.add(SupporterLink(token_hash=digest, email_key=key, created_at=now, expires_at=now + LINK_LIFETIME))
    db.session.flush()
    queue_mail(typed, "Your signatures: your sign-in link", "supporters/link",
               link_url=absolute_url("me.link", token=raw), me_url=absolute_url("me.me"),
               minutes=int(LINK_LIFETIME.total_seconds() // 60))


def check_link(raw: str, now: dt.datetime | None = None) -> SupporterLink:
    """The unused, unexpired link ``raw`` stands for.

    :raise NotFound: no such link. :raise LinkGone: used already, or expired.
    """
    link = db.session.scalar(select(SupporterLink).where(SupporterLink.token_hash == hash_token(raw or "")))
    if link is None:
        raise NotFound(NO_SUCH_LINK)
    if link.used_at is not None:
        raise LinkGone(USED_LINK)
    if link.expires_at <= (now or utcnow()):
        raise LinkGone(EXPIRED_LINK)
    return link


def use_link(raw: str, now: dt.datetime | None = None) -> int:
    """Spend the link (once: a conditional UPDATE, so two concurrent uses cannot both pass); returns its id,
    which the browser's session holds instead of the address (Flask's session cookie is signed, not encrypted).

    :raise NotFound, LinkGone: see `check_link`.
    """
    now = now or utcnow()
    link = check_link(raw, now)
    spent = db.session.execute(
        update(SupporterLink).where(SupporterLink.id == link.id, SupporterLink.used_at.is_(None))
        .values(used_at=now).returning(SupporterLink.id).execution_options(synchronize_session=False)
    ).scalar()
    if spent is None:
        raise LinkGone(USED_LINK)
    return spent


def key_of_spent_link(link_id: int) -> str | None:
    """The canonical address a spent link signed a browser in for; None once it is gone (erased)."""
    return db.session.scalar(select(SupporterLink.email_key).where(SupporterLink.id == link_id,
                                                                   SupporterLink.used_at.is_not(None)))


# ---------------------------------------------------------------------------------------------
# The list and its choices


@dataclass(frozen=True)
class SponsorChoice:
    organization: Organization
    consented: bool
    offered: bool  # the sponsor may still be chosen (accepted, approved); an ended one can only be unticked


@dataclass(frozen=True)
class MySignature:
    signature: Signature
    campaign: Campaign
    sponsors: list[SponsorChoice]

    @property
    def withdrawn(self) -> bool:
        return self.signature.withdrawn_at is not None


def signatures_of(key: str) -> list[Signature]:
    """Every signature of the canonical address ``key``, on any petition, newest first."""
    return list(db.session.scalars(
        select(Signature).where(Signature.email_key == key).order_by(Signature.created_at.desc(), Signature.id.desc())))


def my_signatures(key: str) -> list[MySignature]:
    """The page's list: each signature with its petition and, per sponsor, whether the supporter consented."""
    found = []
    for signature in signatures_of(key):
        campaign = db.session.get_one(Campaign, signature.campaign_id)
        current = set(db.session.scalars(select(Consent.organization_id).where(
            Consent.signature_id == signature.id, Consent.current())))
        offered = {s.organization_id: s.organization for s in rules.consent_sponsors(campaign)}
        ended = [db.session.get_one(Organization, org_id) for org_id in current - offered.keys()]
        sponsors = [SponsorChoice(org, org.id in current, True) for org in offered.values()]
        sponsors += [SponsorChoice(org, True, False) for org in ended]
        found.append(MySignature(signature, campaign, sponsors))
    return found


def signature_of(key: str, signature_id: int) -> Signature:
    """:raise NotFound: no signature ``signature_id`` of ``key`` (another person's answers the same)."""
    signature = db.session.get(Signature, signature_id)
    if signature is None or signature.email_key is None or signature.email_key != key:
        raise NotFound(NOT_YOURS)
    return signature


def withdraw(key: str, signature_id: int) -> Campaign:
    """Withdraw one of ``key``'s signatures, by the code the e-mailed withdraw link runs. :raise NotFound:."""
    signature = signature_of(key, signature_id)
    campaign = db.session.get_one(Campaign, signature.campaign_id)
    signatures.withdraw(campaign, withdraw_token(signature))
    return campaign


def show_name(key: str, signature_id: int, shown: bool) -> None:
    """Show or hide the supporter's name (first name, initial, country, comment) in the petition's public list.

    The recent signers' cache is keyed by the campaign's ``changed_at``, which moves here, so the page
    shows the change at once. :raise NotFound:.
    """
    signature = signature_of(key, signature_id)
    if signature.show_publicly == shown:
        return
    signature.show_publicly = shown
    db.session.execute(update(Campaign).where(Campaign.id == signature.campaign_id).values(changed_at=utcnow())
                       .execution_options(synchronize_session=False))
    db.session.flush()


def set_consent(key: str, signature_id: int, organization_id: int, given: bool, now: dt.datetime | None = None) -> bool:
    """Tick or untick one sponsor's consent; True if it changed.

    Unticking dates the current consent's end (``withdrawn_at``): the sponsor's API list shows a
    tombstone and its mailings stop. Ticking adds a new consent with the words the sponsor's box
    shows now, and only for a sponsor the petition still offers.

    :raise NotFound: not one of ``key``'s signatures, or not a sponsor that can be chosen.
    :raise Conflict: the signature is withdrawn.
    """
    signature = signature_of(key, signature_id)
    now = now or utcnow()
    if signature.withdrawn_at is not None:
        raise Conflict("This signature is withdrawn; there is nothing to choose.")
    current = db.session.scalar(select(Consent).where(
        Consent.signature_id == signature.id, Consent.organization_id == organization_id, Consent.current()))
    if not given:
        if current is None:
            return False
        current.withdrawn_at = now
        db.session.flush()
        record(None, "consent.withdrawn", current, organization_id=organization_id,
               details={"campaign_id": signature.campaign_id, "how": "my signatures"})
        return True
    if current is not None:
        return False
    campaign = db.session.get_one(Campaign, signature.campaign_id)
    sponsor = next((s for s in rules.consent_sponsors(campaign) if s.organization_id == organization_id), None)
    if sponsor is None:
        raise NotFound("This sponsor cannot be chosen on this petition.")
    consent = Consent(signature_id=signature.id, organization_id=organization_id, created_at=now,
                      wording=rules.consent_wording(sponsor.organization))
    db.session.add(consent)
    db.session.flush()
    record(None, "consent.given", consent, organization_id=organization_id,
           details={"campaign_id": signature.campaign_id, "how": "my signatures"})
    return True


# ---------------------------------------------------------------------------------------------
# Everything held, as data


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def everything_held(key: str) -> dict[str, Any]:
    """All the platform holds about the canonical address ``key``: signatures, the consent ledger, the mail
    in the outbox to the address, and the sign-in links."""
    held_signatures = []
    for signature in signatures_of(key):
        campaign = db.session.get_one(Campaign, signature.campaign_id)
        ledger = db.session.execute(
            select(Consent, Organization.name).join(Organization, Organization.id == Consent.organization_id)
            .where(Consent.signature_id == signature.id).order_by(Consent.id)).all()
        held_signatures.append({
            "petition": {"title": campaign.title, "url": absolute_url("public.petition", slug=campaign.slug)},
            "name": signature.name, "email": signature.email, "country": signature.country,
            "postcode": signature.postcode, "comment": signature.comment,
            "name_shown_publicly": signature.show_publicly,
            "credited_sponsor": signature.sponsorship.organization.name, "source": signature.source,
            "signed_at": _iso(signature.created_at), "confirmed_at": _iso(signature.confirmed_at),
            "withdrawn_at": _iso(signature.withdrawn_at), "invalidated_at": _iso(signature.invalidated_at),
            "ip_address_hash": signature.ip_hash,
            "consents": [{"sponsor": name, "wording": consent.wording, "given_at": _iso(consent.created_at),
                          "withdrawn_at": _iso(consent.withdrawn_at)} for consent, name in ledger],
        })
    mail = [{"to": m.recipient, "subject": m.subject, "body": m.body_text, "queued_at": _iso(m.created_at),
             "sent_at": _iso(m.sent_at)} for m in _outbox_of(key)]
    links = db.session.scalars(select(SupporterLink).where(SupporterLink.email_key == key).order_by(SupporterLink.id))
    return {
        "email_key": key,
        "signatures": held_signatures,
        "mail": mail,
        "sign_in_links": [{"created_at": _iso(link.created_at), "expires_at": _iso(link.expires_at),
                           "used_at": _iso(link.used_at)} for link in links],
    }


def _outbox_of(key: str) -> list[OutboxMessage]:
    """The outbox's messages to any address whose canonical key is ``key`` (sent or not).

    The recipient is stored as typed, so the candidates are the messages to the key's domain or a
    domain the rules fold into it, and the key decides among them.
    """
    candidates = db.session.scalars(select(OutboxMessage).where(_at_domains(OutboxMessage.recipient, key))
                                    .order_by(OutboxMessage.id))
    return [m for m in candidates if _key_of(m.recipient) == key]


def _at_domains(column: Any, key: str) -> Any:
    """In SQL: the address in ``column`` is at the domain of ``key`` or at one the rules fold into it."""
    domain = key.rpartition("@")[2]
    domains = {domain} | {name for name, rule in current_rules().domains.items() if rule.alias == domain}
    return or_(*(func.lower(column).endswith("@" + d, autoescape=True) for d in sorted(domains)))


def _key_of(address: str) -> str | None:
    try:
        return email_key(address)
    except (ValueError, UnicodeError):
        return None


# ---------------------------------------------------------------------------------------------
# Erasure


@dataclass(frozen=True)
class Erased:
    signatures: int
    still_counted: int
    mails: int


def erase(key: str, now: dt.datetime | None = None) -> Erased:
    """Erase everything held about the canonical address ``key`` (see the module docstring for what and how).

    Rows are overwritten or deleted, never flagged. Safe to run twice (the second finds nothing).
    """
    now = now or utcnow()
    found = signatures_of(key)
    ids = [s.id for s in found]
    still_counted = sum(1 for signature in found if signature.counts)
    if ids:
        # Whoever held a consent may have a copy: a tombstone for the API, and a webhook (both before the
        # consents go: they say whom to tell).
        signatures.tombstone_copies(Signature.id.in_(ids), now)
        for signature in found:
            if signature.confirmed_at is not None:
                publish("signature.erased", signature_id=signature.id, at=now)
        db.session.execute(delete(Consent).where(Consent.signature_id.in_(ids)).execution_options(synchronize_session=False))
        db.session.execute(delete(MailingRecipient).where(MailingRecipient.signature_id.in_(ids))
                           .execution_options(synchronize_session=False))
        blank: dict[str, Any] = {"name": None, "email": None, "email_key": None, "email_domain": None, "postcode": None,
                                 "comment": None, "ip_hash": None, "token_hash": None, "token_expires_at": None,
                                 "show_publicly": False}
        db.session.execute(update(Signature).where(Signature.id.in_(ids), Signature.counted()).values(**blank)
                           .execution_options(synchronize_session=False))
        # Never counted (unconfirmed, invalidated) or withdrawn: withdrawn now, so it can never be confirmed.
        db.session.execute(update(Signature).where(Signature.id.in_(ids), ~Signature.counted())
                           .values(**blank, withdrawn_at=func.coalesce(Signature.withdrawn_at, now))
                           .execution_options(synchronize_session=False))
        db.session.execute(update(Campaign).where(Campaign.id.in_({s.campaign_id for s in found}))
                           .values(changed_at=now).execution_options(synchronize_session=False))
    mails = _outbox_of(key)
    if mails:
        mail_ids = [m.id for m in mails]
        db.session.execute(delete(MailingRecipient).where(MailingRecipient.outbox_id.in_(mail_ids))
                           .execution_options(synchronize_session=False))
        db.session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(mail_ids))
                           .execution_options(synchronize_session=False))
    _forget_reporter(key)
    db.session.execute(delete(SupporterLink).where(SupporterLink.email_key == key)
                       .execution_options(synchronize_session=False))
    db.session.expire_all()
    record(None, "supporter.erased", Supporter(),
           details={"signatures": len(ids), "still_counted": still_counted, "mails_deleted": len(mails)})
    return Erased(len(ids), still_counted, len(mails))


def _forget_reporter(key: str) -> None:
    """The address, where the same person left it on a report of a petition to hear the outcome."""
    reports = db.session.scalars(select(Report).where(Report.reporter_email.is_not(None),
                                                      _at_domains(Report.reporter_email, key)))
    for report in reports:
        if report.reporter_email and _key_of(report.reporter_email) == key:
            report.reporter_email = None
    db.session.flush()
