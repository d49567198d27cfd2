"""Signing, confirming, withdrawing and invalidating a signature (DESIGN §5, §9).

Functions take their inputs explicitly (the client address too), flush but
never commit: the request's or the command's unit of work commits once.

**One supporter, one signature.** The canonical e-mail key is unique per
campaign in the database (`canonical.email_key`). The signature is written
with ``INSERT ... ON CONFLICT (campaign_id, email_key) DO NOTHING RETURNING``
(PostgreSQL and SQLite): one round trip, no look-up before it and no
SAVEPOINT. Of two submits that race, the database lets exactly one insert;
the other inserts nothing (PostgreSQL makes it wait for the first to commit)
and is handled as the duplicate it is. A duplicate gets the same page as a
first signature (the form never tells who has signed) and an e-mail saying
"you already signed", carrying a fresh confirmation link while the signature
is unconfirmed. At most `MAX_MAILS` mails go out about one signature, however
often it is submitted. The mails are composed by the job worker when it
sends them (`signatures.signer_mail`): the request writes one outbox row.

Confirmation, withdrawal and invalidation each change the count at most once
(`signatures.counting`). The links in the mails are `signatures.tokens`.

**Suspicious signatures are held, not refused** (`signatures.screening`: a
blocked e-mail domain or address range, or over the per-address rate): the
signer gets the same answer and the same mail, the confirmation is recorded,
but nothing is counted until an administrator releases it (`signatures.fraud`).

Personal data: the IP address is kept only as a keyed hash; withdrawal erases
name, e-mail, key, e-mail domain, postcode, comment and IP hash and deletes the
consents, keeping the bare row for the figures.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Executable, Table, and_, bindparam, case, delete, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from undersign.accounts.models import User
from undersign.audit import record
from undersign.campaigns.models import Campaign, SponsorRole, Sponsorship, SponsorshipStatus
from undersign.db import db, utcnow
from undersign.errors import Conflict, InvalidInput, NotFound
from undersign.events import publish
from undersign.mail import queue_composed
from undersign.signatures import rules, screening, tallies
from undersign.signatures.counting import count
from undersign.signatures.models import Consent, Signature, SignatureTombstone
from undersign.organizations.models import Organization, OrgStatus
from undersign.signatures.rules import SignatureInput, SigningCampaign, Sponsor
from undersign.signatures.signer_mail import ALREADY_SIGNED_MAIL, CONFIRM_MAIL
from undersign.signatures.tokens import (
    INVALID_LINK,
    ip_hash,
    issue_confirm_token,
    new_confirm_token,
    confirmation_by_token,
    signature_by_withdraw_token,
    withdraw_token,
)
from undersign.transparency import service as log
from undersign.transparency.receipts import send_receipt

# The CHECK constraint on signatures.confirmation_sends says the same.
MAX_MAILS = 5


# ---------------------------------------------------------------------------------------------
# Attribution


NO_LEAD = "This petition cannot take signatures right now."


def lead_sponsorship(campaign: Campaign) -> Sponsorship:
    """:raise Conflict: the campaign has no lead sponsorship (broken data; nothing can be attributed)."""
    for sponsorship in campaign.sponsorships:
        if sponsorship.role == SponsorRole.LEAD.value:
            return sponsorship
    raise Conflict(NO_LEAD)


def attributed_sponsorship(campaign: Campaign, via: str | None) -> Sponsorship:
    """The sponsor a signature is credited to: ``via`` if it is an accepted, approved sponsor, else the lead."""
    slug = rules.clean_via(via)
    if slug:
        for sponsorship in rules.consent_sponsors(campaign):
            if sponsorship.organization.slug == slug:
                return sponsorship
    return lead_sponsorship(campaign)


def attributed_sponsor(campaign: SigningCampaign, via: str | None) -> Sponsor:
    """`attributed_sponsorship` for the sign POST's `SigningCampaign`. :raise Conflict: no lead (broken data)."""
    slug = rules.clean_via(via)
    if slug:
        for sponsor in campaign.consent_sponsors():
            if sponsor.slug == slug:
                return sponsor
    lead = campaign.lead()
    if lead is None:
        raise Conflict(NO_LEAD)
    return lead


def hosting_sponsor(campaign: SigningCampaign, org_slug: str) -> Sponsor | None:
    """The accepted, approved sponsor hosting ``/o/<org_slug>/p/<slug>``, or None: then the full way
    decides (`undersign.public.visibility.hosting_sponsorship`: a suspended sponsor's page sends the form
    on to the canonical one, anything else is not found)."""
    return next((s for s in campaign.sponsors if s.slug == org_slug and s.accepted and s.approved), None)


@lru_cache(maxsize=1)
def _signing_query() -> Executable:
    """`signing_campaign`'s query, built once (SQLAlchemy caches its SQL, but not the making of the statement)."""
    lead = aliased(Organization)
    return (
        select(Campaign.id, Campaign.slug, Campaign.status, Campaign.closes_at, Campaign.taken_down_at,
               lead.status.label("lead_status"), screening.version_token().label("blocked_version"),
               Sponsorship.id.label("s_id"), Sponsorship.organization_id.label("s_org"), Sponsorship.role.label("s_role"),
               Sponsorship.status.label("s_status"), Sponsorship.accepted_at.label("s_accepted_at"),
               Sponsorship.invited_at.label("s_invited_at"), Organization.slug.label("s_slug"),
               Organization.name.label("s_name"), Organization.status.label("s_org_status"))
        .join(lead, lead.id == Campaign.lead_organization_id)
        .outerjoin(Sponsorship, and_(Sponsorship.campaign_id == Campaign.id,
                                     or_(Sponsorship.status == SponsorshipStatus.ACCEPTED.value,
                                         Sponsorship.role == SponsorRole.LEAD.value)))
        .outerjoin(Organization, Organization.id == Sponsorship.organization_id)
        .where(Campaign.slug == bindparam("slug"))
    )


def signing_campaign(slug: str, now: dt.datetime) -> SigningCampaign | None:
    """The petition at ``slug`` as the sign POST needs it, in one query, or None when it does not take
    signatures now (or there is no such petition): the caller then takes the full way, which answers
    what the page would (404, the unavailable page, the closed petition's form).

    The same query reads the token of the blocked sources (`screening.version_token`).
    """
    rows = db.session.execute(_signing_query(), {"slug": slug}).all()
    if not rows:
        return None
    first = rows[0]
    sponsors = sorted((row for row in rows if row.s_id is not None),
                      key=lambda row: (row.s_role != SponsorRole.LEAD.value, row.s_accepted_at or row.s_invited_at, row.s_id))
    campaign = SigningCampaign(
        id=first.id, slug=first.slug, status=first.status, closes_at=first.closes_at,
        taken_down=first.taken_down_at is not None, lead_approved=first.lead_status == OrgStatus.APPROVED.value,
        sponsors=tuple(
            Sponsor(row.s_id, row.s_org, row.s_slug, row.s_name, row.s_role,
                    row.s_status == SponsorshipStatus.ACCEPTED.value, row.s_org_status == OrgStatus.APPROVED.value)
            for row in sponsors),
        blocked_version=first.blocked_version, blocked_version_known=True,
    )
    return campaign if campaign.accepts_signatures(now) else None


# ---------------------------------------------------------------------------------------------
# Signing


def sign(campaign: Campaign | SigningCampaign, sponsorship: Sponsorship | Sponsor, data: SignatureInput, *,
         ip: str | None = None) -> Signature | None:
    """Record an unconfirmed signature and mail its confirmation link.

    Returns the new signature, or None when this supporter had already signed
    (they are mailed instead; the caller must answer exactly as for a first
    signature). Nothing is written when the input is invalid.

    ``campaign`` is a loaded `Campaign` with its sponsors, or the sign POST's `SigningCampaign`
    (`signing_campaign`: the same decisions from one light query); ``sponsorship`` the sponsor
    credited, of the same kind.

    :raise InvalidInput: a field breaks a rule (the error names it).
    :raise Conflict: the petition does not take signatures (closed, victory, draft, taken down).
    """
    if isinstance(campaign, Campaign):
        campaign = rules.signing_view(campaign)
    if not campaign.accepts_signatures(utcnow()):
        raise Conflict("This petition is no longer taking signatures.")
    clean = rules.check_input(data)
    now = utcnow()
    domain = screening.email_domain(clean.email)
    address_hash = ip_hash(ip)
    # A suspicious signature is held, not refused: everything below, the mail included, is the same.
    held_reason = screening.hold_reason(campaign.id, domain, ip, address_hash, now, lists_token=(
        campaign.blocked_version if campaign.blocked_version_known else screening.NOT_READ))
    raw, digest, expires_at = new_confirm_token()
    values = {
        "campaign_id": campaign.id,
        "sponsorship_id": sponsorship.id,
        "name": clean.name,
        "email": clean.email,
        "email_key": clean.email_key,
        "country": clean.country,
        "postcode": clean.postcode,
        "comment": clean.comment,
        "show_publicly": clean.show_publicly,
        "language": rules.clean_language(data.language),
        "source": clean.source,
        "email_domain": domain,
        "ip_hash": address_hash,
        "held_at": now if held_reason else None,
        "held_reason": held_reason,
        "confirmation_sends": 1,
        "created_at": now,
        "token_hash": digest,
        "token_expires_at": expires_at,
    }
    signature = None
    # Twice at most: a duplicate withdrawn between the INSERT and the look-up frees its key.
    for _attempt in range(2):
        signature = _insert_unless_signed(values)
        if signature is not None:
            break
        existing = _by_key(campaign.id, clean.email_key)
        if existing is not None:
            tell_already_signed(existing)
            return None
    if signature is None:
        raise Conflict("Please send the form again.")
    # No second write for the withdrawal link: its token carries the id (`signatures.tokens`).
    consents = [{"signature_id": signature.id, "organization_id": sponsor.organization_id,
                 "wording": rules.consent_wording(sponsor), "created_at": now}
                for sponsor in campaign.consent_sponsors() if sponsor.slug in clean.consents]
    if consents:
        db.session.execute(_INSERT_CONSENTS, consents)
    queue_composed(clean.email, CONFIRM_MAIL, signature_id=signature.id, token=raw)
    # Last: the hour's tally row is shared by every signature of this sponsor, so its lock is held briefly.
    # A held signature is in no figure until it is released (`signatures.fraud.release`).
    if not held_reason:
        tallies.submitted(campaign.id, sponsorship.id, now)
    return signature


def _insert_unless_signed(values: dict[str, Any]) -> Signature | None:
    """INSERT the signature unless its e-mail key already signed this campaign (then None), in one statement.

    Only the id comes back: the row is what was sent, so the `Signature` is made from ``values`` and put in
    the session as loaded (no SELECT); a column left to its default (``log_salt``) is read if asked for.
    """
    dialect = db.session.get_bind(mapper=Signature.__mapper__).dialect.name
    signature_id = db.session.execute(_insert_returning_id(dialect), values).scalar()
    if signature_id is None:
        return None
    signature = Signature(id=signature_id, **values, confirmed_at=None, invalidated_at=None, withdrawn_at=None,
                          released_at=None, invalidated_reason=None, invalidation_batch_id=None,
                          withdraw_token_hash=None, log_commitment=None)
    make_transient_to_detached(signature)
    db.session.add(signature)
    return signature


@lru_cache(maxsize=2)
def _insert_returning_id(dialect: str) -> Any:
    """``INSERT INTO signatures ... ON CONFLICT (campaign_id, email_key) DO NOTHING RETURNING id``, built once."""
    table = cast(Table, Signature.__table__)
    upsert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return upsert(table).on_conflict_do_nothing(index_elements=["campaign_id", "email_key"]).returning(table.c.id)


_INSERT_CONSENTS = insert(cast(Table, Consent.__table__))


def insert_unless_signed() -> Any:
    """``INSERT INTO signatures ... ON CONFLICT (campaign_id, email_key) DO NOTHING``, for one row or many."""
    dialect = db.session.get_bind(mapper=Signature.__mapper__).dialect.name
    if dialect == "postgresql":
        return postgresql_insert(Signature).on_conflict_do_nothing(index_elements=["campaign_id", "email_key"])
    if dialect == "sqlite":
        return sqlite_insert(Signature).on_conflict_do_nothing(index_elements=["campaign_id", "email_key"])
    return insert(Signature)  # pragma: no cover - the two engines undersign runs on


def _by_key(campaign_id: int, key: str) -> Signature | None:
    return db.session.scalar(select(Signature).where(Signature.campaign_id == campaign_id, Signature.email_key == key))


def tell_already_signed(signature: Signature) -> bool:
    """Mail "you already signed" (with a new confirmation link while unconfirmed); False when the cap is reached.

    The cap is taken with a conditional UPDATE, so concurrent duplicates cannot
    send more than `MAX_MAILS` mails in all.
    """
    result = db.session.execute(
        update(Signature)
        .where(Signature.id == signature.id, Signature.confirmation_sends < MAX_MAILS)
        .values(confirmation_sends=Signature.confirmation_sends + 1)
        .execution_options(synchronize_session=False)
    )
    taken = result.rowcount if isinstance(result, CursorResult) else 0
    db.session.expire(signature, ["confirmation_sends"])
    if taken != 1 or signature.email is None:
        return False
    confirmed = signature.confirmed_at is not None
    raw = None if confirmed else issue_confirm_token(signature)
    queue_composed(signature.email, ALREADY_SIGNED_MAIL, signature_id=signature.id, token=raw)
    db.session.flush()
    return True


# ---------------------------------------------------------------------------------------------
# Confirming, withdrawing, invalidating: each changes the count at most once


def confirm(campaign: Campaign, raw: str) -> tuple[Signature, bool]:
    """Confirm the signature; (signature, True) if this call confirmed it, (signature, False) if it already was.

    Safe to call twice or concurrently: exactly one call counts it.

    The confirming UPDATE also fixes the signature's log commitment (from the address the token look-up
    read, which cannot change while the row is not withdrawn: the UPDATE requires that) when it is about
    to be counted, and the look-up brings the credited sponsor's slug (the log entry needs no other read)
    and whether the signer consents to any sponsor (the webhooks need no look-up when not).

    :raise NotFound: see `signatures.tokens.signature_by_confirm_token`.
    :raise Conflict: the petition closed before the signature was confirmed.
    """
    found = confirmation_by_token(campaign, raw)
    signature = found.signature
    if signature.confirmed_at is not None:
        return signature, False
    now = utcnow()
    if not campaign.accepts_signatures(now):
        raise Conflict("This petition closed before your signature was confirmed, so it could not be counted.")
    salt = signature.log_salt or log.new_salt()
    # Evaluated on the row as the UPDATE locks it: a held or invalidated signature is not logged, so it
    # gets no commitment yet (`transparency.service.prepare` makes it when it is, as before). On the table,
    # not the mapped class: a plain statement, without the ORM's bulk-update machinery.
    db.session.flush()  # what the ORM's UPDATE did first: pending changes are written before this row is locked
    c = cast(Table, Signature.__table__).c
    fix = and_(c.invalidated_at.is_(None), c.held_at.is_(None), c.log_commitment.is_(None))
    row = db.session.execute(
        update(cast(Table, Signature.__table__))
        .where(c.id == signature.id, c.confirmed_at.is_(None), c.withdrawn_at.is_(None))
        .values(confirmed_at=now,
                log_salt=case((fix, salt), else_=c.log_salt),
                log_commitment=case((fix, log.commitment(salt, signature.email or "")), else_=c.log_commitment))
        .returning(c.invalidated_at, c.held_at, c.sponsorship_id, c.country, c.source, c.log_salt, c.log_commitment)
    ).first()
    if row is None:
        # Someone else confirmed or withdrew it meanwhile: read what stands now.
        db.session.refresh(signature)
        if signature.withdrawn_at is not None:
            raise NotFound(INVALID_LINK)
        return signature, False
    # The UPDATE matched, so the row is what it was plus this confirmation: no need to read it again.
    set_committed_value(signature, "confirmed_at", now)
    set_committed_value(signature, "log_salt", row.log_salt)
    set_committed_value(signature, "log_commitment", row.log_commitment)
    # A held signature records its confirmation and counts only when released (`signatures.fraud.release`).
    if row.invalidated_at is None and row.held_at is None:
        # The receipt's outbox row first: the campaign's row, which `count` locks until the commit, is every
        # confirmation's, so what needs no lock is not written under it.
        send_receipt(campaign, signature)
        db.session.flush()
        count(campaign.id, row.sponsorship_id, +1, now, event="confirmed", country=row.country, source=row.source,
              signature_id=signature.id, pending=log.Pending(found.sponsor, [(signature.id, row.log_commitment)]))
        publish("signature.confirmed", signature_id=signature.id, consented=found.consented)
    return signature, True


def withdraw(campaign: Campaign, raw: str) -> bool:
    """Withdraw the signature and erase its personal data; True if this call withdrew it, False if it already was.

    The count goes down once, and only if the signature was counted.

    :raise NotFound: see `signatures.tokens.signature_by_withdraw_token`.
    """
    signature = signature_by_withdraw_token(campaign, raw)
    if signature.withdrawn_at is not None:
        return False
    now = utcnow()
    row = db.session.execute(
        update(Signature)
        .where(Signature.id == signature.id, Signature.withdrawn_at.is_(None))
        .values(withdrawn_at=now, name=None, email=None, email_key=None, email_domain=None, postcode=None,
                comment=None, ip_hash=None, token_hash=None, token_expires_at=None, show_publicly=False)
        .returning(Signature.confirmed_at, Signature.invalidated_at, Signature.held_at, Signature.sponsorship_id,
                   Signature.country, Signature.source)
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        db.session.refresh(signature)
        return False
    publish("signature.withdrawn", signature_id=signature.id)  # before the consents go: whom to tell
    counted = row.confirmed_at is not None and row.invalidated_at is None and row.held_at is None
    tombstone_copies(Signature.id == signature.id, now)
    db.session.execute(delete(Consent).where(Consent.signature_id == signature.id).execution_options(synchronize_session=False))
    if counted:
        count(campaign.id, row.sponsorship_id, -1, now, event="withdrawn", country=row.country, source=row.source,
              signature_id=signature.id)
    db.session.refresh(signature)
    return True


def tombstone_copies(signatures: ColumnElement[bool], now: dt.datetime) -> None:
    """Tell each organization that could hold a copy of one of ``signatures`` to delete it: a tombstone in its
    API signer list (`undersign.api.resources`), once per signature and organization.

    Could hold a copy: the signature was confirmed and not held, and the organization had its consent (current
    or ended). Call it before the consents are deleted (withdrawal, erasure, retention).
    """
    copied = set(map(tuple, db.session.execute(
        select(Consent.signature_id, Consent.organization_id).join(Signature, Signature.id == Consent.signature_id)
        .where(signatures, Signature.confirmed_at.is_not(None), Signature.held_at.is_(None)))))
    told = set(map(tuple, db.session.execute(
        select(SignatureTombstone.signature_id, SignatureTombstone.organization_id)
        .join(Signature, Signature.id == SignatureTombstone.signature_id).where(signatures))))
    db.session.add_all(SignatureTombstone(signature_id=signature_id, organization_id=org_id, created_at=now)
                       for signature_id, org_id in sorted(copied - told))


def invalidate(signature: Signature, reason: str, *, actor: User | None, ip: str | None = None) -> bool:
    """Mark a signature as fraudulent (moderation); True if this call did it. Takes it off the count once.

    ``ip`` is the moderator's client address, for the audit event (None from a job or the CLI).

    :raise InvalidInput: no reason given.
    """
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the signature is invalid.", field="reason")
    done = invalidate_row(signature.id, signature.campaign_id, reason, utcnow())
    db.session.refresh(signature)
    if done is None:
        return False
    lead = db.session.scalar(select(Campaign.lead_organization_id).where(Campaign.id == signature.campaign_id))
    record(actor, "signature.invalidated", signature, ip=ip, organization_id=lead,
           details={"campaign_id": signature.campaign_id, "reason": reason[:500]})
    return True


def invalidate_row(signature_id: int, campaign_id: int, reason: str, now: dt.datetime, *,
                   batch_id: int | None = None) -> bool | None:
    """Invalidate one signature unless it already is (then None); True if that took it off the count.

    The building block of `invalidate` and of bulk invalidation (`signatures.fraud`, which records
    one audit event for the batch): a conditional UPDATE, so of concurrent calls exactly one
    moves the counters, through `counting.count` as every confirmation and withdrawal does.
    """
    row = db.session.execute(
        update(Signature)
        .where(Signature.id == signature_id, Signature.invalidated_at.is_(None))
        .values(invalidated_at=now, invalidated_reason=reason[:2000], invalidation_batch_id=batch_id)
        .returning(Signature.confirmed_at, Signature.withdrawn_at, Signature.held_at, Signature.sponsorship_id,
                   Signature.country, Signature.source)
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        return None
    counted = row.confirmed_at is not None and row.withdrawn_at is None and row.held_at is None
    if counted:
        count(campaign_id, row.sponsorship_id, -1, now, event="invalidated", country=row.country, source=row.source,
              signature_id=signature_id)
    return counted
