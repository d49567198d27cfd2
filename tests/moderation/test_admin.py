"""Platform administrators: approving, rejecting, suspending and reinstating organizations; the audit log."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.factories import add_member, login_as, make_org, make_user
from tests.helpers import csrf_token, submit, text_of
from tests.organizations.support import events
from undersign.audit import AuditEvent, ip_hash, record
from undersign.extensions import db
from undersign.organizations.models import Membership, OrgStatus, Role


def decide(client, org, decision, reason=None, **kwargs):  # type: ignore[no-untyped-def]
    data = {} if reason is None else {"reason": reason}
    return submit(client, f"/admin/organizations/{org.id}", data, action=f"/admin/organizations/{org.id}/{decision}",
                  **kwargs)


def test_non_admins_get_404_everywhere_under_admin(app, client):
    org = make_org(status=OrgStatus.PENDING, owner=make_user())
    paths = ["/admin/", "/admin/organizations", f"/admin/organizations/{org.id}", "/admin/audit"]
    anonymous = app.test_client()
    for path in paths:
        assert anonymous.get(path).status_code == 404, path
    owner_of_org = make_user()
    add_member(org, owner_of_org, Role.OWNER)
    login_as(client, owner_of_org)
    token = csrf_token(client.get("/orgs").get_data(as_text=True))
    for path in paths:
        assert client.get(path).status_code == 404, path
    for decision in ["approve", "reject", "suspend", "reinstate"]:
        response = client.post(f"/admin/organizations/{org.id}/{decision}", data={"csrf_token": token, "reason": "x"})
        assert response.status_code == 404
    db.session.refresh(org)
    assert org.status == OrgStatus.PENDING.value
    # Nor does the navigation mention it.
    assert 'href="/admin/' not in client.get("/orgs").get_data(as_text=True)


def test_approve_a_pending_organization(client, mailbox):
    admin = make_user("root@example.org", admin=True)
    owner = make_user("owner@example.org", name="Olive")
    co_owner = make_user("co-owner@example.org")
    editor = make_user("editor@example.org")
    org = make_org("Hanvoice", status=OrgStatus.PENDING, owner=owner, website="https://hanvoice.example.org")
    add_member(org, co_owner, Role.OWNER)
    add_member(org, editor, Role.EDITOR)
    make_org("Already fine", status=OrgStatus.APPROVED)
    login_as(client, admin)

    queue = text_of(client.get("/admin/organizations"))
    assert "Pending (1)" in queue and "Hanvoice" in queue and "owner@example.org" in queue
    assert "Already fine" not in queue
    assert "Already fine" in text_of(client.get("/admin/organizations?status=approved"))

    response = decide(client, org, "approve")
    assert response.status_code == 302
    db.session.refresh(org)
    assert org.status == OrgStatus.APPROVED.value and org.status_changed_at is not None
    [event] = events(org.id, "organization.approved")
    assert event.actor_id == admin.id and event.details["from"] == "pending"

    for address in (owner.email, co_owner.email):
        mail = mailbox.last_to(address)
        assert mail.subject == "Hanvoice has been approved on undersign"
        assert "You can now publish petitions" in mail.body
        console = mail.link(f"/orgs/{org.slug}/")
        assert console == f"/orgs/{org.slug}/"
    assert mailbox.to(editor.email) == []
    assert "Pending (0)" in text_of(client.get("/admin/organizations"))

    # The owner sees it on the dashboard, through the mailed link.
    login_as(client, owner)
    assert "Approved" in text_of(client.get(console))

    # Approving twice is a conflict with a message, not a second e-mail.
    login_as(client, admin)
    mailbox.clear()
    response = decide(client, org, "approve")
    assert response.status_code == 409 and "cannot be approved now" in text_of(response)
    assert mailbox.to(owner.email) == []


def test_reject_needs_a_reason_and_the_owners_read_it(client, mailbox):
    admin = make_user(admin=True)
    owner = make_user()
    org = make_org("Spammy", status=OrgStatus.PENDING, owner=owner)
    login_as(client, admin)

    for empty in [None, "", "   "]:
        response = decide(client, org, "reject", empty)
        assert response.status_code == 400
        assert "Give a reason" in text_of(response)
    for bad, message in [("r" * 2001, "at most 2,000"), ("bad\x00reason", "control characters")]:
        response = decide(client, org, "reject", bad)
        assert response.status_code == 400 and message in text_of(response)
    db.session.refresh(org)
    assert org.status == OrgStatus.PENDING.value
    assert mailbox.to(owner.email) == []
    assert events(org.id, "organization.rejected") == []

    reason = "We could not confirm that <b>Spammy</b> exists. Please add your website."
    response = decide(client, org, "reject", reason)
    assert response.status_code == 302
    db.session.refresh(org)
    assert (org.status, org.status_reason) == (OrgStatus.REJECTED.value, reason)
    mail = mailbox.last_to(owner.email)
    assert mail.subject == "Spammy has been rejected on undersign" and reason in mail.body
    assert events(org.id, "organization.rejected")[0].details["reason"] == reason

    login_as(client, owner)
    page = client.get(mail.link(f"/orgs/{org.slug}/"))
    assert reason in text_of(page)
    assert "&lt;b&gt;Spammy&lt;/b&gt;" in page.get_data(as_text=True)


def test_suspend_and_reinstate(client, mailbox):
    admin = make_user(admin=True)
    owner = make_user()
    org = make_org("Hanvoice", owner=owner)
    login_as(client, admin)

    # A pending-only decision does not apply to an approved organization.
    assert decide(client, org, "reject", "no").status_code == 409
    assert decide(client, org, "suspend", "").status_code == 400
    response = decide(client, org, "suspend", "Petitions full of spam links.")
    assert response.status_code == 302
    db.session.refresh(org)
    assert org.status == OrgStatus.SUSPENDED.value
    mail = mailbox.last_to(owner.email)
    assert "suspended" in mail.subject and "Petitions full of spam links." in mail.body
    assert "Suspended" in text_of(client.get("/admin/organizations?status=suspended"))

    response = decide(client, org, "reinstate")
    assert response.status_code == 302
    db.session.refresh(org)
    assert org.status == OrgStatus.APPROVED.value and org.status_reason is None
    assert "reinstated" in mailbox.last_to(owner.email).subject
    assert [e.action for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.organization_id == org.id).order_by(AuditEvent.id))] == [
        "organization.suspended", "organization.reinstated"]


def test_unknown_organization_or_decision_is_404(client):
    login_as(client, make_user(admin=True))
    org = make_org(status=OrgStatus.PENDING)
    assert client.get("/admin/organizations/999999").status_code == 404
    token = csrf_token(client.get("/admin/organizations").get_data(as_text=True))
    assert client.post("/admin/organizations/999999/approve", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/admin/organizations/{org.id}/delete", data={"csrf_token": token}).status_code == 404
    # Without a CSRF token nothing happens.
    assert client.post(f"/admin/organizations/{org.id}/approve").status_code == 400
    db.session.refresh(org)
    assert org.status == OrgStatus.PENDING.value


def test_audit_log_newest_first_and_paginated(client):
    admin = make_user(admin=True)
    org = make_org("Hanvoice")
    other = make_org("Fathom")
    base = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    for n in range(60):
        db.session.add(AuditEvent(actor_id=admin.id, organization_id=org.id, action=f"test.event{n:02d}",
                                  object_type="organizations", object_id=org.id, details={"n": n},
                                  created_at=base + dt.timedelta(minutes=n)))
    db.session.add(AuditEvent(actor_id=admin.id, organization_id=other.id, action="test.elsewhere",
                              object_type="organizations", object_id=other.id, created_at=base))
    db.session.commit()
    login_as(client, admin)

    first = text_of(client.get("/admin/audit"))
    assert first.index("test.event59") < first.index("test.event58") < first.index("test.event12")
    # 61 events, 50 a page: page 1 runs from event59 down to event10.
    assert "test.event10" in first and "test.event09" not in first
    assert "Page 1 of 2" in first and "Older" in first
    second = text_of(client.get("/admin/audit?page=2"))
    assert "test.event00" in second and "test.elsewhere" in second and "test.event59" not in second
    assert "Newer" in second and "Older" not in second

    only_fathom = text_of(client.get(f"/admin/audit?org={other.id}"))
    assert "test.elsewhere" in only_fathom and "test.event" not in only_fathom
    assert "test.event07" in text_of(client.get("/admin/audit?action=test.event07"))
    # Nonsense parameters give the first page, not an error.
    assert client.get("/admin/audit?page=abc&org=x").status_code == 200
    assert client.get("/admin/audit?page=99").status_code == 200


def test_decisions_and_invitations_work_outside_a_request(app):
    """A job, the CLI or the API has no request: the mail links come from BASE_URL, the audit
    event has no client address, and nothing reads the request."""
    from flask import has_request_context

    from undersign.mail import OutboxMessage
    from undersign.moderation.rules import Decision
    from undersign.moderation.service import decide as decide_now
    from undersign.organizations import invitations

    assert not has_request_context()
    admin = make_user(admin=True)
    owner = make_user("owner-offline@example.org")
    org = make_org(status=OrgStatus.PENDING, owner=owner)
    decide_now(admin, org, Decision.APPROVE)
    membership = db.session.scalar(select(Membership).where(Membership.organization_id == org.id))
    invitations.invite(membership, "newcomer-offline@example.org", "editor")

    mails = {m.recipient: m.body_text for m in db.session.scalars(select(OutboxMessage))}
    assert f"http://localhost/orgs/{org.slug}/" in mails["owner-offline@example.org"]
    assert "http://localhost/invitations/" in mails["newcomer-offline@example.org"]
    assert [(e.action, e.ip_hash) for e in events(org.id, "organization.approved")] == [
        ("organization.approved", None)]


def test_events_from_a_request_carry_the_client_address(client):
    admin = make_user(admin=True)
    org = make_org(status=OrgStatus.PENDING, owner=make_user())
    login_as(client, admin)
    response = decide(client, org, "approve", environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert response.status_code == 302
    assert [e.ip_hash for e in events(org.id, "organization.approved")] == [ip_hash("203.0.113.7")]
