"""The per-process micro-cache of the anonymous petition page and its .json (web/cache.py).

Every other test runs with ``PUBLIC_PAGE_CACHE_SECONDS = 0`` (tests/conftest.py); these turn it on.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import update

from tests.factories import login_as, make_user
from tests.signatures.petitions import make_petition
from undersign.campaigns.models import Campaign
from undersign.db import utcnow
from undersign.extensions import db
from undersign.web.cache import page_cache

TTL = 0.4


@pytest.fixture
def cached(app, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "PUBLIC_PAGE_CACHE_SECONDS", TTL)
    page_cache().clear()
    yield page_cache()
    page_cache().clear()


def _count_becomes(campaign: Campaign, n: int) -> None:
    db.session.execute(update(Campaign).where(Campaign.id == campaign.id).values(signature_count=n, changed_at=utcnow()))
    db.session.commit()
    db.session.expire_all()


def test_anonymous_page_and_json_are_kept_for_the_ttl_then_refreshed(app, client, cached):  # type: ignore[no-untyped-def]
    petition = make_petition()
    _count_becomes(petition.campaign, 41)
    first = client.get(petition.url)
    figures = client.get(petition.url + ".json")
    assert "41</strong> supporters" in first.text and figures.json["signature_count"] == 41
    assert "Set-Cookie" not in first.headers

    _count_becomes(petition.campaign, 42)
    again = client.get(petition.url)
    assert again.status_code == 200 and again.text == first.text          # served from memory
    assert again.headers["Cache-Control"].startswith("public, max-age=")
    assert again.headers["Last-Modified"] == first.headers["Last-Modified"]
    assert "nonce-" in again.headers["Content-Security-Policy"]             # per-response headers still made
    assert client.get(petition.url + ".json").json["signature_count"] == 41
    # The copy still answers revalidation.
    assert client.get(petition.url, headers={"If-Modified-Since": first.headers["Last-Modified"]}).status_code == 304

    time.sleep(TTL + 0.1)
    fresh = client.get(petition.url)
    assert "42</strong> supporters" in fresh.text
    assert client.get(petition.url + ".json").json["signature_count"] == 42


def test_signed_in_user_and_session_cookie_never_get_the_cached_page(app, client, cached):  # type: ignore[no-untyped-def]
    petition = make_petition()
    _count_becomes(petition.campaign, 7)
    assert "7</strong> supporters" in app.test_client().get(petition.url).text   # an anonymous copy is kept
    _count_becomes(petition.campaign, 8)

    login_as(client, make_user())
    mine = client.get(petition.url)
    assert "8</strong> supporters" in mine.text
    assert mine.headers["Cache-Control"] == "no-store"
    assert "Sign out" in mine.text

    with_session = app.test_client()
    with with_session.session_transaction() as session:
        session["note"] = "a flashed message or a form in progress"
    page = with_session.get(petition.url)
    assert "8</strong> supporters" in page.text
    assert page.headers["Cache-Control"].startswith("private")
    # ... and what they were shown was not kept for anonymous visitors.
    assert "7</strong> supporters" in app.test_client().get(petition.url).text


def test_the_cache_holds_a_bounded_number_of_pages(app, client, cached, monkeypatch):  # type: ignore[no-untyped-def]
    petition = make_petition()
    monkeypatch.setattr(cached, "max_entries", 3)
    for n in range(6):
        assert client.get(f"{petition.url}?source=link-{n}").status_code == 200
    assert len(cached) == 3
    assert client.get("/p/no-such-petition").status_code == 404
    assert len(cached) == 3
