"""The supporters' export: each sponsor takes home exactly the signers who consented to it (DESIGN §9)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select, update

from tests.factories import add_member, login_as, make_campaign, make_org, make_user
from undersign.audit import AuditEvent
from undersign.campaigns.models import Campaign, SponsorshipStatus
from undersign.db import utcnow
from undersign.extensions import db
from undersign.organizations.models import Organization, Role
from undersign.signatures import service
from undersign.signatures.export import EXPORT_FINISHED, EXPORTED
from undersign.signatures.models import Consent, Signature
from undersign.signatures.rules import SignatureInput
from undersign.signatures.tokens import withdraw_token

HYPERLINK = '=HYPERLINK("http://x")'
BOM = "\ufeff"


@dataclass
class Scene:
    campaign: Campaign
    lead: Organization
    second: Organization
    third: Organization
    outsider: Organization
    former: Organization

    def url(self, org: Organization, query: str = "") -> str:
        return f"/orgs/{org.slug}/campaigns/{self.campaign.slug}/export.csv{query}"


def _sign(campaign: Campaign, via: Organization, name: str, email: str, consents: tuple[Organization, ...] = (),
          *, confirm: bool = True, **extra: Any) -> Signature:
    sponsorship = next(s for s in campaign.sponsorships if s.organization_id == via.id)
    signature = service.sign(campaign, sponsorship, SignatureInput(
        name=name, email=email, country=extra.pop("country", "CA"), consents=tuple(o.slug for o in consents),
        **extra))
    assert signature is not None
    if confirm:
        db.session.execute(update(Signature).where(Signature.id == signature.id).values(confirmed_at=utcnow()))
    db.session.commit()
    return signature


@pytest.fixture
def scene() -> Scene:
    return make_scene()


def make_scene() -> Scene:
    """Three sponsors; signers who consent to one, to two, to none; one withdrew; one unsubscribed from the
    lead; one never confirmed."""
    lead, second, third = make_org("Fathom Film Group"), make_org("Hanvoice"), make_org("NK Film Festival")
    outsider, former = make_org("Unrelated NGO"), make_org("Left Early")
    campaign = make_campaign(lead, status="published", co_sponsors=(second, third))
    make_campaign(former, status="published")  # the former sponsor is a sponsor, of another campaign
    _sign(campaign, lead, "Ann Lee", "ann@example.org", (lead,), postcode="M5V 2T6", comment="For my cousin")
    _sign(campaign, second, "김민지", "minji@example.org", (lead, second), country="KR", source="newsletter-may")
    _sign(campaign, lead, "Bo Quiet", "bo@example.org")
    _sign(campaign, third, "Cy Third", "cy@example.org", (third,), comment="-1 for the delay")
    ula = _sign(campaign, second, "Ula Unsubscribed", "ula@example.org", (lead, second))
    # She unsubscribed from the lead's mailings (the link in an update): her consent to it ends.
    db.session.execute(update(Consent).where(Consent.signature_id == ula.id, Consent.organization_id == lead.id)
                       .values(withdrawn_at=utcnow()))
    gone = _sign(campaign, lead, "Wes Withdrawn", "wes@example.org", (lead, second))
    assert service.withdraw(campaign, withdraw_token(gone))
    _sign(campaign, lead, "Una Unconfirmed", "una@example.org", (lead, second, third), confirm=False)
    # A name the sign form refuses (DESIGN §9), as an older import could have left it.
    formula = Signature(campaign_id=campaign.id, sponsorship_id=campaign.sponsorships[0].id, name=HYPERLINK,
                        email="x@example.org", email_key="x@example.org", country="FR", confirmed_at=utcnow())
    db.session.add(formula)
    db.session.flush()
    db.session.add(Consent(signature_id=formula.id, organization_id=lead.id, wording="Keep me updated by Fathom Film Group"))
    db.session.commit()
    return Scene(campaign, lead, second, third, outsider, former)


def _admin_of(client: Any, org: Organization, role: Role = Role.ADMIN) -> Any:
    """A new browser (a client of the same app) signed in as a new member of ``org`` with ``role``."""
    browser = client.application.test_client()
    login_as(browser, add_member(org, make_user(), role))
    return browser


def _rows(response: Any) -> list[dict[str, str]]:
    text = response.get_data(as_text=True)
    assert text.startswith(BOM)
    return list(csv.DictReader(io.StringIO(text[len(BOM):])))


def _names(response: Any) -> list[str]:
    return [row["Name"] for row in _rows(response)]


def test_each_sponsor_exports_exactly_its_consenting_confirmed_signers(client, scene):  # type: ignore[no-untyped-def]
    expected = {
        scene.lead: ["Ann Lee", "김민지", "'" + HYPERLINK],
        scene.second: ["김민지", "Ula Unsubscribed"],
        scene.third: ["Cy Third"],
    }
    for org, names in expected.items():
        response = _admin_of(client, org).get(scene.url(org))
        assert response.status_code == 200
        assert response.is_streamed
        assert response.mimetype == "text/csv"
        assert "attachment" in response.headers["Content-Disposition"]
        assert response.headers["Cache-Control"] == "no-store"
        assert _names(response) == names, org.name


def test_the_csv_holds_every_column_as_excel_should_read_it(client, scene):  # type: ignore[no-untyped-def]
    response = _admin_of(client, scene.lead).get(scene.url(scene.lead))
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM: Excel then reads the Korean name as UTF-8
    assert "김민지".encode() in body
    ann, minji, formula = _rows(response)
    assert list(ann) == ["Name", "E-mail", "Country", "Postcode", "Comment", "Signed at (UTC)", "Confirmed at (UTC)",
                         "Consent wording", "Consented at (UTC)", "Sponsor credited", "Source", "Status",
                         "Consent withdrawn at (UTC)"]
    assert ann["Consent withdrawn at (UTC)"] == ""
    assert ann["E-mail"] == "ann@example.org" and ann["Postcode"] == "M5V 2T6" and ann["Comment"] == "For my cousin"
    assert ann["Consent wording"] == "Keep me updated by Fathom Film Group"
    assert ann["Sponsor credited"] == "Fathom Film Group" and ann["Status"] == "confirmed"
    dt.datetime.strptime(ann["Signed at (UTC)"], "%Y-%m-%d %H:%M:%S")
    dt.datetime.strptime(ann["Confirmed at (UTC)"], "%Y-%m-%d %H:%M:%S")
    dt.datetime.strptime(ann["Consented at (UTC)"], "%Y-%m-%d %H:%M:%S")
    assert minji["Country"] == "KR" and minji["Sponsor credited"] == "Hanvoice" and minji["Source"] == "newsletter-may"
    assert formula["Name"] == "'" + HYPERLINK


def test_cells_that_could_run_as_formulas_are_neutralized(client, scene):  # type: ignore[no-untyped-def]
    (cy,) = _rows(_admin_of(client, scene.third).get(scene.url(scene.third)))
    assert cy["Comment"] == "'-1 for the delay"
    from undersign.signatures.export import neutralize

    assert [neutralize(c) for c in ("=1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "a=1", "")] == [
        "'=1", "'+1", "'-1", "'@SUM(A1)", "'\tx", "'\rx", "a=1", ""]


def test_viewers_and_editors_get_403_and_see_no_export_link(client, scene):  # type: ignore[no-untyped-def]
    for role in (Role.VIEWER, Role.EDITOR):
        member = _admin_of(client, scene.lead, role)
        assert member.get(scene.url(scene.lead)).status_code == 403
        assert member.get(f"/orgs/{scene.lead.slug}/campaigns/{scene.campaign.slug}/export").status_code == 403
        overview = member.get(f"/orgs/{scene.lead.slug}/campaigns/{scene.campaign.slug}/")
        assert overview.status_code == 200 and "Export supporters" not in overview.get_data(as_text=True)
    assert _admin_of(client, scene.lead, Role.OWNER).get(scene.url(scene.lead)).status_code == 200


def test_no_url_reaches_another_organizations_supporters(client, scene):  # type: ignore[no-untyped-def]
    # An unrelated organization's owner, and a sponsor of another campaign: 404 on this campaign.
    for org in (scene.outsider, scene.former):
        owner = _admin_of(client, org, Role.OWNER)
        assert owner.get(scene.url(org)).status_code == 404
        assert owner.get(f"/orgs/{org.slug}/campaigns/{scene.campaign.slug}/export").status_code == 404
        # A sponsor's own URL: not a member of that organization, so 404 as well.
        assert owner.get(scene.url(scene.lead)).status_code == 404
    # A co-sponsor's admin cannot borrow the lead's URL either.
    second = _admin_of(client, scene.second)
    assert second.get(scene.url(scene.lead)).status_code == 404
    # Parameters do not widen it: other filters, or an organization in the query string.
    assert _names(second.get(scene.url(scene.second, f"?status=all&org={scene.lead.slug}"))) == [
        "김민지", "Ula Unsubscribed"]


def test_a_sponsor_that_left_gets_404(client, scene):  # type: ignore[no-untyped-def]
    sponsorship = next(s for s in scene.campaign.sponsorships if s.organization_id == scene.third.id)
    sponsorship.status = SponsorshipStatus.WITHDRAWN.value
    db.session.commit()
    assert _admin_of(client, scene.third).get(scene.url(scene.third)).status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, scene):  # type: ignore[no-untyped-def]
    response = client.get(scene.url(scene.lead))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_status_filter(client, scene):  # type: ignore[no-untyped-def]
    client = _admin_of(client, scene.lead)
    # Withdrawing a signature erases it and its consents: nothing of Wes is left. Ula unsubscribed
    # from the lead: the lead learns that and when, not who.
    (ula,) = _rows(client.get(scene.url(scene.lead, "?status=withdrawn")))
    assert ula["Status"] == "unsubscribed" and ula["Consent withdrawn at (UTC)"] != ""
    assert ula["Name"] == ula["E-mail"] == ula["Postcode"] == ula["Comment"] == ""
    assert ula["Sponsor credited"] == "Hanvoice" and ula["Country"] == "CA"
    assert _names(client.get(scene.url(scene.lead, "?status=all"))) == ["Ann Lee", "김민지", "", "'" + HYPERLINK]
    assert _names(client.get(scene.url(scene.lead, "?status=confirmed"))) == ["Ann Lee", "김민지", "'" + HYPERLINK]
    refused = client.get(scene.url(scene.lead, "?status=everyone"))
    assert refused.status_code == 400 and "Signatures: choose" in refused.get_data(as_text=True)


def test_date_range_filter(client, scene):  # type: ignore[no-untyped-def]
    old = db.session.scalar(select(Signature).where(Signature.name == "Ann Lee"))
    assert old is not None
    old.created_at = dt.datetime(2026, 1, 15, 23, 59, tzinfo=dt.timezone.utc)
    db.session.commit()
    client = _admin_of(client, scene.lead)
    assert _names(client.get(scene.url(scene.lead, "?from=2026-01-15&to=2026-01-15"))) == ["Ann Lee"]
    assert _names(client.get(scene.url(scene.lead, "?to=2026-01-14"))) == []
    assert "Ann Lee" not in _names(client.get(scene.url(scene.lead, "?from=2026-01-16")))
    assert len(_names(client.get(scene.url(scene.lead, "?from=&to=")))) == 3


@pytest.mark.parametrize(("query", "named"), [
    ("?from=yesterday", "Signed from"), ("?to=2026-02-30", "Signed until"), ("?from=20260101", "Signed from"),
    ("?from=2026-03-02&to=2026-03-01", "Signed until"), ("?from=%00", "Signed from"),
])
def test_a_date_that_does_not_parse_is_400_naming_the_field(client, scene, query, named):  # type: ignore[no-untyped-def]
    client = _admin_of(client, scene.lead)
    response = client.get(scene.url(scene.lead, query))
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert f"{named}:" in response.get_data(as_text=True)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == EXPORTED)) is None


def test_every_export_is_in_the_audit_log_with_its_filters_and_rows(client, scene):  # type: ignore[no-untyped-def]
    client = _admin_of(client, scene.lead)
    response = client.get(scene.url(scene.lead, "?status=all&from=2026-01-01"))
    assert len(_rows(response)) == 4
    db.session.expire_all()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == EXPORTED))
    assert event is not None
    assert event.organization_id == scene.lead.id and event.object_id == scene.campaign.id
    assert event.actor_id is not None and event.created_at is not None
    assert event.details == {"filters": {"status": "all", "from": "2026-01-01", "to": None}, "rows": None,
                             "complete": False}
    # The row count follows in an event of its own: the first is never changed.
    finished = db.session.scalar(select(AuditEvent).where(AuditEvent.action == EXPORT_FINISHED))
    assert (finished.actor_id, finished.organization_id, finished.object_id, finished.details) == (
        event.actor_id, scene.lead.id, scene.campaign.id, {"event": event.id, "rows": 4, "complete": True})


def test_a_download_cut_off_is_recorded_as_incomplete(client, scene, monkeypatch):  # type: ignore[no-untyped-def]
    client = _admin_of(client, scene.lead)
    from undersign.signatures import export

    monkeypatch.setattr(export.csv_chunks, "__kwdefaults__", {"batch": 1})
    response = client.get(scene.url(scene.lead), buffered=False)
    chunks = iter(response.response)
    assert next(chunks).startswith(b"\xef\xbb\xbf")  # the header line, before any row is read
    assert b"Ann Lee" in next(chunks)
    response.close()  # the browser went away
    db.session.expire_all()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == EXPORT_FINISHED))
    assert event is not None and event.details["rows"] == 1 and event.details["complete"] is False


def test_the_form_page_offers_the_filters(client, scene):  # type: ignore[no-untyped-def]
    client = _admin_of(client, scene.lead)
    page = client.get(f"/orgs/{scene.lead.slug}/campaigns/{scene.campaign.slug}/export")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'action="/orgs/{scene.lead.slug}/campaigns/{scene.campaign.slug}/export.csv"' in html
    assert 'name="from"' in html and 'name="to"' in html and 'name="status"' in html
    overview = client.get(f"/orgs/{scene.lead.slug}/campaigns/{scene.campaign.slug}/")
    assert "Export supporters" in overview.get_data(as_text=True)


def test_a_download_in_progress_holds_up_no_signer_and_reads_one_snapshot(app, committed, client, monkeypatch):  # type: ignore[no-untyped-def]
    """On real connections (no test savepoints): the stream reads in a transaction of its own after the
    request has committed, takes no write lock (SQLite), and a signer confirming meanwhile is not half in it."""
    import threading

    from undersign.transaction import unit_of_work
    from undersign.signatures import export

    scene_ = make_scene()
    monkeypatch.setattr(export.csv_chunks, "__kwdefaults__", {"batch": 1})
    browser = _admin_of(client, scene_.lead)
    response = browser.get(scene_.url(scene_.lead), buffered=False)
    chunks = iter(response.response)
    received = [next(chunks), next(chunks)]  # the header, then the first row: the read is open
    campaign_id, lead_id = scene_.campaign.id, scene_.lead.id
    sponsorship_id = scene_.campaign.sponsorships[0].id
    done: list[float] = []

    def sign_meanwhile() -> None:
        started = dt.datetime.now()
        with app.app_context(), unit_of_work():
            late = Signature(campaign_id=campaign_id, sponsorship_id=sponsorship_id, name="Late Lou",
                             email="lou@example.org", email_key="lou@example.org", country="CA", confirmed_at=utcnow())
            db.session.add(late)
            db.session.flush()
            db.session.add(Consent(signature_id=late.id, organization_id=lead_id, wording="Keep me updated"))
        done.append((dt.datetime.now() - started).total_seconds())

    writer = threading.Thread(target=sign_meanwhile)
    writer.start()
    writer.join(10)
    assert done and done[0] < 2  # not kept waiting for the download
    received.extend(chunks)
    response.close()
    text = b"".join(received).decode("utf-8")
    names = [row["Name"] for row in csv.DictReader(io.StringIO(text[len(BOM):]))]
    assert names == ["Ann Lee", "김민지", "'" + HYPERLINK]
    assert _names(browser.get(scene_.url(scene_.lead)))[-1] == "Late Lou"
