"""The petition page from its per-process shell is the page a whole rendering gives, and follows every change.

The shell (`undersign.public.shell`) keeps the page's text until the petition is edited and fills in the count,
the witnesses, the recent signers and the sign form's token on each view. These tests compare it with a whole
rendering (``PUBLIC_PAGE_SHELLS`` off) and check that what a visitor sees moves at once with each kind of change.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import update

from tests.factories import login_as, make_user
from tests.helpers import text_of
from tests.signatures.petitions import make_petition, sign, supporter
from tests.supporters.me import confirm
from undersign.campaigns.models import Campaign
from undersign.db import utcnow
from undersign.extensions import db

OPEN = "end-forced-repatriation"
CLOSED = "help-north-korean-refugees"


def _same_second(html: str) -> str:
    """The sign form's token carries the second it was made in: the only part two renderings may differ by."""
    return re.sub(r'(id="sign-token" name="csrf_token" type="hidden" value=")[^"]*"', r'\1"', html)


def _page(app, path: str, *, shells: bool, **headers: str) -> str:  # type: ignore[no-untyped-def]
    saved = app.config["PUBLIC_PAGE_SHELLS"]
    app.config["PUBLIC_PAGE_SHELLS"] = shells
    try:
        response = app.test_client().get(path, headers=headers)
    finally:
        app.config["PUBLIC_PAGE_SHELLS"] = saved
    assert response.status_code == 200, path
    return _same_second(response.get_data(as_text=True))


PAGES = [
    (f"/p/{OPEN}", {}),
    (f"/o/hanvoice/p/{OPEN}", {}),
    (f"/o/nkhr-film-festival/p/{OPEN}", {"Accept-Language": "ko"}),
    (f"/p/{OPEN}?lang=ko", {}),
    (f"/p/{OPEN}?via=hanvoice&source=newsletter", {}),
    (f"/p/{CLOSED}", {}),
    (f"/o/hanvoice/p/{CLOSED}", {"Accept-Language": "ko"}),
]


def test_the_page_from_its_shell_is_the_whole_rendering(app, demo):  # type: ignore[no-untyped-def]
    for path, headers in PAGES:
        whole = _page(app, path, shells=False, **headers)
        assert _page(app, path, shells=True, **headers) == whole, path  # the view that makes the shell
        assert _page(app, path, shells=True, **headers) == whole, path  # a view served from it


def test_a_count_change_shows_on_the_next_view_and_the_page_stays_whole(app, mailbox):  # type: ignore[no-untyped-def]
    petition = make_petition()
    db.session.commit()
    page = petition.hosted_url(petition.co_sponsor)
    visitor = app.test_client()
    name = petition.co_sponsor.name
    before = text_of(visitor.get(page))
    assert f"Be the first to join {name} today." in before and "0 supporters" in before

    signer = app.test_client()
    assert sign(signer, page, supporter(email="mina@example.org", public="y")).status_code == 303
    assert confirm(signer, mailbox.last_to("mina@example.org").link("/confirm/")).status_code == 200

    after = text_of(visitor.get(page))
    assert f"Join {name} and 1 supporter today." in after and "1 supporter" in after
    assert f"1 through {name}" in after
    assert "Ann L." in after  # the new public signer is among the recent supporters
    assert _page(app, page, shells=True) == _page(app, page, shells=False)


def test_an_edit_shows_at_once(app, client):  # type: ignore[no-untyped-def]
    petition = make_petition()
    db.session.commit()
    assert "New words for the title" not in text_of(client.get(petition.url))
    petition.campaign.title = "New words for the title"
    petition.campaign.edited(utcnow())
    db.session.commit()
    assert "New words for the title" in text_of(client.get(petition.url))


def test_a_sponsor_renamed_or_suspended_shows_at_once(app, client):  # type: ignore[no-untyped-def]
    petition = make_petition()
    db.session.commit()
    assert petition.co_sponsor.name in text_of(client.get(petition.url))

    # An organization's name has no timestamp of its own and never moves the campaign's.
    petition.co_sponsor.name = "Hanvoice Korea"
    db.session.commit()
    assert "Hanvoice Korea" in text_of(client.get(petition.url))

    petition.co_sponsor.status = "suspended"
    db.session.commit()
    assert "Hanvoice Korea" not in text_of(client.get(petition.url))


def test_a_petition_past_its_closing_date_reads_closed_without_any_edit(app, client):  # type: ignore[no-untyped-def]
    petition = make_petition(closes_at=utcnow() + dt.timedelta(days=3))
    db.session.commit()
    assert "Sign this petition" in text_of(client.get(petition.url))

    # Time passes (the closing job has not run yet): only the clock moved, not edited_at.
    db.session.execute(update(Campaign).where(Campaign.id == petition.campaign.id)
                       .values(closes_at=utcnow() - dt.timedelta(minutes=1)))
    db.session.commit()
    text = text_of(client.get(petition.url))
    assert "Petition closed" in text and "Sign this petition" not in text


def test_a_visitor_with_a_session_gets_the_whole_rendering(app, client):  # type: ignore[no-untyped-def]
    """A signed-in organizer sees their own header (sign-out form with its token): never a shared shell."""
    petition = make_petition()
    user = make_user()
    db.session.commit()
    anonymous = app.test_client()
    anonymous.get(petition.url)  # a shell exists
    login_as(client, user)
    html = client.get(petition.url).get_data(as_text=True)
    assert "Sign out" in html and "Sign in" not in html
    anonymous = anonymous.get(petition.url).get_data(as_text=True)
    assert "Sign in" in anonymous and "Sign out" not in anonymous
