"""A staff member's own data (issue 14, point 4): download it from the account page, delete the account."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from tests.accounts.flows import copied_session, is_signed_in, sign_in
from tests.factories import PASSWORD, add_member, make_org, make_user
from tests.helpers import csrf_token, submit, text_of
from undersign.accounts.models import User, UserSession
from undersign.audit import AuditEvent
from undersign.extensions import db
from undersign.mail import OutboxMessage
from undersign.organizations.invitations import invite
from undersign.organizations.models import Invitation, Membership, Role


def _owner_with_colleague(email: str) -> tuple[User, User, object]:
    user = make_user(email, "Ines Ortega")
    org = make_org("Hanvoice", owner=user)
    colleague = add_member(org, make_user("colleague@example.org", "Colm Byrne"), Role.ADMIN)
    return user, colleague, org


def test_download_my_data_holds_the_account_and_nobody_else(client):
    user, colleague, org = _owner_with_colleague("ines@example.org")
    membership = db.session.scalar(select(Membership).where(Membership.user_id == user.id))
    invite(membership, "newcomer@example.org", "editor")
    db.session.commit()
    sign_in(client, "ines@example.org")

    page = client.get("/account")
    assert page.status_code == 200
    assert 'href="/account/data.json"' in page.get_data(as_text=True) and "Download my data" in text_of(page)
    response = client.get("/account/data.json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith(f'attachment; filename="undersign-account-{user.id}-')
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["profile"]["email"] == "ines@example.org" and data["profile"]["name"] == "Ines Ortega"
    assert data["memberships"] == [{"organization": {"slug": org.slug, "name": "Hanvoice"}, "role": "owner",
                                    "since": data["memberships"][0]["since"]}]
    assert [s["this_session"] for s in data["sessions"]] == [True]
    assert data["invitations_sent"][0]["role"] == "editor"
    assert "invitation.created" in [e["action"] for e in data["audit_events"]]
    body = response.get_data(as_text=True)
    for other in ("colleague@example.org", "Colm Byrne", "newcomer@example.org"):
        assert other not in body


def test_download_needs_a_signed_in_account(client):
    response = client.get("/account/data.json")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_delete_my_account_removes_it_and_its_sessions(app, client):
    user, colleague, org = _owner_with_colleague("ines@example.org")
    # A second owner: Ines is not the last.
    db.session.execute(Membership.__table__.update().where(Membership.user_id == colleague.id).values(role="owner"))
    membership = db.session.scalar(select(Membership).where(Membership.user_id == user.id))
    invite(membership, "newcomer@example.org", "editor")
    db.session.add(OutboxMessage(recipient="ines@example.org", subject="Old news", body_text="..."))
    db.session.commit()
    user_id = user.id
    sign_in(client, "ines@example.org")
    other_device = copied_session(app, client)

    response = submit(client, "/account/delete", {"password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/privacy"
    db.session.expire_all()
    assert db.session.get(User, user_id) is None
    assert db.session.scalar(select(func.count()).select_from(UserSession).where(UserSession.user_id == user_id)) == 0
    assert db.session.scalar(select(func.count()).select_from(Membership).where(Membership.user_id == user_id)) == 0
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.recipient == "ines@example.org")) == 0
    assert not is_signed_in(client) and not is_signed_in(other_device)
    # The invitation she sent still works; it simply names no inviter now.
    invitation = db.session.scalar(select(Invitation).where(Invitation.email == "newcomer@example.org"))
    assert invitation is not None and invitation.invited_by_id is None and invitation.revoked_at is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.deleted"))
    assert event is not None and (event.actor_id, event.object_type, event.object_id) == (user_id, "users", user_id)
    assert event.object_label is None and "ines" not in json.dumps(event.details)
    # The colleague's account is untouched, and the address can sign up afresh.
    assert db.session.get(User, colleague.id) is not None


def test_the_last_owner_cannot_delete_the_account(client):
    user, _colleague, org = _owner_with_colleague("ines@example.org")
    sign_in(client, "ines@example.org")
    page = client.get("/account/delete")
    assert page.status_code == 200 and "You are the last owner of Hanvoice" in text_of(page)

    response = submit(client, "/account/delete", {"password": PASSWORD})
    assert response.status_code == 409
    assert "You are the last owner of Hanvoice. Make another member an owner first" in text_of(response)
    db.session.expire_all()
    assert db.session.get(User, user.id) is not None and is_signed_in(client)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "user.deleted")) == 0


def test_deleting_needs_the_password_and_the_form_token(client):
    user = make_user("alone@example.org")
    sign_in(client, "alone@example.org")
    wrong = submit(client, "/account/delete", {"password": "not my password at all"})
    assert wrong.status_code == 400 and "That is not your password." in text_of(wrong)
    empty = submit(client, "/account/delete", {"password": ""})
    assert empty.status_code == 400 and "Enter your password." in text_of(empty)
    forged = client.post("/account/delete", data={"password": PASSWORD})
    assert forged.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, user.id) is not None and is_signed_in(client)
    # With both, it goes.
    page = client.get("/account/delete")
    done = client.post("/account/delete", data={"password": PASSWORD, "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id) is None
