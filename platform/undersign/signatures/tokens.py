"""The two links in a signer's mail: confirm and withdraw.

The confirmation token is 256 random bits, stored as its SHA-256 and valid
for 30 days; a re-send mints a new one, so only the newest mail's
confirmation link works. The withdrawal token is the signature's id, a hyphen
and an HMAC-SHA256 (keyed from ``SECRET_KEY``) of its id and creation time:
it never changes and never expires, so every mail and the thank-you page can
carry the same working withdraw link, nothing about it is stored, and nobody
who submits the form again with someone's address can disable it. It is
checked by computing the HMAC again, so the signature's row needs no second
write to learn its token. Links sent before the id was part of the token
(the bare HMAC) still work: their hash is stored in
``signatures.withdraw_token_hash``.

The IP address is kept only as an HMAC-SHA256 keyed from ``SECRET_KEY`` (`ip_hash`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import exists, select

from undersign.campaigns.models import Campaign, Sponsorship
from undersign.db import db, is_row_id, utcnow
from undersign.errors import NotFound
from undersign.organizations.models import Organization
from undersign.signatures.models import Consent, Signature
from undersign.tokens import hash_token, keyed_hash, new_token, same, urlsafe

CONFIRM_LIFETIME = dt.timedelta(days=30)
INVALID_LINK = "This link is invalid or has expired. If you signed in the last 30 days, sign again to get a new one."
INVALID_WITHDRAW_LINK = "This withdrawal link is not valid. Use the link in your most recent e-mail about this petition."


def ip_hash(address: str | None) -> str | None:
    """The client address as a keyed hash: enough to spot a flood from one address, useless without the key."""
    if not address:
        return None
    return keyed_hash("signatures.ip-hash", address.encode("utf-8", "replace")).hex()


# ``<id>-<HMAC>``: an older link's bare HMAC (43 characters) can never match it.
_WITHDRAW_TOKEN = re.compile(r"([0-9]{1,10})-([A-Za-z0-9_-]{43})", re.ASCII)


def _withdraw_mac(signature_id: int, created_at: dt.datetime) -> str:
    moment = created_at.astimezone(dt.timezone.utc).strftime("%Y%m%d%H%M%S%f")
    return urlsafe(keyed_hash("signatures.withdraw-token", f"{signature_id}:{moment}".encode("ascii")))


def withdraw_token(signature: Signature) -> str:
    """The signature's withdrawal token (see the module docstring); needs its id and creation time."""
    return f"{signature.id}-{_withdraw_mac(signature.id, signature.created_at)}"


def new_confirm_token() -> tuple[str, str, dt.datetime]:
    """A fresh confirmation token: (raw for the mail, hash to store, expiry)."""
    raw, digest = new_token()
    return raw, digest, utcnow() + CONFIRM_LIFETIME


def issue_confirm_token(signature: Signature) -> str:
    """A fresh confirmation token for ``signature`` (the old one stops working); returns it raw."""
    raw, digest, expires_at = new_confirm_token()
    signature.token_hash = digest
    signature.token_expires_at = expires_at
    return raw


def signature_by_confirm_token(campaign: Campaign, raw: str) -> Signature:
    """The signature the link in a confirmation mail stands for (confirmed or not).

    :raise NotFound: unknown token, another campaign's, withdrawn, or expired while unconfirmed.
    """
    signature = db.session.scalar(
        select(Signature).where(Signature.token_hash == hash_token(raw or ""), Signature.campaign_id == campaign.id)
    )
    return _confirmable(signature)


@dataclass(frozen=True)
class Confirmation:
    """What confirming reads, in one query: the signature, the slug of the organization it is credited to
    (its log entry names it), and whether the signer consents to hearing from any sponsor now (if not, no
    organization is told of the confirmation: `undersign.webhooks` looks nothing up)."""

    signature: Signature
    sponsor: str
    consented: bool


def confirmation_by_token(campaign: Campaign, raw: str) -> Confirmation:
    """`signature_by_confirm_token` with what its confirmation needs besides (`Confirmation`), in one query.

    :raise NotFound: as `signature_by_confirm_token`.
    """
    consented = exists().where(Consent.signature_id == Signature.id, Consent.current())
    row = db.session.execute(
        select(Signature, Organization.slug, consented)
        .join(Sponsorship, Sponsorship.id == Signature.sponsorship_id)
        .join(Organization, Organization.id == Sponsorship.organization_id)
        .where(Signature.token_hash == hash_token(raw or ""), Signature.campaign_id == campaign.id)
    ).first()
    if row is None:
        raise NotFound(INVALID_LINK)
    return Confirmation(_confirmable(row[0]), row[1], bool(row[2]))


def _confirmable(signature: Signature | None) -> Signature:
    if signature is None or signature.withdrawn_at is not None:
        raise NotFound(INVALID_LINK)
    if signature.confirmed_at is None and (signature.token_expires_at is None or signature.token_expires_at < utcnow()):
        raise NotFound(INVALID_LINK)
    return signature


def signature_by_withdraw_token(campaign: Campaign, raw: str) -> Signature:
    """The signature a withdrawal link stands for: ``<id>-<hmac>`` checked against the row, or an older
    link's bare HMAC looked up by its stored hash.

    :raise NotFound: unknown token, or another campaign's.
    """
    raw = raw or ""
    current = _WITHDRAW_TOKEN.fullmatch(raw)
    if current:
        signature_id = int(current.group(1))
        signature = db.session.scalar(
            select(Signature).where(Signature.id == signature_id, Signature.campaign_id == campaign.id)
        ) if is_row_id(signature_id) else None
        if signature is None or not same(_withdraw_mac(signature.id, signature.created_at), current.group(2)):
            raise NotFound(INVALID_WITHDRAW_LINK)
        return signature
    signature = db.session.scalar(
        select(Signature).where(Signature.withdraw_token_hash == hash_token(raw), Signature.campaign_id == campaign.id)
    )
    if signature is None:
        raise NotFound(INVALID_WITHDRAW_LINK)
    return signature
