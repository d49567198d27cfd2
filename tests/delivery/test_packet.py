"""The delivery packet: the demo petition rendered to PDF and read back with pdftotext (WeasyPrint is slow:
two renders in this file, the rest checks the HTML the PDF is made from)."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

from sqlalchemy import select

from tests.factories import make_campaign, make_org
from undersign.campaigns.models import Campaign
from undersign.db import utcnow
from undersign.delivery.packet import listed_names, log_head, render_packet, render_packet_html
from undersign.extensions import db
from undersign.signatures.models import Signature

DEMO_SLUG = "help-north-korean-refugees"


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def add_signer(campaign: Campaign, name: str, email: str, *, public: bool, country: str = "KR") -> Signature:
    now = utcnow()
    signature = Signature(campaign_id=campaign.id, sponsorship_id=campaign.sponsorships[0].id, name=name,
                          email=email, email_key=email, country=country, show_publicly=public,
                          created_at=now - dt.timedelta(minutes=5), confirmed_at=now)
    db.session.add(signature)
    db.session.commit()
    return signature


def test_the_demo_packet_from_the_command_line_lists_public_names_in_korean_and_no_address(app, tmp_path):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == DEMO_SLUG))
    add_signer(campaign, "김지우", "jiwoo@example.kr", public=True)
    add_signer(campaign, "이서연", "seoyeon@example.kr", public=True)
    add_signer(campaign, "박숨김", "hidden@example.kr", public=False)
    add_signer(campaign, "Quentin Unlisted", "quentin@example.org", public=False, country="FR")

    out = tmp_path / "packet.pdf"
    result = runner.invoke(args=["delivery-packet", DEMO_SLUG, str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF-")

    text = pdf_text(out)
    assert "Help North Korean Refugees" in text
    assert f"{campaign.signature_count:,} supporters" in text
    assert "Fathom Film Group" in text and "Hanvoice" in text
    assert "UN High Commissioner for Refugees" in text
    assert "Rethink deportation laws" in text                      # the demands
    assert "김지우 · South Korea" in text and "이서연 · South Korea" in text
    assert "박숨김" not in text and "Quentin Unlisted" not in text
    assert "@" not in text and "example.org" not in text and "example.kr" not in text
    # The head seed-demo signed over the demo's log, with its root hash.
    head = log_head(campaign.id)
    assert head is not None and head["tree_size"] == campaign.signature_count
    assert head["root_hash"][:16] in text.replace("\n", "").replace(" ", "")
    # The Korean names are drawn with the Nanum font, embedded.
    fonts = subprocess.run(["pdffonts", str(out)], check=True, capture_output=True, text=True).stdout
    assert "NanumGothic" in fonts

    assert runner.invoke(args=["delivery-packet", "no-such-petition", str(out)]).exit_code == 1


def test_a_signed_log_head_is_printed_with_how_to_verify_it(app, tmp_path):
    lead = make_org("Fathom Film Group")
    campaign = make_campaign(lead, status="published", slug="sign-the-head")
    db.session.commit()
    head = {"campaign": campaign.slug, "tree_size": 586, "timestamp": "2026-12-04T00:00:00Z",
            "root_hash": "9f2c1a7e5b3d8c4f6a0e2b7d9c1f3a5e7b9d0c2e4f6a8b1d3c5e7f9a0b2c4d6e",
            "signature": "MEUCIQDx1verylongsignaturevalue"}
    out = tmp_path / "head.pdf"
    out.write_bytes(render_packet(campaign, head))
    text = pdf_text(out)
    assert "9f2c1a7e5b3d8c4f6a0e2b7d9c1f3a5e7b9d0c2e4f6a8b1d3c5e7f9a0b2c4d6e" in text.replace("\n", "")
    assert "586" in text and "2026-12-04T00:00:00Z" in text and "MEUCIQDx1verylongsignaturevalue" in text
    joined = text.replace("\n", "")  # long URLs wrap
    assert "http://localhost/p/sign-the-head/verify" in joined and "http://localhost/.well-known/undersign-log-key" in joined
    assert "no signed log head yet" not in text


def test_names_stop_at_the_limit_and_the_rest_are_counted(app):
    lead = make_org("Fathom Film Group")
    campaign = make_campaign(lead, status="published", slug="many-names")
    db.session.commit()
    for n in range(5):
        add_signer(campaign, f"Public Person {n}", f"p{n}@example.org", public=True)
    add_signer(campaign, "Private Person", "private@example.org", public=False)

    listed = listed_names(campaign.id, 3)
    assert [name for name, _ in listed.names] == ["Public Person 0", "Public Person 1", "Public Person 2"]
    assert listed.more == 2

    app.config["DELIVERY_PACKET_NAME_LIMIT"] = 3
    try:
        html = render_packet_html(campaign, None)
    finally:
        app.config["DELIVERY_PACKET_NAME_LIMIT"] = 5000
    assert "Public Person 2" in html and "Public Person 3" not in html
    assert "and 2 more" in html
    assert "Private Person" not in html and "example.org" not in html.replace("http://", "")
    assert log_head(campaign.id) is None
