"""Suspending an organization: its console is read-only, the petitions it leads are unavailable with
their counts, those it co-sponsors keep running without it; reinstating brings everything back."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.factories import add_member, login_as, make_org, make_user
from tests.helpers import csrf_token, submit, text_of
from tests.organizations.support import events
from tests.signatures.petitions import counts, form_action, hidden_fields, make_petition, sign, signature_rows, supporter
from tests.test_access import Tenant, console_rules, methods, snapshot, url, values_for
from undersign.db import utcnow
from undersign.errors import Conflict, PermissionDenied
from undersign.extensions import db
from undersign.moderation.rules import Decision
from undersign.moderation.service import decide
from undersign.organizations.invitations import accept_invitation
from undersign.organizations.models import Invitation, Membership, OrgStatus, Role
from undersign.signatures.export import EXPORTED
from undersign.tokens import new_token

REASON = "Petitions of this organization collected signatures under false pretences."


def admin_decides(client, org, decision, reason=None):  # type: ignore[no-untyped-def]
    data = {} if reason is None else {"reason": reason}
    return submit(client, f"/admin/organizations/{org.id}", data, action=f"/admin/organizations/{org.id}/{decision}")


def signed_and_confirmed(client, mailbox, page: str, email: str) -> None:  # type: ignore[no-untyped-def]
    assert sign(client, page, supporter(email=email)).status_code == 303
    link = mailbox.last_to(email).link("/confirm/")
    button = client.get(link)
    assert client.post(link, data={"csrf_token": csrf_token(button.get_data(as_text=True))}).status_code == 200


def test_an_org_owner_cannot_suspend_anything_and_a_platform_admin_can(client, mailbox):
    owner = make_user("owner@example.org")
    org = make_org("Hanvoice", owner=owner)
    other = make_org("Other NGO", owner=make_user())
    login_as(client, owner)
    token = csrf_token(client.get(f"/orgs/{org.slug}/").get_data(as_text=True))
    for target in (org, other):
        response = client.post(f"/admin/organizations/{target.id}/suspend", data={"csrf_token": token, "reason": "x"})
        assert response.status_code == 404
    with pytest.raises(PermissionDenied):
        decide(owner, other, Decision.SUSPEND, "because")
    db.session.rollback()
    db.session.expire_all()
    assert org.status == other.status == OrgStatus.APPROVED.value

    login_as(client, make_user("root@example.org", admin=True))
    response = admin_decides(client, other, "suspend", "")
    assert response.status_code == 400 and "Give a reason" in text_of(response)
    response = admin_decides(client, other, "suspend", REASON)
    assert response.status_code == 302
    db.session.expire_all()
    assert other.status == OrgStatus.SUSPENDED.value and other.status_reason == REASON
    assert [e.details["reason"] for e in events(other.id, "organization.suspended")] == [REASON]
    assert admin_decides(client, other, "suspend", REASON).status_code == 409


def test_a_suspended_organizations_staff_read_everything_and_change_nothing(app, client, world):
    ours = world["ours"]
    for rule in console_rules(app):
        values_for(ours, rule)  # every kind of object the console can name, before the snapshot
    ours.org.status, ours.org.status_reason = OrgStatus.SUSPENDED.value, REASON
    db.session.commit()
    before = snapshot(ours.org)
    login_as(client, ours.owner)
    dashboard = client.get(f"/orgs/{ours.org.slug}/")
    assert dashboard.status_code == 200
    token = csrf_token(dashboard.get_data(as_text=True))

    readable, refused, wrong = 0, 0, []
    for rule in console_rules(app):
        target = url(rule, ours.org, values_for(ours, rule))
        for method in methods(rule):
            response = client.open(target, method=method, data={"csrf_token": token} if method == "POST" else None)
            if method == "GET":
                readable += 1
                if response.status_code >= 400:
                    wrong.append((method, target, response.status_code))
                continue
            refused += 1
            text = text_of(response)
            if response.status_code != 403 or f"{ours.org.name} is suspended" not in text or REASON not in text:
                wrong.append((method, target, response.status_code))
    assert wrong == []
    assert readable >= 10 and refused >= 25  # the walk reached the console's routes
    after = snapshot(ours.org)
    # Reading the supporters' export is allowed, and recorded; nothing else moved.
    assert after.pop("audit") - before.pop("audit") == len(events(ours.org.id, EXPORTED)) == 1
    assert after == before


def test_a_suspended_console_says_so_on_every_page(client):
    owner = make_user()
    org = make_org("Hanvoice", owner=owner, status=OrgStatus.SUSPENDED, status_reason=REASON)
    login_as(client, owner)
    text = text_of(client.get(f"/orgs/{org.slug}/members"))
    assert "Hanvoice is suspended: this console is read-only until it is reinstated." in text
    text = text_of(client.get(f"/orgs/{org.slug}/"))
    assert REASON in text and "petitions Hanvoice leads show the public a page saying they are unavailable" in text


def test_suspension_makes_led_petitions_unavailable_keeps_co_sponsored_ones_running_and_reinstating_restores_them(
        app, client, mailbox):
    admin = make_user("root@example.org", admin=True)
    led = make_petition()  # led by the organization we suspend, co-sponsored by a partner
    suspended, partner = led.lead, led.co_sponsor
    suspended_owner = add_member(suspended, make_user("owner@fathom.example.org"), Role.OWNER)
    partner_owner = add_member(partner, make_user("owner@hanvoice.example.org"), Role.OWNER)
    # A petition another organization leads, which the suspended one co-sponsors.
    other = make_petition()
    other_owner = add_member(other.lead, make_user("owner@other.example.org"), Role.OWNER)
    other.campaign.sponsorships[1].organization_id = suspended.id  # it replaces the co-sponsor
    db.session.commit()

    supporters = app.test_client()
    signed_and_confirmed(supporters, mailbox, led.url, "ann@example.org")
    signed_and_confirmed(supporters, mailbox, led.hosted_url(partner), "bo@example.org")
    signed_and_confirmed(supporters, mailbox, other.hosted_url(suspended), "cy@example.org")
    # One more signs before the suspension but confirms after; another has the form open.
    assert sign(supporters, led.url, supporter(email="late@example.org")).status_code == 303
    late_link = mailbox.last_to("late@example.org").link("/confirm/")
    late_button = csrf_token(supporters.get(late_link).get_data(as_text=True))
    open_form = supporters.get(led.url).get_data(as_text=True)
    led_counts, other_counts = counts(led), counts(other)
    assert led_counts[0] == 2 and other_counts[0] == 1
    rows = signature_rows(led.campaign)
    led.campaign.changed_at = suspended.status_changed_at = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    db.session.commit()
    stamp = supporters.get(f"{led.url}.json").headers["Last-Modified"]
    mailbox.clear()

    login_as(client, admin)
    assert admin_decides(client, suspended, "suspend", REASON).status_code == 302

    # The petitions it leads: a neutral unavailable page with the count, on every address.
    for page in (led.url, led.hosted_url(partner), led.hosted_url(suspended)):
        response = supporters.get(page)
        text = text_of(response)
        assert response.status_code == 410, page
        assert "This petition is unavailable" in text and "2 supporters signed it" in text
        assert led.campaign.title not in text and REASON not in text and "mistyped" not in text
    # Signing is closed: the form opened before is refused, and so is the embedded one.
    payload = {**hidden_fields(open_form), "csrf_token": csrf_token(open_form), **supporter(email="dee@example.org")}
    response = supporters.post(form_action(open_form), data=payload)
    assert response.status_code == 410 and "Nothing was recorded" in text_of(response)
    assert supporters.get(f"{led.url}/embed").status_code == 410
    response = supporters.post(f"{led.url}/embed", data=payload)
    assert response.status_code == 410 and "Nothing was recorded" in text_of(response)
    response = supporters.post(late_link, data={"csrf_token": late_button})
    assert response.status_code == 410 and "Nothing was recorded" in text_of(response)
    figures = supporters.get(f"{led.url}.json", headers={"If-Modified-Since": stamp})
    assert figures.status_code == 200  # not 304: the suspension changed it
    assert figures.json["status"] == "unavailable" and figures.json["signature_count"] == 2
    assert "sponsors" not in figures.json and figures.json["reason"] is None
    assert signature_rows(led.campaign) == rows and counts(led) == led_counts
    assert led.campaign.title not in text_of(supporters.get("/"))

    # The petition it co-sponsors keeps running without it; its hosted copy sends to the canonical page.
    page = supporters.get(other.url)
    assert page.status_code == 200 and suspended.name not in text_of(page) and "1 supporter" in text_of(page)
    response = supporters.get(other.hosted_url(suspended))
    assert response.status_code == 302 and response.headers["Location"] == other.url
    response = supporters.post(other.hosted_url(suspended), data=supporter(email="eve@example.org"))
    assert response.status_code == 307 and response.headers["Location"] == f"{other.url}/sign"
    assert sign(supporters, other.url, supporter(email="eve@example.org")).status_code == 303

    # Its owners hear why; the owners of the organizations it campaigns with hear what it means for them.
    [mail] = mailbox.to(suspended_owner.email)
    assert REASON in mail.body and "read-only" in mail.body
    [mail] = mailbox.to(partner_owner.email)
    assert " ".join(mail.subject.split()) == f"{suspended.name} is suspended: petitions {partner.name} sponsors with it"
    assert f"“{led.campaign.title}”: {suspended.name} leads it, so it is unavailable to the public" in mail.body
    assert REASON not in mail.body
    [mail] = mailbox.to(other_owner.email)
    assert f"“{other.campaign.title}”: it keeps running. {suspended.name} no longer appears on it" in mail.body
    mailbox.clear()

    assert admin_decides(client, suspended, "reinstate").status_code == 302
    assert counts(led) == led_counts and counts(other) == other_counts
    for page in (led.url, led.hosted_url(partner), led.hosted_url(suspended)):
        response = supporters.get(page)
        assert response.status_code == 200 and "2 supporters" in text_of(response), page
    figures = supporters.get(f"{led.url}.json").json
    assert figures["status"] == "published" and figures["signature_count"] == 2
    assert supporters.get(other.hosted_url(suspended)).status_code == 200
    signed_and_confirmed(supporters, mailbox, led.url, "fay@example.org")
    assert counts(led)[0] == 3
    assert "has been reinstated" in mailbox.last_to(suspended_owner.email).subject
    assert f"{suspended.name} leads it; it is open to the public again" in mailbox.last_to(partner_owner.email).body
    assert f"{suspended.name} appears on it again" in mailbox.last_to(other_owner.email).body


def test_the_admins_page_of_an_organization_lists_its_petitions_and_members(client):
    petition = make_petition(title="Let them go free")
    org = petition.lead
    add_member(org, make_user("olive@example.org", name="Olive Owner"), Role.OWNER)
    add_member(org, make_user("eddie@example.org", name="Eddie Editor"), Role.EDITOR)
    petition.campaign.signature_count = 1234
    db.session.commit()
    login_as(client, make_user(admin=True))
    response = client.get(f"/admin/organizations/{org.id}")
    text = text_of(response)
    assert response.status_code == 200
    assert "Let them go free" in text and "1,234" in text and "published" in text
    assert "Members (2)" in text
    assert "Olive Owner olive@example.org owner" in text and "Eddie Editor eddie@example.org editor" in text
    co = text_of(client.get(f"/admin/organizations/{petition.co_sponsor.id}"))
    assert "Let them go free" in co and "co-sponsor" in co


def test_nobody_joins_a_suspended_organization_through_an_old_invitation(client):
    org = make_org("Hanvoice", owner=make_user(), status=OrgStatus.SUSPENDED, status_reason=REASON)
    invitee = make_user("new@example.org")
    raw, digest = new_token()
    db.session.add(Invitation(organization_id=org.id, email=invitee.email, role="editor", token_hash=digest,
                              expires_at=utcnow() + dt.timedelta(days=7)))
    db.session.commit()
    with pytest.raises(Conflict, match="Hanvoice is suspended on undersign, so nobody can join it"):
        accept_invitation(invitee, raw)
    db.session.rollback()
    assert db.session.scalar(select(Membership).where(Membership.user_id == invitee.id)) is None
    login_as(client, invitee)
    page = client.get(f"/invitations/{raw}")
    assert "nobody can join it until it is reinstated" in text_of(page)


@pytest.fixture
def world(db_session):  # type: ignore[no-untyped-def]
    owner = make_user(name="Owner of Our Film Company")
    return {"ours": Tenant(make_org("Our Film Company", owner=owner), owner, make_org("Partner Festival"))}
