"""Retention: a closed petition's signers are anonymized, unconfirmed signatures deleted (issue 14, point 3).

``SIGNER_DATA_RETENTION_DAYS`` after a petition stopped taking signatures (a
sponsor closed it or declared victory, or its closing date passed, whichever
came first), its signers' personal data is anonymized: name, e-mail, e-mail
key, postcode, comment and address hash are blanked, consents deleted, the
outbox's mail to them deleted, webhook payloads naming them scrubbed (the
``signatures.anonymized`` event), and a tombstone written for every sponsor that
could have copied them through the API. What stays is the bare row (country,
sponsor credited, channel, times), so the counts, the per-hour tallies, the
country breakdowns and ``flask recount`` give exactly what they gave before.
The campaign is marked (``anonymized_at``) so this happens once.

The owners of every sponsor are warned by e-mail 30 and 7 days ahead (each
once: `RetentionNotice`), with a link to their export. Owners always get at
least seven days: a petition found past its date without a warning (retention
shortened, or the job switched on late) is warned first and anonymized a week later.

Unconfirmed signatures are deleted ``UNCONFIRMED_SIGNATURE_DAYS`` after they were
sent, with their mail: they never counted, so no figure moves (the tallies'
"submitted" keeps them, as sent). Copies of any mail sent (or given up on) leave
the outbox after ``MAIL_LOG_DAYS``.

Everything here flushes and never commits; `run` is called by the worker's
sweep, the in-process thread and ``flask retention``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, delete, or_, select, update

from undersign.accounts.models import User
from undersign.audit import record
from undersign.campaigns.models import Campaign, CampaignStatus, SponsorshipStatus
from undersign.db import db
from undersign.events import publish
from undersign.links import absolute_url
from undersign.mail import OutboxMessage, delete_finished, queue_mail
from undersign.organizations.models import Membership, Role
from undersign.signatures.models import Consent, RetentionNotice, Signature
from undersign.signatures.service import tombstone_copies
from undersign.signatures.signer_mail import mail_subject

WARN_DAYS = (30, 7)
# However late the first warning goes out, the owners have this long to export.
MIN_NOTICE = dt.timedelta(days=7)
_ENDED = (CampaignStatus.CLOSED.value, CampaignStatus.VICTORY.value)


@dataclass
class RetentionReport:
    """What a run did (or, in a dry run, would have done), in words for ``flask retention``."""

    warned: list[tuple[str, int, int]] = field(default_factory=list)      # slug, days ahead, owners mailed
    anonymized: list[tuple[str, int]] = field(default_factory=list)       # slug, signatures anonymized
    unconfirmed_deleted: int = 0
    mail_deleted: int = 0

    def lines(self) -> list[str]:
        out = [f"warned {owners} owner(s) of {slug}: anonymized in {days} days" for slug, days, owners in self.warned]
        out += [f"anonymized {slug}: {n} signature(s)" for slug, n in self.anonymized]
        out.append(f"deleted {self.unconfirmed_deleted} unconfirmed signature(s)")
        out.append(f"deleted {self.mail_deleted} copies of mail sent or given up on")
        return out


def closed_since(campaign: Campaign, now: dt.datetime) -> dt.datetime | None:
    """When the petition stopped taking signatures, or None while it still takes them (or never did)."""
    if campaign.status not in (*_ENDED, CampaignStatus.PUBLISHED.value):
        return None
    moments = [m for m in (campaign.closed_at, campaign.closes_at) if m is not None and m <= now]
    if moments:
        return min(moments)
    return campaign.changed_at if campaign.status in _ENDED else None


def _ending(horizon: dt.datetime) -> ColumnElement[bool]:
    """In SQL: stopped taking signatures no later than ``horizon`` (a superset of `closed_since`)."""
    return or_(Campaign.closed_at <= horizon, Campaign.closes_at <= horizon,
               Campaign.status.in_(_ENDED) & Campaign.closed_at.is_(None))


def run(now: dt.datetime, *, retention_days: int, unconfirmed_days: int, mail_days: int) -> RetentionReport:
    """Warn, anonymize and delete what is due at ``now``, and the outbox's copies of mail finished
    ``mail_days`` ago; returns what was done.

    Safe to run from several machines: on PostgreSQL each campaign is claimed
    with ``FOR UPDATE SKIP LOCKED``, and a warning is recorded with its mail.
    """
    report = RetentionReport()
    retention = dt.timedelta(days=retention_days)
    query = (select(Campaign)
             .where(Campaign.anonymized_at.is_(None), _ending(now - retention + dt.timedelta(days=max(WARN_DAYS))))
             .order_by(Campaign.id))
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Campaign)
    for campaign in list(db.session.scalars(query)):
        ended = closed_since(campaign, now)
        if ended is None:
            continue
        due = ended + retention
        notices = list(db.session.scalars(select(RetentionNotice).where(RetentionNotice.campaign_id == campaign.id)))
        # The day it happens: the due day, or a week after the first warning (a warning sent now, if none was).
        on = max(due, (min(n.sent_at for n in notices) if notices else now) + MIN_NOTICE)
        if notices and now >= on:
            report.anonymized.append((campaign.slug, anonymize(campaign, now)))
            continue
        sent = {n.days_ahead for n in notices}
        pending = [days for days in WARN_DAYS if now >= due - dt.timedelta(days=days) and days not in sent]
        if pending:
            owners = warn(campaign, on, now)
            # A warning whose time has passed unsent is not sent later: the closer one says it all.
            db.session.add_all(RetentionNotice(campaign_id=campaign.id, days_ahead=days, anonymize_on=on, sent_at=now)
                               for days in pending)
            report.warned.append((campaign.slug, days_until(on, now), owners))
    db.session.flush()
    report.unconfirmed_deleted = delete_unconfirmed(now - dt.timedelta(days=unconfirmed_days))
    report.mail_deleted = delete_finished(now - dt.timedelta(days=mail_days))
    return report


def days_until(moment: dt.datetime, now: dt.datetime) -> int:
    """Whole days left, rounded up: a warning sent 9.9 days ahead says 10."""
    return max(1, math.ceil((moment - now) / dt.timedelta(days=1)))


def warn(campaign: Campaign, on: dt.datetime, now: dt.datetime) -> int:
    """Mail the owners of every accepted sponsor that the signers' data goes on ``on``; returns how many were mailed."""
    sent = 0
    for sponsorship in campaign.sponsorships:
        if sponsorship.status != SponsorshipStatus.ACCEPTED.value:
            continue
        owners = db.session.scalars(select(User).join(Membership, Membership.user_id == User.id).where(
            Membership.organization_id == sponsorship.organization_id, Membership.role == Role.OWNER.value))
        export_url = absolute_url("supporters.export_page", org=sponsorship.organization.slug, slug=campaign.slug)
        for owner in owners:
            queue_mail(owner.email, mail_subject(f"Supporters' data of \"{campaign.title}\" will be anonymized"),
                       "signatures/retention_warning", campaign=campaign, name=owner.name,
                       organization=sponsorship.organization, on=on, days=days_until(on, now),
                       export_url=export_url)
            sent += 1
    return sent


def _outbox_to(campaign: Campaign, recipients: ColumnElement[bool]) -> None:
    """Delete the outbox's mail to these signers: what was sent or abandoned, and what is still to go about this petition.

    Unsent mail about another petition the same address signed stays: it is that petition's business.
    """
    db.session.execute(delete(OutboxMessage).where(recipients, or_(
        OutboxMessage.sent_at.is_not(None), OutboxMessage.failed_at.is_not(None),
        OutboxMessage.body_text.contains(f"/p/{campaign.slug}", autoescape=True),
        # Not composed yet (`undersign.mail.queue_composed`): about one of this petition's signatures.
        OutboxMessage.signature_id.in_(select(Signature.id).where(Signature.campaign_id == campaign.id)),
    )).execution_options(synchronize_session=False))


def anonymize(campaign: Campaign, now: dt.datetime) -> int:
    """Blank every signer's personal data of ``campaign`` and mark it done; returns how many signatures were kept.

    Unconfirmed signatures are deleted (they never counted). Counted and
    withdrawn rows keep country, sponsor, channel and times, which is all
    the figures are made of.
    """
    of_campaign = Signature.campaign_id == campaign.id
    _outbox_to(campaign, OutboxMessage.recipient.in_(
        select(Signature.email).where(of_campaign, Signature.email.is_not(None))))
    tombstone_copies(of_campaign, now)  # the sponsors that could have copied a signer delete their copy
    publish("signatures.anonymized", campaign_id=campaign.id)  # webhook payloads that name them are scrubbed
    ids = select(Signature.id).where(of_campaign).scalar_subquery()
    db.session.execute(delete(Consent).where(Consent.signature_id.in_(ids)).execution_options(synchronize_session=False))
    unconfirmed = db.session.execute(delete(Signature).where(of_campaign, Signature.confirmed_at.is_(None))
                                     .execution_options(synchronize_session=False))
    kept = db.session.execute(
        update(Signature).where(of_campaign)
        .values(name=None, email=None, email_key=None, email_domain=None, postcode=None, comment=None, ip_hash=None,
                token_hash=None, token_expires_at=None, show_publicly=False, invalidated_reason=None)
        .execution_options(synchronize_session=False))
    campaign.anonymized_at = now
    db.session.flush()
    kept_count = int(getattr(kept, "rowcount", 0))
    record(None, "campaign.anonymized", campaign, organization_id=campaign.lead_organization_id,
           details={"signatures": kept_count, "unconfirmed_deleted": int(getattr(unconfirmed, "rowcount", 0))})
    return kept_count


def delete_unconfirmed(sent_before: dt.datetime) -> int:
    """Delete the signatures sent before ``sent_before`` and never confirmed, with their consents and mail."""
    rows = db.session.execute(select(Signature.id, Signature.campaign_id, Signature.email).where(
        Signature.confirmed_at.is_(None), Signature.created_at <= sent_before)).all()
    by_campaign: dict[int, list[int]] = {}
    for row in rows:
        by_campaign.setdefault(row.campaign_id, []).append(row.id)
    for campaign_id, ids in by_campaign.items():
        campaign = db.session.get(Campaign, campaign_id)
        if campaign is None:
            continue
        for start in range(0, len(ids), 500):
            batch = ids[start:start + 500]
            _outbox_to(campaign, OutboxMessage.recipient.in_(
                select(Signature.email).where(Signature.id.in_(batch), Signature.email.is_not(None))))
            db.session.execute(delete(Consent).where(Consent.signature_id.in_(batch))
                               .execution_options(synchronize_session=False))
            db.session.execute(delete(Signature).where(Signature.id.in_(batch))
                               .execution_options(synchronize_session=False))
        record(None, "signatures.unconfirmed_deleted", campaign, organization_id=campaign.lead_organization_id,
               details={"signatures": len(ids)})
    db.session.flush()
    return len(rows)
