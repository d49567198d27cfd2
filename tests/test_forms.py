"""The forms of every domain: what a non-browser can post, and control characters in every text field.

(a) Flask-WTF on its own reads JSON bodies and every uploaded file into a form's
    fields, so a JSON array or number as the body, or a file posted under a text
    field's name, reached the validators as a non-string: a 500. Every form is
    built on `undersign.web.forms.Form`, which reads only what an HTML form sends;
    one form of each domain is posted such bodies here and answers 400 with the
    form and its message, having written nothing.
(b) Every text field of every form refuses NUL (PostgreSQL cannot store it: it
    would be a 500 there) and other control characters, with a 400 and the form;
    the few fields documented as tidied rather than refused (the sign form's
    ``source`` and ``via``, the login page's ``next``, the honeypot) drop them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest
from sqlalchemy import func, select

from tests.campaigns.campaign_factories import make_campaign, png_bytes
from tests.factories import PASSWORD, add_member, login_as, make_org, make_user
from tests.helpers import csrf_token, text_of
from tests.signatures.petitions import form_action, hidden_fields, make_petition, supporter
from undersign.accounts.models import User
from undersign.accounts.service import request_password_reset
from undersign.campaigns.models import Campaign
from undersign.extensions import db, limiter
from undersign.organizations.models import Membership, Organization, OrgStatus, Role
from undersign.signatures.models import Signature


@dataclass
class Page:
    """A form as a browser sees it: the client that opens it, the page, where it posts, a valid submission."""

    client: Any
    page: str
    data: dict[str, Any]
    action: str | None = None
    sign_form: bool = False  # the cookie-less sign form: its own token and hidden fields
    refused: tuple[str, ...] = ()  # text fields that must refuse control characters
    tidied: tuple[str, ...] = ()  # text fields documented to drop what they cannot use
    headers: dict[str, str] = field(default_factory=dict)

    def open(self) -> tuple[dict[str, Any], str]:
        """The form's hidden fields (CSRF token included) and where it posts."""
        response = self.client.get(self.page)
        assert response.status_code == 200, f"GET {self.page} gave {response.status_code}"
        html = response.get_data(as_text=True)
        if self.sign_form:
            return hidden_fields(html), form_action(html)
        return {"csrf_token": csrf_token(html)}, self.action or self.page

    def post(self, data: dict[str, Any], **kwargs: Any) -> Any:
        hidden, action = self.open()
        return self.client.post(action, data={**hidden, **data}, headers=self.headers, **kwargs)


@pytest.fixture
def pages(app, mailbox) -> Callable[[str], Page]:  # type: ignore[no-untyped-def]
    """``pages(name)``: one form of the site, with the rows it needs and a client signed in as needed."""
    owner = make_user("owner@example.org", "Org Owner")
    org = make_org("Hanvoice", slug="hanvoice", owner=owner)
    colleague = add_member(org, make_user("colleague@example.org"), Role.EDITOR)
    colleague_membership = db.session.scalar(select(Membership.id).where(Membership.user_id == colleague.id))
    draft = make_campaign(org, slug="stop-deportations", title="Stop deportations")
    pending = make_org("New Group", status=OrgStatus.PENDING)
    petition = make_petition()
    same_origin = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}
    campaign_data = {"title": "Stop deportations", "body": "Text.", "summary": "Short.",
                     "demands": "Stop\nNow.", "calls_to_action": "Read more | https://example.org"}
    campaign_text = ("title", "slug", "summary", "body", "decision_maker", "decision_maker_handle", "demands",
                     "hashtag", "social_handle", "calls_to_action")

    def client_for(user: User | None) -> Any:
        client = app.test_client()
        if user is not None:
            login_as(client, user)
        return client

    def reset_link() -> str:
        with app.test_request_context():
            request_password_reset(owner.email)
        db.session.commit()
        return mailbox.last_to(owner.email).link("/reset/")

    def build(name: str) -> Page:
        anonymous, staff = client_for(None), client_for(owner)
        forms: dict[str, Callable[[], Page]] = {
            "sign-up": lambda: Page(anonymous, "/signup", {"name": "Ada Staff", "email": "ada@example.org",
                                                            "password": "lantern orchard velvet compass"},
                                    refused=("name", "email", "password")),
            "sign-in": lambda: Page(anonymous, "/login", {"email": owner.email, "password": PASSWORD},
                                    refused=("email", "password"), tidied=("next",)),
            "reset request": lambda: Page(anonymous, "/reset", {"email": owner.email}, refused=("email",)),
            "new password": lambda: Page(anonymous, reset_link(), {"password": "lantern orchard velvet compass"},
                                         refused=("password",)),
            "profile": lambda: Page(staff, "/account", {"name": "Org Owner"}, refused=("name",)),
            "change password": lambda: Page(staff, "/account", {"current_password": PASSWORD,
                                                                "new_password": "lantern orchard velvet compass"},
                                            action="/account/password", refused=("current_password", "new_password")),
            "create organization": lambda: Page(staff, "/orgs/new", {"name": "Fathom Film Group", "kind": "ngo",
                                                                     "description": "Films.",
                                                                     "website": "https://fathom.example"},
                                                refused=("name", "kind", "description", "website")),
            "organization settings": lambda: Page(staff, "/orgs/hanvoice/settings",
                                                  {"name": "Hanvoice", "kind": "ngo", "description": "Films."},
                                                  refused=("name", "kind", "description", "website")),
            "invite member": lambda: Page(staff, "/orgs/hanvoice/members/invite",
                                          {"email": "new@example.org", "role": "editor"}, refused=("email", "role")),
            "member role": lambda: Page(staff, f"/orgs/hanvoice/members/{colleague_membership}",
                                        {"role": "viewer"}, refused=("role",)),
            "new campaign": lambda: Page(staff, "/orgs/hanvoice/campaigns/new", campaign_data, refused=campaign_text),
            "campaign edit": lambda: Page(staff, f"/orgs/hanvoice/campaigns/{draft.slug}/edit", campaign_data,
                                          refused=campaign_text),
            "invite co-sponsor": lambda: Page(staff, f"/orgs/hanvoice/campaigns/{draft.slug}/sponsors",
                                              {"organization": petition.lead.slug},
                                              action=f"/orgs/hanvoice/campaigns/{draft.slug}/sponsors/invite",
                                              refused=("organization",)),
            "campaign update": lambda: Page(staff, f"/orgs/hanvoice/campaigns/{draft.slug}/updates/new",
                                            {"title": "News", "body": "More news."}, refused=("title", "body")),
            "reject organization": lambda: Page(client_for(make_user(admin=True)),
                                                f"/admin/organizations/{pending.id}", {"reason": "Not a group."},
                                                action=f"/admin/organizations/{pending.id}/reject",
                                                refused=("reason",)),
            "sign petition": lambda: Page(anonymous, petition.url, supporter(comment="Yes.", postcode="M5V 2T6"),
                                          sign_form=True, headers=same_origin,
                                          refused=("name", "email", "country", "postcode", "comment"),
                                          tidied=("consent", "via", "source", "website")),
        }
        return forms[name]()

    return build


# ---------------------------------------------------------------- (a) JSON bodies and stray files


def _nothing_written() -> tuple[int, int, int, list[str]]:
    db.session.expire_all()
    return (
        db.session.scalar(select(func.count()).select_from(User)) or 0,
        db.session.scalar(select(func.count()).select_from(Organization)) or 0,
        db.session.scalar(select(func.count()).select_from(Signature)) or 0,
        list(db.session.scalars(select(Campaign.title).order_by(Campaign.id))),
    )


# One form of each domain, the field a stray file is posted as, and what the page then says.
ONE_FORM_A_DOMAIN = {
    "sign-up": ("name", "Enter your name."),
    "create organization": ("name", "Enter the organization's name."),
    "campaign edit": ("title", "Give the petition a title."),
    "sign petition": ("name", "Enter your name."),
}
NOT_A_FORM = {
    "a JSON array": {"json": [1, "two", {"name": "Ann"}]},
    "a JSON number": {"data": "42", "content_type": "application/json"},
    "a JSON object of non-strings": {"json": {"name": 7, "title": ["x"], "email": None, "country": {"CA": 1}}},
}


@pytest.mark.parametrize("body", list(NOT_A_FORM))
@pytest.mark.parametrize("name", list(ONE_FORM_A_DOMAIN))
def test_a_json_body_gets_the_form_back(pages, name, body):
    page = pages(name)
    before = _nothing_written()
    hidden, action = page.open()
    # The CSRF token in its header, so the request gets past CSRF and into the form.
    response = page.client.post(action, headers={**page.headers, "X-CSRFToken": hidden["csrf_token"]},
                                **NOT_A_FORM[body])
    assert response.status_code == 400
    assert ONE_FORM_A_DOMAIN[name][1] in text_of(response)
    assert _nothing_written() == before


@pytest.mark.parametrize("name", list(ONE_FORM_A_DOMAIN))
def test_a_file_posted_as_a_text_field_gets_the_form_back(pages, name):
    page = pages(name)
    before = _nothing_written()
    text_field, message = ONE_FORM_A_DOMAIN[name]
    response = page.post({**page.data, text_field: (io.BytesIO(b"not a name"), "name.txt")},
                         content_type="multipart/form-data")
    assert response.status_code == 400
    assert message in text_of(response)
    assert _nothing_written() == before


def test_a_form_with_a_file_field_still_takes_its_file(pages):
    """The file fields keep their uploads (a logo here), while stray files are ignored."""
    page = pages("create organization")
    response = page.post({**page.data, "logo": (io.BytesIO(png_bytes()), "logo.png"),
                          "description": (io.BytesIO(b"stray"), "stray.txt")}, content_type="multipart/form-data")
    assert response.status_code == 302
    org = db.session.scalar(select(Organization).where(Organization.name == "Fathom Film Group"))
    assert org is not None and org.logo_id is not None and org.description == ""


# ---------------------------------------------------------------- (b) control characters in every text field


FORMS = ["sign-up", "sign-in", "reset request", "new password", "profile", "change password", "create organization",
         "organization settings", "invite member", "member role", "new campaign", "campaign edit",
         "invite co-sponsor", "campaign update", "reject organization", "sign petition"]
POISON = {"NUL": "a\x00b", "escape": "a\x1b[31mb", "bidi override": "a\u202eb"}


@pytest.mark.parametrize("name", FORMS)
def test_control_characters_are_refused_in_every_text_field(pages, name):
    page = pages(name)
    failures = []
    for text_field in page.refused:
        for label, poison in POISON.items():
            if label == "bidi override" and "password" in text_field:
                continue  # passwords are never shown: only keyboard-typeable is asked of them
            before = _nothing_written()
            response = page.post({**page.data, text_field: poison})
            if response.status_code != 400 or _nothing_written() != before:
                failures.append(f"{text_field} with {label}: {response.status_code}")
    limiter.reset()  # the sign-in and sign limits count per address, and all of the above came from one
    for text_field in page.tidied:
        response = pages(name).post({**page.data, text_field: "a\x00b"})  # a fresh visitor: it may go through
        if response.status_code >= 500:
            failures.append(f"{text_field} (tidied) with NUL: {response.status_code}")
    assert failures == []
    # The same submission without the poison goes through: the refusals above were the poison's.
    assert pages(name).post(page.data).status_code in (200, 302, 303)
