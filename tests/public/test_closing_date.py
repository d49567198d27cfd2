"""An open petition with a closing date says when it closes; a closed one does not."""

from __future__ import annotations

import datetime as dt

from tests.helpers import text_of
from tests.signatures.petitions import make_petition
from undersign.db import utcnow


def test_an_open_petition_shows_its_closing_date(client):  # type: ignore[no-untyped-def]
    closes = (utcnow() + dt.timedelta(days=40)).replace(hour=18, minute=0, second=0, microsecond=0)
    petition = make_petition(closes_at=closes, title="Closing soon")
    when = f"{closes.day} {closes:%B %Y}"
    for url in (petition.url, petition.hosted_url(petition.co_sponsor)):
        assert f"Closes on {when}, 18:00 UTC" in text_of(client.get(url))
    assert "Closing soon" in text_of(client.get("/")) and f"closes on {when}" in text_of(client.get("/"))
    assert f"closes on {when}" in text_of(client.get(f"/o/{petition.lead.slug}"))


def test_no_closing_date_when_there_is_none_or_it_has_passed(client):  # type: ignore[no-untyped-def]
    open_ended = make_petition()
    past = make_petition(closes_at=utcnow() - dt.timedelta(days=1))
    assert "Closes on" not in text_of(client.get(open_ended.url))
    past_page = text_of(client.get(past.url))
    assert "Closes on" not in past_page and "Petition closed" in past_page
    assert "closes on" not in text_of(client.get("/"))
