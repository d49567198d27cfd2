"""Fraud review of one campaign's signatures (issue 13, point 4): held signatures, sources, bulk invalidation.

**Held signatures** (`signatures.screening` decides at signing) count only
once an administrator releases them (`release`): the release moves the
counters, the tallies and the breakdowns through `counting.count`, exactly
as the confirmation would have, once (a conditional UPDATE).

**Sources**: per campaign, the last 48 hours of signatures per hour for the
ten busiest address hashes and e-mail domains, held ones apart (`sources`).

**Bulk invalidation** by e-mail domain, address hash, time window and tag
(``source``), all given conditions together: `preview` says exactly how
many signatures it touches and how many of them count, per sponsor, and
freezes the set at the highest signature id it saw; `start` refuses to go
on if that frozen set changed since (the preview is shown again), records
an `InvalidationBatch` and the background job (`undersign.jobs`) runs it
(`run_batch`), each signature through `service.invalidate_row`. `reverse`
asks for the reversal, `reverse_batch` puts back exactly the signatures the
batch invalidated (not those withdrawn since) and their counts. Every step
is in the audit log. Functions flush but never commit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, SQLColumnExpression, case, func, select, update

from undersign.accounts.models import User
from undersign.audit import record
from undersign.campaigns.models import Campaign, Sponsorship
from undersign.db import db, utcnow
from undersign.errors import Conflict, InvalidInput, NotFound
from undersign.events import publish
from undersign.organizations.models import Organization
from undersign.signatures import tallies
from undersign.signatures.counting import count
from undersign.signatures.models import InvalidationBatch, Signature
from undersign.signatures.rules import Conditions, clean_conditions
from undersign.signatures.service import invalidate_row
from undersign.transparency.receipts import send_receipt

SOURCES_HOURS = 48
TOP_SOURCES = 10


# ---------------------------------------------------------------------------------------------
# Held signatures


def _waiting() -> tuple[ColumnElement[bool], ...]:
    """Held and waiting for review: not invalidated, not withdrawn."""
    return Signature.held_at.is_not(None), Signature.invalidated_at.is_(None), Signature.withdrawn_at.is_(None)


def held_signatures(campaign: Campaign, limit: int = 500) -> list[Signature]:
    """The campaign's held signatures waiting for review, oldest first."""
    return list(db.session.scalars(
        select(Signature).where(Signature.campaign_id == campaign.id, *_waiting()).order_by(Signature.id).limit(limit)
    ))


def held_count(campaign_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Signature).where(Signature.campaign_id == campaign_id, *_waiting())
    ) or 0


def campaigns_by_held(limit: int) -> list[tuple[Campaign, int]]:
    """The campaigns with how many signatures each holds for review: the most first, then the newest."""
    held = (select(Signature.campaign_id, func.count().label("held")).where(*_waiting())
            .group_by(Signature.campaign_id).subquery())
    waiting = func.coalesce(held.c.held, 0)
    return [(campaign, n) for campaign, n in db.session.execute(
        select(Campaign, waiting).outerjoin(held, held.c.campaign_id == Campaign.id)
        .order_by(waiting.desc(), Campaign.id.desc()).limit(limit))]


def _locked(*where: ColumnElement[bool]) -> list[int]:
    """The ids of the signatures ``where`` says, in id order, their rows locked (``FOR UPDATE`` on PostgreSQL).

    Taken before any counter moves: a confirmation locks its signature and then the campaign, so a
    loop that held the campaign while it went on to lock the next signature could deadlock with one.
    """
    return list(db.session.scalars(select(Signature.id).where(*where).order_by(Signature.id).with_for_update()))


def release(admin: User, campaign: Campaign, signature_ids: list[int], *, ip: str | None = None) -> int:
    """Release held signatures of ``campaign``: from now on each counts as its confirmation would have.

    Returns how many this call released; ids of other campaigns, or of signatures
    not held (released already, invalidated, withdrawn), are passed over.

    :raise InvalidInput: no signature chosen.
    """
    if not signature_ids:
        raise InvalidInput(_("Choose at least one signature."), field="signatures")
    now = utcnow()
    released = 0
    for signature_id in _locked(Signature.id.in_(set(signature_ids)), Signature.campaign_id == campaign.id):
        row = db.session.execute(
            update(Signature)
            .where(Signature.id == signature_id, Signature.campaign_id == campaign.id, Signature.held_at.is_not(None),
                   Signature.invalidated_at.is_(None), Signature.withdrawn_at.is_(None))
            .values(held_at=None, released_at=now)
            .returning(Signature.confirmed_at, Signature.created_at, Signature.sponsorship_id, Signature.country,
                       Signature.source)
            .execution_options(synchronize_session=False)
        ).first()
        if row is None:
            continue
        released += 1
        tallies.submitted(campaign.id, row.sponsorship_id, row.created_at)
        if row.confirmed_at is not None:
            count(campaign.id, row.sponsorship_id, +1, now, event="confirmed", country=row.country, source=row.source,
                  signature_id=signature_id, log_kind="released")
            publish("signature.confirmed", signature_id=signature_id)
            # Counted only now, so only now in the log: the signer's receipt goes out as a confirmation's would.
            released_signature = db.session.get(Signature, signature_id)
            if released_signature is not None:
                send_receipt(campaign, released_signature)
    if released:
        record(admin, "signatures.released", campaign, ip=ip,
               details={"campaign_id": campaign.id, "signatures": released})
    return released


def invalidate_held(admin: User, campaign: Campaign, signature_ids: list[int], reason: str, *,
                    ip: str | None = None) -> int:
    """Invalidate held signatures of ``campaign`` (they never counted); returns how many.

    :raise InvalidInput: no signature chosen.
    """
    if not signature_ids:
        raise InvalidInput(_("Choose at least one signature."), field="signatures")
    reason = (reason or "").strip() or "Held as suspicious and invalidated by an administrator."
    now = utcnow()
    ids = _locked(Signature.id.in_(set(signature_ids)), Signature.campaign_id == campaign.id,
                  Signature.held_at.is_not(None))
    done = sum(invalidate_row(signature_id, campaign.id, reason, now) is not None for signature_id in ids)
    if done:
        record(admin, "signatures.invalidated", campaign, ip=ip,
               details={"campaign_id": campaign.id, "signatures": done, "reason": reason[:500], "held": True})
    return done


# ---------------------------------------------------------------------------------------------
# Where the signatures come from


@dataclass(frozen=True)
class Source:
    """One address hash or e-mail domain: signatures in the window, of which held, and per hour (oldest first)."""

    key: str
    total: int
    held: int
    per_hour: list[int]

    @property
    def peak(self) -> int:
        return max(self.per_hour, default=0)


@dataclass(frozen=True)
class Sources:
    hours: list[dt.datetime]
    everything: Source
    addresses: list[Source]
    domains: list[Source]


def sources(campaign: Campaign, now: dt.datetime | None = None) -> Sources:
    """The last `SOURCES_HOURS` hours of the campaign's signatures (by when they were sent), per hour:
    all of them, and the `TOP_SOURCES` busiest address hashes and e-mail domains.

    Two grouped queries per kind (the top ten, then their hours), whatever the number of signatures.
    """
    now = now or utcnow()
    last = tallies.hour_of(now)
    hours = [last - dt.timedelta(hours=n) for n in range(SOURCES_HOURS - 1, -1, -1)]
    start = hours[0]
    index = {hour: i for i, hour in enumerate(hours)}
    held = func.sum(case((Signature.held_at.is_not(None), 1), else_=0))
    bucket = tallies.hour_sql(Signature.created_at).label("hour")
    window = (Signature.campaign_id == campaign.id, Signature.created_at >= start)

    def per_hour(*where: ColumnElement[bool]) -> list[int]:
        counts = [0] * len(hours)
        for hour, n in db.session.execute(select(bucket, func.count()).where(*window, *where).group_by(bucket)):
            if hour in index:
                counts[index[hour]] += n
        return counts

    def top(column: SQLColumnExpression[str | None]) -> list[Source]:
        rows = db.session.execute(
            select(column, func.count(), held).where(*window, column.is_not(None))
            .group_by(column).order_by(func.count().desc(), column).limit(TOP_SOURCES)
        ).all()
        return [Source(key, total, int(n_held or 0), per_hour(column == key)) for key, total, n_held in rows]

    total, n_held = db.session.execute(select(func.count(), held).where(*window)).one()
    everything = Source("all signatures", total, int(n_held or 0), per_hour())
    return Sources(hours, everything, top(Signature.ip_hash), top(Signature.email_domain))


# ---------------------------------------------------------------------------------------------
# Bulk invalidation


def _matching(campaign_id: int, conditions: Conditions, max_signature_id: int) -> list[ColumnElement[bool]]:
    """The signatures a batch with ``conditions`` frozen at ``max_signature_id`` would invalidate now."""
    where = [Signature.campaign_id == campaign_id, Signature.id <= max_signature_id,
             Signature.invalidated_at.is_(None), Signature.withdrawn_at.is_(None)]
    if conditions.email_domain:
        where.append(Signature.email_domain == conditions.email_domain)
    if conditions.ip_hash:
        where.append(Signature.ip_hash == conditions.ip_hash)
    if conditions.since:
        where.append(Signature.created_at >= conditions.since)
    if conditions.until:
        where.append(Signature.created_at < conditions.until)
    if conditions.source:
        where.append(Signature.source == conditions.source)
    return where


@dataclass(frozen=True)
class SponsorPart:
    name: str
    signatures: int
    counted: int


@dataclass(frozen=True)
class Preview:
    """What a bulk invalidation would do: ``signatures`` touched, of which ``counted`` come off the count
    (the rest are unconfirmed or held), per sponsor; the set frozen at ``max_signature_id``."""

    conditions: Conditions
    max_signature_id: int
    signatures: int
    counted: int
    held: int
    sponsors: list[SponsorPart] = field(default_factory=list)


def preview(campaign: Campaign, conditions: Conditions, max_signature_id: int | None = None) -> Preview:
    """Count what `start` would invalidate; ``max_signature_id`` None freezes the set as it is now.

    :raise InvalidInput: see `clean_conditions`.
    """
    conditions = clean_conditions(conditions)
    if max_signature_id is None:
        max_signature_id = db.session.scalar(
            select(func.max(Signature.id)).where(Signature.campaign_id == campaign.id)) or 0
    counted = func.sum(case((Signature.counted(), 1), else_=0))
    held = func.sum(case((Signature.held_at.is_not(None), 1), else_=0))
    rows = db.session.execute(
        select(Organization.name, func.count(Signature.id), counted, held)
        .join(Sponsorship, Sponsorship.id == Signature.sponsorship_id)
        .join(Organization, Organization.id == Sponsorship.organization_id)
        .where(*_matching(campaign.id, conditions, max_signature_id))
        .group_by(Sponsorship.id, Organization.name).order_by(Sponsorship.id)
    ).all()
    parts = [SponsorPart(name, n, int(c or 0)) for name, n, c, _h in rows]
    return Preview(conditions, max_signature_id, sum(p.signatures for p in parts), sum(p.counted for p in parts),
                   sum(int(h or 0) for *_rest, h in rows), parts)


class PreviewChanged(Conflict):
    """The frozen set changed between the preview and the go-ahead: ``preview`` is what it is now."""

    def __init__(self, current: Preview) -> None:
        super().__init__(_("Some of these signatures changed since the preview (confirmed, withdrawn or "
                           "invalidated meanwhile). Check the new preview and run it again."))
        self.preview = current


def start(admin: User, campaign: Campaign, conditions: Conditions, reason: str, *, max_signature_id: int,
          expected: int, expected_counted: int, ip: str | None = None) -> InvalidationBatch:
    """Record a bulk invalidation for the background job (`undersign.jobs` runs `run_batch` after the commit).

    ``expected`` and ``expected_counted`` are the figures of the preview the administrator saw.

    :raise InvalidInput: no condition, no reason, or the preview touched nothing.
    :raise PreviewChanged: the set is no longer what the preview showed.
    """
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Say why these signatures are invalid."), field="reason")
    current = preview(campaign, conditions, max_signature_id)
    if (current.signatures, current.counted) != (expected, expected_counted):
        raise PreviewChanged(current)
    if current.signatures == 0:
        raise InvalidInput(_("No signature matches these conditions."))
    batch = InvalidationBatch(
        campaign_id=campaign.id, conditions=current.conditions.stored(), reason=reason[:500],
        max_signature_id=max_signature_id, status="pending", expected=current.signatures,
        expected_counted=current.counted, created_by_id=admin.id, created_at=utcnow(),
    )
    db.session.add(batch)
    db.session.flush()
    record(admin, "signatures.bulk_invalidation_started", batch, ip=ip,
           details={"campaign_id": campaign.id, "conditions": batch.conditions, "reason": batch.reason,
                    "signatures": current.signatures, "counted": current.counted})
    db.session.info.setdefault("invalidations_started", []).append(batch.id)
    return batch


def _stored_conditions(batch: InvalidationBatch) -> Conditions:
    values = dict(batch.conditions)
    return Conditions(
        email_domain=values.get("email_domain", ""), ip_hash=values.get("ip_hash", ""),
        since=dt.datetime.fromisoformat(values["since"]) if values.get("since") else None,
        until=dt.datetime.fromisoformat(values["until"]) if values.get("until") else None,
        source=values.get("source", ""),
    )


def _locked_batch(batch_id: int, status: str) -> InvalidationBatch | None:
    """The batch, locked (``FOR UPDATE`` on PostgreSQL), if it is in ``status``: two runs cannot both do it."""
    batch = db.session.scalar(select(InvalidationBatch).where(InvalidationBatch.id == batch_id).with_for_update()
                              .execution_options(populate_existing=True))
    return batch if batch is not None and batch.status == status else None


def run_batch(batch_id: int) -> int:
    """The job: invalidate the batch's frozen set, one signature at a time through `invalidate_row`.

    Returns how many signatures it invalidated; 0 if the batch is not pending
    (done already, or run by another worker meanwhile).
    """
    batch = _locked_batch(batch_id, "pending")
    if batch is None:
        return 0
    conditions = _stored_conditions(batch)
    now = utcnow()
    ids = _locked(*_matching(batch.campaign_id, conditions, batch.max_signature_id))
    invalidated = uncounted = 0
    for signature_id in ids:
        counted = invalidate_row(signature_id, batch.campaign_id, batch.reason, now, batch_id=batch.id)
        if counted is not None:
            invalidated += 1
            uncounted += counted
    batch.invalidated, batch.uncounted = invalidated, uncounted
    batch.status, batch.finished_at = "done", utcnow()
    db.session.flush()
    record(None, "signatures.bulk_invalidated", batch,
           details={"campaign_id": batch.campaign_id, "signatures": invalidated, "counted": uncounted})
    return invalidated


def reverse(admin: User, batch: InvalidationBatch, *, ip: str | None = None) -> None:
    """Ask for the batch to be reversed (the job runs `reverse_batch` after the commit).

    :raise Conflict: the batch has not run yet, or is being (or was) reversed.
    """
    locked = _locked_batch(batch.id, "done")
    if locked is None:
        db.session.refresh(batch)
        raise Conflict(_("This invalidation is %(status)s; only a finished one can be reversed.", status=batch.status))
    locked.status = "reversing"
    locked.reversed_by_id = admin.id
    db.session.flush()
    record(admin, "signatures.bulk_invalidation_reversing", locked, ip=ip,
           details={"campaign_id": locked.campaign_id})
    db.session.info.setdefault("invalidations_started", []).append(locked.id)


def reverse_batch(batch_id: int) -> int:
    """The job: put back the batch's signatures (those not withdrawn since) and, for each that counts again,
    its part of every figure; returns how many it restored.

    One that counted when it was invalidated gets its invalidation taken back out of that hour's
    tally ("reinstated"); one confirmed after it counts from its confirmation, so the figures end
    exactly as if the batch had never run, which is what ``flask recount`` rebuilds from the rows.
    """
    batch = _locked_batch(batch_id, "reversing")
    if batch is None:
        return 0
    now = utcnow()
    rows = db.session.execute(
        select(Signature.id, Signature.invalidated_at, Signature.confirmed_at, Signature.held_at,
               Signature.sponsorship_id, Signature.country, Signature.source)
        .where(Signature.invalidation_batch_id == batch.id, Signature.invalidated_at.is_not(None),
               Signature.withdrawn_at.is_(None))
        .order_by(Signature.id).with_for_update()  # all before the counters, as `_locked` says why
    ).all()
    restored = 0
    for row in rows:
        done = db.session.execute(
            update(Signature)
            .where(Signature.id == row.id, Signature.invalidation_batch_id == batch.id,
                   Signature.invalidated_at.is_not(None), Signature.withdrawn_at.is_(None))
            .values(invalidated_at=None, invalidated_reason=None)
            .execution_options(synchronize_session=False)
        )
        if not getattr(done, "rowcount", 0):
            continue
        restored += 1
        if row.confirmed_at is None or row.held_at is not None:
            continue
        if row.confirmed_at < row.invalidated_at:
            count(batch.campaign_id, row.sponsorship_id, +1, now, event="reinstated", country=row.country,
                  source=row.source, tally_at=row.invalidated_at, signature_id=row.id)
        else:
            count(batch.campaign_id, row.sponsorship_id, +1, now, event="confirmed", country=row.country,
                  source=row.source, tally_at=row.confirmed_at, signature_id=row.id, log_kind="reinstated")
    batch.restored, batch.status, batch.reversed_at = restored, "reversed", utcnow()
    db.session.flush()
    record(None, "signatures.bulk_invalidation_reversed", batch,
           details={"campaign_id": batch.campaign_id, "signatures": restored})
    return restored


def batches(campaign: Campaign) -> list[InvalidationBatch]:
    return list(db.session.scalars(
        select(InvalidationBatch).where(InvalidationBatch.campaign_id == campaign.id)
        .order_by(InvalidationBatch.id.desc())))


def unfinished_batches() -> list[tuple[int, str]]:
    """(id, status) of every batch waiting for the job: pending ones and reversals asked for."""
    return [(batch_id, status) for batch_id, status in db.session.execute(
        select(InvalidationBatch.id, InvalidationBatch.status)
        .where(InvalidationBatch.status.in_(("pending", "reversing"))).order_by(InvalidationBatch.id))]


def batch_of(campaign: Campaign, batch_id: int) -> InvalidationBatch:
    """:raise NotFound: no such batch on this campaign."""
    batch = db.session.get(InvalidationBatch, batch_id)
    if batch is None or batch.campaign_id != campaign.id:
        raise NotFound(_("No such invalidation on this petition."))
    return batch


def run_unfinished(batch_id: int) -> int:
    """Run whatever the batch is waiting for (`run_batch` or `reverse_batch`)."""
    batch = db.session.get(InvalidationBatch, batch_id)
    if batch is None:
        return 0
    return run_batch(batch_id) if batch.status == "pending" else reverse_batch(batch_id)
