"""Creating an organization, its profile, and the pending/rejected/suspended dashboard."""

from __future__ import annotations

import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image as PILImage
from sqlalchemy import func, select

from tests.factories import add_member, login_as, make_org, make_user
from tests.helpers import csrf_token, submit, text_of
from tests.organizations.support import audit_actions, png_bytes
from undersign.accounts.models import User
from undersign.extensions import db, limiter
from undersign.images.models import Image
from undersign.organizations.models import Membership, Organization, OrgStatus, Role

VALID = {"name": "Hanvoice Toronto", "kind": "ngo", "description": "We speak up for refugees.",
         "website": "https://hanvoice.example.org/"}


def org_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Organization)) or 0


def create(client, **fields):  # type: ignore[no-untyped-def]
    data = {**VALID, **fields}
    return submit(client, "/orgs/new", data, content_type="multipart/form-data")


def test_verified_user_creates_a_pending_organization_and_owns_it(client, mailbox):
    admin = make_user("root@example.org", admin=True)
    ann = make_user("ann@example.org", name="Ann")
    login_as(client, ann)

    response = create(client, logo=(io.BytesIO(png_bytes(800, 400)), "logo.png"))

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/orgs/hanvoice-toronto/")
    org = db.session.scalar(select(Organization).where(Organization.slug == "hanvoice-toronto"))
    assert org is not None and org.status == OrgStatus.PENDING.value
    assert (org.name, org.kind, org.description, org.website) == (
        "Hanvoice Toronto", "ngo", "We speak up for refugees.", "https://hanvoice.example.org/")
    owner = db.session.scalar(select(Membership).where(Membership.organization_id == org.id))
    assert owner.user_id == ann.id and owner.role == Role.OWNER.value
    assert audit_actions(org.id) == ["organization.created", "membership.created"]

    # The logo was re-encoded as WebP and is served from its cacheable URL.
    dashboard = client.get(response.headers["Location"])
    page = dashboard.get_data(as_text=True)
    assert org.logo is not None and org.logo.content_type == "image/webp"
    logo = client.get(f"/images/{org.logo.id}-{org.logo.sha256[:16]}.webp")
    assert logo.status_code == 200 and logo.headers["Content-Type"] == "image/webp"
    assert PILImage.open(io.BytesIO(logo.data)).format == "WEBP"
    assert f"/images/{org.logo.id}-" in page

    # The pending console says what waits for approval and what can be done already.
    text = text_of(dashboard)
    assert "Waiting for approval" in text
    assert "draft petitions" in text and "invite colleagues" in text
    assert "publish a petition" in text and "co-sponsor" in text

    # Platform administrators are told there is something to review.
    mail = mailbox.last_to(admin.email)
    assert "Hanvoice Toronto" in mail.subject
    assert client.get(mail.link("/admin/organizations/")).status_code == 404  # Ann is no admin


def test_slug_comes_from_the_name_and_is_made_unique(client):
    make_org("Someone else's Hanvoice", slug="hanvoice")
    slugs = []
    for name in ["Hanvoice", "Hanvoice", "  Hänvöice!  ", "New", "한보이스", "한보이스"]:
        login_as(client, make_user())  # one account may create only a few an hour
        response = create(client, name=name)
        assert response.status_code == 302, text_of(response)
        slugs.append(response.headers["Location"].split("/")[-2])
    assert slugs == ["hanvoice-2", "hanvoice-3", "hanvoice-4", "new-2", "organization", "organization-2"]


def test_organization_creation_is_limited_per_account(app, client, mailbox):
    admin = make_user("reviewer@example.org", admin=True)
    eager = make_user("eager@example.org")
    login_as(client, eager)
    # A form sent back with errors does not count.
    assert create(client, name="").status_code == 400
    for n in range(5):
        assert create(client, name=f"Eager {n}").status_code == 302
    refused = create(client, name="Eager 5")
    assert refused.status_code == 429
    assert "You have created several organizations in a short time" in text_of(refused)
    assert "try again in an hour" in text_of(refused)
    assert refused.headers.get("Retry-After")
    assert db.session.scalar(select(func.count()).select_from(Membership).where(Membership.user_id == eager.id)) == 5
    assert len(mailbox.to(admin.email)) == 5

    # Per account, not per network: a colleague on the same address still can.
    colleague = app.test_client()
    login_as(colleague, make_user("colleague@example.org"))
    assert create(colleague, name="Colleague's").status_code == 302
    assert len(mailbox.to(admin.email)) == 6


def test_unverified_account_cannot_create(client):
    user = make_user(verified=False)
    login_as(client, user)
    page = client.get("/orgs/new")
    assert page.status_code == 403
    assert "Confirm your e-mail address" in text_of(page)
    token = csrf_token(client.get("/orgs").get_data(as_text=True))
    response = client.post("/orgs/new", data={**VALID, "csrf_token": token})
    assert response.status_code == 403
    assert org_count() == 0


def test_signed_out_visitor_is_sent_to_sign_in(client):
    response = client.get("/orgs/new")
    assert response.status_code == 302 and "/login?next=/orgs/new" in response.headers["Location"]


def test_website_must_be_an_http_address(client):
    login_as(client, make_user())
    for bad in ["javascript:alert(1)", "data:text/html,hi", "ftp://example.org", "http://", "example.org",
                "https://user:secret@example.org", "https://exa mple.org", "https://[::1"]:
        response = create(client, website=bad)
        assert response.status_code == 400, bad
        assert "website" in text_of(response).lower()
    assert org_count() == 0
    assert create(client, website="HTTP://example.org/about").status_code == 302
    assert db.session.scalar(select(Organization.website)) == "http://example.org/about"


def test_logo_must_be_a_real_image(client):
    login_as(client, make_user())
    before = db.session.scalar(select(func.count()).select_from(Image))
    polyglot = b"GIF89a<script>alert(1)</script>"
    for upload, message in [
        ((io.BytesIO(b"<svg onload=alert(1)>"), "logo.png"), "not an image"),
        ((io.BytesIO(polyglot), "logo.gif"), "JPEG, PNG or WebP"),
        ((io.BytesIO(b""), "empty.png"), "empty"),
    ]:
        response = create(client, logo=upload)
        assert response.status_code == 400
        assert message in text_of(response)
    assert org_count() == 0
    assert db.session.scalar(select(func.count()).select_from(Image)) == before


def test_name_and_kind_are_checked(client):
    login_as(client, make_user())
    cases = [
        ({"name": ""}, "Enter the organization's name."),
        ({"name": "   "}, "Enter the organization's name."),
        ({"name": "x"}, "at least 2 characters"),
        ({"name": "x" * 121}, "at most 120 characters"),
        ({"name": "Evil\u202eecioVnaH"}, "control characters"),
        ({"name": "Two\nlines"}, "control characters"),
        ({"name": "Nul\x00byte"}, "control characters"),
        ({"kind": "government"}, "Not a valid choice"),
        ({"kind": ""}, "kind"),
        ({"description": "d" * 2001}, "at most 2,000 characters"),
        ({"description": "bell\x07"}, "control characters"),
    ]
    for fields, message in cases:
        response = create(client, **fields)
        assert response.status_code == 400, fields
        assert message.lower() in text_of(response).lower(), (fields, text_of(response))
    assert org_count() == 0


def test_html_in_the_name_is_shown_as_text(client):
    login_as(client, make_user())
    response = create(client, name="<b>Bold</b> & <script>x()</script>")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<script>x()</script>" not in page
    assert "&lt;script&gt;x()&lt;/script&gt;" in page


TEXT = st.one_of(
    st.text(max_size=150),
    st.text(min_size=110, max_size=600),
    st.sampled_from(["", " ", "<script>alert(1)</script>", "\x00", "\u202e", "=cmd()", "😀" * 130, "ＡＢＣ",
                     "https://example.org", "javascript:alert(1)", "ﬁ" * 119]),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zs", "Zl"]), min_size=1, max_size=10),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=TEXT, kind=st.one_of(st.sampled_from(["ngo", "festival", "film_company"]), TEXT),
       description=TEXT, website=TEXT)
def test_any_input_gives_an_organization_or_the_form_back(client, name, kind, description, website):
    # The examples share the test's transaction, and so this one account; each starts with fresh rate limits.
    limiter.reset()
    creator = db.session.scalar(select(User).where(User.email == "fuzz@example.org")) or make_user("fuzz@example.org")
    login_as(client, creator)
    before = org_count()
    response = create(client, name=name, kind=kind, description=description, website=website)
    assert response.status_code in (302, 400), response.status_code
    if response.status_code == 302:
        assert org_count() == before + 1
    else:
        assert org_count() == before
        page = response.get_data(as_text=True)
        assert 'class="field-error"' in page or 'class="form-errors"' in page


# ---------------------------------------------------------------- settings


def test_owner_edits_the_profile_and_the_address_stays(client):
    owner = make_user()
    org = make_org("Hanvoice", slug="hanvoice", owner=owner, website="https://old.example.org")
    login_as(client, owner)
    response = submit(client, f"/orgs/{org.slug}/settings",
                      {"name": "Hanvoice Canada", "kind": "ngo", "description": "New words.",
                       "website": "https://new.example.org", "logo": (io.BytesIO(png_bytes()), "l.png")},
                      content_type="multipart/form-data")
    assert response.status_code == 302
    db.session.refresh(org)
    assert (org.slug, org.name, org.description, org.website) == (
        "hanvoice", "Hanvoice Canada", "New words.", "https://new.example.org")
    assert org.logo is not None
    updated = [a for a in audit_actions(org.id) if a == "organization.updated"]
    assert updated == ["organization.updated"]

    response = submit(client, f"/orgs/{org.slug}/settings",
                      {"name": "Hanvoice Canada", "kind": "ngo", "description": "New words.",
                       "website": "https://new.example.org", "remove_logo": "y"})
    assert response.status_code == 302
    db.session.refresh(org)
    assert org.logo_id is None


def test_settings_refuse_bad_input_and_keep_the_old_profile(client):
    owner = make_user()
    org = make_org("Hanvoice", owner=owner, website="https://ok.example.org")
    login_as(client, owner)
    for fields in [{"website": "javascript:alert(1)"}, {"name": ""}, {"name": "a\x01b"},
                   {"kind": "bank"}, {"logo": (io.BytesIO(b"not a picture"), "x.png")}]:
        data = {"name": "Renamed", "kind": "ngo", "description": "", "website": "", **fields}
        response = submit(client, f"/orgs/{org.slug}/settings", data, content_type="multipart/form-data")
        assert response.status_code == 400, fields
    db.session.refresh(org)
    assert (org.name, org.website) == ("Hanvoice", "https://ok.example.org")


def test_only_owners_edit_the_profile(client):
    org = make_org(owner=make_user())
    admin = add_member(org, role=Role.ADMIN)
    login_as(client, admin)
    assert client.get(f"/orgs/{org.slug}/settings").status_code == 403
    assert "Settings" not in text_of(client.get(f"/orgs/{org.slug}/"))


# ---------------------------------------------------------------- status on the dashboard


def test_rejected_dashboard_shows_the_reason_and_can_ask_again(client, mailbox):
    owner = make_user()
    admin = make_user(admin=True)
    org = make_org("Hanvoice", owner=owner, status=OrgStatus.REJECTED,
                   status_reason="We could not find your organization's website.")
    login_as(client, owner)
    text = text_of(client.get(f"/orgs/{org.slug}/"))
    assert "Not approved" in text and "We could not find your organization's website." in text
    response = submit(client, f"/orgs/{org.slug}/", {}, action=f"/orgs/{org.slug}/review")
    assert response.status_code == 302
    db.session.refresh(org)
    assert org.status == OrgStatus.PENDING.value
    assert "organization.resubmitted" in audit_actions(org.id)
    assert "Hanvoice" in mailbox.last_to(admin.email).subject
    # Asking again while pending is refused with a message.
    response = submit(client, f"/orgs/{org.slug}/", {}, action=f"/orgs/{org.slug}/review")
    assert response.status_code == 409 and "Only a rejected organization" in text_of(response)


def test_suspended_and_approved_dashboards(client):
    owner = make_user()
    suspended = make_org(owner=owner, status=OrgStatus.SUSPENDED, status_reason="Spam petitions.")
    approved = make_org(owner=owner)
    login_as(client, owner)
    text = text_of(client.get(f"/orgs/{suspended.slug}/"))
    assert "Suspended" in text and "Spam petitions." in text
    assert "this console is read-only" in text and "unavailable" in text
    assert "approv" not in text.lower()  # no talk of approval for a suspended organization
    text = text_of(client.get(f"/orgs/{approved.slug}/"))
    assert "Approved" in text and "Waiting for approval" not in text


def test_wrong_types_are_refused_or_ignored_never_a_500(client):
    login_as(client, make_user())
    # A file where text is expected is no name at all.
    response = create(client, name=(io.BytesIO(b"Hanvoice"), "name.txt"))
    assert response.status_code == 400 and "Enter the organization's name." in text_of(response)
    response = create(client, kind=(io.BytesIO(b"ngo"), "kind.txt"))
    assert response.status_code == 400
    assert org_count() == 0
    # Text where a file is expected is no logo; a repeated field counts once.
    response = create(client, name="Plain Text Logo", logo="not a file")
    assert response.status_code == 302
    assert db.session.scalar(select(Organization.logo_id).where(Organization.name == "Plain Text Logo")) is None
    response = create(client, name="Twice", kind=["festival", "ngo"])
    assert response.status_code == 302
    assert db.session.scalar(select(Organization.kind).where(Organization.name == "Twice")) == "festival"
