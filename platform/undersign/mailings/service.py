"""E-mailing an update to the supporters who agreed to hear from the sponsor that posted it.

Who gets it: the signatures of the campaign that are confirmed, not
invalidated and not withdrawn, holding a consent to *that* organization that
has not been withdrawn (DESIGN §9: a co-sponsor never reaches another
sponsor's supporters).

How: `start_mailing` writes a `Mailing` row (at most one per update, a unique
column) in the request's transaction; after the commit `undersign.jobs` runs
`write_mailing`, which writes the messages to the outbox in batches, each
batch in one unit of work together with a `MailingRecipient` row per
signature. A batch is all or nothing, and the next one starts after the
highest signature id already written, so a job killed at any point and run
again writes every message exactly once. Delivery is the outbox's
(`undersign.mail`), with its retries.

Like the other services: explicit inputs, flush, never commit (except the
job, which is its own unit of work per batch).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import Select, exc, func, select

from undersign.accounts.models import User
from undersign.audit import record
from undersign.campaigns.content import render_markdown
from undersign.campaigns.models import Campaign, Update
from undersign.campaigns.service import require_accepted
from undersign.campaigns.updates import require_author_org
from undersign.db import db, utcnow
from undersign.transaction import unit_of_work
from undersign.errors import Conflict, NotFound
from undersign.links import absolute_url
from undersign.campaigns.translations import in_signers_language
from undersign.mail import OutboxMessage, queue_message
from undersign.mailings.models import Mailing, MailingRecipient, MailingStatus
from undersign.mailings.tokens import read_unsubscribe_token, unsubscribe_token
from undersign.organizations.models import Organization
from undersign.signatures.models import Consent, Signature, latest_consent

BATCH_SIZE = 200
TEMPLATE = "mailings/update"
INVALID_UNSUBSCRIBE_LINK = "This unsubscribe link is not valid. Use the link in the most recent e-mail you received."


# ---------------------------------------------------------------------------------------------
# Who gets it


def audience(campaign_id: int, organization_id: int) -> Select[Signature]:
    """The signatures an update of ``organization_id`` on ``campaign_id`` is mailed to, by id."""
    return (
        select(Signature)
        .join(Consent, Consent.signature_id == Signature.id)
        .where(Signature.campaign_id == campaign_id, Signature.counted(), Signature.email.is_not(None))
        .where(Consent.organization_id == organization_id, Consent.current())
        .order_by(Signature.id)
    )


def audience_size(campaign: Campaign, org: Organization) -> int:
    query = audience(campaign.id, org.id).order_by(None).with_only_columns(func.count(Signature.id))
    return int(db.session.scalar(query) or 0)


# ---------------------------------------------------------------------------------------------
# The message


def subject_of(org: Organization, title: str) -> str:
    """One line (a line break would break the header), at most the outbox's 300 characters."""
    return " ".join(f"{org.name}: {title}".split())[:300]


def message_context(campaign: Campaign, org: Organization, title: str, body: str,
                    unsubscribe_url: str | None) -> dict[str, Any]:
    """What the mail templates need; the HTML is the page's sanitized Markdown (`campaigns.content`)."""
    return {
        "campaign": campaign,
        "org": org,
        "title": title,
        "body": body,
        "body_html": render_markdown(body),
        "petition_url": absolute_url("public.petition", slug=campaign.slug),
        "unsubscribe_url": unsubscribe_url,
    }


def unsubscribe_headers(url: str) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe: mail clients POST ``List-Unsubscribe=One-Click`` to ``url``."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def _mailable(org: Organization, campaign: Campaign, update: Update) -> None:
    require_accepted(org, campaign)
    if update.campaign_id != campaign.id:
        raise NotFound(_("There is no such update."))
    require_author_org(org, update)


def send_test(actor: User, org: Organization, campaign: Campaign, update: Update) -> OutboxMessage:
    """The update as supporters will get it, to ``actor`` only (its unsubscribe link is a dead example).

    :raise NotFound: not a sponsor, or not this campaign's update. :raise PermissionDenied: another sponsor's.
    """
    _mailable(org, campaign, update)
    context = message_context(campaign, org, update.title, update.body, None)
    return queue_message(actor.email, "[Test] " + subject_of(org, update.title), TEMPLATE, {**context, "test": True},
                         html=True)


# ---------------------------------------------------------------------------------------------
# Sending


def mailing_of(update: Update) -> Mailing | None:
    return db.session.scalar(select(Mailing).where(Mailing.update_id == update.id))


def start_mailing(actor: User, org: Organization, campaign: Campaign, update: Update,
                  now: dt.datetime | None = None, *, ip: str | None = None) -> Mailing:
    """Ask for ``update`` to be e-mailed to ``org``'s supporters on ``campaign``; the job does the rest after commit.

    :raise NotFound: not a sponsor, or not this campaign's update. :raise PermissionDenied: another sponsor's.
    :raise Conflict: it was e-mailed already (also when two requests race: the unique update id
        decides), or nobody has agreed to hear from ``org``.
    """
    _mailable(org, campaign, update)
    already = mailing_of(update)
    if already is not None:
        raise Conflict(_("This update was already e-mailed to supporters on %(day)s; it cannot be sent twice.",
                         day=format_date(already.created_at, "long")))
    planned = audience_size(campaign, org)
    if planned == 0:
        raise Conflict(_("No supporter has agreed to hear from %(name)s yet, so there is nobody to e-mail.",
                         name=org.name))
    now = now or utcnow()
    mailing = Mailing(update_id=update.id, campaign_id=campaign.id, organization_id=org.id,
                      requested_by_id=actor.id, title=update.title, body=update.body,
                      planned=planned, created_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(mailing)
    except exc.IntegrityError:
        raise Conflict(_("This update was already e-mailed to supporters; it cannot be sent twice.")) from None
    update.emailed_at = now
    db.session.flush()
    record(actor, "update.mailed", update, organization_id=org.id, ip=ip,
           details={"campaign": campaign.slug, "supporters": planned})
    db.session.info.setdefault("mailings_started", []).append(mailing.id)
    return mailing


def write_mailing(mailing_id: int, batch_size: int = BATCH_SIZE) -> int:
    """The job: write the mailing's messages to the outbox, one unit of work per batch; returns how many.

    Safe to run again after a crash, and concurrently: each batch locks the
    mailing row (PostgreSQL; SQLite's write lock does the same) and starts after
    the highest signature already written.
    """
    written = 0
    while True:
        with unit_of_work():
            mailing = db.session.scalar(select(Mailing).where(Mailing.id == mailing_id).with_for_update())
            if mailing is None or mailing.status == MailingStatus.WRITTEN.value:
                return written
            batch = _next_batch(mailing, batch_size)
            if not batch:
                mailing.status = MailingStatus.WRITTEN.value
                mailing.finished_at = utcnow()
                return written
            _write_batch(mailing, batch)
        written += len(batch)


def _next_batch(mailing: Mailing, batch_size: int) -> list[Signature]:
    last = db.session.scalar(
        select(func.max(MailingRecipient.signature_id)).where(MailingRecipient.mailing_id == mailing.id))
    query = audience(mailing.campaign_id, mailing.organization_id).limit(batch_size)
    if last is not None:
        query = query.where(Signature.id > last)
    return list(db.session.scalars(query))


def _write_batch(mailing: Mailing, batch: list[Signature]) -> None:
    campaign = db.session.get_one(Campaign, mailing.campaign_id)
    org = db.session.get_one(Organization, mailing.organization_id)
    base = message_context(campaign, org, mailing.title, mailing.body, None)
    subject = subject_of(org, mailing.title)
    messages = []
    for signature in batch:
        url = absolute_url("mailings.unsubscribe", token=unsubscribe_token(signature.id, org.id))
        assert signature.email is not None  # `audience` selects only signatures with an address
        # Each in the signer's language: the mail's own words, and the petition's version in it.
        with in_signers_language(campaign, signature.language) as text:
            context = {**base, "campaign": text, "unsubscribe_url": url, "name": signature.name}
            messages.append(queue_message(signature.email, subject, TEMPLATE, context, html=True, flush=False,
                                          headers=unsubscribe_headers(url)))
    db.session.flush()
    db.session.add_all(MailingRecipient(mailing_id=mailing.id, signature_id=signature.id, outbox_id=message.id)
                       for signature, message in zip(batch, messages))
    db.session.flush()


def unfinished_mailings() -> list[int]:
    """Mailings whose job has not finished (never ran, or died): the periodic sweep runs them again."""
    return list(db.session.scalars(
        select(Mailing.id).where(Mailing.status == MailingStatus.WRITING.value).order_by(Mailing.id)))


def progress(mailing: Mailing) -> dict[str, int]:
    """``queued`` (in the outbox, not yet delivered), ``sent``, ``failed``, and ``planned``, from the outbox rows."""
    row = db.session.execute(
        select(
            func.count(OutboxMessage.id),
            func.count(OutboxMessage.sent_at),
            func.count(OutboxMessage.failed_at),
        )
        .select_from(MailingRecipient)
        .join(OutboxMessage, OutboxMessage.id == MailingRecipient.outbox_id)
        .where(MailingRecipient.mailing_id == mailing.id)
    ).one()
    total, sent, failed = int(row[0]), int(row[1]), int(row[2])
    return {"planned": mailing.planned, "queued": total - sent - failed, "sent": sent, "failed": failed}


# ---------------------------------------------------------------------------------------------
# Unsubscribing


@dataclasses.dataclass(frozen=True)
class Subscription:
    """What an unsubscribe link stands for; ``consent`` is None when there is none (any more)."""

    consent: Consent | None
    signature: Signature
    organization: Organization
    campaign: Campaign

    @property
    def subscribed(self) -> bool:
        return self.consent is not None and self.consent.withdrawn_at is None


def subscription_by_token(token: str) -> Subscription:
    """:raise NotFound: the token is not one of ours, or names nothing."""
    named = read_unsubscribe_token(token)
    if named is None:
        raise NotFound(INVALID_UNSUBSCRIBE_LINK)
    signature_id, organization_id = named
    signature = db.session.get(Signature, signature_id)
    org = db.session.get(Organization, organization_id)
    if signature is None or org is None:
        raise NotFound(INVALID_UNSUBSCRIBE_LINK)
    consent = db.session.scalar(
        select(Consent).where(Consent.signature_id == signature_id, Consent.organization_id == organization_id,
                              latest_consent(Consent)))
    return Subscription(consent, signature, org, db.session.get_one(Campaign, signature.campaign_id))


def unsubscribe(token: str, now: dt.datetime | None = None) -> tuple[Subscription, bool]:
    """Withdraw the consent the link names, dated ``now``; True if this call withdrew it (again: nothing, False).

    :raise NotFound: see `subscription_by_token`.
    """
    found = subscription_by_token(token)
    if found.consent is None or not found.subscribed:
        return found, False
    found.consent.withdrawn_at = now or utcnow()
    db.session.flush()
    record(None, "consent.withdrawn", found.consent, organization_id=found.organization.id,
           details={"campaign_id": found.campaign.id, "how": "unsubscribe link"})
    return found, True
