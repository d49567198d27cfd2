"""Inviting colleagues by e-mail, and accepting through the mailed link."""

from __future__ import annotations

import datetime as dt
import io
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.factories import PASSWORD, add_member, login_as, make_org, make_user
from tests.helpers import csrf_token, submit, text_of
from tests.organizations.support import audit_actions, events
from undersign.audit import ip_hash
from undersign.extensions import db
from undersign.mail import OutboxMessage
from undersign.organizations.models import Invitation, Membership, Role


def invite(client, org, email, role="editor"):  # type: ignore[no-untyped-def]
    return submit(client, f"/orgs/{org.slug}/members/invite", {"email": email, "role": role})


def membership(org, user) -> Membership | None:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(Membership).where(Membership.organization_id == org.id,
                                                      Membership.user_id == user.id))


def outbox_count() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage)) or 0


def invitation_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Invitation)) or 0


def test_newcomer_signs_up_through_the_invitation_and_joins(app, client, mailbox):
    owner = make_user(name="Olive Owner")
    org = make_org("Hanvoice", owner=owner)
    login_as(client, owner)
    response = invite(client, org, "New.Person@Example.org", "editor")
    assert response.status_code == 302
    assert "new.person@example.org" in text_of(client.get(response.headers["Location"]))
    mail = mailbox.last_to("new.person@example.org")
    assert "Olive Owner invited you to join Hanvoice" in mail.subject
    link = mail.link("/invitations/")

    newcomer = app.test_client()
    page = newcomer.get(link)
    assert page.status_code == 200
    text = text_of(page)
    assert "Join Hanvoice" in text and "editor" in text
    assert "Sign in" in text and "Create an account" in text and "bring you back" in text

    response = submit(newcomer, "/signup", {"name": "Nia New", "email": "new.person@example.org",
                                            "password": "a long enough passphrase"})
    assert response.status_code == 200
    verify = mailbox.last_to("new.person@example.org").link("/verify/")
    response = submit(newcomer, verify, {})
    assert response.status_code == 302
    response = submit(newcomer, "/login", {"email": "new.person@example.org", "password": "a long enough passphrase"})
    # Sign-in lands on /orgs, which resumes the invitation opened before signing up.
    assert response.status_code == 302
    response = newcomer.get(response.headers["Location"])
    assert response.status_code == 302 and response.headers["Location"].endswith(link)
    page = newcomer.get(link)
    assert page.status_code == 200 and "Accept and join Hanvoice" in text_of(page)

    response = submit(newcomer, link, {}, action=link + "/accept")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/orgs/{org.slug}/")
    joined = db.session.scalar(select(Membership).join(Membership.user).where(Membership.organization_id == org.id,
                                                                                Membership.role == "editor"))
    assert joined is not None and joined.user.email == "new.person@example.org"
    assert "Welcome to Hanvoice" in text_of(newcomer.get(response.headers["Location"]))
    assert audit_actions(org.id)[-3:] == ["invitation.created", "invitation.accepted", "membership.created"]

    # The link is spent: following it again just leads the member to the console.
    again = newcomer.get(link)
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/orgs/{org.slug}/")


def test_existing_account_signs_in_and_returns_to_the_invitation(app, client, mailbox):
    owner = make_user()
    org = make_org("Fathom", owner=owner)
    colleague = make_user("colleague@example.org")
    login_as(client, owner)
    invite(client, org, colleague.email, "viewer")
    link = mailbox.last_to(colleague.email).link("/invitations/")

    other = app.test_client()
    page = other.get(link).get_data(as_text=True)
    sign_in = unescape(re.search(r'href="(/login\?[^"]+)"', page).group(1))
    target = parse_qs(urlsplit(sign_in).query)["next"][0]
    assert target == link
    response = submit(other, sign_in, {"email": colleague.email, "password": PASSWORD, "next": target})
    assert response.status_code == 302 and response.headers["Location"].endswith(link)
    response = submit(other, link, {}, action=link + "/accept")
    assert response.status_code == 302
    assert membership(org, colleague).role == "viewer"


def test_only_the_invited_address_can_accept(app, client, mailbox):
    owner = make_user()
    org = make_org(owner=owner)
    login_as(client, owner)
    invite(client, org, "invited@example.org")
    link = mailbox.last_to("invited@example.org").link("/invitations/")

    intruder = make_user("someone.else@example.org")
    other = app.test_client()
    login_as(other, intruder)
    page = other.get(link)
    assert page.status_code == 403
    text = text_of(page)
    assert "sent to invited@example.org" in text and "signed in as someone.else@example.org" in text
    assert "Sign out" in text
    response = submit(other, "/orgs", {}, action=link + "/accept")
    assert response.status_code == 403
    assert membership(org, intruder) is None
    assert db.session.scalar(select(Invitation.accepted_at)) is None


def test_expired_revoked_and_unknown_links_explain_themselves(app, client, mailbox):
    owner = make_user()
    org = make_org("Hanvoice", owner=owner)
    invitee = make_user("late@example.org")
    login_as(client, owner)
    invite(client, org, invitee.email)
    link = mailbox.last_to(invitee.email).link("/invitations/")
    guest = app.test_client()
    login_as(guest, invitee)

    offer = db.session.scalar(select(Invitation))
    offer.expires_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)
    db.session.commit()
    page = guest.get(link)
    assert page.status_code == 410 and "expired" in text_of(page) and "7 days" in text_of(page)
    assert submit(guest, "/orgs", {}, action=link + "/accept").status_code == 409
    assert membership(org, invitee) is None

    # A fresh invitation replaces the old one; the owner then revokes it.
    invite(client, org, invitee.email)
    link = mailbox.last_to(invitee.email).link("/invitations/")
    fresh = db.session.scalar(select(Invitation).order_by(Invitation.id.desc()))
    response = submit(client, f"/orgs/{org.slug}/members", {},
                      action=f"/orgs/{org.slug}/invitations/{fresh.id}/revoke")
    assert response.status_code == 302
    page = guest.get(link)
    assert page.status_code == 410 and "withdrawn" in text_of(page)
    assert submit(guest, "/orgs", {}, action=link + "/accept").status_code == 409
    assert membership(org, invitee) is None
    assert events(org.id, "invitation.revoked")[0].details["email"] == invitee.email
    # Revoking twice is refused with a message.
    response = submit(client, f"/orgs/{org.slug}/members", {},
                      action=f"/orgs/{org.slug}/invitations/{fresh.id}/revoke")
    assert response.status_code == 409 and "already revoked" in text_of(response)

    page = guest.get("/invitations/not-a-real-token")
    assert page.status_code == 404 and "not valid" in text_of(page)


def test_inviting_again_replaces_the_earlier_link(client, mailbox):
    owner = make_user()
    org = make_org(owner=owner)
    login_as(client, owner)
    invite(client, org, "twice@example.org")
    first = mailbox.last_to("twice@example.org").link("/invitations/")
    invite(client, org, "twice@example.org", "admin")
    second = mailbox.last_to("twice@example.org").link("/invitations/")
    assert first != second
    assert client.get(first).status_code == 410
    members_page = text_of(client.get(f"/orgs/{org.slug}/members"))
    assert members_page.count("twice@example.org") == 1


def test_invite_rules(client, mailbox):
    owner = make_user()
    org = make_org(owner=owner)
    admin = add_member(org, role=Role.ADMIN)
    existing = add_member(org, make_user("already@example.org"), role=Role.VIEWER)
    login_as(client, admin)

    response = invite(client, org, "boss@example.org", "owner")
    assert response.status_code == 403 and "Only an owner can invite an owner" in text_of(response)
    response = invite(client, org, existing.email.upper(), "editor")
    assert response.status_code == 409 and "already a member" in text_of(response)
    for bad_email in ["", "not-an-address", "a@b", "x" * 250 + "@example.org", "<script>@example.org",
                      "ann@example.org\r\nBcc: all@example.org"]:
        response = invite(client, org, bad_email, "editor")
        assert response.status_code == 400, bad_email
        assert "e-mail" in text_of(response).lower()
    response = invite(client, org, "ok@example.org", "superuser")
    assert response.status_code == 400 and "Not a valid choice" in text_of(response)
    assert invitation_count() == 0
    assert mailbox.to("boss@example.org") == []

    login_as(client, owner)
    assert invite(client, org, "boss@example.org", "owner").status_code == 302
    assert invitation_count() == 1


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(email=st.one_of(st.emails(), st.text(max_size=300), st.sampled_from(["", "\x00@x.org", "ü@ü.de", "a@" + "b" * 300])),
       role=st.one_of(st.sampled_from(["owner", "admin", "editor", "viewer"]), st.text(max_size=20)))
def test_any_invite_input_gives_an_invitation_or_the_form_back(client, email, role):
    from undersign.extensions import limiter

    limiter.reset()
    from undersign.organizations.models import Organization

    org = db.session.scalar(select(Organization).where(Organization.slug == "fuzz")) or make_org(
        slug="fuzz", owner=make_user())
    owner = db.session.scalar(select(Membership).where(Membership.organization_id == org.id)).user
    login_as(client, owner)
    before, mails_before = invitation_count(), outbox_count()
    response = invite(client, org, email, role)
    assert response.status_code in (302, 400, 409), response.status_code
    if response.status_code == 302:
        assert invitation_count() == before + 1  # a repeated address revokes the earlier one, keeps the row
        assert outbox_count() == mails_before + 1  # the invitation, to the address invited
        assert db.session.scalar(select(Invitation.email).order_by(Invitation.id.desc()).limit(1)) == \
            db.session.scalar(select(OutboxMessage.recipient).order_by(OutboxMessage.id.desc()).limit(1))
    else:
        assert invitation_count() == before
        assert outbox_count() == mails_before, "a refused invitation was mailed"
        page = response.get_data(as_text=True)
        assert 'class="field-error"' in page or 'class="form-errors"' in page


def test_wrong_types_in_the_invite_form(client, mailbox):
    owner = make_user()
    org = make_org(owner=owner)
    login_as(client, owner)
    page = f"/orgs/{org.slug}/members/invite"
    for data in [{"email": (io.BytesIO(b"x@example.org"), "e.txt"), "role": "editor"},
                 {"email": "x@example.org", "role": (io.BytesIO(b"owner"), "r.txt")}]:
        response = submit(client, page, data, content_type="multipart/form-data")
        assert response.status_code == 400
    token = csrf_token(client.get(page).get_data(as_text=True))
    response = client.post(page, json={"email": ["x@example.org"], "role": {"owner": 1}}, headers={"X-CSRFToken": token})
    assert response.status_code == 400
    assert invitation_count() == 0


def test_accepting_proves_the_address_of_an_unverified_account(app, client, mailbox):
    owner = make_user()
    org = make_org(owner=owner)
    login_as(client, owner)
    invite(client, org, "fresh@example.org", "viewer")
    link = mailbox.last_to("fresh@example.org").link("/invitations/")
    fresh = make_user("fresh@example.org", verified=False)
    browser = app.test_client()
    login_as(browser, fresh)
    assert submit(browser, link, {}, action=link + "/accept").status_code == 302
    db.session.refresh(fresh)
    assert fresh.is_verified and membership(org, fresh).role == "viewer"


def test_invitation_events_carry_the_client_address(client):
    owner = make_user()
    org = make_org("Addressed", owner=owner)
    login_as(client, owner)
    response = submit(client, f"/orgs/{org.slug}/members/invite", {"email": "ip@example.org", "role": "viewer"},
                      environ_base={"REMOTE_ADDR": "198.51.100.4"})
    assert response.status_code == 302
    assert [e.ip_hash for e in events(org.id, "invitation.created")] == [ip_hash("198.51.100.4")]
