"""Co-sponsors as witnesses: a sponsor organization countersigns its petitions' heads with its own Ed25519 key,
and never a head that is not consistent with the last one it countersigned.

The key is either the organization's own (its public key registered; its systems cosign through the API) or
one the platform generates and keeps for it, sealed with AES-GCM under a key derived from SECRET_KEY (the
console button). A cosignature signs exactly the bytes the platform signed: the RFC 8785 canonical JSON of the
head without ``signature`` and without witnesses. Functions flush but never commit.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask_babel import gettext as _
from sqlalchemy import select

from undersign.campaigns.models import Campaign
from undersign.db import db, utcnow
from undersign.errors import Conflict, InvalidInput
from undersign.organizations.models import Organization
from undersign.tokens import derived_key
from undersign.transparency import heads, merkle, service
from undersign.transparency.models import Cosignature, TreeHead, Witness

SEAL_PURPOSE = "transparency.witness-key"


def _raw_public(key: Ed25519PublicKey) -> str:
    return base64.b64encode(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)).decode()


def _seal(private: Ed25519PrivateKey, organization_id: int) -> str:
    raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
    nonce = os.urandom(12)
    sealed = AESGCM(derived_key(SEAL_PURPOSE)).encrypt(nonce, raw, str(organization_id).encode())
    return base64.b64encode(nonce + sealed).decode()


def _unseal(witness: Witness) -> Ed25519PrivateKey:
    data = base64.b64decode(witness.sealed_private_key or "")
    raw = AESGCM(derived_key(SEAL_PURPOSE)).decrypt(data[:12], data[12:], str(witness.organization_id).encode())
    return Ed25519PrivateKey.from_private_bytes(raw)


def witness_of(organization: Organization) -> Witness | None:
    return db.session.scalar(select(Witness).where(Witness.organization_id == organization.id))


def enable_held_key(organization: Organization) -> Witness:
    """Witnessing with a key the platform generates and keeps for the organization (idempotent).

    :raise Conflict: the organization registered its own public key.
    """
    existing = witness_of(organization)
    if existing is not None:
        if existing.sealed_private_key is None:
            raise Conflict(_("Your organization witnesses with its own key; cosign through the API."))
        return existing
    private = Ed25519PrivateKey.generate()
    witness = Witness(organization_id=organization.id, public_key=_raw_public(private.public_key()),
                      sealed_private_key=_seal(private, organization.id), enabled_at=utcnow())
    db.session.add(witness)
    db.session.flush()
    return witness


def register_public_key(organization: Organization, public_key: str) -> Witness:
    """Witnessing with the organization's own key: only its public half is kept.

    :raise InvalidInput: not base64 of 32 bytes. :raise Conflict: the organization already witnesses with
        another key (keys are not rotated: earlier cosignatures must keep verifying with the published one).
    """
    try:
        raw = base64.b64decode(public_key, validate=True)
        Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError):
        raise InvalidInput("public_key must be base64 of a 32-byte Ed25519 public key.", field="public_key")
    encoded = base64.b64encode(raw).decode()
    existing = witness_of(organization)
    if existing is not None:
        if existing.public_key == encoded:
            return existing
        raise Conflict("Your organization already witnesses with another key.")
    witness = Witness(organization_id=organization.id, public_key=encoded, enabled_at=utcnow())
    db.session.add(witness)
    db.session.flush()
    return witness


def last_cosigned(organization_id: int, campaign_id: int) -> Cosignature | None:
    return db.session.scalar(select(Cosignature).where(Cosignature.organization_id == organization_id,
                                                       Cosignature.campaign_id == campaign_id)
                             .order_by(Cosignature.tree_size.desc()).limit(1))


def cosign(organization: Organization, campaign: Campaign, tree_size: int, root_hash: str,
           signature: str) -> Cosignature:
    """Accept the organization's cosignature of the head ``tree_size``/``root_hash`` (the same again: the
    one already kept).

    :raise Conflict: witnessing is not enabled; the platform signed no such head; the head is older than the
        last one the organization cosigned, or not consistent with it (the log was rewritten).
    :raise InvalidInput: the signature does not verify with the organization's key.
    """
    witness = witness_of(organization)
    if witness is None:
        raise Conflict("Witnessing is not enabled for your organization.")
    head = heads.head_of_size(campaign.id, tree_size)
    if head is None or head.root_hash != root_hash.lower():
        raise Conflict("The platform signed no head of this size and root.")
    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(witness.public_key)).verify(
            base64.b64decode(signature, validate=True), heads.signed_bytes(head, campaign.slug))
    except (InvalidSignature, binascii.Error, ValueError):
        raise InvalidInput("The signature does not verify with your organization's witness key.",
                           field="signature")
    already = db.session.scalar(select(Cosignature).where(Cosignature.head_id == head.id,
                                                          Cosignature.organization_id == organization.id))
    if already is not None:
        return already
    refusal = consistency_refusal(organization.id, campaign.id, head)
    if refusal is not None:
        raise Conflict(refusal)
    cosignature = Cosignature(head_id=head.id, campaign_id=campaign.id, organization_id=organization.id,
                              tree_size=head.tree_size, root_hash=head.root_hash, signature=signature,
                              created_at=utcnow())
    db.session.add(cosignature)
    db.session.flush()
    _forget_witnessed(campaign.id)
    return cosignature


def consistency_refusal(organization_id: int, campaign_id: int, head: TreeHead) -> str | None:
    """Why ``head`` may not be cosigned after the organization's last cosignature (None: it may)."""
    previous = last_cosigned(organization_id, campaign_id)
    if previous is None:
        return None
    if head.tree_size < previous.tree_size:
        return (f"This head (size {head.tree_size}) is older than the last one your organization cosigned "
                f"(size {previous.tree_size}).")
    leaves = service.leaf_hashes(campaign_id, head.tree_size)
    if head.tree_size == previous.tree_size:
        consistent = previous.root_hash == head.root_hash
    else:
        proof = merkle.consistency_proof(previous.tree_size, leaves)
        consistent = merkle.verify_consistency(previous.tree_size, head.tree_size,
                                               bytes.fromhex(previous.root_hash), bytes.fromhex(head.root_hash),
                                               proof)
    if not consistent or merkle.root(leaves).hex() != head.root_hash:
        return (f"This head is not consistent with the head of size {previous.tree_size} your organization "
                "cosigned: the log was rewritten, and it will not be witnessed.")
    return None


def cosign_with_held_key(organization: Organization, campaign: Campaign) -> Cosignature:
    """Cosign the campaign's current head with the key the platform keeps for the organization.

    :raise Conflict: witnessing is not enabled with a held key, or the head is not consistent (see `cosign`).
    """
    witness = witness_of(organization)
    if witness is None or witness.sealed_private_key is None:
        raise Conflict(_("Enable witnessing first."))
    head = heads.current_head(campaign)
    signature = base64.b64encode(_unseal(witness).sign(heads.signed_bytes(head, campaign.slug))).decode()
    return cosign(organization, campaign, head.tree_size, head.root_hash, signature)


@dataclass(frozen=True)
class Witnessed:
    """The public page's line: who countersigned the latest witnessed head, and when it was signed."""

    sponsors: list[str]
    signed_at: dt.datetime


# The petition page shows the witnesses on every view: a process keeps the answer until the count moves, a
# cosignature arrives in this process, or this many seconds pass (a cosignature made in another process).
WITNESSED_SECONDS = 10.0
WITNESSED_ENTRIES = 256
_witnessed: OrderedDict[tuple[int, dt.datetime | None], tuple[float, Witnessed | None]] = OrderedDict()
_witnessed_lock = threading.Lock()


def witnessed(campaign_id: int, changed_at: dt.datetime | None = None) -> Witnessed | None:
    """Who cosigned the campaign's largest cosigned head, in one query (the petition page reads it), kept per
    process (`WITNESSED_SECONDS`) for the campaign's ``changed_at`` when the caller gives it."""
    key = (campaign_id, changed_at)
    if changed_at is not None:
        with _witnessed_lock:
            kept = _witnessed.get(key)
        if kept is not None and time.monotonic() - kept[0] < WITNESSED_SECONDS:
            return kept[1]
    found = _read_witnessed(campaign_id)
    if changed_at is not None:
        with _witnessed_lock:
            _witnessed[key] = (time.monotonic(), found)
            while len(_witnessed) > WITNESSED_ENTRIES:
                _witnessed.popitem(last=False)
    return found


def _forget_witnessed(campaign_id: int) -> None:
    with _witnessed_lock:
        for key in [k for k in _witnessed if k[0] == campaign_id]:
            del _witnessed[key]


def _read_witnessed(campaign_id: int) -> Witnessed | None:
    latest = (select(Cosignature.head_id).where(Cosignature.campaign_id == campaign_id)
              .order_by(Cosignature.tree_size.desc()).limit(1).scalar_subquery())
    rows = db.session.execute(
        select(Organization.name, Cosignature.created_at).join(Organization, Organization.id == Cosignature.organization_id)
        .where(Cosignature.head_id == latest).order_by(Cosignature.created_at)
    ).all()
    if not rows:
        return None
    return Witnessed([row.name for row in rows], max(row.created_at for row in rows))


def published_keys() -> list[dict[str, str]]:
    """Every witness's public key, by sponsor slug, for ``/.well-known/undersign-log-key``."""
    rows = db.session.execute(select(Organization.slug, Witness.public_key)
                              .join(Organization, Organization.id == Witness.organization_id)
                              .order_by(Organization.slug)).all()
    return [{"sponsor": row.slug, "public_key": row.public_key} for row in rows]
