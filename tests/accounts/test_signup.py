"""Sign-up, e-mail verification and the password rules (DESIGN §9)."""

from __future__ import annotations

import datetime as dt

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select, update

from tests.accounts.flows import NEW_PASSWORD, is_signed_in, press_button, sign_in, sign_up
from tests.factories import PASSWORD, make_user
from tests.helpers import csrf_token, text_of
from undersign.accounts.models import AccountToken, User
from undersign.db import utcnow
from undersign.extensions import db
from undersign.mail import OutboxMessage


def user(email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def app_client(client):  # type: ignore[no-untyped-def]
    """Another browser on the same application."""
    return client.application.test_client()


def outbox_count() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage))


def test_sign_up_confirm_by_mail_then_sign_in(client, mailbox):
    response = sign_up(client, "Ada@Example.org", name="  Ada Lovelace ")
    assert response.status_code == 200
    assert "Check your e-mail" in text_of(response)
    created = user("ada@example.org")
    assert created is not None and created.name == "Ada Lovelace" and not created.is_verified
    assert created.password_hash.startswith("$argon2id$")

    mail = mailbox.last_to("ada@example.org")
    assert "Confirm your e-mail" in mail.subject
    link = mail.link("/verify/")
    # Opening the link (as a mail scanner would) shows a button and confirms nothing.
    page = client.get(link)
    assert page.status_code == 200 and "Confirm my address" in text_of(page)
    assert not user("ada@example.org").is_verified

    confirmed = press_button(client, link)
    assert confirmed.status_code == 302 and confirmed.headers["Location"].startswith("/login")
    assert user("ada@example.org").is_verified

    signed_in = sign_in(client, "ada@example.org", NEW_PASSWORD)
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/orgs"
    account = client.get("/account")
    assert account.status_code == 200
    assert "ada@example.org" in text_of(account) and "not confirmed" not in text_of(account)


def test_verification_link_works_once_and_expires(client, mailbox):
    sign_up(client, "once@example.org")
    link = mailbox.last_to("once@example.org").link("/verify/")
    assert press_button(client, link).status_code == 302
    again = client.get(link)
    assert again.status_code == 400 and "Link not valid" in text_of(again)

    sign_up(client, "late@example.org")
    link = mailbox.last_to("late@example.org").link("/verify/")
    db.session.execute(update(AccountToken).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    db.session.commit()
    assert client.get(link).status_code == 400
    assert not user("late@example.org").is_verified


def test_unverified_user_can_ask_for_a_new_link(client, mailbox):
    sign_up(client, "slow@example.org")
    first = mailbox.last_to("slow@example.org").link("/verify/")
    sign_in(client, "slow@example.org", NEW_PASSWORD)
    account = client.get("/account")
    assert "is not confirmed yet" in text_of(account)

    response = client.post("/verify/resend", data={"csrf_token": csrf_token(account.get_data(as_text=True))})
    assert response.status_code == 302
    second = mailbox.last_to("slow@example.org").link("/verify/")
    assert second != first
    assert press_button(client, second).status_code == 302
    assert "is not confirmed yet" not in text_of(client.get("/account"))


def test_sign_up_with_a_taken_address_looks_the_same_and_tells_the_owner(client, mailbox):
    owner = make_user("owner@example.org", "Olga Owner")
    taken = sign_up(client, "OWNER@example.org", name="Mallory")
    fresh = sign_up(client, "newcomer@example.org", name="Mallory")

    assert taken.status_code == fresh.status_code == 200
    assert text_of(taken).replace("OWNER@example.org", "@") == text_of(fresh).replace("newcomer@example.org", "@")

    mails = mailbox.to("owner@example.org")
    assert [m.subject for m in mails] == ["You already have an undersign account"]
    assert mails[0].link("/login") and mails[0].link("/reset")
    assert "/verify/" not in mails[0].body
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email == "owner@example.org")) == 1
    # Nothing about the account changed: the owner's password still works, the stranger's does not.
    assert user("owner@example.org").name == "Olga Owner"
    assert sign_in(app_client(client), "owner@example.org", NEW_PASSWORD).status_code == 400
    assert sign_in(app_client(client), "owner@example.org", PASSWORD).status_code == 302
    assert owner.id == user("owner@example.org").id


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short pass", "Use between 12 and 1,024 characters."),
        ("x" * 1025, "Use between 12 and 1,024 characters."),
        ("password1234", "too easy to guess"),
        ("PASSWORD1234", "too easy to guess"),
        ("correct horse battery staple", "too easy to guess"),
        ("rules@example.org", "too easy to guess"),
        ("ababababababab", "too easy to guess"),
    ],
)
def test_password_rules(client, mailbox, password, message):
    before = outbox_count()
    response = sign_up(client, "rules@example.org", password=password)
    assert response.status_code == 400
    assert message in text_of(response)
    assert user("rules@example.org") is None
    assert outbox_count() == before


def test_long_and_unicode_passwords_are_accepted(client, mailbox):
    longest = "horse staple " * 78 + "xyzabcdefghijklmnop"[: 1024 - 13 * 78]
    assert len(longest) == 1024
    assert sign_up(client, "long@example.org", password=longest).status_code == 200
    assert sign_in(client, "long@example.org", longest).status_code == 302

    # The same phrase typed as composed (é) and decomposed (e + accent) characters is the same password.
    composed = "caf\u00e9 cr\u00e8me br\u00fbl\u00e9e"
    decomposed = "cafe\u0301 cre\u0300me bru\u0302le\u0301e"
    assert sign_up(app_client(client), "unicode@example.org", password=composed).status_code == 200
    assert sign_in(app_client(client), "unicode@example.org", decomposed).status_code == 302


def test_password_is_rehashed_on_sign_in_when_the_parameters_change(client, app):
    member = make_user("rehash@example.org")
    member.password_hash = PasswordHasher(time_cost=2, memory_cost=128).hash(PASSWORD)
    db.session.commit()
    assert "m=128,t=2" in member.password_hash

    assert sign_in(client, "rehash@example.org", PASSWORD).status_code == 302
    current = user("rehash@example.org").password_hash
    expected = f"m={app.config['PASSWORD_HASH_MEMORY_COST']},t={app.config['PASSWORD_HASH_TIME_COST']}"
    assert current.startswith("$argon2id$") and expected in current
    # Unchanged parameters: no new hash on the next sign-in.
    assert sign_in(app_client(client), "rehash@example.org", PASSWORD).status_code == 302
    assert user("rehash@example.org").password_hash == current
    assert is_signed_in(client)


def test_already_registered_mail_is_capped_per_address_and_hour(client, mailbox):
    make_user("target@example.org", "Tara Target")
    pages = [sign_up(client, "target@example.org", name=f"Mallory {n}") for n in range(6)]
    # The page never changes, so the form still reveals nothing about who has an account.
    assert {page.status_code for page in pages} == {200}
    assert len({text_of(page) for page in pages}) == 1
    subjects = [m.subject for m in mailbox.to("target@example.org")]
    assert subjects == ["You already have an undersign account"] * 3

    # Someone else's address has a cap of its own.
    make_user("other@example.org")
    sign_up(client, "other@example.org")
    assert len(mailbox.to("other@example.org")) == 1

    # An hour later the owner can be told again.
    db.session.execute(update(OutboxMessage).values(created_at=utcnow() - dt.timedelta(hours=1, minutes=1)))
    db.session.commit()
    sign_up(client, "target@example.org")
    assert len(mailbox.to("target@example.org")) == 4
