"""Signed tree heads: Ed25519 over the RFC 8785 bytes of ``{campaign, tree_size, root_hash, timestamp}``.

The key comes from ``LOG_SIGNING_KEY`` (base64 of the 32 raw private bytes); without it one is generated once
into the instance folder (``log-signing-key``), for the embedded default.
"""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from undersign.campaigns.models import Campaign
from undersign.db import db, utcnow
from undersign.transparency import merkle, service
from undersign.transparency.canonical import canonical_json
from undersign.organizations.models import Organization
from undersign.transparency.models import Cosignature, LogEntry, TreeHead

HEAD_INTERVAL_SECONDS = 60
_keys: dict[str, Ed25519PrivateKey] = {}


def signing_key() -> Ed25519PrivateKey:
    configured = current_app.config.get("LOG_SIGNING_KEY")
    if configured:
        cache_key = "config:" + configured
        if cache_key not in _keys:
            _keys[cache_key] = Ed25519PrivateKey.from_private_bytes(base64.b64decode(configured))
        return _keys[cache_key]
    path = Path(current_app.instance_path) / "log-signing-key"
    cache_key = "file:" + str(path)
    if cache_key not in _keys:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            raw = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
            path.write_bytes(base64.b64encode(raw))
            path.chmod(0o600)
        _keys[cache_key] = Ed25519PrivateKey.from_private_bytes(base64.b64decode(path.read_bytes()))
    return _keys[cache_key]


def public_key_document() -> dict[str, str]:
    raw = signing_key().public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"algorithm": "ed25519", "public_key": base64.b64encode(raw).decode()}


def _signed_part(slug: str, tree_size: int, root_hash: str, timestamp: int) -> dict[str, Any]:
    return {"campaign": slug, "tree_size": tree_size, "root_hash": root_hash, "timestamp": timestamp}


def signed_bytes(head: TreeHead, slug: str) -> bytes:
    """What the platform and every witness sign: the head's canonical JSON without signatures."""
    return canonical_json(_signed_part(slug, head.tree_size, head.root_hash, head.timestamp))


def head_document(head: TreeHead, slug: str) -> dict[str, Any]:
    """The head as served, with each witness's cosignature (``{sponsor, signature}``, oldest first)."""
    witnesses = [{"sponsor": row.slug, "signature": row.signature} for row in db.session.execute(
        select(Organization.slug, Cosignature.signature)
        .join(Organization, Organization.id == Cosignature.organization_id)
        .where(Cosignature.head_id == head.id).order_by(Cosignature.id)
    )]
    return {**_signed_part(slug, head.tree_size, head.root_hash, head.timestamp), "signature": head.signature,
            "witnesses": witnesses}


def issue(campaign: Campaign, now: dt.datetime | None = None) -> TreeHead:
    """Sign a head over the whole log as it stands (or return the head of that size if one was signed)."""
    now = now or utcnow()
    size = service.size(campaign.id)
    existing = db.session.scalar(select(TreeHead).where(TreeHead.campaign_id == campaign.id,
                                                        TreeHead.tree_size == size))
    if existing is not None:
        return existing
    frontier = _frontier(campaign.id, size)
    root_hash = merkle.frontier_root(frontier).hex()
    timestamp = int(now.replace(tzinfo=dt.timezone.utc).timestamp())
    signature = signing_key().sign(canonical_json(_signed_part(campaign.slug, size, root_hash, timestamp)))
    head = TreeHead(campaign_id=campaign.id, tree_size=size, root_hash=root_hash, timestamp=timestamp,
                    signature=base64.b64encode(signature).decode(), frontier=",".join(h.hex() for h in frontier),
                    created_at=now)
    try:
        # Two readers may sign the same size at once (PostgreSQL runs them side by side): the second keeps the first's.
        with db.session.begin_nested():
            db.session.add(head)
    except IntegrityError:
        signed = head_of_size(campaign.id, size)
        if signed is None:
            raise
        return signed
    return head


def _frontier(campaign_id: int, size: int) -> list[bytes]:
    """The compact range of the first ``size`` leaves: the latest smaller head's, extended with the leaves
    after it (O(new entries) reads and hashes); from the first leaf when no head kept one."""
    previous = db.session.scalar(select(TreeHead).where(TreeHead.campaign_id == campaign_id,
                                                        TreeHead.tree_size < size, TreeHead.frontier.is_not(None))
                                 .order_by(TreeHead.tree_size.desc()).limit(1))
    start, frontier = 0, []
    if previous is not None:
        start = previous.tree_size
        frontier = [bytes.fromhex(h) for h in previous.frontier.split(",") if h] if previous.frontier else []
    return merkle.extend_frontier(frontier, start, service.leaf_hashes(campaign_id, size, start))


def _latest(campaign_id: int) -> TreeHead | None:
    return db.session.scalar(select(TreeHead).where(TreeHead.campaign_id == campaign_id)
                             .order_by(TreeHead.tree_size.desc()).limit(1))


def head_due(campaign: Campaign) -> bool:
    """Whether `current_head` would sign a new head: none yet, or the log grew and the latest is old enough."""
    head = _latest(campaign.id)
    if head is None:
        return True
    age = utcnow().replace(tzinfo=dt.timezone.utc).timestamp() - head.timestamp
    return bool(age >= current_app.config.get("LOG_HEAD_SECONDS", HEAD_INTERVAL_SECONDS)
                and service.size(campaign.id) > head.tree_size)


def current_head(campaign: Campaign) -> TreeHead:
    """The latest head, issuing a new one when the log grew and the latest is over a minute old (or absent)."""
    if head_due(campaign):
        return issue(campaign)
    head = _latest(campaign.id)
    assert head is not None
    return head


def latest_head(campaign_id: int) -> dict[str, Any] | None:
    """The head document served at ``/p/<slug>/log/head``, or None before the first head is signed."""
    head = _latest(campaign_id)
    if head is None:
        return None
    slug = db.session.scalar(select(Campaign.slug).where(Campaign.id == campaign_id))
    return head_document(head, slug or "")


def head_of_size(campaign_id: int, tree_size: int) -> TreeHead | None:
    return db.session.scalar(select(TreeHead).where(TreeHead.campaign_id == campaign_id,
                                                    TreeHead.tree_size == tree_size))


def check_log(campaign: Campaign) -> list[str]:
    """What is wrong with the campaign's log, from the server's side: indexes with gaps, stored heads whose
    root or signature the entries no longer give, a size that is not the campaign's ``log_size`` (where the
    next index comes from), a net total that is not the counter. Empty: all holds."""
    problems: list[str] = []
    entries = service.entries(campaign.id)
    for position, entry in enumerate(entries):
        if entry.index != position:
            problems.append(f"entry {position} is missing (the next one is {entry.index})")
            break
    leaves = [service.entry_leaf_hash(e) for e in entries]
    for entry, leaf in zip(entries, leaves):
        if entry.leaf_hash != leaf.hex():
            problems.append(f"entry {entry.index}'s stored leaf hash is not the hash of the entry")
            break
    public = signing_key().public_key()
    for head in db.session.scalars(select(TreeHead).where(TreeHead.campaign_id == campaign.id)
                                   .order_by(TreeHead.tree_size)):
        if head.tree_size > len(leaves) or merkle.root(leaves[:head.tree_size]).hex() != head.root_hash:
            problems.append(f"the head of size {head.tree_size} does not match the entries: the log was changed")
        try:
            public.verify(base64.b64decode(head.signature),
                          canonical_json(_signed_part(campaign.slug, head.tree_size, head.root_hash, head.timestamp)))
        except InvalidSignature:
            problems.append(f"the head of size {head.tree_size} has a bad signature")
    if campaign.log_size != len(entries):
        problems.append(f"the campaign says its log holds {campaign.log_size} entries, it holds {len(entries)}")
    net = sum(e.delta for e in entries)
    if net != campaign.signature_count:
        problems.append(f"the log's net total is {net}, the counter says {campaign.signature_count}")
    return problems


def due_campaigns(now: dt.datetime) -> list[int]:
    """Campaigns whose log grew past their latest head, and whose latest head (if any) is old enough to renew."""
    sizes = db.session.execute(
        select(LogEntry.campaign_id, func.count()).group_by(LogEntry.campaign_id)
    ).all()
    latest = {campaign_id: (size, timestamp) for campaign_id, size, timestamp in db.session.execute(
        select(TreeHead.campaign_id, TreeHead.tree_size, TreeHead.timestamp)
        .where(TreeHead.id.in_(select(func.max(TreeHead.id)).group_by(TreeHead.campaign_id)))
    )}
    interval = current_app.config.get("LOG_HEAD_SECONDS", HEAD_INTERVAL_SECONDS)
    seconds = now.timestamp()
    return [campaign_id for campaign_id, size in sizes
            if campaign_id not in latest
            or (size > latest[campaign_id][0] and seconds - latest[campaign_id][1] >= interval)]
