"""Tenancy and access, for every route at once (STYLE 8-10).

The tests walk ``app.url_map``, so a route added tomorrow is covered without
anyone remembering to write a test for it:

(a) every route declares who may use it; every console route (``/orgs/<org>/...``)
    is for members; every ``/admin`` route is for platform administrators;
(b) a member of another organization gets 404 on every console route, GET and POST;
(c) an id from another organization, put into this organization's URL, is a 404
    and changes nothing there;
(d) each role gets 403 on exactly the console routes its permissions do not cover.

URL parameters are filled from `URL_VALUES`: one entry per parameter name, which
creates an object of that kind owned by a given organization and returns the
value for the URL. A console route with a parameter not listed there makes the
tests fail with its name: add an entry, do not skip.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest
from flask import Flask
from sqlalchemy import func, or_, select

from tests.campaigns.campaign_factories import make_campaign
from tests.factories import add_member, login_as, make_org, make_user
from tests.helpers import csrf_token, submit, text_of
from undersign.accounts.models import User
from undersign.api.models import ApiToken
from undersign.audit import AuditEvent
from undersign.tokens import new_token
from undersign.campaigns.models import Campaign, CampaignRevision, CampaignTranslation, SponsorRole, Sponsorship, Update
from undersign.db import utcnow
from undersign.extensions import db
from undersign.organizations.models import Invitation, Membership, Organization, Role, role_allows
from undersign.web.access import Access, Audience, public
from undersign.webhooks.models import WebhookDelivery, WebhookEndpoint
from undersign.webhooks.service import new_secret

CONSOLE = "/orgs/<org>"
PARAMETER = re.compile(r"<(?:[^:<>]+:)?([a-z_]+)>")


# ---------------------------------------------------------------- what each URL parameter names


@dataclass
class Tenant:
    """An organization with one object of every kind a console URL can name."""

    org: Organization
    owner: User
    partner: Organization
    made: dict[str, Any] = field(default_factory=dict)

    @functools.cached_property
    def campaign(self) -> Campaign:
        # Led by this organization, co-sponsored by a partner, as a real petition would be.
        return make_campaign(self.org, co_sponsors=(self.partner,), title=f"Petition of {self.org.name}")

    def value(self, name: str, rule: str) -> Any:
        if name not in URL_VALUES:
            pytest.fail(f"{rule}: no value for the URL parameter <{name}>. Add an entry to URL_VALUES in "
                        f"tests/test_access.py that creates an object of that kind owned by the organization.")
        if name not in self.made:
            self.made[name] = URL_VALUES[name](self)
        return self.made[name]


def _member_id(t: Tenant) -> int:
    colleague = add_member(t.org, make_user(name=f"Colleague at {t.org.name}"), Role.EDITOR)
    return db.session.scalar(select(Membership.id).where(Membership.organization_id == t.org.id,
                                                         Membership.user_id == colleague.id))


def _invitation_id(t: Tenant) -> int:
    invitation = Invitation(organization_id=t.org.id, email=f"invitee@{t.org.slug}.example.org", role="viewer",
                            token_hash=new_token()[1], invited_by_id=t.owner.id,
                            expires_at=utcnow() + dt.timedelta(days=7))
    db.session.add(invitation)
    db.session.commit()
    return invitation.id


def _sponsorship_id(t: Tenant) -> int:
    return db.session.scalar(select(Sponsorship.id).where(Sponsorship.campaign_id == t.campaign.id,
                                                          Sponsorship.role == SponsorRole.CO_SPONSOR.value))


def _update_id(t: Tenant) -> int:
    update = Update(campaign_id=t.campaign.id, organization_id=t.org.id, author_id=t.owner.id,
                    title=f"News from {t.org.name}", body="We delivered the petition.")
    db.session.add(update)
    db.session.commit()
    return update.id


def _revision_id(t: Tenant) -> int:
    revision = CampaignRevision(campaign_id=t.campaign.id, title="An earlier title", body="Earlier words.",
                                demands=[], edited_by_id=t.owner.id, signature_count_at_edit=0)
    db.session.add(revision)
    db.session.commit()
    return revision.id


def _token_id(t: Tenant) -> int:
    token = ApiToken(organization_id=t.org.id, name=f"CRM of {t.org.name}", prefix="usk_test",
                     secret_hash=new_token()[1], scopes=["read"])
    db.session.add(token)
    db.session.commit()
    return token.id


def _endpoint_id(t: Tenant) -> int:
    endpoint = WebhookEndpoint(organization_id=t.org.id, url=f"https://{t.org.slug}.example.org/hooks",
                               events=["campaign.updated"], secret=new_secret())
    db.session.add(endpoint)
    db.session.commit()
    return endpoint.id


def _delivery_id(t: Tenant) -> int:
    delivery = WebhookDelivery(endpoint_id=t.value("endpoint_id", "delivery_id"), event_id=f"msg_{t.org.slug}",
                               event_type="campaign.updated", body="{}", status="failed")
    db.session.add(delivery)
    db.session.commit()
    return delivery.id


def _link_id(t: Tenant) -> int:
    from undersign.delivery.models import Delivery, ResponseLink

    delivery = Delivery(campaign_id=t.campaign.id, recipient_name="The decision maker",
                        recipient_email=f"dm@{t.org.slug}.example.org")
    db.session.add(delivery)
    db.session.flush()
    link = ResponseLink(delivery_id=delivery.id, token_hash=new_token()[1], email=delivery.recipient_email,
                        expires_at=utcnow() + dt.timedelta(days=30))
    db.session.add(link)
    db.session.commit()
    return link.id


def _translation_code(t: Tenant) -> str:
    db.session.add(CampaignTranslation(campaign_id=t.campaign.id, language="ko", title=f"{t.org.name}의 청원"))
    db.session.commit()
    return "ko"


URL_VALUES: dict[str, Callable[[Tenant], Any]] = {
    "member_id": _member_id,
    "invitation_id": _invitation_id,
    "slug": lambda t: t.campaign.slug,
    "sponsorship_id": _sponsorship_id,
    "update_id": _update_id,
    "revision_id": _revision_id,
    "token_id": _token_id,
    "endpoint_id": _endpoint_id,
    "delivery_id": _delivery_id,
    "link_id": _link_id,
    "code": _translation_code,
}


# Parameters that name no object of an organization (a language code is every campaign's): they cross
# only together with the campaign they belong to.
NOT_OWNED = frozenset({"code"})


def console_rules(app: Flask) -> list[Any]:
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith(CONSOLE)]
    assert len(rules) >= 8, "the walk found too few console routes; did the URL prefix change?"
    return sorted(rules, key=lambda r: r.rule)


def parameters(rule: Any) -> list[str]:
    return [name for name in PARAMETER.findall(rule.rule) if name != "org"]


def url(rule: Any, org: Organization, values: dict[str, Any]) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        return org.slug if name == "org" else str(values[name])

    return PARAMETER.sub(fill, rule.rule)


def values_for(tenant: Tenant, rule: Any) -> dict[str, Any]:
    return {name: tenant.value(name, rule.rule) for name in parameters(rule)}


def methods(rule: Any) -> list[str]:
    return [m for m in ("GET", "POST") if m in rule.methods]


def snapshot(org: Organization) -> dict[str, Any]:
    """Everything of ``org``'s that a console request could change."""
    db.session.expire_all()
    campaign_ids = select(Campaign.id).where(Campaign.lead_organization_id == org.id)
    rows = {
        "organization": db.session.execute(
            select(Organization.name, Organization.status, Organization.description, Organization.website,
                   Organization.logo_id, Organization.slug).where(Organization.id == org.id)).one(),
        "members": db.session.execute(select(Membership.id, Membership.user_id, Membership.role)
                                      .where(Membership.organization_id == org.id).order_by(Membership.id)).all(),
        "invitations": db.session.execute(select(Invitation.id, Invitation.revoked_at, Invitation.accepted_at,
                                                 Invitation.role).where(Invitation.organization_id == org.id)
                                          .order_by(Invitation.id)).all(),
        "campaigns": db.session.execute(select(Campaign.id, Campaign.status, Campaign.title, Campaign.body,
                                               Campaign.changed_at).where(Campaign.id.in_(campaign_ids))
                                        .order_by(Campaign.id)).all(),
        "sponsorships": db.session.execute(
            select(Sponsorship.id, Sponsorship.status, Sponsorship.role)
            .where(or_(Sponsorship.organization_id == org.id, Sponsorship.campaign_id.in_(campaign_ids)))
            .order_by(Sponsorship.id)).all(),
        "updates": db.session.execute(select(Update.id, Update.title, Update.body)
                                      .where(Update.campaign_id.in_(campaign_ids)).order_by(Update.id)).all(),
        "revisions": db.session.scalar(select(func.count()).select_from(CampaignRevision)
                                       .where(CampaignRevision.campaign_id.in_(campaign_ids))),
        "api_tokens": db.session.execute(select(ApiToken.id, ApiToken.name, ApiToken.revoked_at)
                                         .where(ApiToken.organization_id == org.id).order_by(ApiToken.id)).all(),
        "audit": db.session.scalar(select(func.count()).select_from(AuditEvent)
                                   .where(AuditEvent.organization_id == org.id)),
    }
    return rows


@pytest.fixture
def world(db_session):  # type: ignore[no-untyped-def]
    """Two organizations, "ours" and "theirs", each with an object of every kind."""
    partner = make_org("Partner Festival")
    tenants = {}
    for key, name in (("ours", "Our Film Company"), ("theirs", "Their NGO")):
        owner = make_user(name=f"Owner of {name}")
        tenants[key] = Tenant(make_org(name, owner=owner), owner, partner)
    return tenants


def open_every_console_route(app: Flask, client: Any, org: Organization, fill: Callable[[Any], dict[str, Any]],
                             token: str) -> list[tuple[str, str, int]]:
    """(method, url, status) for every console route of ``org``, parameters from ``fill(rule)``."""
    seen = []
    for rule in console_rules(app):
        target = url(rule, org, fill(rule))
        for method in methods(rule):
            response = client.open(target, method=method, data={"csrf_token": token} if method == "POST" else None)
            seen.append((method, target, response.status_code))
    return seen


# ---------------------------------------------------------------- (a) every route declares its audience


def test_every_route_declares_who_may_use_it(app):
    undeclared, misplaced = [], []
    for rule in app.url_map.iter_rules():
        rule_access: Access | None = getattr(app.view_functions[rule.endpoint], "access", None)
        if rule_access is None:
            undeclared.append(f"{rule.rule} ({rule.endpoint})")
            continue
        in_console = rule.rule.startswith(CONSOLE + "/") or rule.rule == CONSOLE
        if in_console and (rule_access.audience is not Audience.MEMBER or rule_access.permission is None):
            misplaced.append(f"{rule.rule} is a console route but is declared {rule_access}")
        if not in_console and rule_access.audience is Audience.MEMBER:
            misplaced.append(f"{rule.rule} is for members but is not under {CONSOLE}, so no organization is resolved")
        if rule.rule.startswith("/admin") and rule_access.audience is not Audience.PLATFORM_ADMIN:
            misplaced.append(f"{rule.rule} is under /admin but is declared {rule_access}")
    assert undeclared == [], "routes without @public/@signed_in/@platform_admin/@member"
    assert misplaced == []
    assert console_rules(app)


def test_undeclared_view_and_mis_declared_console_view_fail_closed(app, tmp_path):
    from tests.helpers import build_app
    from undersign.web.tenancy import console_blueprint

    other = build_app(app, tmp_path)
    other.add_url_rule("/forgotten", "forgotten", lambda: "secret")
    leaky = console_blueprint("leaky", __name__, "/leaky")
    leaky.add_url_rule("/", "page", public(lambda: "secret"))
    other.register_blueprint(leaky)
    probe = other.test_client()
    assert probe.get("/forgotten").status_code == 404
    assert probe.get("/orgs/anything/leaky/").status_code == 404


# ---------------------------------------------------------------- (b) other organizations get 404


@pytest.mark.parametrize("role", [Role.OWNER, Role.VIEWER])
def test_member_of_another_organization_gets_404_on_every_console_route(app, client, world, role):
    ours, theirs = world["ours"], world["theirs"]
    intruder = add_member(ours.org, role=role)
    login_as(client, intruder)
    token = csrf_token(client.get(f"/orgs/{ours.org.slug}/").get_data(as_text=True))
    for rule in console_rules(app):
        values_for(theirs, rule)  # create their objects before taking the snapshot
    before = snapshot(theirs.org)

    seen = open_every_console_route(app, client, theirs.org, lambda rule: values_for(theirs, rule), token)

    assert [s for s in seen if s[2] != 404] == []
    assert {m for m, _u, _s in seen} == {"GET", "POST"}
    assert snapshot(theirs.org) == before


def test_other_methods_say_nothing_about_whether_the_organization_exists(app, client, world):
    ours, theirs = world["ours"], world["theirs"]
    login_as(client, ours.owner)
    token = csrf_token(client.get(f"/orgs/{ours.org.slug}/").get_data(as_text=True))
    nowhere = Organization(slug="no-such-organization", name="Nowhere")
    for rule in console_rules(app):
        for method in {"GET", "POST"} - set(methods(rule)):
            values = values_for(theirs, rule)
            data = {"csrf_token": token} if method == "POST" else None
            real = client.open(url(rule, theirs.org, values), method=method, data=data).status_code
            fake = client.open(url(rule, nowhere, values), method=method, data=data).status_code
            assert real == fake == 405, rule.rule


def test_signed_out_visitors_cannot_tell_which_organizations_exist(app, client, world):
    theirs = world["theirs"]
    nowhere = Organization(slug="no-such-organization", name="Nowhere")
    # A valid CSRF token, so that POSTs reach the access guard rather than stopping at the CSRF check.
    form = {"csrf_token": csrf_token(client.get("/login").get_data(as_text=True))}
    for rule in console_rules(app):
        values = values_for(theirs, rule)
        for method in methods(rule):
            data = form if method == "POST" else None
            real = client.open(url(rule, theirs.org, values), method=method, data=data)
            fake = client.open(url(rule, nowhere, values), method=method, data=data)
            assert real.status_code == fake.status_code == (302 if method == "GET" else 401), (rule.rule, method)
            if method == "GET":
                assert "/login?next=" in real.headers["Location"]


# ---------------------------------------------------------------- (c) ids never cross organizations


def test_ids_of_another_organization_in_our_urls_are_404_and_change_nothing(app, client, world):
    ours, theirs = world["ours"], world["theirs"]
    login_as(client, ours.owner)
    token = csrf_token(client.get(f"/orgs/{ours.org.slug}/").get_data(as_text=True))
    rules = [r for r in console_rules(app) if parameters(r)]
    assert {p for r in rules for p in parameters(r)} >= {"member_id", "invitation_id"}
    for rule in rules:
        values_for(ours, rule)
        values_for(theirs, rule)
    before = snapshot(theirs.org)

    crossed = []
    for rule in rules:
        names = parameters(rule)
        # Each parameter swapped alone (the rest ours), then all of them at once.
        mixes = [{**values_for(ours, rule), name: theirs.made[name]} for name in names if name not in NOT_OWNED]
        mixes.append(values_for(theirs, rule))
        for mix in mixes:
            target = url(rule, ours.org, mix)
            for method in methods(rule):
                data = {"csrf_token": token, "role": "viewer"} if method == "POST" else None
                status = client.open(target, method=method, data=data).status_code
                if status != 404:
                    crossed.append((method, target, status))
    assert crossed == []
    assert snapshot(theirs.org) == before


def test_role_change_with_another_organizations_membership_id(client, world):
    ours, theirs = world["ours"], world["theirs"]
    add_member(ours.org, role=Role.ADMIN)
    their_member = db.session.get(Membership, theirs.value("member_id", "test"))
    their_invitation = theirs.value("invitation_id", "test")
    login_as(client, ours.owner)
    members_page = f"/orgs/{ours.org.slug}/members"

    response = submit(client, members_page, {"role": "owner"}, action=f"{members_page}/{their_member.id}")
    assert response.status_code == 404
    response = submit(client, members_page, {}, action=f"{members_page}/{their_member.id}/remove")
    assert response.status_code == 404
    response = submit(client, members_page, {},
                      action=f"/orgs/{ours.org.slug}/invitations/{their_invitation}/revoke")
    assert response.status_code == 404

    db.session.expire_all()
    assert db.session.get(Membership, their_member.id).role == "editor"
    assert db.session.get(Invitation, their_invitation).revoked_at is None
    # The refusal does not say whose the id is.
    assert "Their NGO" not in text_of(response)


# ---------------------------------------------------------------- (d) role permissions


def test_every_console_route_answers_each_role_by_its_permissions(app, client, world):
    ours = world["ours"]
    people = {role: (ours.owner if role is Role.OWNER else add_member(ours.org, role=role)) for role in Role}
    for rule in console_rules(app):
        values_for(ours, rule)
    token = None
    wrong = []
    for role, person in people.items():
        login_as(client, person)
        token = csrf_token(client.get(f"/orgs/{ours.org.slug}/").get_data(as_text=True))
        for rule in console_rules(app):
            permission = app.view_functions[rule.endpoint].access.permission
            allowed = role_allows(role.value, permission)
            target = url(rule, ours.org, values_for(ours, rule))
            for method in methods(rule):
                if allowed and method == "POST":
                    continue  # posting as an allowed role would really act; the page tests cover that
                status = client.open(target, method=method,
                                     data={"csrf_token": token} if method == "POST" else None).status_code
                # Allowed GETs must work, which also proves the generic URL values point at real objects.
                if (not allowed and status != 403) or (allowed and status >= 400):
                    wrong.append((role.value, method, rule.rule, permission.value, status))
    assert wrong == []


def test_viewer_and_editor_cannot_manage_members(client, world, mailbox):
    ours = world["ours"]
    member_id = ours.value("member_id", "test")
    invitation_id = ours.value("invitation_id", "test")
    viewer = add_member(ours.org, role=Role.VIEWER)
    editor = add_member(ours.org, role=Role.EDITOR)
    base = f"/orgs/{ours.org.slug}"
    before = snapshot(ours.org)
    for person in (viewer, editor):
        login_as(client, person)
        assert client.get(f"{base}/members").status_code == 200
        for path in ("/members/invite", f"/members/{member_id}", "/settings"):
            assert client.get(base + path).status_code == 403, path
        for path, data in (("/members/invite", {"email": "friend@example.org", "role": "admin"}),
                           (f"/members/{member_id}", {"role": "viewer"}),
                           (f"/members/{member_id}/remove", {}),
                           (f"/invitations/{invitation_id}/revoke", {})):
            response = submit(client, f"{base}/members", data, action=base + path)
            assert response.status_code == 403, path
            assert "does not allow" in text_of(response)
    assert snapshot(ours.org) == before
    assert mailbox.to("friend@example.org") == []


def test_admin_manages_members_but_not_the_profile(client, world, mailbox):
    ours = world["ours"]
    admin = add_member(ours.org, role=Role.ADMIN)
    login_as(client, admin)
    base = f"/orgs/{ours.org.slug}"
    assert client.get(f"{base}/settings").status_code == 403
    response = submit(client, f"{base}/members/invite", {"email": "friend@example.org", "role": "editor"})
    assert response.status_code == 302
    assert "invited you to join Our Film Company" in mailbox.last_to("friend@example.org").subject
