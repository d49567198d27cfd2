"""The organizer dashboard and the public count history, on a petition with three sponsors and mixed signatures.

The figures come from the tallies; every test checks them against the
signature rows themselves, as a person comparing the dashboard with an
export would.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import xml.etree.ElementTree as ET
from collections import Counter
from html import unescape

import pytest
from sqlalchemy import select, update

from tests.campaigns.campaign_factories import console, staff
from tests.factories import login_as, make_campaign, make_org
from tests.helpers import text_of
from tests.signatures.petitions import sign, supporter
from undersign.db import utcnow
from undersign.extensions import db
from undersign.organizations.models import Role
from undersign.signatures import service
from undersign.signatures.models import Signature, SignatureBreakdown, SignatureTally
from undersign.signatures.rules import SignatureInput, country_names
from undersign.signatures.tokens import withdraw_token
from undersign.tokens import hash_token

SVG = "{http://www.w3.org/2000/svg}"


def _confirm(campaign, signature: Signature) -> None:
    raw = f"token-{signature.id}"
    db.session.execute(update(Signature).where(Signature.id == signature.id).values(token_hash=hash_token(raw)))
    service.confirm(campaign, raw)


def _by_email(campaign, email: str) -> Signature:
    return db.session.scalar(select(Signature).where(Signature.campaign_id == campaign.id, Signature.email == email))


@pytest.fixture
def three(client):
    """Lead, two co-sponsors; signatures through the page, a sponsor's page, the embed tag and the API tag;
    one unconfirmed, one withdrawn, one invalidated."""
    lead = make_org("Fathom Film Group", slug="fathom")
    hanvoice = make_org("Hanvoice", slug="hanvoice")
    festival = make_org("Film Festival", slug="festival")
    campaign = make_campaign(lead, status="published", co_sponsors=(hanvoice, festival), goal=40,
                             slug="let-them-go", title="Let them go")
    by_org = {s.organization_id: s for s in campaign.sponsorships}
    # Through the real pages: the canonical page (credited to the lead) and Hanvoice's hosted page.
    for i, country in enumerate(["CA", "CA", "KR", "US"]):
        assert sign(client, "/p/let-them-go", supporter(f"Lead Signer {i}", f"lead{i}@example.org",
                                                        country=country)).status_code == 303
    for i, country in enumerate(["KR", "KR", "KR"]):
        assert sign(client, "/o/hanvoice/p/let-them-go", supporter(f"Hanvoice Signer {i}", f"han{i}@example.org",
                                                                    country=country)).status_code == 303
    # Through the service with the tags the embed and the API store.
    for i, source in enumerate(["embed", "embed", "api"]):
        assert service.sign(campaign, by_org[festival.id],
                            SignatureInput(f"Festival Signer {i}", f"fest{i}@example.org", "DE", source=source))
    db.session.commit()
    for email in ["lead0", "lead1", "lead2", "lead3", "han0", "han1", "fest0", "fest1", "fest2"]:
        _confirm(campaign, _by_email(campaign, f"{email}@example.org"))  # han2 stays unconfirmed
    service.withdraw(campaign, withdraw_token(_by_email(campaign, "han1@example.org")))
    service.invalidate(_by_email(campaign, "lead3@example.org"), "a bot", actor=None)
    db.session.commit()
    return campaign, lead, hanvoice, festival


def _rows(campaign) -> list[Signature]:
    db.session.expire_all()
    return list(db.session.scalars(select(Signature).where(Signature.campaign_id == campaign.id)))


def _table(html: str, table_id: str) -> list[list[str]]:
    """The body rows of the table with this id, as cell texts."""
    body = re.search(rf'<table id="{table_id}">.*?<tbody>(.*?)</tbody>', html, re.S)
    assert body, table_id
    return [[unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), re.S)]


def _figure(html: str, figure_id: str) -> tuple[ET.Element, list[tuple[str, int]]]:
    """The chart of this figure, parsed as XML, and the rows of its text alternative."""
    block = re.search(rf'<figure class="chart-figure" id="{figure_id}">(.*?)</figure>', html, re.S)
    assert block, figure_id
    svg = ET.fromstring(re.search(r"<svg.*?</svg>", block.group(1), re.S).group(0))
    rows = re.findall(r"<tr><td>([^<]*)</td><td>([\d,]+)</td></tr>", block.group(1))
    return svg, [(unescape(label), int(n.replace(",", ""))) for label, n in rows]


def test_dashboard_figures_match_the_rows_and_show_counts_not_people(client, three):
    campaign, lead, hanvoice, festival = three
    rows = _rows(campaign)
    counted = [r for r in rows if r.counts]
    assert len(counted) == 7 and len(rows) == 10

    viewer = staff(festival, Role.VIEWER)
    login_as(client, viewer)
    response = client.get(console(festival, campaign))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = text_of(response)

    assert "7 confirmed signatures of a goal of 40" in page
    assert '<span id="figure-progress">17.5%</span>' in html
    # 9 of the 10 sent were confirmed (the withdrawn and the invalidated one were confirmed first).
    assert re.search(r'id="figure-confirmation-rate">90\.0%<', html)
    assert "9 confirmed of 10 sent" in page
    assert re.search(r'id="figure-last-24h">9<', html)
    assert "0 in the 24 hours before" in page

    per_sponsor = Counter(r.sponsorship.organization.name for r in counted)
    assert per_sponsor == {"Fathom Film Group": 3, "Hanvoice": 1, "Film Festival": 3}
    sponsors = _table(html, "by-sponsor")
    assert sponsors == [["Fathom Film Group", "Lead", "3", "42.9%"],
                        ["Film Festival (you)", "Co-sponsor", "3", "42.9%"],
                        ["Hanvoice", "Co-sponsor", "1", "14.3%"]]
    assert html.count('class="own-part"') == 1
    countries = Counter(r.country for r in counted)
    assert countries == {"DE": 3, "CA": 2, "KR": 2}
    names = country_names()
    assert _table(html, "by-country") == [[names["DE"], "3", "42.9%"], [names["CA"], "2", "28.6%"],
                                          [names["KR"], "2", "28.6%"]]
    assert _table(html, "by-channel") == [["Petition page", "3", "42.9%"], ["Sponsor's page", "1", "14.3%"],
                                          ["Embedded form", "2", "28.6%"], ["API", "1", "14.3%"]]

    # A co-sponsor sees every count and no signer: no name, no e-mail address.
    for row in rows:
        for personal in (row.name, row.email):
            if personal:
                assert personal not in html
    assert "@example.org" not in html


def test_charts_are_xml_and_their_tables_hold_the_same_numbers(client, three):
    campaign, lead, hanvoice, festival = three
    login_as(client, staff(hanvoice, Role.VIEWER))
    html = client.get(console(hanvoice, campaign)).get_data(as_text=True)
    today = utcnow().date().isoformat()
    for figure_id, expected_bars in (("chart-per-day", None), ("chart-per-hour", 72)):
        svg, table = _figure(html, figure_id)
        assert svg.tag == f"{SVG}svg" and svg.find(f"{SVG}title") is not None
        bars = svg.findall(f".//{SVG}rect")
        assert len(bars) == len(table)
        if expected_bars:
            assert len(table) == expected_bars
        assert [bar.find(f"{SVG}title").text for bar in bars] == [f"{label}: {n:,}" for label, n in table]
        assert sum(n for _, n in table) == 9  # every counted confirmation, in its hour and its day
    _, days = _figure(html, "chart-per-day")
    assert days[-1] == (today, 9)


def test_recount_rebuilds_the_same_figures_and_days_follow_the_rows(app, client, three):
    campaign, lead, hanvoice, festival = three

    def figures() -> tuple[set, set]:
        db.session.expire_all()
        return (set(db.session.execute(select(SignatureTally.sponsorship_id, SignatureTally.hour,
                                              SignatureTally.submitted, SignatureTally.confirmed,
                                              SignatureTally.withdrawn, SignatureTally.invalidated)
                                       .where(SignatureTally.campaign_id == campaign.id)).all()),
                set(db.session.execute(select(SignatureBreakdown.sponsorship_id, SignatureBreakdown.country,
                                              SignatureBreakdown.channel, SignatureBreakdown.signatures)
                                       .where(SignatureBreakdown.campaign_id == campaign.id,
                                              SignatureBreakdown.signatures > 0)).all()))

    kept = figures()
    result = app.test_cli_runner().invoke(args=["recount", campaign.slug])
    assert result.exit_code == 0, result.output
    assert figures() == kept  # what the counters kept step by step is what the rows say

    # Spread the signatures over three days, as if they had come in earlier, and rebuild.
    rows = sorted(_rows(campaign), key=lambda r: r.id)
    for i, row in enumerate(rows):
        shift = dt.timedelta(days=i % 3)
        moved = {k: getattr(row, k) - shift for k in ("created_at", "confirmed_at", "withdrawn_at", "invalidated_at")
                 if getattr(row, k) is not None}
        db.session.execute(update(Signature).where(Signature.id == row.id).values(**moved))
    db.session.commit()
    assert app.test_cli_runner().invoke(args=["recount", campaign.slug]).exit_code == 0
    expected = Counter(r.confirmed_at.date().isoformat() for r in _rows(campaign)
                       if r.confirmed_at is not None and not (r.invalidated_at and r.invalidated_at <= r.confirmed_at))
    assert len(expected) == 3

    login_as(client, staff(lead, Role.VIEWER))
    html = client.get(console(lead, campaign)).get_data(as_text=True)
    _, days = _figure(html, "chart-per-day")
    assert {d: n for d, n in days if n} == dict(expected)
    assert [d for d, _ in days] == sorted(d for d, _ in days) and len(days) >= 3

    history = client.get("/p/let-them-go/history.json").get_json()
    by_day = Counter()
    for line in history["days"]:
        by_day[line["day"]] += line["confirmed"]
    assert dict(by_day) == dict(expected)
    net = sum(line["confirmed"] - line["withdrawn"] - line["invalidated"] for line in history["days"])
    assert net == history["signature_count"] == 7


def test_history_is_open_data_per_day_and_sponsor(client, three):
    campaign, lead, hanvoice, festival = three
    page = client.get("/p/let-them-go")
    assert "How this petition grew" in text_of(page)
    assert 'href="/p/let-them-go/history.csv"' in page.get_data(as_text=True)

    response = client.get("/p/let-them-go/history.json")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    assert client.get("/p/let-them-go/history.json",
                      headers={"If-Modified-Since": response.headers["Last-Modified"]}).status_code == 304
    today = utcnow().date().isoformat()
    assert response.get_json()["days"] == [
        {"day": today, "sponsor": "fathom", "sponsor_name": "Fathom Film Group", "confirmed": 4, "withdrawn": 0,
         "invalidated": 1},
        {"day": today, "sponsor": "hanvoice", "sponsor_name": "Hanvoice", "confirmed": 2, "withdrawn": 1,
         "invalidated": 0},
        {"day": today, "sponsor": "festival", "sponsor_name": "Film Festival", "confirmed": 3, "withdrawn": 0,
         "invalidated": 0},
    ]

    as_csv = client.get("/p/let-them-go/history.csv")
    assert as_csv.status_code == 200 and as_csv.mimetype == "text/csv"
    lines = list(csv.reader(io.StringIO(as_csv.get_data(as_text=True))))
    assert lines == [["day", "sponsor", "sponsor_name", "confirmed", "withdrawn", "invalidated"],
                     [today, "fathom", "Fathom Film Group", "4", "0", "1"],
                     [today, "hanvoice", "Hanvoice", "2", "1", "0"],
                     [today, "festival", "Film Festival", "3", "0", "0"]]
    body = as_csv.get_data(as_text=True) + response.get_data(as_text=True)
    assert "@example.org" not in body and "Signer" not in body


def test_history_of_a_draft_or_an_unknown_petition_is_not_found(client):
    lead = make_org()
    make_campaign(lead, status="draft", slug="not-yet")
    for path in ("/p/not-yet/history.json", "/p/not-yet/history.csv", "/p/nothing-here/history.json",
                 "/p/nothing-here/history.csv", "/p/%00/history.csv"):
        assert client.get(path).status_code == 404, path


def test_history_of_a_closed_petition_stays_public(client, three):
    campaign = three[0]
    campaign.status = "closed"
    db.session.commit()
    assert client.get("/p/let-them-go/history.csv").status_code == 200


def test_a_viewer_of_another_organization_gets_not_found(client, three):
    campaign, lead, hanvoice, festival = three
    outsider = make_org("Outsiders")
    login_as(client, staff(outsider, Role.VIEWER))
    assert client.get(console(outsider, campaign)).status_code == 404
    assert client.get(console(lead, campaign)).status_code == 404
    assert client.get(console(festival, campaign)).status_code == 404


def test_the_organization_dashboard_lists_led_and_co_sponsored_petitions_with_their_week(client, three):
    campaign, lead, hanvoice, festival = three
    led_by_festival = make_campaign(festival, status="published", title="The festival petition")
    login_as(client, staff(festival, Role.VIEWER))
    response = client.get(console(festival))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = text_of(response)
    assert "Let them go" in page and "The festival petition" in page
    sparklines = re.findall(r'<svg[^>]*class="sparkline".*?</svg>', html, re.S)
    assert len(sparklines) == 2
    for svg in sparklines:
        assert ET.fromstring(svg).find(f"{SVG}title").text == "Signatures per day, the last 7 days"
    rows = {title: cells for title, cells in
            re.findall(r'<tr>\s*<td><a [^>]*>([^<]*)</a></td>(.*?)</details></td>\s*</tr>', html, re.S)}
    assert "Co-sponsor" in rows["Let them go"] and "Lead" in rows[led_by_festival.title]
    # The week's table: 9 confirmations today for the shared petition, none for the new one.
    week = re.findall(r"<tr><td>(\d{4}-\d\d-\d\d)</td><td>([\d,]+)</td></tr>", rows["Let them go"])
    assert len(week) == 7 and week[-1] == (utcnow().date().isoformat(), "9")
    assert all(n == "0" for _, n in re.findall(r"<tr><td>(\d{4}-\d\d-\d\d)</td><td>([\d,]+)</td></tr>",
                                              rows[led_by_festival.title]))
