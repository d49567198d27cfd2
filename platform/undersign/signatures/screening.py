"""Which signatures are held as suspicious, and the blocked sources administrators manage (issue 13, point 4).

A signature is **held** (stored, mailed and confirmable, never counted until
released: `signatures.fraud`) when, at signing:

- its e-mail domain is on the shipped list of disposable-mail domains (the
  PyPI package ``disposable-email-domains``, built from the community list
  at github.com/disposable-email-domains/disposable-email-domains), or
  matches an administrator's entry (``example.com`` exactly, ``*.example.com``
  any subdomain of it);
- the client address lies in a blocked range (CIDR, IPv4 or IPv6; the
  address is known in the request, only its keyed hash is stored);
- or the same address (by its hash) already sent ``SIGN_HOLD_PER_HOUR``
  signatures to this campaign in the last hour (``SIGN_HOLD_PER_HOUR``
  setting, 10 by default; 0 switches this check off).

Holding instead of refusing tells an attacker nothing: the answer and the
mail are the same as for anyone. Functions flush but never commit.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from disposable_email_domains import blocklist
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import ScalarSelect, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from undersign.accounts.models import User
from undersign.audit import record
from undersign.db import db, utcnow
from undersign.errors import Conflict, InvalidInput, NotFound
from undersign.organizations.rules import clean_line
from undersign.signatures.models import BlockedAddressRange, BlockedDomain, BlockedSourcesVersion, Signature

DISPOSABLE_DOMAINS: frozenset[str] = frozenset(blocklist)
RATE_WINDOW = dt.timedelta(hours=1)
REASON_MAX = 500
_DOMAIN_LABEL_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-")


def email_domain(address: str) -> str:
    """The domain of an address, lower-cased and in its ASCII (IDNA) form, as the blocklists spell domains:
    what is stored in ``signatures.email_domain``."""
    domain = address.rpartition("@")[2].strip().lower().rstrip(".")
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:  # not encodable (a label too long, ...): kept as it is, matching no ASCII entry
        return domain


def _suffixes(domain: str) -> list[str]:
    """``a.b.example.com`` -> ``b.example.com``, ``example.com``, ``com``."""
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(1, len(labels))]


# ---------------------------------------------------------------------------------------------
# The administrators' lists, kept per process
#
# Every signature is checked against them, and they change rarely: each process keeps a copy, keyed by
# its database and by the token of `BlockedSourcesVersion`, which every change through `block_domain`,
# `block_network` and `unblock` draws afresh in its own transaction. The sign POST reads that token in
# the query it makes anyway (`signatures.service.signing_campaign`), so a change made in any process,
# on any machine, holds the very next signature; rows written into the tables by hand (not through the
# admin pages or these functions) are seen within `LISTS_MAX_AGE` seconds, when the copy is read again.

LISTS_MAX_AGE = 60.0
NOT_READ = object()  # `blocked_lists`' token when the caller's query did not read it


@dataclass(frozen=True)
class BlockedLists:
    """The two lists as read under ``token``, at ``loaded_at`` (`time.monotonic`), the ranges parsed."""

    token: str | None
    loaded_at: float
    patterns: frozenset[str]
    networks: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...]


_lists: dict[str, BlockedLists] = {}  # by database URL: a process may serve more than one app
_lists_lock = threading.Lock()


def version_token() -> ScalarSelect[str]:
    """The token of the lists now, as a column to add to a query that runs anyway (None: never changed)."""
    return select(BlockedSourcesVersion.token).where(BlockedSourcesVersion.id == 1).scalar_subquery()


def lists_changed() -> None:
    """Call in the transaction that changes either list: every process reads it again for its next signature."""
    token = secrets.token_hex(16)
    values = {"id": 1, "token": token, "changed_at": utcnow()}
    dialect = db.session.get_bind(mapper=BlockedSourcesVersion.__mapper__).dialect.name
    upsert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = upsert(BlockedSourcesVersion).values(values)
    db.session.execute(statement.on_conflict_do_update(index_elements=["id"], set_={
        "token": statement.excluded.token, "changed_at": statement.excluded.changed_at}))


def blocked_lists(token: object = NOT_READ) -> BlockedLists:
    """The administrators' lists as this process holds them, read again when ``token`` (from `version_token`;
    read here when not given) is not the one they were read under, or after `LISTS_MAX_AGE` seconds."""
    if token is NOT_READ:
        token = db.session.scalar(select(BlockedSourcesVersion.token).where(BlockedSourcesVersion.id == 1))
    key = str(db.session.get_bind(mapper=BlockedDomain.__mapper__).engine.url)
    held = _lists.get(key)
    if held is not None and held.token == token and time.monotonic() - held.loaded_at < LISTS_MAX_AGE:
        return held
    patterns = frozenset(db.session.scalars(select(BlockedDomain.pattern)))
    networks = tuple(_parsed(db.session.scalars(select(BlockedAddressRange.network))))
    fresh = BlockedLists(token if isinstance(token, str) else None, time.monotonic(), patterns, networks)
    with _lists_lock:
        if len(_lists) >= 8 and key not in _lists:
            _lists.clear()
        _lists[key] = fresh
    return fresh


def _parsed(networks: Iterable[str]) -> Iterator[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]]:
    for network in networks:
        try:
            yield ipaddress.ip_network(network, strict=False), network
        except ValueError:  # a row typed in by hand that is no range: it blocks nothing, signing goes on
            continue


def blocked_domain(domain: str, lists: BlockedLists | None = None) -> str | None:
    """Why a domain is blocked (the reason to hold its signatures), or None."""
    if domain in DISPOSABLE_DOMAINS or any(parent in DISPOSABLE_DOMAINS for parent in _suffixes(domain)):
        return f"disposable e-mail domain {domain}"
    patterns = (lists or blocked_lists()).patterns
    match = next((p for p in [domain, *(f"*.{parent}" for parent in _suffixes(domain))] if p in patterns), None)
    return f"blocked e-mail domain {match}" if match else None


def blocked_address(address: str | None, lists: BlockedLists | None = None) -> str | None:
    """Why a client address is blocked (the range it lies in), or None; an unparsable address is not."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for network, written in (lists or blocked_lists()).networks:
        if ip in network:
            return f"blocked address range {written}"
    return None


def hold_reason(campaign_id: int, domain: str, address: str | None, address_hash: str | None,
                now: dt.datetime, *, lists_token: object = NOT_READ) -> str | None:
    """Why a new signature must be held (see the module docstring, at most 200 characters), or None.

    ``lists_token``: the lists' `version_token` if the caller's query read it already. The per-address
    rate is counted in the database on every call, so it stays exact with any number of processes.
    """
    lists = blocked_lists(lists_token)
    reason = blocked_domain(domain, lists) or blocked_address(address, lists)
    if reason:
        return reason[:200]
    limit = int(current_app.config.get("SIGN_HOLD_PER_HOUR", 10))
    if limit > 0 and address_hash is not None:
        recent = db.session.scalar(
            select(func.count()).select_from(Signature)
            .where(Signature.campaign_id == campaign_id, Signature.ip_hash == address_hash,
                   Signature.created_at > now - RATE_WINDOW)
        ) or 0
        if recent >= limit:
            return f"more than {limit} signatures from one address in an hour"
    return None


# ---------------------------------------------------------------------------------------------
# The administrators' lists


def clean_domain_pattern(raw: str | None) -> str:
    """``example.com`` or ``*.example.com``, lower-cased; ``@`` and a leading dot are forgiven.

    :raise InvalidInput: ``field="pattern"``: not a domain name (a wildcard only as the whole first label).
    """
    value = (raw or "").strip().lower().lstrip("@").rstrip(".")
    if value.startswith("."):
        value = "*" + value
    wildcard = value.startswith("*.")
    name = value[2:] if wildcard else value
    labels = name.split(".")
    if (not name or len(value) > 255 or len(labels) < 2
            or any(not label or len(label) > 63 or set(label) - _DOMAIN_LABEL_CHARS
                   or label.startswith("-") or label.endswith("-") for label in labels)):
        raise InvalidInput(_("Enter a domain such as example.com, or *.example.com for all its subdomains."),
                           field="pattern")
    return value


def clean_network(raw: str | None) -> str:
    """A CIDR range (``203.0.113.0/24``, ``2001:db8::/32``) or one address, in its normalized form.

    :raise InvalidInput: ``field="network"``.
    """
    try:
        network = ipaddress.ip_network((raw or "").strip(), strict=False)
    except ValueError:
        raise InvalidInput(_("Enter an address range such as 203.0.113.0/24 or 2001:db8::/32."),
                           field="network") from None
    return network.compressed


def _reason(raw: str | None) -> str:
    reason = clean_line(raw, field="reason", label=_("The reason"), max_length=REASON_MAX)
    if not reason:
        raise InvalidInput(_("Say why it is blocked."), field="reason")
    return reason


def block_domain(admin: User, pattern: str, reason: str, *, ip: str | None = None) -> BlockedDomain:
    """:raise InvalidInput: bad pattern or no reason. :raise Conflict: already blocked."""
    clean = clean_domain_pattern(pattern)
    why = _reason(reason)
    if db.session.scalar(select(BlockedDomain.id).where(BlockedDomain.pattern == clean)) is not None:
        raise Conflict(_("%(source)s is already blocked.", source=clean))
    entry = BlockedDomain(pattern=clean, reason=why, created_by_id=admin.id, created_at=utcnow())
    db.session.add(entry)
    db.session.flush()
    lists_changed()
    record(admin, "blocked_domain.added", entry, ip=ip, details={"pattern": clean, "reason": why})
    return entry


def block_network(admin: User, network: str, reason: str, *, ip: str | None = None) -> BlockedAddressRange:
    """:raise InvalidInput: bad range or no reason. :raise Conflict: already blocked."""
    clean = clean_network(network)
    why = _reason(reason)
    if db.session.scalar(select(BlockedAddressRange.id).where(BlockedAddressRange.network == clean)) is not None:
        raise Conflict(_("%(source)s is already blocked.", source=clean))
    entry = BlockedAddressRange(network=clean, reason=why, created_by_id=admin.id, created_at=utcnow())
    db.session.add(entry)
    db.session.flush()
    lists_changed()
    record(admin, "blocked_range.added", entry, ip=ip, details={"network": clean, "reason": why})
    return entry


def unblock(admin: User, kind: type[BlockedDomain] | type[BlockedAddressRange], entry_id: int, *,
            ip: str | None = None) -> None:
    """Remove an entry; signatures it held stay held until released. :raise NotFound: no such entry."""
    entry = db.session.get(kind, entry_id)
    if entry is None:
        raise NotFound(_("That entry is not on the list (any more)."))
    if isinstance(entry, BlockedDomain):
        record(admin, "blocked_domain.removed", entry, ip=ip, details={"pattern": entry.pattern})
    elif isinstance(entry, BlockedAddressRange):
        record(admin, "blocked_range.removed", entry, ip=ip, details={"network": entry.network})
    db.session.delete(entry)
    db.session.flush()
    lists_changed()


def blocked_domains() -> list[BlockedDomain]:
    return list(db.session.scalars(select(BlockedDomain).order_by(BlockedDomain.pattern)))


def blocked_networks() -> list[BlockedAddressRange]:
    return list(db.session.scalars(select(BlockedAddressRange).order_by(BlockedAddressRange.network)))
