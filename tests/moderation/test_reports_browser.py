"""Reporting a petition in a real browser, on a phone: from the page's link to the administrators' queue."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.browser import UNLABELLED_CONTROLS
from tests.factories import login_as, make_campaign, make_org, make_user
from tests.helpers import text_of
from undersign.accounts.models import User
from undersign.moderation.models import Report

pytestmark = pytest.mark.browser


def test_report_a_petition_from_its_page_and_find_it_in_the_queue(app, committed_db, live_server, phone):
    lead = make_org("Fathom Film Group", slug="fathom")
    make_campaign(lead, status="published", slug="help-north-korean-refugees", title="Help North Korean Refugees")
    admin_id = make_user("root@example.org", admin=True).id
    committed_db.session.remove()

    phone.goto(f"{live_server}/p/help-north-korean-refugees")
    phone.get_by_role("link", name="Report this petition").click()
    phone.wait_for_url("**/p/help-north-korean-refugees/report")
    assert phone.evaluate(UNLABELLED_CONTROLS) == []
    # The honeypot is out of reach: not in the accessibility tree, drawn off the screen.
    assert phone.get_by_role("textbox", name="Leave this field empty").count() == 0
    box = phone.locator("#report-website").bounding_box()
    assert box is not None and box["x"] + box["width"] <= 0
    phone.get_by_label("It is spam or a scam").check()
    phone.get_by_label("Tell us more").fill("The donation link goes to an unrelated shop.")
    phone.get_by_label("Your e-mail address").fill("reader@example.org")
    phone.get_by_role("button", name="Send the report").click()
    phone.wait_for_url("**/p/help-north-korean-refugees/report/thanks")
    assert phone.get_by_role("heading", name="Thank you for your report").is_visible()
    assert phone.problems == []

    [report] = committed_db.session.scalars(select(Report))
    assert (report.reason, report.text, report.reporter_email) == (
        "spam", "The donation link goes to an unrelated shop.", "reader@example.org")
    client = app.test_client()
    login_as(client, committed_db.session.get(User, admin_id))
    queue = text_of(client.get("/admin/reports"))
    assert "Open (1)" in queue and "Help North Korean Refugees" in queue and "It is spam or a scam (1)" in queue
