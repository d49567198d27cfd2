"""Platform moderation: administrators' decisions on organizations.

Events are written and read through `undersign.audit`, which imports no domain.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from undersign.accounts.models import User
from undersign.audit import record
from undersign.campaigns.models import Campaign, CampaignStatus, Sponsorship, SponsorshipStatus
from undersign.campaigns.notices import OWNERS, members_with
from undersign.db import db, utcnow
from undersign.errors import Conflict, InvalidInput, PermissionDenied
from undersign.links import absolute_url
from undersign.mail import queue_mail
from undersign.moderation.rules import DECISIONS, REASON_MAX, Decision, decided_subject, too_late
from undersign.organizations.models import Membership, Organization, Role
from undersign.organizations.rules import clean_text
from undersign.text import skeletons

# The statuses of a petition the public has seen (a draft was never shown).
SHOWN_STATUSES = (CampaignStatus.PUBLISHED.value, CampaignStatus.CLOSED.value, CampaignStatus.VICTORY.value)


def decide(admin: User, org: Organization, decision: Decision, reason: str = "", *, ip: str | None = None) -> None:
    """Approve, reject, suspend or reinstate ``org``; its owners are e-mailed the decision and the reason.

    Rejecting and suspending need a reason: the owners read it on their dashboard.
    On suspending and reinstating, the owners of the other organizations that sponsor a
    petition with ``org`` hear of it too (without the reason: it is for ``org``'s owners).

    :raise PermissionDenied: ``admin`` is not a platform administrator.
    :raise InvalidInput: a reason is needed and missing, or is too long / has control characters.
    :raise Conflict: the decision does not apply to the organization's current status
        (another administrator may have decided first).
    """
    if not admin.is_admin:
        raise PermissionDenied(_("Only platform administrators decide on organizations."))
    sources, target, reason_required, action = DECISIONS[decision]
    reason = clean_text(reason, field="reason", label=_("The reason"), max_length=REASON_MAX)
    if reason_required and not reason:
        raise InvalidInput(_("Give a reason: the organization's owners will read it."), field="reason")
    db.session.execute(select(Organization.id).where(Organization.id == org.id).with_for_update())
    db.session.refresh(org)
    if org.status not in sources:
        raise Conflict(too_late(decision, org.name, org.status))
    previous = org.status
    org.status = target
    org.status_reason = reason or None
    org.status_changed_at = utcnow()
    db.session.flush()
    record(admin, action, org, ip=ip, organization_id=org.id, details={"from": previous, "to": target, "reason": reason})
    _tell_owners(org, decision, reason)
    if decision in (Decision.SUSPEND, Decision.REINSTATE):
        _tell_partners(org, decision)


def _tell_owners(org: Organization, decision: Decision, reason: str) -> None:
    owners = owners_of(org)
    subject = decided_subject(decision, org.name)
    console_url = absolute_url("org_console.dashboard", org=org.slug)
    for owner in owners:
        queue_mail(owner.email, subject, "moderation/decision",
                   owner=owner, org=org, decision=decision.value, reason=reason, console_url=console_url)


def _tell_partners(org: Organization, decision: Decision) -> None:
    """One mail to each owner of every approved organization that sponsors, with ``org``, a petition the
    public has seen, listing those petitions: the ones ``org`` leads are unavailable (or open again),
    on the others ``org`` disappears (or appears again)."""
    shared = select(Sponsorship.campaign_id).where(
        Sponsorship.organization_id == org.id, Sponsorship.status == SponsorshipStatus.ACCEPTED.value)
    campaigns = db.session.scalars(
        select(Campaign).where(Campaign.id.in_(shared), Campaign.status.in_(SHOWN_STATUSES))
        .options(selectinload(Campaign.sponsorships)).order_by(Campaign.id)
    ).all()
    partners: dict[int, tuple[Organization, list[Campaign]]] = {}
    for campaign in campaigns:
        for sponsorship in campaign.accepted_sponsorships:
            partner = sponsorship.organization
            if partner.id != org.id and partner.is_approved:
                partners.setdefault(partner.id, (partner, []))[1].append(campaign)
    suspended = decision is Decision.SUSPEND
    for partner, petitions in partners.values():
        subject = (_("%(org)s is suspended: petitions %(partner)s sponsors with it", org=org.name, partner=partner.name)
                   if suspended else
                   _("%(org)s is reinstated: petitions %(partner)s sponsors with it", org=org.name, partner=partner.name))
        listed = [(c, c.lead_organization_id == org.id, absolute_url("campaigns.detail", org=partner.slug, slug=c.slug))
                  for c in petitions]
        for person in members_with(partner, OWNERS):
            queue_mail(person.email, subject, "moderation/partner_decision", person=person, partner=partner,
                       org=org, suspended=suspended, petitions=listed)


def members_of(org: Organization) -> list[Membership]:
    """Everyone in ``org`` with their role, owners first, then by name."""
    order = {role.value: n for n, role in enumerate(Role)}
    memberships = db.session.scalars(
        select(Membership).where(Membership.organization_id == org.id).options(joinedload(Membership.user))
    ).all()
    return sorted(memberships, key=lambda m: (order.get(m.role, len(order)), m.user.name.casefold(), m.id))


def sponsorships_of(org: Organization) -> list[Sponsorship]:
    """Every petition ``org`` leads or was asked to co-sponsor (any status), the newest first."""
    return list(db.session.scalars(
        select(Sponsorship).where(Sponsorship.organization_id == org.id)
        .options(joinedload(Sponsorship.campaign)).order_by(Sponsorship.campaign_id.desc())
    ))


def organizations_by_status(status: str) -> list[Organization]:
    """The organizations in ``status``; the oldest pending first (a queue), the newest change first otherwise."""
    query = select(Organization).where(Organization.status == status)
    if status == "pending":
        query = query.order_by(Organization.status_changed_at.asc(), Organization.id.asc())
    else:
        query = query.order_by(Organization.status_changed_at.desc(), Organization.id.desc())
    return list(db.session.scalars(query))


def status_counts() -> dict[str, int]:
    rows = db.session.execute(select(Organization.status, func.count()).group_by(Organization.status)).all()
    return {status: count for status, count in rows}


def lookalikes(orgs: list[Organization]) -> dict[int, list[Organization]]:
    """For each of ``orgs``, the other organizations (any status) whose name a reader could take
    for its name: the same Unicode skeleton (`undersign.text.skeletons`), as "Hanv\u043eice" (a
    Cyrillic o), "HANVOICE" or "Han voice" have with Hanvoice.

    Names pass the input rules either way; the administrator decides whether it is an impostor.
    One read of the names, then a look-up per skeleton.
    """
    by_skeleton: dict[str, set[int]] = {}
    for org_id, name in db.session.execute(select(Organization.id, Organization.name)):
        for key in skeletons(name):
            by_skeleton.setdefault(key, set()).add(org_id)
    matches = {org.id: set().union(*(by_skeleton.get(key, set()) for key in skeletons(org.name))) - {org.id}
               for org in orgs}
    wanted = set().union(*matches.values()) if matches else set()
    found = {o.id: o for o in db.session.scalars(select(Organization).where(Organization.id.in_(wanted)))} if wanted else {}
    return {org_id: sorted((found[i] for i in ids), key=lambda o: o.id) for org_id, ids in matches.items() if ids}


def owners_of(org: Organization) -> list[User]:
    return list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organization_id == org.id, Membership.role == Role.OWNER.value)
        .order_by(User.id)
    ))
