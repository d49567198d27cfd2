"""The whole life of a petition in a real Chromium, every page checked with axe-core on the way.

A staff member signs up through the form and confirms the address from the mail the loopback SMTP
server received, creates an organization, a platform administrator (password and authenticator
code) approves it, the petition is drafted, previewed and published, a second organization is
invited and accepts, and supporters sign on the second organization's hosted page on a 390 px
phone and confirm from their mail. The count then rises on both hosted pages, in the ``.json``
and in the embed; the second organization's export holds only the supporter who ticked its box.
"""

from __future__ import annotations

import csv
import io

import pyotp
import pytest

from tests.factories import PASSWORD, TOTP_SECRET, make_org, make_user
from tests.journeys.steps import (
    PHONE_390, press, check_accessibility, expect_counts, mail_link, new_page, screenshot, visit,
)

pytestmark = pytest.mark.browser

STAFF_PASSWORD = "lantern orchard velvet compass"
SLUG = "stop-forced-repatriation"


@pytest.fixture
def site(app, committed_db, live_server, monkeypatch) -> str:  # type: ignore[no-untyped-def]
    """The live server, with ``BASE_URL`` pointing at it so that the links in mails and snippets open it."""
    monkeypatch.setitem(app.config, "BASE_URL", live_server)
    return live_server


def sign_in(page, base: str, email: str, password: str = PASSWORD, totp_secret: str | None = None) -> None:  # type: ignore[no-untyped-def]
    visit(page, f"{base}/login")
    page.get_by_label("E-mail", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    press(page, page.locator("main form button[type=submit]").first)
    if totp_secret:
        assert page.url == f"{base}/login/two-factor"
        page.get_by_label("Code", exact=True).fill(pyotp.TOTP(totp_secret).now())
        press(page, page.get_by_role("button", name="Continue"))
    assert "/login" not in page.url, page.url


def sign_on_a_phone(browser, url: str, name: str, email: str, consent_to: str | None) -> None:  # type: ignore[no-untyped-def]
    """A supporter signs at ``url`` on a 390 px screen, ticking ``consent_to``'s box if given."""
    phone = new_page(browser, PHONE_390)
    try:
        visit(phone, url)
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE_390["width"]
        phone.get_by_label("Your name", exact=True).fill(name)
        phone.get_by_label("E-mail", exact=True).fill(email)
        phone.get_by_label("Country", exact=True).select_option("KR")
        if consent_to:
            phone.get_by_label(f"Keep me updated by {consent_to}").check()
        press(phone, phone.locator("#sign button[type=submit]"))
        assert phone.url.endswith(f"/p/{SLUG}/signed"), phone.url
        assert phone.get_by_role("heading", name="Check your e-mail").is_visible()
        assert phone.problems == [], phone.problems
    finally:
        phone.context.close()


def confirm_from_mail(browser, mailbox, base: str, email: str, shot: str | None = None) -> None:  # type: ignore[no-untyped-def]
    phone = new_page(browser, PHONE_390)
    try:
        visit(phone, mail_link(mailbox, email, "/confirm/", base))
        press(phone, phone.get_by_role("button", name="Confirm my signature"))
        assert phone.get_by_role("heading", name="Thank you, your signature counts").is_visible()
        if shot:
            screenshot(phone, shot)
    finally:
        phone.context.close()


def test_sign_up_to_counted_signatures_on_a_co_sponsors_page(site, browser, committed_db, mailbox):
    base = site
    make_user("root@undersign.example", "Platform Admin", admin=True)
    partner_owner = make_user("owner@hanvoice.example", "Hanvoice Owner")
    make_org("Hanvoice", slug="hanvoice", owner=partner_owner)
    committed_db.session.remove()

    staff = new_page(browser)
    admin = new_page(browser)
    partner = new_page(browser)
    try:
        # 1. A staff member signs up and confirms the address from the mail.
        visit(staff, f"{base}/signup")
        staff.get_by_label("Your name", exact=True).fill("Kim Director")
        staff.get_by_label("E-mail", exact=True).fill("kim@fathom.example")
        staff.get_by_label("Password", exact=True).fill(STAFF_PASSWORD)
        press(staff, staff.get_by_role("button", name="Create account"))
        assert staff.get_by_role("heading", name="Check your e-mail").is_visible()
        visit(staff, mail_link(mailbox, "kim@fathom.example", "/verify/", base))
        press(staff, staff.get_by_role("button", name="Confirm my address"))
        assert staff.url == f"{base}/login"
        sign_in(staff, base, "kim@fathom.example", STAFF_PASSWORD)

        # 2. ... creates the organization, which waits for a platform administrator.
        visit(staff, f"{base}/orgs/new")
        staff.get_by_label("Name of the organization", exact=True).fill("Fathom Film Group")
        staff.get_by_label("Kind", exact=True).select_option(label="Film company")
        press(staff, staff.get_by_role("button", name="Create the organization"))
        assert staff.url == f"{base}/orgs/fathom-film-group/"

        # 3. The administrator signs in with the authenticator code and approves it from the queue.
        sign_in(admin, base, "root@undersign.example", totp_secret=TOTP_SECRET)
        visit(admin, f"{base}/admin/organizations")
        row = admin.locator("tr", has_text="Fathom Film Group")
        screenshot(admin, "admin-queue-desktop")
        press(admin, row.get_by_role("button", name="Approve"))
        assert admin.locator("tr", has_text="Fathom Film Group").count() == 0

        # 4. The petition is drafted, previewed and published.
        console = f"{base}/orgs/fathom-film-group/campaigns"
        visit(staff, f"{console}/new")
        staff.get_by_label("Title", exact=True).fill("Stop forced repatriation")
        staff.locator("#body").fill("China returns refugees to **danger**.")
        staff.locator("#decision_maker").fill("UN High Commissioner for Refugees")
        press(staff, staff.get_by_role("button", name="Save the draft"))
        assert staff.url == f"{console}/{SLUG}/"
        visit(staff, f"{console}/{SLUG}/preview")
        assert staff.get_by_text("China returns refugees to").first.is_visible()
        visit(staff, f"{console}/{SLUG}/")
        press(staff, staff.get_by_role("button", name="Publish", exact=True))
        assert staff.url == f"{console}/{SLUG}/publish"
        press(staff, staff.get_by_role("button", name="Publish now"))
        assert staff.get_by_text("The petition is published").is_visible()

        # 5. Hanvoice is invited and accepts in its console.
        visit(staff, f"{console}/{SLUG}/sponsors")
        staff.get_by_label("Organization's web address").fill("hanvoice")
        press(staff, staff.get_by_role("button", name="Send the invitation"))
        assert staff.get_by_text("Hanvoice is invited").is_visible()
        sign_in(partner, base, "owner@hanvoice.example")
        visit(partner, f"{base}/orgs/hanvoice/campaigns/{SLUG}/")
        press(partner, partner.get_by_role("button", name="Accept and co-sponsor"))

        hosts = ("fathom-film-group", "hanvoice")
        visit(staff, f"{base}/p/{SLUG}")
        screenshot(staff, "petition-desktop")

        # 6. Two supporters sign on Hanvoice's page on a phone; one ticks Hanvoice's box.
        hosted = f"{base}/o/hanvoice/p/{SLUG}"
        phone = new_page(browser, PHONE_390)
        try:
            visit(phone, hosted)
            screenshot(phone, "petition-phone")
        finally:
            phone.context.close()
        sign_on_a_phone(browser, hosted, "Min-jun Lee", "minjun@example.org", consent_to="Hanvoice")
        sign_on_a_phone(browser, hosted, "Sofia Lund", "sofia@example.org", consent_to=None)
        expect_counts(staff, base, SLUG, hosts, 0, accessibility=False)  # not counted before they confirm

        # 7. They confirm from their mail; the count rises everywhere.
        confirm_from_mail(browser, mailbox, base, "minjun@example.org", shot="sign-confirmation-phone")
        confirm_from_mail(browser, mailbox, base, "sofia@example.org")
        expect_counts(staff, base, SLUG, hosts, 2)

        # The lead's dashboard shows them (its charts are checked by axe-core with the page).
        visit(staff, f"{console}/{SLUG}/")
        screenshot(staff, "dashboard-desktop")

        # 8. Hanvoice's export holds the supporter who ticked its box, and only that one.
        visit(partner, f"{base}/orgs/hanvoice/campaigns/{SLUG}/export")
        download = partner.request.get(f"{base}/orgs/hanvoice/campaigns/{SLUG}/export.csv")
        assert download.status == 200
        rows = list(csv.DictReader(io.StringIO(download.text())))
        emails = [value for row in rows for value in row.values() if "@" in (value or "")]
        assert emails == ["minjun@example.org"], rows

        for page in (staff, admin, partner):
            assert page.problems == [], page.problems
    finally:
        for page in (staff, admin, partner):
            page.context.close()
