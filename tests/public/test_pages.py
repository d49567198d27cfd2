"""The public pages: the petition list, organization pages and the hosted petition pages."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import event, func, select

from tests.factories import login_as, make_org, make_user
from tests.helpers import text_of
from tests.public.petitions import active_content, make_petition
from undersign.campaigns.models import CampaignStatus, SponsorshipStatus, Update
from undersign.campaigns.updates import post_update
from undersign.db import utcnow
from undersign.extensions import db
from undersign.organizations.models import OrgStatus


@pytest.fixture
def sponsors():  # type: ignore[no-untyped-def]
    return (
        make_org("Lead Films", slug="lead-films"),
        make_org("Rights Now", slug="rights-now"),
        make_org("Film Fest", slug="film-fest"),
    )


# --- the hosted pages ------------------------------------------------------------------------


def test_both_hosted_pages_show_the_same_shared_count(client, sponsors):
    lead, ngo, fest = sponsors
    campaign = make_petition(lead, ngo, fest, counts={lead: 1000, ngo: 200, fest: 34}, goal=5000)

    canonical = client.get(f"/p/{campaign.slug}")
    hosted = client.get(f"/o/rights-now/p/{campaign.slug}")

    assert canonical.status_code == hosted.status_code == 200
    for page in (canonical, hosted):
        text = text_of(page)
        assert "1,234 supporters" in text
        assert "1,234 of 5,000" in text
        assert f'<link rel="canonical" href="http://localhost/p/{campaign.slug}">' in page.get_data(as_text=True)
    assert "Lead Films, Rights Now and Film Fest need your help" in text_of(canonical)
    # The host comes first, with the part of the count it brought in.
    assert "Rights Now, Lead Films and Film Fest need your help" in text_of(hosted)
    assert "200 through Rights Now" in text_of(hosted)


def test_the_page_reads_the_cached_counter_and_never_touches_signature_rows(app, client, sponsors):
    lead, ngo, _ = sponsors
    campaign = make_petition(lead, ngo, counts={lead: 70_000, ngo: 5})
    statements: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement.lower())

    connection = db.session.connection()
    event.listen(connection, "before_cursor_execute", record)
    try:
        first = client.get(f"/o/rights-now/p/{campaign.slug}")
        on_first = list(statements)
        statements.clear()
        again = client.get(f"/p/{campaign.slug}")
    finally:
        event.remove(connection, "before_cursor_execute", record)

    assert "70,005 supporters" in text_of(first) and "70,005 supporters" in text_of(again)
    assert on_first and statements, "the listener saw no SQL at all"
    # At most one bounded read of the recent public signers (no COUNT) ...
    touching = [s for s in on_first if "signatures" in s]
    assert len(touching) <= 1 and all("count(" not in s and "limit" in s for s in touching), touching
    # ... and none once it is cached, until the counter moves.
    assert not [s for s in statements if "signatures" in s]


def test_hosted_page_of_an_organization_that_is_not_an_accepted_sponsor_is_404(client, sponsors):
    lead, ngo, fest = sponsors
    invited = make_petition(lead, ngo, co_sponsor_status=SponsorshipStatus.INVITED)
    withdrawn = make_petition(lead, fest, co_sponsor_status=SponsorshipStatus.WITHDRAWN)

    assert client.get(f"/o/rights-now/p/{invited.slug}").status_code == 404
    assert client.get(f"/o/film-fest/p/{withdrawn.slug}").status_code == 404
    assert client.get(f"/o/film-fest/p/{invited.slug}").status_code == 404  # no part in it at all
    assert client.get(f"/o/lead-films/p/{invited.slug}").status_code == 200
    # A sponsor that is not accepted is not named on the page either.
    assert "Rights Now" not in text_of(client.get(f"/p/{invited.slug}"))


def test_hosted_page_of_a_suspended_co_sponsor_sends_to_the_canonical_page_which_does_not_name_it(client, sponsors):
    lead, ngo, _ = sponsors
    campaign = make_petition(lead, ngo)
    ngo.status = OrgStatus.SUSPENDED.value
    db.session.commit()

    response = client.get(f"/o/rights-now/p/{campaign.slug}")
    assert response.status_code == 302 and response.headers["Location"] == f"/p/{campaign.slug}"
    page = client.get(f"/p/{campaign.slug}")
    assert page.status_code == 200 and "Rights Now" not in text_of(page)


def test_open_petition_shows_decision_maker_body_demands_calls_to_action_and_the_sign_place(client, sponsors):
    lead, ngo, _ = sponsors
    campaign = make_petition(
        lead, ngo, counts={lead: 41, ngo: 1},
        title="Free the Films", hashtag="FreeTheFilms", social_handle="leadfilms",
        decision_maker="Minister of Culture", decision_maker_handle="culture_min",
        body="We **need** this.", summary="Short and clear.",
        demands=[{"title": "Open the archive", "text": "All of it."}, {"title": "Fund *screenings*", "text": "Now."}],
        calls_to_action=[{"label": "Watch the film", "url": "https://example.org/film"},
                         {"label": "Bad link", "url": "javascript:alert(1)"}],
    )
    response = client.get(f"/p/{campaign.slug}")
    html = response.get_data(as_text=True)
    text = text_of(response)

    assert "Free the Films #FreeTheFilms" in text
    assert "42 supporters" in text
    assert "Petition to Minister of Culture" in text
    assert '(<a href="https://twitter.com/culture_min" rel="noopener">@culture_min</a>)' in html
    assert "<strong>need</strong>" in html
    demands = r"<ol class=\"demands\">\s*<li><h3>Open the archive</h3>.*?<li><h3>Fund \*screenings\*</h3>"
    assert re.search(demands, html, re.S)
    assert 'href="https://example.org/film"' in html and "Bad link" not in text
    assert 'id="sign"' in html
    assert "Today: Lead Films is counting on you" in text
    assert "Join Lead Films and 42 supporters today." in text
    assert "Petition closed" not in text


def test_share_links_open_graph_and_qr_code(client, sponsors):
    lead, ngo, _ = sponsors
    campaign = make_petition(lead, ngo, title="Free the Films", hashtag="#FreeTheFilms", social_handle="@leadfilms",
                             summary="Short and clear.")
    html = client.get(f"/o/rights-now/p/{campaign.slug}").get_data(as_text=True)
    hosted_url = f"http%3A%2F%2Flocalhost%2Fo%2Frights-now%2Fp%2F{campaign.slug}"

    tweet = re.search(r'href="(https://twitter.com/intent/tweet\?[^"]+)"', html).group(1)
    assert "text=Free%20the%20Films%20%40leadfilms" in tweet
    assert "hashtags=FreeTheFilms" in tweet
    assert f"url={hosted_url}" in tweet  # shares of a hosted page keep bringing signers to that sponsor
    assert f'href="https://www.facebook.com/sharer/sharer.php?u={hosted_url}"' in html
    assert 'href="mailto:?subject=Free%20the%20Films&amp;body=Short%20and%20clear.' in html
    assert f'readonly value="http://localhost/o/rights-now/p/{campaign.slug}"' in html
    assert re.search(r'<svg role="img" aria-label="QR code[^"]*"[^>]*>.*?<path', html, re.S)
    assert "Scan with a phone camera" in html
    assert f'<meta property="og:url" content="http://localhost/p/{campaign.slug}">' in html
    assert '<meta property="og:title" content="Free the Films #FreeTheFilms">' in html
    assert '<meta property="og:description" content="Short and clear.">' in html
    assert '<meta name="twitter:card" content="summary">' in html
    assert "og:image" not in html  # no image, no tag


def test_updates_are_shown_newest_first_and_sanitized(client, sponsors):
    lead, ngo, _ = sponsors
    campaign = make_petition(lead, ngo)
    now = utcnow()
    db.session.add_all([
        Update(campaign_id=campaign.id, organization_id=lead.id, title="First news", body="Old *news*",
               created_at=now - dt.timedelta(days=2)),
        Update(campaign_id=campaign.id, organization_id=ngo.id, title="Latest news",
               body="New <img src=x onerror=alert(1)> [x](javascript:alert(2))", created_at=now),
    ])
    db.session.commit()
    html = client.get(f"/p/{campaign.slug}").get_data(as_text=True)

    assert html.index("Latest news") < html.index("First news")
    assert "<em>news</em>" in html
    assert active_content(html) == []
    assert "<img" not in html


def test_closed_petition_shows_its_final_count_and_no_form(client, sponsors):
    lead, ngo, _ = sponsors
    closed = make_petition(lead, ngo, status=CampaignStatus.CLOSED, counts={lead: 500, ngo: 86})
    # Published but past its closing date: closed for the public before any job runs.
    expired = make_petition(lead, counts={lead: 3}, closes_at=utcnow() - dt.timedelta(minutes=1))

    for campaign, count in ((closed, "586"), (expired, "3")):
        for url in (f"/p/{campaign.slug}", f"/o/lead-films/p/{campaign.slug}"):
            response = client.get(url)
            text = text_of(response)
            assert response.status_code == 200
            assert "Petition closed" in text
            assert f"This petition had {count} supporters" in text
            assert "counting on you" not in text and "Sign this petition" not in text
            assert "<form" not in response.get_data(as_text=True).split('id="sign"')[1].split("</section>")[0]


def test_victory_is_shown_as_such(client, sponsors):
    lead, ngo, _ = sponsors
    campaign = make_petition(lead, ngo, status=CampaignStatus.VICTORY, counts={lead: 9000, ngo: 1})
    text = text_of(client.get(f"/p/{campaign.slug}"))

    assert "Victory!" in text
    assert "Victory with 9,001 supporters" in text
    assert "counting on you" not in text and "Petition closed" not in text


@pytest.mark.parametrize("case", ["draft", "lead rejected", "lead pending"])
def test_petitions_the_public_may_not_see_are_404(client, sponsors, case):
    lead, ngo, _ = sponsors
    campaign = make_petition(lead, ngo, status=CampaignStatus.DRAFT if case == "draft" else CampaignStatus.PUBLISHED,
                             title="Hidden petition")
    if case.startswith("lead "):
        lead.status = {"lead rejected": OrgStatus.REJECTED, "lead pending": OrgStatus.PENDING}[case].value
    db.session.commit()

    assert client.get(f"/p/{campaign.slug}").status_code == 404
    assert client.get(f"/o/rights-now/p/{campaign.slug}").status_code == 404
    assert "Hidden petition" not in text_of(client.get("/?q=hidden"))
    assert "Hidden petition" not in text_of(client.get("/o/rights-now"))


@pytest.mark.parametrize("case", ["taken down", "lead suspended"])
def test_unavailable_petitions_say_so_with_their_count_and_are_not_listed(client, sponsors, case):
    lead, ngo, _ = sponsors
    campaign = make_petition(lead, ngo, counts={lead: 5, ngo: 2}, title="Hidden petition")
    if case == "taken down":
        campaign.taken_down_at, campaign.takedown_reason = utcnow(), "It named a private person."
    else:
        lead.status = OrgStatus.SUSPENDED.value
    db.session.commit()

    for url in (f"/p/{campaign.slug}", f"/o/rights-now/p/{campaign.slug}"):
        response = client.get(url)
        text = text_of(response)
        assert response.status_code == 410, url
        assert "This petition is unavailable" in text and "7 supporters signed it" in text
        assert "Hidden petition" not in text and "mistyped" not in text
        assert ("It named a private person." in text) is (case == "taken down")
    assert "Hidden petition" not in text_of(client.get("/?q=hidden"))
    assert "Hidden petition" not in text_of(client.get("/o/rights-now"))


def test_unknown_and_odd_slugs_are_404(client):
    for url in ("/p/nothing-here", "/p/%00", "/p/a%27%20OR%201=1", "/o/nobody", "/o/%00/p/x", "/p/" + "x" * 300):
        assert client.get(url).status_code == 404, url


def test_a_hostile_body_renders_inert(client, sponsors):
    lead, _, _ = sponsors
    campaign = make_petition(
        lead, title="<script>alert('title')</script>", summary='"><script>alert(1)</script>',
        body=(
            "<script>alert('body')</script>\n\n<img src=x onerror=alert(1)>\n\n"
            "[click](javascript:alert(1)) [data](data:text/html;base64,PHNjcmlwdD4=)\n\n"
            "<iframe src=https://evil.example></iframe>\n\n<a href=\"javascript:alert(3)\">raw</a>"
        ),
        demands=[{"title": "<b onmouseover=alert(1)>x</b>", "text": "<svg onload=alert(1)>"}],
    )
    html = client.get(f"/p/{campaign.slug}").get_data(as_text=True)

    assert active_content(html) == []
    assert "<script src=\"/static/js/share.js\" defer>" in html  # the checker does see tags
    assert sorted(active_content('<a href="javascript:x()" onclick="y()">')) == ["a href=javascript:x()", "a onclick="]
    for raw in ("<img", "<iframe", "<svg onload", "<b onmouseover"):
        assert raw not in html, raw
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in html


# --- caching ---------------------------------------------------------------------------------


def test_last_modified_and_304(client, sponsors):
    lead, _, _ = sponsors
    changed = dt.datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=dt.timezone.utc)
    campaign = make_petition(lead, counts={lead: 5}, changed_at=changed)
    url = f"/p/{campaign.slug}"

    first = client.get(url)
    assert first.headers["Last-Modified"] == "Fri, 02 Jan 2026 03:04:05 GMT"
    assert first.headers["Cache-Control"] == "public, max-age=10, stale-while-revalidate=60, stale-if-error=86400"

    again = client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["Cache-Control"] == first.headers["Cache-Control"]  # the cache may keep it longer
    older = client.get(url, headers={"If-Modified-Since": "Fri, 02 Jan 2026 03:04:04 GMT"})
    assert older.status_code == 200

    # A new signature (the counter moves, changed_at with it) makes the copy stale.
    campaign.signature_count += 1
    campaign.changed_at = utcnow()
    db.session.commit()
    fresh = client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert fresh.status_code == 200 and "6 supporters" in text_of(fresh)


def test_a_new_update_makes_the_cached_copy_stale(client, sponsors):
    lead, _, _ = sponsors
    campaign = make_petition(lead, changed_at=dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc))
    stamp = client.get(f"/p/{campaign.slug}").headers["Last-Modified"]
    post_update(make_user(), lead, campaign, "News", "Hello")
    db.session.commit()

    response = client.get(f"/p/{campaign.slug}", headers={"If-Modified-Since": stamp})
    assert response.status_code == 200 and "News" in text_of(response)


def test_signed_in_visitors_are_never_cached(client, sponsors):
    lead, _, _ = sponsors
    campaign = make_petition(lead)
    login_as(client, make_user())

    assert client.get(f"/p/{campaign.slug}").headers["Cache-Control"] == "no-store"


# --- the petition list -----------------------------------------------------------------------


def test_home_lists_visible_petitions_most_supported_first(client, sponsors):
    lead, ngo, _ = sponsors
    make_petition(lead, title="Small one", counts={lead: 3})
    make_petition(lead, ngo, title="Big one", counts={lead: 900, ngo: 100})
    make_petition(lead, title="Won one", status=CampaignStatus.VICTORY, counts={lead: 50})
    make_petition(lead, title="Secret draft", status=CampaignStatus.DRAFT)
    text = text_of(client.get("/"))

    assert text.index("Big one") < text.index("Won one") < text.index("Small one")
    assert "1,000 supporters" in text and "By Lead Films, Rights Now" in text
    assert "Secret draft" not in text


def test_search_finds_by_title_and_summary_ignoring_case(client, sponsors):
    lead, _, _ = sponsors
    make_petition(lead, title="Save the Harbour Cinema", summary="An old cinema.")
    make_petition(lead, title="Plant more trees", summary="For a greener HARBOUR district.")
    make_petition(lead, title="Fix the roads", summary="Potholes.")
    make_petition(lead, title="100% renewable", summary="Power.")

    found = text_of(client.get("/?q=harbour"))
    assert "Save the Harbour Cinema" in found and "Plant more trees" in found and "Fix the roads" not in found
    assert "Save the Harbour Cinema" in text_of(client.get("/?q=HARBOUR+CIN"))
    # LIKE wildcards are taken literally.
    percent = text_of(client.get("/?q=100%25"))
    assert "100% renewable" in percent and "Fix the roads" not in percent
    assert "No petition matches" in text_of(client.get("/?q=_"))


@pytest.mark.parametrize("query", ["\x00", "a\x00b", "\u202e\u0000", "é" * 500, "<script>", "%", "' OR 1=1 --"])
def test_odd_search_input_never_fails(client, sponsors, query):
    response = client.get("/", query_string={"q": query, "page": "x"})
    assert response.status_code == 200
    assert "<script>" not in response.get_data(as_text=True).split("<main")[1]


def test_home_is_paginated(client, sponsors):
    lead, _, _ = sponsors
    for n in range(23):
        make_petition(lead, title=f"Numbered petition {n:02d}", counts={lead: 100 - n})

    first, second = text_of(client.get("/")), text_of(client.get("/?page=2"))
    assert "Numbered petition 00" in first and "Numbered petition 19" in first
    assert "Numbered petition 20" not in first and "Next page" in first
    assert "Numbered petition 20" in second and "Numbered petition 22" in second
    assert "Numbered petition 00" not in second and "Next page" not in second and "Previous page" in second
    assert "no more petitions" in text_of(client.get("/?page=99"))


# --- organization pages ----------------------------------------------------------------------


def test_organization_page_lists_led_and_co_sponsored_petitions(client, sponsors):
    lead, ngo, fest = sponsors
    ngo.description = "We defend rights.\nEverywhere."
    ngo.website = "https://rights.example.org"
    ngo.kind = "ngo"
    db.session.commit()
    make_petition(ngo, title="Led by the NGO")
    make_petition(lead, ngo, title="Co-sponsored by the NGO")
    make_petition(lead, ngo, title="Only invited", co_sponsor_status=SponsorshipStatus.INVITED)
    make_petition(fest, title="Not related")
    make_petition(ngo, title="NGO draft", status=CampaignStatus.DRAFT)

    response = client.get("/o/rights-now")
    text = text_of(response)
    assert response.status_code == 200
    assert "Rights Now" in text and "NGO / non-profit" in text and "We defend rights." in text
    assert 'href="https://rights.example.org"' in response.get_data(as_text=True)
    led, co = text.split("Petitions Rights Now co-sponsors")
    assert "Led by the NGO" in led and "Co-sponsored by the NGO" not in led
    assert "Co-sponsored by the NGO" in co
    for absent in ("Only invited", "Not related", "NGO draft"):
        assert absent not in text


@pytest.mark.parametrize("status", [OrgStatus.PENDING, OrgStatus.REJECTED, OrgStatus.SUSPENDED])
def test_organization_page_is_404_unless_approved(client, status):
    make_org("Hidden Org", slug="hidden-org", status=status)
    assert client.get("/o/hidden-org").status_code == 404


def test_organization_website_with_a_bad_scheme_is_not_linked(client):
    make_org("Odd Org", slug="odd-org", website="javascript:alert(1)")
    assert "javascript:" not in client.get("/o/odd-org").get_data(as_text=True)


# --- preview (used by the console) ------------------------------------------------------------


def test_preview_of_a_draft_renders_like_the_public_page(app, sponsors):
    from flask import render_template

    from undersign.public.petition import petition_context

    lead, ngo, _ = sponsors
    campaign = make_petition(lead, ngo, status=CampaignStatus.DRAFT, title="Draft title", goal=100)
    with app.test_request_context("/"):
        html = render_template("public/petition.html", **petition_context(campaign, None, preview=True))

    assert "Preview: this is how the public will see this petition." in html
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert "Draft title" in html and "0 of 100" in html and "Petition closed" not in html
    assert "live-count.js" not in html


# --- demo data -------------------------------------------------------------------------------


def test_demo_petitions_are_there_after_the_seed(client):
    from undersign import demo
    from undersign.campaigns.models import Campaign, Sponsorship
    from undersign.signatures.models import Signature

    demo.load()
    demo.load()  # twice: nothing doubles
    db.session.commit()

    closed = db.session.scalar(select(Campaign).where(Campaign.slug == "help-north-korean-refugees"))
    rows = db.session.scalar(select(func.count()).select_from(Signature).where(Signature.campaign_id == closed.id))
    assert rows == closed.signature_count == 586
    per_sponsor = dict(db.session.execute(
        select(Signature.sponsorship_id, func.count()).where(Signature.campaign_id == closed.id)
        .group_by(Signature.sponsorship_id)
    ).all())
    for sponsorship in db.session.scalars(select(Sponsorship).where(Sponsorship.campaign_id == closed.id)):
        assert sponsorship.signature_count == per_sponsor[sponsorship.id] > 0
    countries = db.session.scalar(
        select(func.count(func.distinct(Signature.country))).where(Signature.campaign_id == closed.id))
    assert countries >= 5

    for url in ("/p/help-north-korean-refugees", "/o/hanvoice/p/help-north-korean-refugees",
                "/o/nkhr-film-festival/p/help-north-korean-refugees"):
        text = text_of(client.get(url))
        assert "Help North Korean Refugees #EscapeNorthKorea" in text
        assert "Petition closed" in text and "This petition had 586 supporters" in text
        assert "Petition to UN High Commissioner for Refugees ( @Refugees )" in text
        assert "Rethink deportation laws" in text and "Rethink human smuggling laws" in text
    assert "Fathom Film Group, Hanvoice and North Korean Human Rights Film Festival" in text_of(
        client.get("/p/help-north-korean-refugees"))

    open_page = client.get("/p/end-forced-repatriation")
    assert open_page.status_code == 200
    assert "Today: Fathom Film Group is counting on you" in text_of(open_page)
    assert "of 1,000" in text_of(open_page)
    assert "Help North Korean Refugees" in text_of(client.get("/?q=refugees"))


def test_a_co_sponsor_suspended_later_makes_the_cached_copy_stale(client, sponsors):
    lead, ngo, _ = sponsors
    campaign = make_petition(lead, ngo, changed_at=dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc))
    ngo.status_changed_at = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    db.session.commit()
    stamp = client.get(f"/p/{campaign.slug}").headers["Last-Modified"]
    assert client.get(f"/p/{campaign.slug}", headers={"If-Modified-Since": stamp}).status_code == 304

    ngo.status = OrgStatus.SUSPENDED.value
    ngo.status_changed_at = utcnow()
    db.session.commit()
    response = client.get(f"/p/{campaign.slug}", headers={"If-Modified-Since": stamp})
    assert response.status_code == 200 and "Rights Now" not in text_of(response)


def test_a_visitor_with_a_session_is_not_put_in_a_shared_cache(client, sponsors):
    lead, _, _ = sponsors
    campaign = make_petition(lead)
    with client.session_transaction() as session:
        session["_flashes"] = [("message", "Something only for you")]

    response = client.get(f"/p/{campaign.slug}")
    assert "Something only for you" in text_of(response)
    assert response.headers["Cache-Control"] == "private, max-age=0, must-revalidate"


def test_sponsor_logos_and_the_petition_image_are_shown(client, sponsors):
    import io

    from PIL import Image as PILImage

    from undersign.images.store import store_image

    def png() -> io.BytesIO:
        out = io.BytesIO()
        PILImage.new("RGB", (60, 40), (200, 30, 30)).save(out, format="PNG")
        out.seek(0)
        return out

    lead, co, _ = sponsors
    lead.logo = store_image(png(), max_bytes=1_000_000)
    campaign = make_petition(lead, co, image=store_image(png(), max_bytes=1_000_000))
    db.session.commit()
    html = client.get(f"/p/{campaign.slug}").get_data(as_text=True)
    logo, picture = f"/images/{lead.logo.id}-", f"/images/{campaign.image.id}-"
    assert logo in html and picture in html
    assert 'property="og:image"' in html
    assert client.get(re.search(r'src="(/images/[^"]+)"', html).group(1)).status_code == 200


def test_an_edited_or_deleted_update_shows_on_the_next_view(client, sponsors):
    """The page keeps its updates between views; editing or deleting one is seen at once."""
    from undersign.campaigns.updates import delete_update, edit_update

    lead, _, _ = sponsors
    author = make_user()
    campaign = make_petition(lead)
    posted = post_update(author, lead, campaign, "First news", "Hello")
    db.session.commit()
    assert "First news" in text_of(client.get(f"/p/{campaign.slug}"))
    assert "First news" in text_of(client.get(f"/p/{campaign.slug}"))

    edit_update(author, lead, campaign, posted.id, "Corrected news", "Hello again")
    db.session.commit()
    page = text_of(client.get(f"/p/{campaign.slug}"))
    assert "Corrected news" in page and "First news" not in page

    delete_update(author, lead, campaign, posted.id)
    db.session.commit()
    assert "Corrected news" not in text_of(client.get(f"/p/{campaign.slug}"))
