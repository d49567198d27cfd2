"""Names people can read: invisible characters refused in every name, look-alike organizations
flagged for the administrator, and the public form of a signer's name ("first name and initial")."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, update

from tests.factories import login_as, make_org, make_user
from tests.helpers import submit, text_of
from tests.signatures.petitions import make_petition, sign, signature_rows, supporter
from undersign.accounts.models import User
from undersign.db import utcnow
from undersign.errors import InvalidInput
from undersign.extensions import db
from undersign.organizations import service as organizations
from undersign.organizations.models import Organization, OrgStatus
from undersign.signatures import service as signing
from undersign.signatures.display import display_name
from undersign.signatures.models import Signature
from undersign.signatures.rules import SignatureInput
from undersign.text import looks_like, unreadable_name
from undersign.tokens import hash_token

# Each hides inside a name or makes it look blank.
INVISIBLE = {
    "zero width space": "\u200b", "zero width non-joiner": "\u200c", "zero width joiner": "\u200d",
    "left-to-right mark": "\u200e", "word joiner": "\u2060", "invisible plus": "\u2064",
    "byte order mark": "\ufeff", "hangul filler": "\u3164", "hangul choseong filler": "\u115f",
    "hangul jungseong filler": "\u1160", "halfwidth hangul filler": "\uffa0", "soft hyphen": "\u00ad",
    "combining grapheme joiner": "\u034f", "mongolian vowel separator": "\u180e", "tag letter a": "\U000e0061",
    "variation selector 1": "\ufe00",
}
HIDDEN_IN_NAME = {kind: f"Hanvoice{ch}" for kind, ch in INVISIBLE.items()} | {
    "inside": "Han\u200bvoice", "joiner between latin letters": "Han\u200dvoice"}
BLANK = {"hangul filler": "\u3164", "fillers and spaces": "\u3164 \uffa0 \u115f", "zero width": "\u200b\u2060",
         "braille blank": "\u2800"}


# ---------------------------------------------------------------- the rule, in one place


@pytest.mark.parametrize("name", HIDDEN_IN_NAME.values(), ids=HIDDEN_IN_NAME.keys())
def test_invisible_characters_in_a_name_are_refused(name):
    assert "invisible characters" in (unreadable_name(name) or "")


@pytest.mark.parametrize("name", BLANK.values(), ids=BLANK.keys())
def test_a_name_blank_without_its_invisible_characters_is_refused(name):
    assert "blank once its invisible characters are removed" in (unreadable_name(name) or "")


@pytest.mark.parametrize("name", [
    "Hanvoice", "김철수", "Chloé Dupont", "Zoë O'Brien-Smith", "\u2764\ufe0f Sunny",
    "\u0645\u062d\u0645\u062f\u200c\u0631\u0636\u0627",  # Persian: the non-joiner is part of the spelling
    "\u0915\u094d\u200d\u0937",  # Devanagari: the joiner asks for a half form
])
def test_names_that_need_no_hiding_pass(name):
    assert unreadable_name(name) is None


# ---------------------------------------------------------------- every form that takes a name


@pytest.mark.parametrize("name", ["Hanvoice\u200b", "\u3164"], ids=["zero width", "filler only"])
def test_sign_form_refuses_invisible_names(client, mailbox, name):
    petition = make_petition()
    response = sign(client, petition.url, supporter(name, "ann@example.org"))
    assert response.status_code == 400
    assert "Your name" in text_of(response) and "invisible characters" in text_of(response)
    assert signature_rows(petition.campaign) == 0


def test_sign_service_refuses_them_too(client):
    petition = make_petition()
    with pytest.raises(InvalidInput) as raised:
        signing.sign(petition.campaign, signing.attributed_sponsorship(petition.campaign, None), SignatureInput("\u3164", "ann@example.org", "CA"))
    assert raised.value.field == "name"


def test_new_organization_refuses_invisible_names(client, mailbox):
    login_as(client, make_user("ann@example.org"))
    for name in ("Hanvoice\u200b", "\u3164\u3164\u3164"):
        response = submit(client, "/orgs/new", {"name": name, "kind": "ngo"}, content_type="multipart/form-data")
        assert response.status_code == 400, name
        assert "invisible characters" in text_of(response)
    assert db.session.scalar(select(func.count()).select_from(Organization)) == 0


def test_organization_settings_refuse_invisible_names(client):
    owner = make_user()
    org = make_org("Hanvoice", slug="hanvoice", owner=owner)
    login_as(client, owner)
    response = submit(client, "/orgs/hanvoice/settings", {"name": "Hanvoice\u2060", "kind": "ngo"},
                      content_type="multipart/form-data")
    assert response.status_code == 400 and "invisible characters" in text_of(response)
    db.session.refresh(org)
    assert org.name == "Hanvoice"
    with pytest.raises(InvalidInput):
        organizations.create_organization(owner, organizations.OrganizationProfile("\ufeffHanvoice", "ngo"))


def test_staff_names_refuse_invisible_characters(client, mailbox):
    response = submit(client, "/signup", {"name": "\u3164", "email": "ann@example.org",
                                          "password": "a long enough password"})
    assert response.status_code == 400 and "invisible characters" in text_of(response)
    assert db.session.scalar(select(func.count()).select_from(User)) == 0

    user = make_user(name="Ann Lee")
    login_as(client, user)
    response = submit(client, "/account", {"name": "Ann\u200b Lee"})
    assert response.status_code == 400 and "invisible characters" in text_of(response)
    db.session.refresh(user)
    assert user.name == "Ann Lee"


# ---------------------------------------------------------------- look-alike organizations


def test_lookalike_skeletons():
    for name in ("Hanv\u043eice", "HANVOICE", "Han voice", "Hanv0ice", "hanvoice"):
        assert looks_like(name, "Hanvoice"), name
    assert looks_like("Fathorn Film Group", "Fathom Film Group")  # rn for m
    for name in ("Hanvoice Korea", "Harvoice", "North Korean Human Rights Film Festival"):
        assert not looks_like(name, "Hanvoice"), name


def test_admin_sees_which_existing_organization_a_pending_one_looks_like(client):
    hanvoice = make_org("Hanvoice", slug="hanvoice")
    impostor = make_org("Hanv\u043eice", slug="hanvoice-2", status=OrgStatus.PENDING, owner=make_user())
    honest = make_org("Seoul Refugee Law Clinic", slug="seoul-clinic", status=OrgStatus.PENDING, owner=make_user())
    login_as(client, make_user(admin=True))

    queue = client.get("/admin/organizations")
    assert queue.status_code == 200
    html = queue.get_data(as_text=True)
    row = html[html.index(f'id="org-{impostor.id}"'):]
    row = row[:row.index("</tr>")]
    assert "Looks like: " in row and "Hanvoice</a>" in row and f"/admin/organizations/{hanvoice.id}" in row
    honest_row = html[html.index(f'id="org-{honest.id}"'):]
    assert "Looks like" not in honest_row[:honest_row.index("</tr>")]

    page = text_of(client.get(f"/admin/organizations/{impostor.id}"))
    assert "Looks like: Hanvoice (/o/hanvoice, approved)" in page
    assert "Looks like" not in text_of(client.get(f"/admin/organizations/{honest.id}"))


# ---------------------------------------------------------------- the public form of a name


@pytest.mark.parametrize(("name", "shown"), [
    ("Ann Lee Park", "Ann P."),
    ("Bo", "Bo"),
    ("zoë élise", "zoë É."),
    ("김철수", "김〇〇"),
    ("김 철수", "김〇〇"),
    ("山田太郎", "山〇〇"),
    ("🙂 Sunny 🌻", "Sunny"),
    ("🙂 Sunny Park 🌻", "Sunny P."),
    ("Sunny 🌻 Park", "Sunny P."),
    ("🙂 🌻", "A supporter"),
    ("★ 123", "A supporter"),
])
def test_public_form_of_a_name(name, shown):
    assert display_name(name) == shown


def test_public_list_shows_first_names_and_initials_only(client):
    petition = make_petition()
    for n, name in enumerate(["김철수", "🙂 Sunny 🌻", "🙂 🌻", "Ann Lee Park"]):
        signature = signing.sign(petition.campaign, signing.attributed_sponsorship(petition.campaign, None),
                                 SignatureInput(name, f"s{n}@example.org", "KR", show_publicly=True))
        db.session.execute(update(Signature).where(Signature.id == signature.id)
                           .values(token_hash=hash_token(f"t{n}")))
        signing.confirm(petition.campaign, f"t{n}")
        signature.confirmed_at = utcnow() - dt.timedelta(minutes=10 - n)
        db.session.commit()

    page = text_of(client.get(petition.url))
    recent = page[page.index("Recent supporters"):]
    for shown in ("김〇〇", "Sunny · South Korea", "A supporter · South Korea", "Ann P."):
        assert shown in recent, shown
    for hidden in ("철수", "🙂", "🌻", "Park"):
        assert hidden not in recent, hidden
