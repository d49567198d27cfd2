"""Members and roles: changing a role, removing, leaving, the last owner, several organizations."""

from __future__ import annotations

from sqlalchemy import select

from tests.factories import add_member, login_as, make_org, make_user
from tests.helpers import submit, text_of
from tests.organizations.support import events
from undersign.extensions import db
from undersign.organizations.models import Membership, Role


def role_of(org, user) -> str | None:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(Membership.role).where(Membership.organization_id == org.id,
                                                           Membership.user_id == user.id))


def membership_id(org, user) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(Membership.id).where(Membership.organization_id == org.id,
                                                         Membership.user_id == user.id))


def set_role(client, org, user, role):  # type: ignore[no-untyped-def]
    page = f"/orgs/{org.slug}/members/{membership_id(org, user)}"
    return submit(client, page, {"role": role})


def remove(client, org, user):  # type: ignore[no-untyped-def]
    mid = membership_id(org, user)
    return submit(client, f"/orgs/{org.slug}/members", {}, action=f"/orgs/{org.slug}/members/{mid}/remove")


def test_members_page_lists_everyone_with_their_role(client):
    owner = make_user(name="Olive Owner")
    org = make_org(owner=owner)
    add_member(org, make_user(name="Eddie Editor"), Role.EDITOR)
    viewer = add_member(org, make_user(name="Vera Viewer"), Role.VIEWER)
    login_as(client, viewer)
    text = text_of(client.get(f"/orgs/{org.slug}/members"))
    assert "Olive Owner" in text and "Eddie Editor" in text and "Vera Viewer (you)" in text
    assert text.index("Olive Owner") < text.index("Eddie Editor") < text.index("Vera Viewer")
    # A viewer sees no management controls.
    assert "Invite a colleague" not in text and "Change role" not in text and "Open invitations" not in text


def test_admin_changes_a_role_and_it_is_recorded(client):
    owner = make_user()
    org = make_org(owner=owner)
    admin = add_member(org, role=Role.ADMIN)
    editor = add_member(org, role=Role.EDITOR)
    login_as(client, admin)
    response = set_role(client, org, editor, "viewer")
    assert response.status_code == 302
    assert role_of(org, editor) == "viewer"
    assert "is now a viewer" in text_of(client.get(response.headers["Location"]))
    [event] = events(org.id, "membership.role_changed")
    assert event.actor_id == admin.id
    assert event.details == {"user_id": editor.id, "email": editor.email, "from": "editor", "to": "viewer"}

    # Admins cannot touch the owner role, either way.
    response = set_role(client, org, editor, "owner")
    assert response.status_code == 403 and "Only an owner can make someone an owner" in text_of(response)
    response = set_role(client, org, owner, "viewer")
    assert response.status_code == 403 and "Only an owner can change an owner" in text_of(response)
    assert (role_of(org, editor), role_of(org, owner)) == ("viewer", "owner")

    response = set_role(client, org, editor, "dictator")
    assert response.status_code == 400 and "Not a valid choice" in text_of(response)


def test_the_last_owner_can_never_be_demoted_removed_or_leave(client):
    owner = make_user(name="Only Owner")
    org = make_org(owner=owner)
    login_as(client, owner)

    response = set_role(client, org, owner, "admin")
    assert response.status_code == 409 and "Only Owner is the last owner" in text_of(response)
    response = remove(client, org, owner)
    assert response.status_code == 409 and "last owner" in text_of(response)
    response = submit(client, f"/orgs/{org.slug}/members", {}, action=f"/orgs/{org.slug}/leave")
    assert response.status_code == 409 and "You are the last owner" in text_of(response)
    assert role_of(org, owner) == "owner"

    # With a second owner, the first may step down; then the second is the last one.
    second = add_member(org, make_user(name="Second Owner"), Role.OWNER)
    assert set_role(client, org, owner, "admin").status_code == 302
    assert role_of(org, owner) == "admin"
    response = set_role(client, org, second, "editor")
    assert response.status_code == 403  # an admin cannot demote an owner
    login_as(client, second)
    response = set_role(client, org, second, "editor")
    assert response.status_code == 409 and role_of(org, second) == "owner"
    assert [e.details["to"] for e in events(org.id, "membership.role_changed")] == ["admin"]


def test_remove_a_member_and_they_lose_access(app, client):
    owner = make_user()
    org = make_org("Hanvoice", owner=owner)
    admin = add_member(org, role=Role.ADMIN)
    editor = add_member(org, make_user(name="Eddie Editor"), Role.EDITOR)
    login_as(client, admin)
    response = remove(client, org, editor)
    assert response.status_code == 302
    assert "Eddie Editor is no longer a member of Hanvoice" in text_of(client.get(response.headers["Location"]))
    assert role_of(org, editor) is None
    [event] = events(org.id, "membership.removed")
    assert event.details["email"] == editor.email and event.details["role"] == "editor"

    removed = app.test_client()
    login_as(removed, editor)
    assert removed.get(f"/orgs/{org.slug}/").status_code == 404

    # An admin cannot remove an owner.
    response = remove(client, org, owner)
    assert response.status_code == 403 and role_of(org, owner) == "owner"


def test_a_member_leaves(client):
    org = make_org(owner=make_user())
    editor = add_member(org, role=Role.EDITOR)
    login_as(client, editor)
    response = submit(client, f"/orgs/{org.slug}/members", {}, action=f"/orgs/{org.slug}/leave")
    assert response.status_code == 302 and response.headers["Location"].endswith("/orgs")
    assert role_of(org, editor) is None
    assert events(org.id, "membership.left")[0].actor_id == editor.id
    assert client.get(f"/orgs/{org.slug}/").status_code == 404


def test_one_person_in_several_organizations_switches_between_them(client):
    person = make_user()
    fathom = make_org("Fathom Film Group", owner=person)
    hanvoice = make_org("Hanvoice")
    add_member(hanvoice, person, Role.VIEWER)
    festival = make_org("Film Festival")  # not theirs
    login_as(client, person)

    mine = client.get("/orgs")
    text = text_of(mine)
    assert "Fathom Film Group" in text and "Hanvoice" in text and "Film Festival" not in text
    assert "you are owner" in text and "you are viewer" in text

    console = client.get(f"/orgs/{fathom.slug}/").get_data(as_text=True)
    assert "Switch organization" in console
    assert f'href="/orgs/{hanvoice.slug}/"' in console
    assert f'href="/orgs/{festival.slug}/"' not in console
    # In Hanvoice the same person is a viewer: the console shows it and hides what they cannot do.
    text = text_of(client.get(f"/orgs/{hanvoice.slug}/"))
    assert "You are a viewer here." in text and "Invite a colleague" not in text
    assert client.get(f"/orgs/{festival.slug}/").status_code == 404


def test_member_page_of_an_unknown_member_is_404(client):
    owner = make_user()
    org = make_org(owner=owner)
    login_as(client, owner)
    assert client.get(f"/orgs/{org.slug}/members/999999").status_code == 404
