from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from undersign.db import Model, utcnow


class LogEntry(Model):
    """One move of a campaign's count: a leaf of its Merkle tree. Holds no personal data (the commitment is
    SHA-256 of a random salt and the address; without the salt it reveals nothing)."""

    __tablename__ = "log_entries"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    delta: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    sponsor: Mapped[str] = mapped_column(String(64))
    time: Mapped[int] = mapped_column(Integer)
    commitment: Mapped[str] = mapped_column(String(64))
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("signatures.id", ondelete="SET NULL"), index=True)
    # RFC 6962 leaf hash (hex) of the entry's canonical JSON, kept so that heads and proofs never re-hash entries.
    leaf_hash: Mapped[str] = mapped_column(String(64))


class TreeHead(Model):
    """A signed tree head, kept forever so that any later head can be proven consistent with it."""

    __tablename__ = "log_heads"
    __table_args__ = (UniqueConstraint("campaign_id", "tree_size"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    tree_size: Mapped[int] = mapped_column(Integer)
    root_hash: Mapped[str] = mapped_column(String(64))
    timestamp: Mapped[int] = mapped_column(Integer)
    signature: Mapped[str] = mapped_column(Text)
    # The compact range of the tree (hex roots of its perfect subtrees, largest first, comma-separated): the
    # next head extends it with the new leaves only.
    frontier: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Witness(Model):
    """A sponsor organization that countersigns its petitions' heads, with its Ed25519 public key.

    ``sealed_private_key`` is set when the platform holds the key for the organization (the console button):
    the private key encrypted with AES-GCM under a key derived from SECRET_KEY. Without it the organization
    keeps its key and cosigns through the API.
    """

    __tablename__ = "log_witnesses"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), unique=True)
    public_key: Mapped[str] = mapped_column(String(44))
    sealed_private_key: Mapped[str | None] = mapped_column(Text)
    enabled_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Cosignature(Model):
    """A witness's Ed25519 signature over the same bytes the platform signed for a head. The size and root it
    signed are kept with it, so the next head it is asked to sign is checked against what it saw."""

    __tablename__ = "log_cosigns"
    __table_args__ = (UniqueConstraint("head_id", "organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    head_id: Mapped[int] = mapped_column(ForeignKey("log_heads.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    tree_size: Mapped[int] = mapped_column(Integer)
    root_hash: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
