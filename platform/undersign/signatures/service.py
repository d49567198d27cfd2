"""Signing, confirmation, withdrawal and the shared count (DESIGN §5, §9).

Functions flush but never commit; the view or command that calls them commits once.

**One supporter, one signature.** The canonical e-mail key is unique per
campaign in the database (`canonical.email_key`). The signature is written
with ``INSERT ... ON CONFLICT (campaign_id, email_key) DO NOTHING RETURNING``
(PostgreSQL and SQLite): one round trip, no look-up before it and no
SAVEPOINT. Of two submits that race, the database lets exactly one insert;
the other inserts nothing (PostgreSQL makes it wait for the first to commit)
and is handled as the duplicate it is. A duplicate gets the same page as a first signature (the form never tells
who has signed) and an e-mail saying "you already signed", carrying a fresh
confirmation link while the signature is unconfirmed. At most
`MAX_MAILS` mails go out about one signature, however often it is submitted.

**Counting is inline.** Confirming is a conditional UPDATE
(``... SET confirmed_at = now WHERE id = :id AND confirmed_at IS NULL AND
withdrawn_at IS NULL``): of two concurrent confirmations only one matches a
row, and only that one adds ``+1`` to the campaign and to the attributed
sponsorship, with ``UPDATE ... SET signature_count = signature_count + 1`` in
the same transaction. Withdrawal and invalidation take ``-1`` the same way,
once. Every transaction takes its row locks in one order (signature,
campaign, sponsorship), so they cannot deadlock each other.

Why inline and not a batched job: the campaign row is a hot row, but it is
locked only from its counter UPDATE to the commit (one round trip), and
confirmations arrive at the pace people click links in their mail, not at the
pace of page views (which never write). Measured on the 2-core development
machine (PostgreSQL 15 on loopback, one Python process, 16 threads each
confirming with its own connection and commit, all on ONE campaign, 3,000
signatures): about 270 confirmations a second with the inline counters, about
360 with the two counter UPDATEs removed, and the counter exact every time.
The cost is a quarter of a confirmation; the limit is the Python process, not
the row lock, and more web processes scale it out. A petition at the peak of
national attention confirms a few dozen signatures a second. Inline keeps the
count exact at every commit and needs no worker, queue or reconciliation lag;
`recount` still exists to prove (and repair) it.

**Tokens.** The confirmation token is 256 random bits, stored as its SHA-256
and valid for 30 days; a re-send mints a new one, so only the newest mail's
confirmation link works. The withdrawal token is an HMAC-SHA256 (keyed from
``SECRET_KEY``) of the signature's id and creation time, stored hashed too:
it never changes and never expires, so every mail and the thank-you page can
carry the same working withdraw link without the raw token being stored, and
nobody who submits the form again with someone's address can disable it.

Personal data: the IP address is kept only as an HMAC-SHA256 keyed from
``SECRET_KEY``; withdrawal erases name, e-mail, key, postcode, comment and IP
hash and deletes the consents, keeping the bare row for the figures.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, field

from flask import current_app, has_request_context
from sqlalchemy import case, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from undersign.accounts.models import User
from undersign.accounts.service import absolute_url, hash_token, new_token
from undersign.campaigns.models import Campaign, SponsorRole, Sponsorship
from undersign.db import utcnow
from undersign.errors import Conflict, InvalidInput, NotFound
from undersign.extensions import db
from undersign.mail import queue_mail
from undersign.organizations.models import Organization
from undersign.signatures import rules
from undersign.signatures.canonical import current_rules
from undersign.signatures.models import Consent, Signature
from undersign.text import script_of

CONFIRM_LIFETIME = dt.timedelta(days=30)
# The CHECK constraint on signatures.confirmation_sends says the same.
MAX_MAILS = 5
INVALID_LINK = "This link is invalid or has expired. If you signed in the last 30 days, sign again to get a new one."


@dataclass(frozen=True)
class SignatureInput:
    """What a supporter typed (as strings); `sign` cleans and checks it."""

    name: str | None
    email: str | None
    country: str | None
    postcode: str | None = None
    comment: str | None = None
    show_publicly: bool = False
    consents: tuple[str, ...] = ()  # organization slugs
    source: str | None = None


@dataclass(frozen=True)
class CleanSignature:
    name: str
    email: str
    email_key: str
    country: str
    postcode: str | None
    comment: str | None
    show_publicly: bool
    consents: tuple[str, ...]
    source: str | None


def check_input(data: SignatureInput) -> CleanSignature:
    """Every input rule of `rules`, in form order; the first broken one is raised.

    :raise InvalidInput: naming the field.
    """
    name = rules.clean_name(data.name)
    email, key = rules.clean_email(data.email, current_rules())
    country = rules.clean_country(data.country)
    postcode = rules.clean_postcode(data.postcode)
    comment = rules.clean_comment(data.comment)
    consents = tuple(dict.fromkeys(s for s in (rules.clean_via(c) for c in data.consents) if s))
    return CleanSignature(name, email, key, country, postcode, comment, bool(data.show_publicly), consents,
                          rules.clean_source(data.source))


# ---------------------------------------------------------------------------------------------
# Sponsors and attribution


def consent_wording(organization: Organization) -> str:
    """The words next to a consent checkbox; stored with the consent as shown."""
    return f"Keep me updated by {organization.name}"


def consent_sponsors(campaign: Campaign) -> list[Sponsorship]:
    """The sponsors a supporter may agree to hear from: accepted and approved, lead first."""
    return [s for s in campaign.accepted_sponsorships if s.organization.is_approved]


def lead_sponsorship(campaign: Campaign) -> Sponsorship:
    """:raise Conflict: the campaign has no lead sponsorship (broken data; nothing can be attributed)."""
    for sponsorship in campaign.sponsorships:
        if sponsorship.role == SponsorRole.LEAD.value:
            return sponsorship
    raise Conflict("This petition cannot take signatures right now.")


def attributed_sponsorship(campaign: Campaign, via: str | None) -> Sponsorship:
    """The sponsor a signature is credited to: ``via`` if it is an accepted, approved sponsor, else the lead."""
    slug = rules.clean_via(via)
    if slug:
        for sponsorship in consent_sponsors(campaign):
            if sponsorship.organization.slug == slug:
                return sponsorship
    return lead_sponsorship(campaign)


# ---------------------------------------------------------------------------------------------
# Keys and tokens


def _derived_key(purpose: str) -> bytes:
    secret = current_app.config["SECRET_KEY"]
    secret = secret if isinstance(secret, bytes) else str(secret).encode("utf-8")
    return hmac.new(secret, f"undersign.signatures.{purpose}".encode(), hashlib.sha256).digest()


def ip_hash(address: str | None) -> str | None:
    """The client address as a keyed hash: enough to spot a flood from one address, useless without the key."""
    if not address:
        return None
    return hmac.new(_derived_key("ip-hash"), address.encode("utf-8", "replace"), hashlib.sha256).hexdigest()


def withdraw_token(signature: Signature) -> str:
    """The signature's withdrawal token (see the module docstring); needs a flushed row."""
    moment = signature.created_at.astimezone(dt.timezone.utc).strftime("%Y%m%d%H%M%S%f")
    message = f"{signature.id}:{moment}".encode("ascii")
    digest = hmac.new(_derived_key("withdraw-token"), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _issue_confirm_token(signature: Signature) -> str:
    """A fresh confirmation token for ``signature`` (the old one stops working); returns it raw."""
    raw, digest = new_token()
    signature.token_hash = digest
    signature.token_expires_at = utcnow() + CONFIRM_LIFETIME
    return raw


def _link(endpoint: str, **values: str) -> str:
    """An absolute link for a mail, also outside a request (the CLI, a worker, the API's jobs)."""
    if has_request_context():
        return absolute_url(endpoint, **values)
    path = current_app.url_map.bind("localhost", script_name="/").build(endpoint, values)
    return current_app.config["BASE_URL"] + path


def _links(campaign: Campaign, signature: Signature, raw: str | None) -> dict[str, str | None]:
    return {
        "confirm_url": _link("signing.confirm", slug=campaign.slug, token=raw) if raw else None,
        "withdraw_url": _link("signing.withdraw", slug=campaign.slug, token=withdraw_token(signature)),
        "petition_url": _link("public.petition", slug=campaign.slug),
    }


# ---------------------------------------------------------------------------------------------
# Signing


def sign(campaign: Campaign, sponsorship: Sponsorship, data: SignatureInput, *, ip: str | None = None) -> Signature | None:
    """Record an unconfirmed signature and mail its confirmation link.

    Returns the new signature, or None when this supporter had already signed
    (they are mailed instead; the caller must answer exactly as for a first
    signature). Nothing is written when the input is invalid.

    :raise InvalidInput: a field breaks a rule (the error names it).
    :raise Conflict: the petition does not take signatures (closed, victory, draft, taken down).
    """
    if not campaign.accepts_signatures(utcnow()):
        raise Conflict("This petition is no longer taking signatures.")
    clean = check_input(data)
    raw, digest = new_token()
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
        "source": clean.source,
        "ip_hash": ip_hash(ip),
        "confirmation_sends": 1,
        "token_hash": digest,
        "token_expires_at": utcnow() + CONFIRM_LIFETIME,
    }
    signature = None
    # Twice at most: a duplicate withdrawn between the INSERT and the look-up frees its key.
    for _attempt in range(2):
        signature = _insert_unless_signed(values)
        if signature is not None:
            break
        existing = _by_key(campaign.id, clean.email_key)
        if existing is not None:
            tell_already_signed(campaign, existing)
            return None
    if signature is None:
        raise Conflict("Please send the form again.")
    signature.withdraw_token_hash = hash_token(withdraw_token(signature))

    for sponsor in consent_sponsors(campaign):
        if sponsor.organization.slug in clean.consents:
            db.session.add(Consent(signature_id=signature.id, organization_id=sponsor.organization_id,
                                   wording=consent_wording(sponsor.organization)))
    db.session.flush()
    queue_mail(signature.email, _subject(f"Please confirm your signature: {campaign.title}"), "signatures/confirm",
               campaign=campaign, name=signature.name, **_links(campaign, signature, raw))
    return signature


def _insert_unless_signed(values: dict[str, object]) -> Signature | None:
    """INSERT the signature unless its e-mail key already signed this campaign (then None), in one statement."""
    dialect = db.session.get_bind(mapper=Signature.__mapper__).dialect.name
    if dialect == "postgresql":
        statement = postgresql_insert(Signature).on_conflict_do_nothing(index_elements=["campaign_id", "email_key"])
    elif dialect == "sqlite":
        statement = sqlite_insert(Signature).on_conflict_do_nothing(index_elements=["campaign_id", "email_key"])
    else:  # pragma: no cover - the two engines undersign runs on
        statement = insert(Signature)
    return db.session.scalars(statement.returning(Signature), [values]).first()


def _subject(text: str) -> str:
    """One line (a line break in a header would break the message), at most the outbox's 300 characters."""
    return " ".join(text.split())[:300]


def _by_key(campaign_id: int, key: str) -> Signature | None:
    return db.session.scalar(select(Signature).where(Signature.campaign_id == campaign_id, Signature.email_key == key))


def tell_already_signed(campaign: Campaign, signature: Signature) -> bool:
    """Mail "you already signed" (with a new confirmation link while unconfirmed); False when the cap is reached.

    The cap is taken with a conditional UPDATE, so concurrent duplicates cannot
    send more than `MAX_MAILS` mails in all.
    """
    taken = db.session.execute(
        update(Signature)
        .where(Signature.id == signature.id, Signature.confirmation_sends < MAX_MAILS)
        .values(confirmation_sends=Signature.confirmation_sends + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.expire(signature, ["confirmation_sends"])
    if taken != 1 or signature.email is None:
        return False
    confirmed = signature.confirmed_at is not None
    raw = None if confirmed else _issue_confirm_token(signature)
    db.session.flush()
    queue_mail(signature.email, _subject(f"You have already signed: {campaign.title}"), "signatures/already_signed",
               campaign=campaign, name=signature.name, confirmed=confirmed, **_links(campaign, signature, raw))
    return True


# ---------------------------------------------------------------------------------------------
# Confirming, withdrawing, invalidating: each changes the count at most once


def signature_by_confirm_token(campaign: Campaign, raw: str) -> Signature:
    """The signature the link in a confirmation mail stands for (confirmed or not).

    :raise NotFound: unknown token, another campaign's, withdrawn, or expired while unconfirmed.
    """
    signature = db.session.scalar(
        select(Signature).where(Signature.token_hash == hash_token(raw or ""), Signature.campaign_id == campaign.id)
    )
    if signature is None or signature.withdrawn_at is not None:
        raise NotFound(INVALID_LINK)
    if signature.confirmed_at is None and (signature.token_expires_at is None or signature.token_expires_at < utcnow()):
        raise NotFound(INVALID_LINK)
    return signature


def confirm(campaign: Campaign, raw: str) -> tuple[Signature, bool]:
    """Confirm the signature; (signature, True) if this call confirmed it, (signature, False) if it already was.

    Safe to call twice or concurrently: exactly one call counts it.

    :raise NotFound: see `signature_by_confirm_token`.
    :raise Conflict: the petition closed before the signature was confirmed.
    """
    signature = signature_by_confirm_token(campaign, raw)
    if signature.confirmed_at is not None:
        return signature, False
    now = utcnow()
    if not campaign.accepts_signatures(now):
        raise Conflict("This petition closed before your signature was confirmed, so it could not be counted.")
    row = db.session.execute(
        update(Signature)
        .where(Signature.id == signature.id, Signature.confirmed_at.is_(None), Signature.withdrawn_at.is_(None))
        .values(confirmed_at=now)
        .returning(Signature.invalidated_at, Signature.sponsorship_id)
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        # Someone else confirmed or withdrew it meanwhile: read what stands now.
        db.session.refresh(signature)
        if signature.withdrawn_at is not None:
            raise NotFound(INVALID_LINK)
        return signature, False
    if row.invalidated_at is None:
        _count(campaign.id, row.sponsorship_id, +1, now)
    # The UPDATE matched, so the row is what it was plus this confirmation: no need to read it again.
    set_committed_value(signature, "confirmed_at", now)
    return signature, True


def signature_by_withdraw_token(campaign: Campaign, raw: str) -> Signature:
    """:raise NotFound: unknown token, or another campaign's."""
    signature = db.session.scalar(
        select(Signature).where(Signature.withdraw_token_hash == hash_token(raw or ""), Signature.campaign_id == campaign.id)
    )
    if signature is None:
        raise NotFound("This withdrawal link is not valid. Use the link in your most recent e-mail about this petition.")
    return signature


def withdraw(campaign: Campaign, raw: str) -> bool:
    """Withdraw the signature and erase its personal data; True if this call withdrew it, False if it already was.

    The count goes down once, and only if the signature was counted.

    :raise NotFound: see `signature_by_withdraw_token`.
    """
    signature = signature_by_withdraw_token(campaign, raw)
    if signature.withdrawn_at is not None:
        return False
    now = utcnow()
    row = db.session.execute(
        update(Signature)
        .where(Signature.id == signature.id, Signature.withdrawn_at.is_(None))
        .values(withdrawn_at=now, name=None, email=None, email_key=None, postcode=None, comment=None,
                ip_hash=None, token_hash=None, token_expires_at=None, show_publicly=False)
        .returning(Signature.confirmed_at, Signature.invalidated_at, Signature.sponsorship_id)
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        db.session.refresh(signature)
        return False
    db.session.execute(delete(Consent).where(Consent.signature_id == signature.id).execution_options(synchronize_session=False))
    if row.confirmed_at is not None and row.invalidated_at is None:
        _count(campaign.id, row.sponsorship_id, -1, now)
    db.session.refresh(signature)
    return True


def invalidate(signature: Signature, reason: str, *, actor: User | None) -> bool:
    """Mark a signature as fraudulent (moderation); True if this call did it. Takes it off the count once.

    :raise InvalidInput: no reason given.
    """
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the signature is invalid.", field="reason")
    now = utcnow()
    row = db.session.execute(
        update(Signature)
        .where(Signature.id == signature.id, Signature.invalidated_at.is_(None))
        .values(invalidated_at=now, invalidated_reason=reason[:2000])
        .returning(Signature.confirmed_at, Signature.withdrawn_at, Signature.sponsorship_id)
        .execution_options(synchronize_session=False)
    ).first()
    db.session.refresh(signature)
    if row is None:
        return False
    if row.confirmed_at is not None and row.withdrawn_at is None:
        _count(signature.campaign_id, row.sponsorship_id, -1, now)
    from undersign.moderation.service import record

    record(actor, "signature.invalidated", signature, details={"campaign_id": signature.campaign_id, "reason": reason[:500]})
    return True


def _count(campaign_id: int, sponsorship_id: int, delta: int, now: dt.datetime) -> None:
    """Move the campaign's and the sponsorship's cached counters by ``delta`` in SQL (never read-modify-write).

    A decrement never goes below zero even if a counter had drifted (the CHECK
    would otherwise turn a withdrawal into an error); `recount` repairs drift.
    """
    def moved(column):  # type: ignore[no-untyped-def]
        if delta >= 0:
            return column + delta
        return case((column + delta >= 0, column + delta), else_=0)

    db.session.execute(
        update(Campaign).where(Campaign.id == campaign_id)
        .values(signature_count=moved(Campaign.signature_count), changed_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Sponsorship).where(Sponsorship.id == sponsorship_id)
        .values(signature_count=moved(Sponsorship.signature_count))
        .execution_options(synchronize_session=False)
    )
    _forget_counters(campaign_id, sponsorship_id)


def _forget_counters(campaign_id: int, sponsorship_id: int | None = None) -> None:
    """Expire cached counter attributes of objects already loaded in this session, so they are read again."""
    campaign = db.session.identity_map.get(identity_key(Campaign, campaign_id))
    if campaign is not None:
        db.session.expire(campaign, ["signature_count", "changed_at"])
    for sponsorship in [obj for obj in db.session.identity_map.values() if isinstance(obj, Sponsorship)]:
        if sponsorship.id == sponsorship_id or sponsorship_id is None:
            db.session.expire(sponsorship, ["signature_count"])


# ---------------------------------------------------------------------------------------------
# Recount


@dataclass(frozen=True)
class Tally:
    """A counter as stored and as the rows say."""

    label: str
    stored: int
    actual: int

    @property
    def drift(self) -> int:
        return self.stored - self.actual


@dataclass(frozen=True)
class Recount:
    campaign: Tally
    sponsors: list[Tally] = field(default_factory=list)

    @property
    def drifted(self) -> bool:
        return self.campaign.drift != 0 or any(t.drift for t in self.sponsors)


def recount(campaign: Campaign) -> Recount:
    """Recompute the campaign's and its sponsorships' counters from the rows and store them.

    The campaign row is locked first (``FOR UPDATE`` on PostgreSQL), the lock
    every confirmation takes before touching the counters, so a confirmation
    running meanwhile is either already in the rows counted or adds its ``+1``
    after this commits. Commit soon after: the lock holds confirmations back.
    """
    locked = db.session.execute(
        select(Campaign.signature_count).where(Campaign.id == campaign.id).with_for_update()
    ).scalar_one()
    actual = db.session.scalar(
        select(func.count()).select_from(Signature).where(Signature.campaign_id == campaign.id, Signature.counted())
    ) or 0
    per_sponsor = dict(
        db.session.execute(
            select(Signature.sponsorship_id, func.count())
            .where(Signature.campaign_id == campaign.id, Signature.counted())
            .group_by(Signature.sponsorship_id)
        ).all()
    )
    sponsorships = db.session.execute(
        select(Sponsorship.id, Sponsorship.signature_count, Organization.slug)
        .join(Organization, Organization.id == Sponsorship.organization_id)
        .where(Sponsorship.campaign_id == campaign.id)
        .order_by(Sponsorship.id)
    ).all()
    tallies = []
    for sponsorship_id, stored, slug in sponsorships:
        right = per_sponsor.get(sponsorship_id, 0)
        tallies.append(Tally(slug, stored, right))
        if stored != right:
            db.session.execute(update(Sponsorship).where(Sponsorship.id == sponsorship_id).values(signature_count=right))
    if locked != actual:
        db.session.execute(
            update(Campaign).where(Campaign.id == campaign.id).values(signature_count=actual, changed_at=utcnow())
        )
    _forget_counters(campaign.id)
    db.session.flush()
    return Recount(Tally(campaign.slug, locked, actual), tallies)


# ---------------------------------------------------------------------------------------------
# Public figures


@dataclass(frozen=True)
class PublicSigner:
    """A signer who chose to be shown: first name and initial, country, comment, when."""

    display_name: str
    country: str
    country_name: str
    comment: str | None
    confirmed_at: dt.datetime

    def ago(self, now: dt.datetime | None = None) -> str:
        return time_ago(self.confirmed_at, now or utcnow())


# Shown for a public signer whose name has no word with a letter in it (only emoji or signs).
ANONYMOUS_SIGNER = "A supporter"
# Scripts in which a name starts with the family name and is mostly written without spaces.
_FAMILY_NAME_FIRST = frozenset({"HANGUL", "HAN", "HIRAGANA", "KATAKANA"})
# Stands for the given name after the family-name syllable, as Korean sites write it ("김〇〇").
_GIVEN_NAME_MARK = "\u3007\u3007"


def _first_letter(word: str) -> str:
    """The first letter of ``word`` with the combining marks that follow it; empty if it has no letter."""
    for start, ch in enumerate(word):
        if unicodedata.category(ch).startswith("L"):
            end = start + 1
            while end < len(word) and unicodedata.category(word[end]).startswith("M"):
                end += 1
            return word[start:end]
    return ""


def display_name(name: str) -> str:
    """The public form of a signer's name: the sign form promises "first name and initial".

    - Words without a letter (emoji, symbols, digits) are left out: "🙂 Sunny 🌻" -> "Sunny".
    - Hangul, Chinese and Japanese names start with the family name and usually have no spaces:
      the first character stands for the family name and a mark for the rest, "김철수" -> "김〇〇"
      (so does "김 철수"), never the given name.
    - Otherwise the first word and the initial of the last: "Ann Lee Park" -> "Ann P."; a name of
      one word is a first name alone and is shown as it is ("Bo").
    - Nothing readable is left: "A supporter".
    """
    words = [word for word in name.split() if _first_letter(word)]
    if not words:
        return ANONYMOUS_SIGNER
    initial = _first_letter(words[0])
    if script_of(initial[0]) in _FAMILY_NAME_FIRST:
        return initial + _GIVEN_NAME_MARK
    if len(words) == 1:
        return words[0]
    last = _first_letter(words[-1])
    return f"{words[0]} {last.upper() if len(last.upper()) == len(last) else last}."


def time_ago(then: dt.datetime, now: dt.datetime) -> str:
    seconds = max(0, int((now - then).total_seconds()))
    for size, unit in ((86400 * 365, "year"), (86400 * 30, "month"), (86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'' if n == 1 else 's'} ago"
    return "just now"


_recent_cache: OrderedDict[tuple[int, int, dt.datetime | None, int], list[PublicSigner]] = OrderedDict()
_recent_lock = threading.Lock()
_RECENT_CACHE_SIZE = 256


def recent_public_signers(campaign: Campaign, limit: int = 10) -> list[PublicSigner]:
    """The last ``limit`` confirmed signers who chose to be shown, newest first.

    One walk down a partial index (``ix_signatures_public_recent``), never a
    count; and the result is kept per process until the campaign's counter
    or ``changed_at`` moves, which every confirmation, withdrawal and
    invalidation does, so a page refreshed by thousands reads it once.
    """
    if campaign.id is None:
        return []
    key = (campaign.id, campaign.signature_count, campaign.changed_at, limit)
    with _recent_lock:
        if key in _recent_cache:
            _recent_cache.move_to_end(key)
            return _recent_cache[key]
    rows = db.session.execute(
        select(Signature.name, Signature.country, Signature.comment, Signature.confirmed_at)
        .where(Signature.campaign_id == campaign.id, Signature.show_publicly == True, Signature.counted())  # noqa: E712
        .order_by(Signature.confirmed_at.desc(), Signature.id.desc())
        .limit(limit)
    ).all()
    names = rules.country_names()
    signers = [
        PublicSigner(display_name(name or ""), country, names.get(country, country), comment, confirmed_at)
        for name, country, comment, confirmed_at in rows
        if name
    ]
    with _recent_lock:
        _recent_cache[key] = signers
        while len(_recent_cache) > _RECENT_CACHE_SIZE:
            _recent_cache.popitem(last=False)
    return signers


def public_figures(campaign: Campaign, now: dt.datetime | None = None) -> dict[str, object]:
    """The body of ``/p/<slug>.json``: cached counters only.

    ``sponsors`` lists the sponsors the page shows; the signatures credited to
    organizations no longer shown (a co-sponsor that left or was removed, or
    whose organization is suspended) stay counted and appear as one unnamed
    ``former_sponsors`` part, so ``sponsors`` plus ``former_sponsors`` always
    add up to ``signature_count``.
    """
    now = now or utcnow()
    current = consent_sponsors(campaign)
    shown = {s.id for s in current}
    return {
        "slug": campaign.slug,
        "title": campaign.title,
        "status": campaign.public_status(now),
        "signature_count": campaign.signature_count,
        "goal": campaign.goal,
        "sponsors": [
            {"slug": s.organization.slug, "name": s.organization.name, "signature_count": s.signature_count}
            for s in current
        ],
        "former_sponsors": {
            "signature_count": sum(s.signature_count for s in campaign.sponsorships if s.id not in shown),
        },
        "updated_at": campaign.changed_at.isoformat(),
    }

