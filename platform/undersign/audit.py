"""The audit log: who did what to which object, when, and from where.

Every domain writes to it (`record`) in the transaction of the change it
describes; platform administrators read all of it (`undersign.moderation`),
an organization's owners read its part (`undersign.organizations`). It sits
outside the domains so that writing or reading an event imports none of them.

The log is append-only. The application has no way to change or remove an
event: the ORM refuses to flush an update or a delete of an `AuditEvent` and
to run an ORM ``update()``/``delete()`` on it (`AuditLogIsAppendOnly`), and the
database itself refuses ``UPDATE`` and ``DELETE`` on ``audit_events`` through
triggers (`append_only_triggers`, created with the table and by the migration).
Events keep plain ids, not foreign keys, of their actor and organization, so that
deleting a user or an organization never touches (``ON DELETE SET NULL``) the
history that outlives them.

What is kept about people is kept small: the actor by id only (the page shows the
account's current e-mail, or "deleted account"); the client's address only as a
keyed hash (`ip_hash`); a label of the object as it was named at the time, which is
the e-mail for a membership, an invitation or an account (the one identifier staff
recognise), and nothing for a signature or a supporter's consent.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Select, String, event, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, UOWTransaction, mapped_column
from sqlalchemy.schema import Table

from undersign.accounts.models import User
from undersign.db import ROW_ID_MAX, Model, db, is_row_id, utcnow
from undersign.text import has_control_characters
from undersign.tokens import keyed_hash

LABEL_MAX = 200


class AuditLogIsAppendOnly(RuntimeError):
    """Code tried to change or remove an audit event. A programming error, never a user's."""


class AuditEvent(Model):
    """Who (actor) did what (action) to which object, in which organization, when (UTC), from where (IP hash)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Plain ids, not foreign keys: the history outlives the accounts and organizations it names.
    actor_id: Mapped[int | None] = mapped_column(index=True)
    organization_id: Mapped[int | None] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int | None]
    object_label: Mapped[str | None] = mapped_column(String(LABEL_MAX))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


def ip_hash(address: str | None) -> str | None:
    """The client address as a keyed hash: the same address gives the same hash, and the address cannot be read back.

    Its own key (not the signatures'), so that an audit event cannot be matched with a supporter's signature.
    """
    if not address:
        return None
    return keyed_hash("audit.ip-hash", address.encode("utf-8", "replace")).hex()


def _label(object_type: str, subject: Any) -> str | None:
    """How the object was named when the event happened; nothing about supporters."""
    label: str | None
    if object_type in ("campaigns", "updates"):
        label = subject.title
    elif object_type in ("organizations", "api_tokens"):
        label = subject.name
    elif object_type in ("users", "invitations"):
        label = subject.email
    elif object_type == "memberships":
        label = subject.user.email
    elif object_type == "sponsorships":
        label = f"{subject.organization.name} on {subject.campaign.title}"
    elif object_type == "webhook_endpoints":
        label = urlsplit(subject.url).netloc  # the host only: a path or query may carry a secret
    else:
        label = None
    return label[:LABEL_MAX] if label else None


def record(actor: User | None, action: str, subject: Any, *, ip: str | None = None,
           organization_id: int | None = None, details: dict[str, Any] | None = None) -> AuditEvent:
    """Write an audit event for ``action`` on ``subject`` (any model with an ``id``), in the caller's transaction.

    ``action`` is a dotted name such as ``sponsorship.invited`` or ``organization.approved``;
    ``ip`` is the client's address when a request caused it (None from jobs and the CLI): only its
    keyed hash is stored. ``details`` say what changed (field names, counts, reasons), never a text.
    """
    kind = type(subject)
    object_type = getattr(kind, "__tablename__", None) or kind.__name__.lower()
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        organization_id=organization_id,
        action=action,
        object_type=object_type,
        object_id=getattr(subject, "id", None),
        object_label=_label(object_type, subject),
        details=details or {},
        ip_hash=ip_hash(ip),
    )
    db.session.add(event)
    db.session.flush()
    return event


def follow_up(event_id: int, action: str, details: dict[str, Any]) -> AuditEvent | None:
    """Append what became known after event ``event_id`` (a download's row count, say) as an event of
    its own, with the same actor, organization, object and address; None if there is no such event.

    The first event stays as it was written: the log is never changed.
    """
    first = db.session.get(AuditEvent, event_id)
    if first is None:
        return None
    event = AuditEvent(
        actor_id=first.actor_id, organization_id=first.organization_id, action=action,
        object_type=first.object_type, object_id=first.object_id, object_label=first.object_label,
        details={"event": first.id, **details}, ip_hash=first.ip_hash,
    )
    db.session.add(event)
    db.session.flush()
    return event


# --- append-only --------------------------------------------------------------------------------


@event.listens_for(Session, "before_flush")
def _refuse_changes(session: Session, flush_context: UOWTransaction, instances: object) -> None:
    if any(isinstance(obj, AuditEvent) for obj in session.deleted):
        raise AuditLogIsAppendOnly("Audit events are never deleted.")
    if any(isinstance(obj, AuditEvent) and session.is_modified(obj) for obj in session.dirty):
        raise AuditLogIsAppendOnly("Audit events are never changed.")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and any(
            m.class_ is AuditEvent for m in state.all_mappers):
        raise AuditLogIsAppendOnly("Audit events are never changed or deleted.")


def append_only_triggers(dialect: str) -> list[str]:
    """The statements that make the database refuse UPDATE and DELETE on ``audit_events``.

    PostgreSQL: one row trigger (TRUNCATE, an operator's tool, stays possible). SQLite: two.
    The migration that introduced them holds a copy of these statements, as migrations must.
    """
    if dialect == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION USING MESSAGE = 'audit_events is append-only: ' || TG_OP || ' refused'; END $$",
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
        ]
    if dialect == "sqlite":
        return [
            "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
            "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused'); END",
            "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
            "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused'); END",
        ]
    return []


@event.listens_for(AuditEvent.__table__, "after_create")
def _create_triggers(table: Table, connection: Connection, **kw: Any) -> None:
    """``metadata.create_all`` (the tests' databases) gets the triggers the migration creates."""
    for statement in append_only_triggers(connection.dialect.name):
        connection.exec_driver_sql(statement)


# --- reading ------------------------------------------------------------------------------------

# Readable names of the actions, in the reader's language; an action not listed reads as its words
# ("webhook.resent": "Webhook resent"), untranslated.
ACTION_LABELS = {
    "membership.role_changed": _l("Role changed"),
    "membership.created": _l("Member added"),
    "membership.removed": _l("Member removed"),
    "membership.left": _l("Member left"),
    "invitation.created": _l("Invitation sent"),
    "invitation.accepted": _l("Invitation accepted"),
    "invitation.revoked": _l("Invitation revoked"),
    "sponsorship.created": _l("Petition led"),
    "sponsorship.invited": _l("Co-sponsor invited"),
    "sponsorship.accepted": _l("Co-sponsorship accepted"),
    "sponsorship.declined": _l("Co-sponsorship declined"),
    "sponsorship.withdrawn": _l("Co-sponsorship withdrawn"),
    "sponsorship.removed": _l("Co-sponsor removed"),
    "campaign.created": _l("Petition drafted"),
    "campaign.edited": _l("Petition edited"),
    "campaign.translation_added": _l("Language version added"),
    "campaign.translation_edited": _l("Language version edited"),
    "campaign.translation_removed": _l("Language version removed"),
    "campaign.published": _l("Petition published"),
    "campaign.closed": _l("Petition closed"),
    "campaign.victory": _l("Petition marked as won"),
    "supporters.exported": _l("Supporters exported"),
    "supporters.export_finished": _l("Supporters' export finished"),
    "api_token.created": _l("API token created"),
    "api_token.revoked": _l("API token revoked"),
    "webhook.created": _l("Webhook added"),
    "webhook.enabled": _l("Webhook turned on"),
    "webhook.disabled": _l("Webhook turned off"),
    "webhook.deleted": _l("Webhook deleted"),
    "webhook.resent": _l("Webhook delivery sent again"),
    "organization.created": _l("Organization created"),
    "organization.updated": _l("Profile changed"),
    "organization.resubmitted": _l("Review asked for again"),
    "organization.approved": _l("Organization approved"),
    "organization.rejected": _l("Organization rejected"),
    "organization.suspended": _l("Organization suspended"),
    "organization.reinstated": _l("Organization reinstated"),
    "signature.invalidated": _l("Signature invalidated"),
    "update.posted": _l("Update posted"),
    "update.edited": _l("Update edited"),
    "update.deleted": _l("Update deleted"),
    "update.mailed": _l("Update e-mailed"),
    "consent.withdrawn": _l("Supporter unsubscribed"),
    "user.made_admin": _l("Made a platform administrator"),
    "organization.two_factor_required": _l("Second factor required of members"),
    "campaign.taken_down": _l("Petition taken down"),
    "campaign.restored": _l("Petition restored"),
    "campaign.anonymized": _l("Petition's supporters anonymized"),
    "report.resolved": _l("Report resolved"),
    "report.dismissed": _l("Report dismissed"),
    "blocked_domain.added": _l("E-mail domain blocked"),
    "blocked_domain.removed": _l("E-mail domain unblocked"),
    "blocked_range.added": _l("Address range blocked"),
    "blocked_range.removed": _l("Address range unblocked"),
    "signatures.recorded": _l("Signatures recorded"),
    "signatures.released": _l("Held signatures released"),
    "signatures.invalidated": _l("Held signatures invalidated"),
    "signatures.bulk_invalidation_started": _l("Bulk invalidation started"),
    "signatures.bulk_invalidated": _l("Signatures invalidated in bulk"),
    "signatures.bulk_invalidation_reversing": _l("Bulk invalidation being reversed"),
    "signatures.bulk_invalidation_reversed": _l("Bulk invalidation reversed"),
    "signatures.unconfirmed_deleted": _l("Unconfirmed signatures deleted"),
    "consent.given": _l("Supporter agreed to hear from the sponsor"),
    "supporter.erased": _l("Supporter's data erased"),
    "user.deleted": _l("Account deleted"),
    "delivery.recipient": _l("Decision maker recorded"),
    "delivery.link_sent": _l("Response link sent to the decision maker"),
    "delivery.link_revoked": _l("Response link revoked"),
    "delivery.link_viewed": _l("Response link opened"),
    "delivery.link_downloaded": _l("Delivery packet downloaded through the response link"),
    "delivery.link_posted": _l("Response form sent"),
    "delivery.link_refused": _l("Expired or revoked response link used"),
    "delivery.responded": _l("Decision maker responded"),
    "delivery.outcome": _l("Outcome recorded"),
}


def action_label(action: str) -> str:
    if action in ACTION_LABELS:
        return str(ACTION_LABELS[action])
    words = action.replace(".", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


@dataclasses.dataclass(frozen=True)
class AuditFilter:
    """What to show of the log. Every field narrows it; None leaves it open."""

    organization_id: int | None = None
    actor: str | None = None          # an account's e-mail (any case) or its id
    action: str | None = None         # a prefix of the dotted name: "sponsorship." or "sponsorship.invited"
    object_type: str | None = None    # a table name: "campaigns", "memberships", ...
    since: dt.date | None = None      # UTC days, both ends included
    until: dt.date | None = None

    def as_args(self, *, with_organization: bool = True) -> dict[str, str]:
        """The filter as query-string arguments (for the pager's links); an organization's own log
        (``with_organization`` False) has its organization in the path instead."""
        args = {"org": self.organization_id if with_organization else None, "actor": self.actor,
                "action": self.action, "object": self.object_type, "since": self.since, "until": self.until}
        return {k: str(v) for k, v in args.items() if v is not None}


@dataclasses.dataclass(frozen=True)
class ParsedFilter:
    filter: AuditFilter
    problems: dict[str, str]  # argument → what is wrong with it, in words for the page


def _text_arg(args: Mapping[str, str], name: str, max_length: int) -> str | None:
    value = (args.get(name) or "").strip()[:max_length]  # longer matches nothing, as the cut one does not
    if not value or has_control_characters(value):
        return None  # ignored, as an unknown status is
    return value


def _date_arg(args: Mapping[str, str], name: str, problems: dict[str, str]) -> dt.date | None:
    value = (args.get(name) or "").strip()
    if not value:
        return None
    try:
        return dt.datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        problems[name] = _("Give a date as YYYY-MM-DD, e.g. 2026-12-03.")
        return None


def parse_filter(args: Mapping[str, str], *, organization_id: int | None = None,
                 any_organization: bool = False) -> ParsedFilter:
    """The filter from query-string ``args``.

    ``any_organization`` (administrators) reads ``org`` from the arguments; otherwise the log is
    fixed to ``organization_id`` and ``org`` is not read. A text that could match nothing (control
    characters, too long) and an id out of range are ignored; a malformed date is a problem to show.
    """
    problems: dict[str, str] = {}
    if any_organization:
        raw = (args.get("org") or "").strip()
        org_id = int(raw) if raw.isdigit() and len(raw) <= 10 else None
        organization_id = org_id if is_row_id(org_id) else None
    since, until = _date_arg(args, "since", problems), _date_arg(args, "until", problems)
    if since and until and since > until:
        problems["until"] = _("The end date is before the start date.")
    return ParsedFilter(AuditFilter(
        organization_id=organization_id,
        actor=_text_arg(args, "actor", 254),
        action=_text_arg(args, "action", 64),
        object_type=_text_arg(args, "object", 32),
        since=since, until=until,
    ), problems)


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.timezone.utc)


def events_query(chosen: AuditFilter) -> Select[AuditEvent]:
    """The events ``chosen`` lets through, newest first."""
    query = select(AuditEvent).order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    if chosen.organization_id is not None:
        query = query.where(AuditEvent.organization_id == chosen.organization_id)
    if chosen.actor is not None:
        if chosen.actor.isdigit() and len(chosen.actor) <= 10:
            actor_id = int(chosen.actor)
            query = query.where(AuditEvent.actor_id == (actor_id if actor_id <= ROW_ID_MAX else -1))
        else:
            query = query.where(AuditEvent.actor_id.in_(
                select(User.id).where(func.lower(User.email) == chosen.actor.lower())))
    if chosen.action is not None:
        query = query.where(AuditEvent.action.startswith(chosen.action, autoescape=True))
    if chosen.object_type is not None:
        query = query.where(AuditEvent.object_type == chosen.object_type)
    if chosen.since is not None:
        query = query.where(AuditEvent.created_at >= _day_start(chosen.since))
    if chosen.until is not None and chosen.until < dt.date.max:
        query = query.where(AuditEvent.created_at < _day_start(chosen.until + dt.timedelta(days=1)))
    return query


def actors_of(events: list[AuditEvent]) -> dict[int, User]:
    """The accounts that still exist among the events' actors, by id."""
    ids = {e.actor_id for e in events if e.actor_id is not None}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def object_types(organization_id: int | None = None) -> list[str]:
    """The kinds of object in the log (of one organization, if given), for the filter's choices."""
    query = select(AuditEvent.object_type).distinct().order_by(AuditEvent.object_type)
    if organization_id is not None:
        query = query.where(AuditEvent.organization_id == organization_id)
    return list(db.session.scalars(query))
