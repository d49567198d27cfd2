"""A sponsor's supporters as a CSV: the signers of a campaign who consented to that organization.

Co-sponsors share the count, not the people (DESIGN §9): the query is built
around the ``consents`` row of the exporting organization, so no filter can
reach a signer who did not tick its box, and a supporter who unsubscribed from
it since (``Consent.withdrawn_at``) is listed, when asked for, without name,
e-mail, postcode or comment. The rows are streamed from a
server-side cursor in batches (`csv_chunks`), so memory stays flat however
many there are and the first line leaves before the last row is read.

Every export leaves a trace before its first row is sent: `start_export`
writes the audit event (who, when, which filters) in the request's
transaction, and `csv_chunks`, once the last row is out (or the download was
cut off), appends a second event with the number of rows sent, in its own unit of work
(the audit log is append-only: the first event is never changed).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator, Sequence
from typing import Any, Unpack

from sqlalchemy import Select, and_, or_, select

from undersign import audit
from undersign.accounts.models import User
from undersign.audit import AuditEvent
from undersign.campaigns.models import Campaign, Sponsorship
from undersign.db import db, set_unit_writes
from undersign.transaction import unit_of_work
from undersign.organizations.models import Organization
from undersign.signatures.models import Consent, Signature, latest_consent
from undersign.signatures.rules import ExportFilters, ExportStatus
from undersign.text import FORMULA_STARTS

EXPORTED = "supporters.exported"
EXPORT_FINISHED = "supporters.export_finished"
BATCH_ROWS = 1000
COLUMNS = (
    "Name", "E-mail", "Country", "Postcode", "Comment", "Signed at (UTC)", "Confirmed at (UTC)",
    "Consent wording", "Consented at (UTC)", "Sponsor credited", "Source", "Status", "Consent withdrawn at (UTC)",
)
# OWASP's list for CSV injection: what a spreadsheet runs as a formula, plus tab and carriage return.
_NEUTRALIZE = FORMULA_STARTS + ("\t", "\r")


def neutralize(cell: str) -> str:
    """The cell as a spreadsheet shows it as text: a leading ``'`` when it could start a formula."""
    return "'" + cell if cell.startswith(_NEUTRALIZE) else cell


def supporters_query(campaign_id: int, organization_id: int, filters: ExportFilters) -> Select[Unpack[tuple[Any, ...]]]:
    """The rows of the export, oldest signature first: only signatures with a consent to ``organization_id``."""
    consenting = and_(Signature.counted(), Consent.current())
    # A withdrawn signature is erased (and its consents with it); an unsubscribed supporter's row stays,
    # its personal columns left out by `_cells`. A signature never confirmed is in neither.
    left = or_(Signature.withdrawn_at.is_not(None),
               and_(Signature.confirmed_at.is_not(None), Signature.invalidated_at.is_(None), ~Consent.current()))
    state = {ExportStatus.CONFIRMED: consenting, ExportStatus.WITHDRAWN: left}.get(filters.status, or_(consenting, left))
    query: Select[Unpack[tuple[Any, ...]]] = (
        select(
            Signature.name, Signature.email, Signature.country, Signature.postcode, Signature.comment,
            Signature.created_at, Signature.confirmed_at, Consent.wording, Consent.created_at.label("consented_at"),
            Organization.name.label("sponsor"), Signature.source, Signature.withdrawn_at,
            Consent.withdrawn_at.label("unsubscribed_at"),
        )
        .select_from(Signature)
        .join(Consent, and_(Consent.signature_id == Signature.id, Consent.organization_id == organization_id,
                            latest_consent(Consent)))
        .join(Sponsorship, Sponsorship.id == Signature.sponsorship_id)
        .join(Organization, Organization.id == Sponsorship.organization_id)
        .where(Signature.campaign_id == campaign_id, state)
        .order_by(Signature.id)
    )
    if filters.signed_from is not None:
        query = query.where(Signature.created_at >= _midnight(filters.signed_from))
    if filters.signed_to is not None:
        query = query.where(Signature.created_at < _midnight(filters.signed_to + dt.timedelta(days=1)))
    return query


def start_export(actor: User, organization: Organization, campaign: Campaign, filters: ExportFilters, *,
                 ip: str | None) -> AuditEvent:
    """Record that ``actor`` exports ``organization``'s supporters of ``campaign``, in the caller's transaction.

    The number of rows is not known yet: `csv_chunks` records it in a second event when the download ends.
    """
    return audit.record(actor, EXPORTED, campaign, ip=ip, organization_id=organization.id,
                        details={"filters": filters.as_details(), "rows": None, "complete": False})


def csv_chunks(campaign_id: int, organization_id: int, filters: ExportFilters, event_id: int, *,
               batch: int = BATCH_ROWS) -> Iterator[str]:
    """The CSV text, a byte-order mark first (Excel then reads UTF-8), one chunk per ``batch`` rows.

    Runs after the request's transaction has been committed: it reads in a
    transaction of its own that takes no write lock (a long download must not
    hold up signing on SQLite), then records the row count in an event following ``event_id``,
    in a unit of work, also when the client stops reading half-way.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    yield "\ufeff" + _take(out)
    sent = 0
    complete = False
    set_unit_writes(False)  # the request wrote its audit event and committed; this only reads
    try:
        result = db.session.execute(supporters_query(campaign_id, organization_id, filters),
                                    execution_options={"yield_per": batch})
        for rows in result.partitions():
            for row in rows:
                writer.writerow(_cells(row))
            sent += len(rows)
            yield _take(out)
        result.close()
        complete = True
    finally:
        db.session.rollback()  # ends the read (and its server-side cursor) before writing
        with unit_of_work():
            audit.follow_up(event_id, EXPORT_FINISHED, {"rows": sent, "complete": complete})


def _cells(row: Sequence[Any]) -> list[str]:
    """One CSV line; a supporter who unsubscribed from this organization is a date, not a person, to it."""
    (name, email, country, postcode, comment, signed, confirmed, wording, consented, sponsor, source, withdrawn,
     unsubscribed) = row
    status = "withdrawn" if withdrawn is not None else "unsubscribed" if unsubscribed is not None else "confirmed"
    if status != "confirmed":
        name = email = postcode = comment = None
    values = (name, email, country, postcode, comment, _moment(signed), _moment(confirmed), wording,
              _moment(consented), sponsor, source, status, _moment(unsubscribed))
    return [neutralize(value or "") for value in values]


def _take(out: io.StringIO) -> str:
    text = out.getvalue()
    out.seek(0)
    out.truncate()
    return text


def _moment(value: dt.datetime | None) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if value is not None else ""


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.timezone.utc)
