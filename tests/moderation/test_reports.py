"""Reports of petitions: the public form on every petition page, and the administrators' queue at /admin/reports."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from tests.factories import add_member, login_as, make_campaign, make_org, make_user
from tests.helpers import csrf_token, submit, text_of
from tests.organizations.support import events
from undersign.errors import PermissionDenied
from undersign.extensions import db
from undersign.moderation.models import Report
from undersign.moderation.rules import REPORT_TEXT_MAX
from undersign.moderation.takedowns import take_down
from undersign.organizations.models import Role
from undersign.public.reports import REPORT_LIMITED

REPORT_LINK = re.compile(r'<a href="([^"]+)"[^>]*>Report this petition</a>')


def report_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Report)) or 0


def report_form_of(client, page: str) -> str:  # type: ignore[no-untyped-def]
    """Open a petition page and follow its "Report this petition" link, as a visitor would."""
    response = client.get(page)
    assert response.status_code == 200
    match = REPORT_LINK.search(response.get_data(as_text=True))
    assert match, f"no report link on {page}"
    return unescape(match.group(1))


def send_report(client, slug: str, **data):  # type: ignore[no-untyped-def]
    return submit(client, f"/p/{slug}/report", data)


@pytest.fixture
def petition():  # type: ignore[no-untyped-def]
    owner = make_user("owner@lead.example", "Olive Owner")
    lead = make_org("Fathom Film Group", slug="fathom", owner=owner)
    partner = make_org("Hanvoice", slug="hanvoice", owner=make_user("owner@partner.example"))
    return make_campaign(lead, status="published", co_sponsors=(partner,), slug="end-forced-repatriation",
                         title="End forced repatriation")


# ---------------------------------------------------------------- reporting


def test_report_from_the_canonical_and_the_sponsor_page(client, petition):
    for page in ("/p/end-forced-repatriation", "/o/hanvoice/p/end-forced-repatriation"):
        form_url = report_form_of(client, page)
        assert form_url == "/p/end-forced-repatriation/report"
        form_page = client.get(form_url)
        assert form_page.status_code == 200
        assert "Report this petition" in text_of(form_page) and "End forced repatriation" in text_of(form_page)
        response = client.post(form_url, data={
            "csrf_token": csrf_token(form_page.get_data(as_text=True)), "reason": "misleading",
            "details": "The numbers\nare made up.", "email": "Reader@Example.org",
        })
        assert response.status_code == 303
        assert response.headers["Location"] == "/p/end-forced-repatriation/report/thanks"
        thanks = client.get(response.headers["Location"])
        assert thanks.status_code == 200 and "Thank you for your report" in text_of(thanks)
    reports = list(db.session.scalars(select(Report).order_by(Report.id)))
    assert len(reports) == 2
    for report in reports:
        assert (report.campaign_id, report.reason, report.text, report.status) == (
            petition.id, "misleading", "The numbers\nare made up.", "open")
        assert report.reporter_email == "Reader@example.org"  # the domain lower-cased, as e-mail-validator does
        assert report.ip_hash and "127.0.0.1" not in report.ip_hash and len(report.ip_hash) == 64


def test_the_address_is_optional(client, petition):
    response = send_report(client, petition.slug, reason="spam", details="")
    assert response.status_code == 303
    [report] = db.session.scalars(select(Report))
    assert report.reporter_email is None and report.text == ""


@pytest.mark.parametrize(("data", "message"), [
    ({"details": "no reason"}, "Choose the reason closest to what is wrong."),
    ({"reason": "arson"}, "Not a valid choice"),
    ({"reason": "other", "details": "  "}, "Tell us what is wrong with this petition."),
    ({"reason": "hate", "details": "x" * (REPORT_TEXT_MAX + 1)}, f"Use at most {REPORT_TEXT_MAX:,} characters."),
    ({"reason": "hate", "details": "bad\x00text"}, "Remove the invisible control characters from this text."),
    ({"reason": "hate", "details": "sneaky \u202e text"}, "Remove the invisible control characters from this text."),
    ({"reason": "spam", "email": "not an address"}, "This e-mail address does not look right."),
    ({"reason": "spam", "email": "a@b.example\r\nBcc: x@y.example"}, "This e-mail address does not look right."),
], ids=["no reason", "unknown reason", "other without text", "too long", "NUL", "bidi override",
        "bad address", "header injection"])
def test_bad_input_is_refused_with_the_fields_message_and_nothing_stored(client, petition, data, message):
    response = send_report(client, petition.slug, **data)
    assert response.status_code == 400
    assert message in text_of(response)
    assert "Send the report" in text_of(response)  # the form again, with what was typed
    assert report_count() == 0


def test_a_post_without_the_csrf_token_is_refused(client, petition):
    response = client.post(f"/p/{petition.slug}/report", data={"reason": "spam"})
    assert response.status_code == 400
    assert report_count() == 0


def test_a_bot_filling_the_honeypot_gets_the_same_thank_you_and_nothing_is_stored(client, petition):
    page = client.get(f"/p/{petition.slug}/report").get_data(as_text=True)
    # Hidden from people and from assistive technology, and out of the tab order.
    assert re.search(r'<div class="sign-hp" aria-hidden="true">\s*<label for="report-website"', page)
    assert re.search(r'<input[^>]*id="report-website"[^>]*tabindex="-1"', page)
    response = send_report(client, petition.slug, reason="spam", details="buy now", website="https://spam.example")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/p/{petition.slug}/report/thanks"
    assert report_count() == 0


def test_reports_are_rate_limited_per_address(client, petition):
    for _ in range(5):
        assert send_report(client, petition.slug, reason="spam").status_code == 303
    response = send_report(client, petition.slug, reason="spam")
    assert response.status_code == 429
    assert str(REPORT_LIMITED) in text_of(response)
    assert report_count() == 5
    # Another address is not held back.
    other = client.post(f"/p/{petition.slug}/report", environ_base={"REMOTE_ADDR": "192.0.2.7"},
                        data={"reason": "spam", "csrf_token": csrf_token(
                            client.get(f"/p/{petition.slug}/report").get_data(as_text=True))})
    assert other.status_code == 303
    assert report_count() == 6


def test_a_petition_the_public_cannot_see_cannot_be_reported(client):
    lead = make_org()
    draft = make_campaign(lead, status="draft")
    assert client.get(f"/p/{draft.slug}/report").status_code == 404
    assert client.get("/p/no-such-petition/report").status_code == 404
    assert client.get(f"/p/{draft.slug}/report/thanks").status_code == 404


# ---------------------------------------------------------------- the queue


def make_report(campaign, reason: str = "misleading", text: str = "", email: str | None = None) -> Report:  # type: ignore[no-untyped-def]
    report = Report(campaign_id=campaign.id, reason=reason, text=text, reporter_email=email)
    db.session.add(report)
    db.session.commit()
    return report


@pytest.fixture
def admin(client):  # type: ignore[no-untyped-def]
    user = make_user("root@example.org", admin=True)
    login_as(client, user)
    return user


def resolve(client, report: Report, reports: list[Report], outcome: str, reason: str = "", note: str = ""):  # type: ignore[no-untyped-def]
    page = client.get(f"/admin/reports/{report.id}")
    assert page.status_code == 200
    return client.post(f"/admin/reports/{report.id}/resolve", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "reports": [r.id for r in reports],
        "outcome": outcome, "reason": reason, "note": note,
    })


def test_the_queue_groups_open_reports_by_petition_most_reported_first(client, admin, petition):
    other = make_campaign(make_org(), status="published", title="Heat for Harbour Street")
    make_report(other, "spam")
    for reason in ("misleading", "misleading", "hate"):
        make_report(petition, reason, text="Look at paragraph 2")
    page = text_of(client.get("/admin/reports"))
    assert "Open (4)" in page and "Resolved (0)" in page and "Dismissed (0)" in page
    assert page.index("End forced repatriation") < page.index("Heat for Harbour Street")
    assert "3 open reports" in page and "1 open report " in page
    assert "It is misleading or false (2), It contains hate speech or harassment (1)" in page
    assert "No resolved reports." in text_of(client.get("/admin/reports?status=resolved"))
    assert "Open (4)" in text_of(client.get("/admin/reports?status=nonsense"))


def test_take_down_resolves_the_chosen_reports_and_tells_the_reporters(client, admin, petition, mailbox):
    first = make_report(petition, "misleading", email="reader@example.org")
    second = make_report(petition, "hate", email="READER@example.org")
    left_open = make_report(petition, "spam")
    assert 'class="sign-form"' in client.get(f"/p/{petition.slug}").get_data(as_text=True)

    response = resolve(client, first, [first, second], "take-down", reason="The figures are invented.",
                       note="Checked with the agency.")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/reports"
    assert "2 reports about “End forced repatriation” taken down." in text_of(client.get("/admin/reports"))

    db.session.refresh(petition)
    assert petition.taken_down_at is not None and petition.takedown_reason == "The figures are invented."
    assert 'class="sign-form"' not in client.get(f"/p/{petition.slug}").get_data(as_text=True)
    for report in (first, second):
        db.session.refresh(report)
        assert (report.status, report.resolution, report.resolved_by_id, report.note) == (
            "resolved", "take-down", admin.id, "Checked with the agency.")
    db.session.refresh(left_open)
    assert left_open.status == "open"
    resolved_events = events(petition.lead_organization_id, "report.resolved")
    assert [e.object_id for e in resolved_events] == [first.id, second.id]
    assert resolved_events[0].actor_id == admin.id
    assert resolved_events[0].details["action"] == "take-down"
    assert resolved_events[0].details["said"] == "The figures are invented."
    assert len(events(petition.lead_organization_id, "campaign.taken_down")) == 1

    [mail] = mailbox.to("reader@example.org")  # one mail for the address's two reports
    assert mail.subject == "Your report about “End forced repatriation”"
    assert "The petition has been taken down." in mail.body
    assert "Checked with the agency" not in mail.body
    resolved = text_of(client.get("/admin/reports?status=resolved"))
    assert "Resolved (2)" in resolved and "2 resolved reports" in resolved


def test_warn_mails_the_lead_organizations_owners(client, admin, petition, mailbox):
    lead = petition.lead_organization
    co_owner = add_member(lead, make_user("co-owner@lead.example"), Role.OWNER)
    editor = add_member(lead, make_user("editor@lead.example"), Role.EDITOR)
    report = make_report(petition, "personal-data", email="reader@example.org")

    response = resolve(client, report, [report], "warn", reason="Remove the home address in the second paragraph.")
    assert response.status_code == 302
    for address in ("owner@lead.example", co_owner.email):
        mail = mailbox.last_to(address)
        assert mail.subject == "A warning about your petition “End forced repatriation”"
        assert "Remove the home address in the second paragraph." in mail.body
        assert mail.link(f"/orgs/fathom/campaigns/{petition.slug}/") == f"/orgs/fathom/campaigns/{petition.slug}/"
    assert mailbox.to(editor.email) == [] and mailbox.to("owner@partner.example") == []
    assert "asked the organization running the petition" in mailbox.last_to("reader@example.org").body
    db.session.refresh(petition)
    db.session.refresh(report)
    assert petition.taken_down_at is None
    assert (report.status, report.resolution) == ("resolved", "warn")
    [event] = events(petition.lead_organization_id, "report.resolved")
    assert event.details["said"] == "Remove the home address in the second paragraph."


def test_no_action_and_dismiss(client, admin, petition, mailbox):
    kept = make_report(petition, "misleading", email="one@example.org")
    dropped = make_report(petition, "other", text="I disagree", email="two@example.org")

    assert resolve(client, kept, [kept], "none", note="Fair comment.").status_code == 302
    assert resolve(client, dropped, [dropped], "dismiss").status_code == 302
    db.session.refresh(kept)
    db.session.refresh(dropped)
    assert (kept.status, kept.resolution, kept.note) == ("resolved", "none", "Fair comment.")
    assert (dropped.status, dropped.resolution, dropped.resolved_by_id) == ("dismissed", None, admin.id)
    assert len(events(petition.lead_organization_id, "report.dismissed")) == 1
    for address in ("one@example.org", "two@example.org"):
        assert "We found no reason to act on the petition for now." in mailbox.last_to(address).body
    db.session.refresh(petition)
    assert petition.taken_down_at is None
    dismissed = text_of(client.get("/admin/reports?status=dismissed"))
    assert "Dismissed (1)" in dismissed and "End forced repatriation" in dismissed
    # A closed report's page says what became of it, and offers nothing more to do.
    page = text_of(client.get(f"/admin/reports/{dropped.id}"))
    assert "Dismissed by root@example.org" in page and "Close the chosen reports" not in page


def test_bad_resolutions_are_refused_and_change_nothing(client, admin, petition, mailbox):
    report = make_report(petition, email="reader@example.org")
    elsewhere = make_report(make_campaign(make_org(), status="published"))

    no_reason = resolve(client, report, [report], "take-down")
    assert no_reason.status_code == 400
    assert "Give a reason: it is shown on the petition's page." in text_of(no_reason)
    no_warning = resolve(client, report, [report], "warn", reason="  ")
    assert no_warning.status_code == 400
    assert "Give the warning: the lead organization's owners read it." in text_of(no_warning)
    nothing_chosen = resolve(client, report, [], "none")
    assert nothing_chosen.status_code == 400
    assert "Choose at least one open report of this petition." in text_of(nothing_chosen)
    # Another petition's report through this report's page.
    wrong_petition = resolve(client, report, [elsewhere], "dismiss")
    assert wrong_petition.status_code == 400
    assert "Choose at least one open report of this petition." in text_of(wrong_petition)
    unknown_outcome = resolve(client, report, [report], "ban")
    assert unknown_outcome.status_code == 400

    db.session.refresh(petition)
    db.session.refresh(report)
    db.session.refresh(elsewhere)
    assert petition.taken_down_at is None and report.status == "open" and elsewhere.status == "open"
    assert events(petition.lead_organization_id, "report.resolved") == []
    assert mailbox.to("reader@example.org") == []

    # Closed meanwhile (another administrator): a conflict, not a second outcome.
    assert resolve(client, report, [report], "dismiss").status_code == 302
    page = client.get(f"/admin/reports/{report.id}")
    again = client.post(f"/admin/reports/{report.id}/resolve", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "reports": [report.id], "outcome": "none"})
    assert again.status_code == 409
    assert "closed meanwhile" in text_of(again)
    db.session.refresh(report)
    assert report.status == "dismissed"


def test_only_platform_admins_see_or_resolve_reports(app, client, petition):
    report = make_report(petition)
    paths = ["/admin/reports", "/admin/reports?status=resolved", f"/admin/reports/{report.id}"]
    anonymous = app.test_client()
    for path in paths:
        assert anonymous.get(path).status_code == 404, path
    owner = make_user()
    add_member(petition.lead_organization, owner, Role.OWNER)
    login_as(client, owner)
    token = csrf_token(client.get("/orgs").get_data(as_text=True))
    for path in paths:
        assert client.get(path).status_code == 404, path
    for outcome in ("take-down", "dismiss"):
        response = client.post(f"/admin/reports/{report.id}/resolve",
                               data={"csrf_token": token, "reports": [report.id], "outcome": outcome, "reason": "x"})
        assert response.status_code == 404
    db.session.refresh(report)
    db.session.refresh(petition)
    assert report.status == "open" and petition.taken_down_at is None
    # Nor can the owner take it down through the service.
    with pytest.raises(PermissionDenied):
        take_down(owner, petition, "because")
    assert petition.taken_down_at is None
