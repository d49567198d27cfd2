"""Signatures a sponsor collected elsewhere (on paper at a screening, at a street stall, in its own tool)
and records through the API, up to a batch of 500 at a time (issue 12).

The same rules (`rules.check_input`), canonical e-mail key and
``INSERT ... ON CONFLICT (campaign_id, email_key) DO NOTHING`` as the sign
form (`service.insert_unless_signed`), for the whole batch in one statement;
an address that already signed, or that comes twice in the batch, is a
duplicate, reported and not written. A row that breaks a rule is reported
with its field and writes nothing; the rest of the batch is recorded.

A signature counts only once its address is confirmed. The sponsor may say
it confirmed the address itself (``email_verified``): the signature is then
confirmed at once, counted by the same code as a confirmation (`counting`,
`tallies`: each counter moved once for the batch) and published as
``signature.confirmed`` so that webhooks fire. Otherwise the signer gets the
form's confirmation mail through the outbox, and the signature counts when
they confirm. Either way it is credited to the sponsor that recorded it, and
when the signer agreed on paper to hear from that sponsor, the consent is
stored with the words the sponsor showed.

A duplicate is not merged into the signature that exists (no consent is added
to it, no mail is sent): the signer chose what they chose when they signed.

Flushes, never commits.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from sqlalchemy import insert

from undersign.audit import record
from undersign.campaigns.models import Campaign, Sponsorship
from undersign.db import db, utcnow
from undersign.errors import Conflict, InvalidInput
from undersign.events import publish
from undersign.mail import queue_composed
from undersign.signatures import rules, screening, tallies
from undersign.signatures.counting import count_confirmed
from undersign.signatures.models import Consent, Signature
from undersign.signatures.rules import CleanSignature, SignatureInput
from undersign.signatures.service import insert_unless_signed
from undersign.signatures.signer_mail import CONFIRM_MAIL
from undersign.signatures.tokens import new_confirm_token

MAX_BATCH = 500


@dataclass(frozen=True)
class CollectedSignature:
    """One signature collected elsewhere, as the sponsor sends it.

    ``data.source`` is `rules.OFFLINE` (the default) or `rules.API`;
    ``consent_wording`` is the words next to the sponsor's consent box that the
    signer agreed to (None: no consent; an empty string is refused).
    """

    data: SignatureInput
    email_verified: bool = False
    consent_wording: str | None = None


Status = Literal["created", "duplicate", "invalid"]


@dataclass(frozen=True)
class ItemResult:
    """What became of the item at ``index``: created (``signature_id``, ``confirmed``), a duplicate, or
    invalid (``field`` names the rule's field: name, email, country, postcode, comment, consent_wording, source)."""

    index: int
    status: Status
    signature_id: int | None = None
    confirmed: bool = False
    field: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class _Accepted:
    index: int
    clean: CleanSignature
    verified: bool
    wording: str | None


def record_collected(campaign: Campaign, sponsorship: Sponsorship, items: Sequence[CollectedSignature], *,
                     via: str | None = None, ip: str | None = None) -> list[ItemResult]:
    """Record ``items`` for ``sponsorship``'s organization; one result per item, in order.

    ``via`` and ``ip`` go into the audit event of the batch (which credential, from where).

    :raise Conflict: the petition takes no signatures (closed, won, draft, taken down, its lead suspended), or the sponsor may
        not collect for it (not an accepted sponsor of an approved organization).
    :raise InvalidInput: more than `MAX_BATCH` items.
    """
    now = utcnow()
    if not campaign.accepts_signatures(now):
        raise Conflict("This petition is no longer taking signatures.")
    if sponsorship not in rules.consent_sponsors(campaign):
        raise Conflict("Your organization cannot record signatures for this petition now.")
    if len(items) > MAX_BATCH:
        raise InvalidInput(f"Send at most {MAX_BATCH} signatures at a time.", field="signatures")

    results: dict[int, ItemResult] = {}
    first_of_key: dict[str, int] = {}
    accepted: list[_Accepted] = []
    for index, item in enumerate(items):
        try:
            clean = rules.check_input(replace(item.data, source=rules.collected_source(item.data.source)))
            wording = None if item.consent_wording is None else rules.clean_consent_wording(item.consent_wording)
        except InvalidInput as exc:
            results[index] = ItemResult(index, "invalid", field=exc.field, message=exc.message)
            continue
        if clean.email_key in first_of_key:
            results[index] = ItemResult(index, "duplicate", message=(
                f"The same e-mail address as item {first_of_key[clean.email_key]} of this batch."))
            continue
        first_of_key[clean.email_key] = index
        accepted.append(_Accepted(index, clean, item.email_verified, wording))

    created = _insert(campaign, sponsorship, accepted, now)
    for entry in accepted:
        signature = created.get(entry.clean.email_key)
        results[entry.index] = (
            ItemResult(entry.index, "created", signature_id=signature.id, confirmed=entry.verified)
            if signature is not None else
            ItemResult(entry.index, "duplicate", message="This e-mail address has already signed this petition."))

    if created:
        _follow_up(campaign, sponsorship, [e for e in accepted if e.clean.email_key in created], created, now)
    record(None, "signatures.recorded", campaign, ip=ip, organization_id=sponsorship.organization_id, details={
        "created": len(created), "confirmed": sum(1 for e in accepted if e.verified and e.clean.email_key in created),
        "duplicates": sum(1 for r in results.values() if r.status == "duplicate"),
        "invalid": sum(1 for r in results.values() if r.status == "invalid"), **({"by": via} if via else {}),
    })
    return [results[index] for index in range(len(items))]


def _insert(campaign: Campaign, sponsorship: Sponsorship, accepted: list[_Accepted],
            now: dt.datetime) -> dict[str, Signature]:
    """INSERT the accepted rows in one statement; the signatures written, by e-mail key (the others had signed)."""
    if not accepted:
        return {}
    rows = []
    for entry in accepted:
        clean = entry.clean
        rows.append({
            "campaign_id": campaign.id, "sponsorship_id": sponsorship.id, "name": clean.name, "email": clean.email,
            "email_key": clean.email_key, "email_domain": screening.email_domain(clean.email),
            "country": clean.country, "postcode": clean.postcode,
            "comment": clean.comment, "show_publicly": False, "source": clean.source, "ip_hash": None,
            "created_at": now,
            # Verified by the sponsor: confirmed now, no link to send. Otherwise the form's first mail.
            "confirmed_at": now if entry.verified else None,
            "confirmation_sends": 0 if entry.verified else 1,
            "token_hash": None, "token_expires_at": None,
        })
    written = db.session.scalars(insert_unless_signed().returning(Signature), rows).all()
    return {signature.email_key: signature for signature in written if signature.email_key is not None}


def _follow_up(campaign: Campaign, sponsorship: Sponsorship, entries: list[_Accepted],
               created: dict[str, Signature], now: dt.datetime) -> None:
    """For the rows written: confirmation links, consents, mails, counters and tallies, events. (The
    withdrawal link needs nothing stored: its token carries the id, `signatures.tokens`.)"""
    mails: list[tuple[Signature, str]] = []
    for entry in entries:
        signature = created[entry.clean.email_key]
        if not entry.verified:
            raw, digest, expires_at = new_confirm_token()
            signature.token_hash, signature.token_expires_at = digest, expires_at
            mails.append((signature, raw))
    consents = [{"signature_id": created[e.clean.email_key].id, "organization_id": sponsorship.organization_id,
                 "wording": e.wording, "created_at": now} for e in entries if e.wording is not None]
    if consents:
        db.session.execute(insert(Consent), consents)
    # Composed by the job worker like the sign form's (`signatures.signer_mail`), in the signer's language.
    for signature, raw in mails:
        assert signature.email is not None
        queue_composed(signature.email, CONFIRM_MAIL, signature_id=signature.id, token=raw)
    db.session.flush()

    confirmed = [created[e.clean.email_key] for e in entries if e.verified]
    # Lock order as a confirmation's: signatures, then campaign, sponsorship, tallies.
    count_confirmed(campaign.id, sponsorship.id, now,
                    Counter((s.country, tallies.channel(s.source)) for s in confirmed), [s.id for s in confirmed])
    tallies.submitted(campaign.id, sponsorship.id, now, n=len(entries))
    for signature in confirmed:
        publish("signature.confirmed", signature_id=signature.id)
