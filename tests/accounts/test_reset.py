"""Password reset: an e-mailed, single-use link that works for an hour, and never reveals who has an account."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update

from tests.accounts.flows import NEW_PASSWORD, copied_session, is_signed_in, sign_in
from tests.factories import PASSWORD, make_user
from tests.helpers import csrf_token, submit, text_of
from undersign.accounts.models import AccountToken, User
from undersign.db import utcnow
from undersign.extensions import db
from undersign.mail import OutboxMessage


def request_reset(client, email: str):  # type: ignore[no-untyped-def]
    return submit(client, "/reset", {"email": email})


def test_reset_by_mail(app, client, mailbox):
    make_user("forgetful@example.org")
    signed_in_elsewhere = app.test_client()
    sign_in(signed_in_elsewhere, "forgetful@example.org")

    response = request_reset(client, "Forgetful@example.org")
    assert response.status_code == 200 and "Check your e-mail" in text_of(response)
    mail = mailbox.last_to("forgetful@example.org")
    assert mail.subject == "Reset your undersign password"
    link = mail.link("/reset/")

    assert client.get(link).status_code == 200
    # A refused password can be corrected on the same page: the link is not used up by it.
    weak = submit(client, link, {"password": "password1234"})
    assert weak.status_code == 400 and "too easy to guess" in text_of(weak)
    empty = submit(client, link, {"password": ""})
    assert empty.status_code == 400 and "Choose a password." in text_of(empty)

    done = submit(client, link, {"password": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    assert not is_signed_in(signed_in_elsewhere)

    again = client.get(link)
    assert again.status_code == 400 and "Link not valid" in text_of(again)
    fresh = app.test_client()
    assert sign_in(fresh, "forgetful@example.org", PASSWORD).status_code == 400
    assert sign_in(fresh, "forgetful@example.org", NEW_PASSWORD).status_code == 302


def test_reset_link_expires_within_an_hour(client, mailbox):
    make_user("expired@example.org")
    request_reset(client, "expired@example.org")
    link = mailbox.last_to("expired@example.org").link("/reset/")
    token = db.session.scalar(select(AccountToken).where(AccountToken.purpose == "reset"))
    assert token.expires_at - token.created_at <= dt.timedelta(hours=1)

    db.session.execute(update(AccountToken).where(AccountToken.id == token.id).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    db.session.commit()
    page = client.get(link)
    assert page.status_code == 400 and "older than an hour" in text_of(page)
    posted = client.post(link, data={"password": NEW_PASSWORD, "csrf_token": _token(client)})
    assert posted.status_code == 400
    assert sign_in(client, "expired@example.org", PASSWORD).status_code == 302


def _token(client) -> str:  # type: ignore[no-untyped-def]
    return csrf_token(client.get("/reset").get_data(as_text=True))


def test_unknown_address_gets_the_same_page_and_no_mail(client, mailbox):
    make_user("known@example.org")
    known = request_reset(client, "known@example.org")
    mailbox.deliver()
    mailbox.clear()
    before = db.session.scalar(select(func.count()).select_from(OutboxMessage))

    unknown = request_reset(client, "nobody@example.org")
    assert unknown.status_code == known.status_code == 200
    assert text_of(unknown).replace("nobody@", "X@") == text_of(known).replace("known@", "X@")
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == before
    assert mailbox.deliver() == []


def test_a_new_password_kills_the_other_reset_links(app, client, mailbox):
    make_user("two-links@example.org")
    request_reset(client, "two-links@example.org")
    first = mailbox.last_to("two-links@example.org").link("/reset/")
    request_reset(client, "two-links@example.org")
    second = mailbox.last_to("two-links@example.org").link("/reset/")
    assert first != second
    assert submit(client, second, {"password": NEW_PASSWORD}).status_code == 302
    assert client.get(first).status_code == 400


def test_reset_mails_per_account_are_capped(client, mailbox):
    make_user("flooded@example.org")
    for _ in range(5):
        assert request_reset(client, "flooded@example.org").status_code == 200
    assert len(mailbox.to("flooded@example.org")) == 3


def test_reset_confirms_the_address_of_an_unverified_account(client, mailbox):
    member = make_user("unconfirmed@example.org", verified=False)
    request_reset(client, "unconfirmed@example.org")
    submit(client, mailbox.last_to("unconfirmed@example.org").link("/reset/"), {"password": NEW_PASSWORD})
    db.session.expire_all()
    assert db.session.get(User, member.id).is_verified


def test_password_change_on_the_account_page_kills_reset_links(app, client, mailbox):
    make_user("changes-mind@example.org")
    request_reset(client, "changes-mind@example.org")
    link = mailbox.last_to("changes-mind@example.org").link("/reset/")
    sign_in(client, "changes-mind@example.org")
    stolen = copied_session(app, client)
    submit(client, "/account", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}, action="/account/password")
    assert client.get(link).status_code == 400
    assert not is_signed_in(stolen)
