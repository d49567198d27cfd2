"""Staff invitations: an e-mailed, seven-day, single-use link to join an organization with a role.

Functions flush but never commit. An invitation is accepted once, by the
account whose e-mail it was sent to, within `INVITATION_LIFETIME`, unless it
was revoked; creating, revoking and accepting one is written to the audit log.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from undersign.accounts.models import User
from undersign.accounts.rules import normalize_email
from undersign.audit import record
from undersign.db import db, utcnow
from undersign.errors import Conflict, NotFound, PermissionDenied
from undersign.links import absolute_url
from undersign.mail import queue_mail
from undersign.organizations.models import Invitation, Membership, Organization, OrgStatus
from undersign.organizations.rules import INVITATION_LIFETIME, OPEN_INVITATIONS_MAX, clean_role
from undersign.organizations.service import lock, require_owner_for
from undersign.scoped import of_organization
from undersign.tokens import hash_token, new_token


def invitation_in(org: Organization, invitation_id: int) -> Invitation:
    """The invitation ``invitation_id`` *of this organization*.

    :raise NotFound: no such invitation here.
    """
    return of_organization(Invitation, invitation_id, org.id, "There is no such invitation in this organization.")


def open_invitations(org: Organization) -> list[Invitation]:
    return list(db.session.scalars(
        select(Invitation)
        .where(Invitation.organization_id == org.id, Invitation.accepted_at.is_(None),
               Invitation.revoked_at.is_(None), Invitation.expires_at > utcnow())
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    ))


def invite(actor: Membership, email: str, role: str, *, ip: str | None = None) -> Invitation:
    """E-mail ``email`` a seven-day link to join with ``role``.

    An open invitation to the same address is replaced (its link stops working).

    :raise InvalidInput: malformed address or unknown role.
    :raise PermissionDenied: a non-owner inviting an owner.
    :raise Conflict: the address already belongs to a member, or too many invitations are open.
    """
    address = normalize_email(email)
    new_role = clean_role(role)
    require_owner_for(actor, "", new_role, "invite")
    org = actor.organization
    already = db.session.scalar(
        select(Membership.id).join(User, Membership.user_id == User.id)
        .where(Membership.organization_id == org.id, User.email == address)
    )
    if already is not None:
        raise Conflict(_("%(email)s is already a member. Change their role on the members page.", email=address), field="email")
    now = utcnow()
    open_now = open_invitations(org)
    replaced = [inv for inv in open_now if inv.email == address]
    if len(open_now) - len(replaced) >= OPEN_INVITATIONS_MAX:
        raise Conflict(_("This organization has %(count)d open invitations. "
                         "Revoke some, or wait for them to be accepted.", count=OPEN_INVITATIONS_MAX), field="email")
    for old in replaced:
        old.revoked_at = now
    raw, digest = new_token()
    invitation = Invitation(
        organization_id=org.id, email=address, role=new_role.value, token_hash=digest,
        invited_by_id=actor.user_id, expires_at=now + INVITATION_LIFETIME,
    )
    db.session.add(invitation)
    db.session.flush()
    record(actor.user, "invitation.created", invitation, ip=ip, organization_id=org.id,
           details={"email": address, "role": new_role.value, "replaces": [old.id for old in replaced]})
    queue_mail(address, _("%(inviter)s invited you to join %(name)s on undersign", inviter=actor.user.name, name=org.name), "organizations/invitation",
               org=org, inviter=actor.user, role=new_role.value, expires_at=invitation.expires_at,
               accept_url=absolute_url("organizations.invitation", token=raw))
    return invitation


def revoke_invitation(actor: Membership, invitation: Invitation, *, ip: str | None = None) -> None:
    """Withdraw an open invitation; its link stops working.

    :raise Conflict: it was already accepted, revoked, or has expired.
    """
    if invitation.organization_id != actor.organization_id:
        raise NotFound(_("There is no such invitation in this organization."))
    state = invitation.state(utcnow())
    if state != "pending":
        raise Conflict({"accepted": _("This invitation is already accepted."), "revoked": _("This invitation is already revoked."),
                        "expired": _("This invitation is already expired.")}.get(state, state))
    invitation.revoked_at = utcnow()
    db.session.flush()
    record(actor.user, "invitation.revoked", invitation, ip=ip, organization_id=invitation.organization_id,
           details={"email": invitation.email, "role": invitation.role})


def invitation_by_token(raw: str) -> Invitation:
    """:raise NotFound: no invitation has this token."""
    invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash == hash_token(raw or "")))
    if invitation is None:
        raise NotFound(_("This invitation link is not valid. Check that you copied the whole link from the e-mail."))
    return invitation


def why_not_accept(user: User | None, invitation: Invitation) -> str | None:
    """Why ``user`` cannot accept ``invitation`` now, in words for the page; None if they can.

    With no user, only the invitation's own state is considered.
    """
    org = invitation.organization
    state = invitation.state(utcnow())
    problem: str | None = None
    if state == "accepted":
        problem = _("This invitation to %(name)s has already been accepted.", name=org.name)
    elif state == "revoked":
        problem = _("%(name)s has withdrawn this invitation. Ask them for a new one if you still need it.", name=org.name)
    elif state == "expired":
        problem = _("This invitation expired on %(date)s. Invitations are valid for %(days)d days; "
                    "ask %(name)s to send a new one.",
                    date=f"{invitation.expires_at:%d %B %Y}", days=INVITATION_LIFETIME.days, name=org.name)
    elif org.status == OrgStatus.SUSPENDED.value:
        problem = _("%(name)s is suspended on undersign, so nobody can join it until it is reinstated.", name=org.name)
    elif user is not None and user.email != invitation.email:
        problem = _("This invitation was sent to %(invited)s, but you are signed in as %(email)s. "
                    "Sign out, then sign in (or sign up) with %(invited)s to accept it.",
                    invited=invitation.email, email=user.email)
    return problem


def accept_invitation(user: User, raw: str, *, ip: str | None = None) -> Membership:
    """Join the organization with the invited role; returns the membership.

    Following the e-mailed link proves the address, so an unverified account
    with that address becomes verified. Someone who is already a member keeps
    their role.

    :raise NotFound: unknown token.
    :raise Conflict: accepted, revoked or expired.
    :raise PermissionDenied: signed in with another e-mail address.
    """
    invitation = invitation_by_token(raw)
    org = invitation.organization
    lock(org)
    db.session.refresh(invitation)
    reason = why_not_accept(None, invitation)
    if reason is not None:
        raise Conflict(reason)
    reason = why_not_accept(user, invitation)
    if reason is not None:
        raise PermissionDenied(reason)
    invitation.accepted_at = utcnow()
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    membership = db.session.scalar(
        select(Membership).where(Membership.organization_id == org.id, Membership.user_id == user.id)
    )
    record(user, "invitation.accepted", invitation, ip=ip, organization_id=org.id,
           details={"email": invitation.email, "role": invitation.role, "already_member": membership is not None})
    if membership is None:
        membership = Membership(organization_id=org.id, user_id=user.id, role=invitation.role)
        db.session.add(membership)
        db.session.flush()
        record(user, "membership.created", membership, ip=ip, organization_id=org.id,
               details={"user_id": user.id, "email": user.email, "role": invitation.role,
                        "via": "invitation", "invitation_id": invitation.id})
    db.session.flush()
    return membership
