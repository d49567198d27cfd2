"""Signing, e-mail confirmation, withdrawal and the shared count, through the real pages and a real SMTP server."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.helpers import csrf_token, text_of
from tests.signatures.petitions import counts, make_petition, sign, signature_rows, supporter
from undersign.campaigns.models import CampaignStatus
from undersign.extensions import db
from undersign.signatures.models import Consent, Signature


def _figures(client, petition) -> dict:
    response = client.get(f"{petition.url}.json")
    assert response.status_code == 200
    return response.json


def _confirm(client, path: str):
    """Open a confirm or withdraw link and press its button."""
    page = client.get(path)
    assert page.status_code == 200
    return client.post(path, data={"csrf_token": csrf_token(page.get_data(as_text=True))})


def _press_again(client, path: str, page):
    """Send the button of an already used ``page`` once more (a double click, a reload)."""
    return client.post(path, data={"csrf_token": csrf_token(page.get_data(as_text=True))})


def test_sign_confirm_count_repeat_and_withdraw(client, mailbox):
    petition = make_petition()
    response = sign(client, petition.url, supporter("Ann Lee", "Ann.Lee+petitions@GoogleMail.com", public="y",
                                                    comment="For my neighbours.", consent=[petition.co_sponsor.slug]))
    assert response.status_code == 303
    assert "Check your e-mail" in text_of(client.get(response.headers["Location"]))

    mail = mailbox.last_to("Ann.Lee+petitions@googlemail.com")
    assert petition.campaign.title in mail.subject
    confirm_link = mail.link("/confirm/")

    # Opening the link (as a mail scanner would) shows a button and changes nothing.
    page = client.get(confirm_link)
    assert page.status_code == 200 and "Confirm my signature" in text_of(page)
    assert counts(petition)[0] == 0
    assert _figures(client, petition)["signature_count"] == 0

    response = client.post(confirm_link, data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.status_code == 200
    assert "your signature counts" in text_of(response)
    total, parts = counts(petition)
    assert total == 1 and parts[petition.lead.slug] == 1 and parts[petition.co_sponsor.slug] == 0

    # The shared count on both hosted pages and in the JSON.
    for url in (petition.url, petition.hosted_url(petition.co_sponsor)):
        assert "1 supporter" in text_of(client.get(url))
    figures = _figures(client, petition)
    assert figures["signature_count"] == 1
    assert {s["slug"]: s["signature_count"] for s in figures["sponsors"]} == {petition.lead.slug: 1, petition.co_sponsor.slug: 0}

    # Confirming twice is harmless; the link then says so.
    assert _press_again(client, confirm_link, page).status_code == 200
    assert counts(petition)[0] == 1
    assert "already" in text_of(client.get(confirm_link))

    # The same person again, spelled differently: same answer, no new signature, an "already signed" mail.
    mailbox.clear()
    response = sign(client, petition.url, supporter("Ann L.", " annlee@gmail.com "))
    assert response.status_code == 303
    assert signature_rows(petition.campaign) == 1
    assert counts(petition)[0] == 1
    again = mailbox.last_to("Ann.Lee+petitions@googlemail.com")  # the address that signed, not the one typed now
    assert "already signed" in again.subject.lower()
    assert "is confirmed and counts" in again.body

    # Withdraw with the link from the confirmation mail: count -1, personal data gone.
    withdraw_link = mail.link("/withdraw/")
    page = client.get(withdraw_link)
    assert page.status_code == 200 and "Withdraw my signature" in text_of(page)
    assert counts(petition)[0] == 1
    response = client.post(withdraw_link, data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.status_code == 200
    total, parts = counts(petition)
    assert total == 0 and parts[petition.lead.slug] == 0
    assert _figures(client, petition)["signature_count"] == 0
    row = db.session.scalars(select(Signature).where(Signature.campaign_id == petition.campaign.id)).one()
    assert row.withdrawn_at is not None
    assert (row.name, row.email, row.email_key, row.comment, row.postcode, row.ip_hash) == (None,) * 6
    assert db.session.scalars(select(Consent).where(Consent.signature_id == row.id)).all() == []
    # Withdrawing twice is harmless too, and the person may sign again.
    assert _press_again(client, withdraw_link, page).status_code == 200
    assert "is withdrawn" in text_of(client.get(withdraw_link))
    assert counts(petition)[0] == 0
    assert sign(client, petition.url, supporter("Ann Lee", "annlee@gmail.com")).status_code == 303
    assert signature_rows(petition.campaign) == 2


def test_thank_you_page_carries_a_working_withdraw_link(client, mailbox):
    petition = make_petition()
    sign(client, petition.url, supporter(email="bo@example.org"))
    response = _confirm(client, mailbox.last_to("bo@example.org").link("/confirm/"))
    html = response.get_data(as_text=True)
    import re

    withdraw = re.search(r'href="(/p/[^"]+/withdraw/[^"]+)"', html)
    assert withdraw, html
    assert _confirm(client, withdraw.group(1)).status_code == 200
    assert counts(petition)[0] == 0


def test_unconfirmed_duplicate_gets_a_new_link_and_mails_are_capped(client, mailbox):
    petition = make_petition()
    sign(client, petition.url, supporter(email="cy@example.org"))
    first = mailbox.last_to("cy@example.org").link("/confirm/")
    for _ in range(7):
        assert sign(client, petition.url, supporter(email="CY@example.org")).status_code == 303
    received = mailbox.to("cy@example.org")
    assert len(received) == 5  # the first confirmation and four reminders, however often it is submitted
    assert "not confirmed yet" in received[-1].body
    # Only the newest link works; it confirms the one signature.
    assert client.get(first).status_code == 404
    assert _confirm(client, received[-1].link("/confirm/")).status_code == 200
    assert counts(petition)[0] == 1 and signature_rows(petition.campaign) == 1


def test_attribution_source_and_consents(client, mailbox):
    petition = make_petition()
    co = petition.co_sponsor
    sign(client, petition.hosted_url(co), supporter(email="a@example.org", consent=[petition.lead.slug, co.slug]))
    sign(client, f"{petition.url}?via={co.slug}&source=newsletter%20may<script>", supporter(email="b@example.org"))
    sign(client, f"{petition.url}?via={petition.invited.slug}", supporter(email="c@example.org"))
    sign(client, f"{petition.url}?via=nobody", supporter(email="d@example.org"))
    for address in ("a", "b", "c", "d"):
        _confirm(client, mailbox.last_to(f"{address}@example.org").link("/confirm/"))

    rows = {s.email: s for s in db.session.scalars(select(Signature).where(Signature.campaign_id == petition.campaign.id))}
    assert rows["a@example.org"].sponsorship_id == petition.sponsorship(co).id
    assert rows["b@example.org"].sponsorship_id == petition.sponsorship(co).id
    assert rows["b@example.org"].source == "newsletter-may-script"
    # An invited (not accepted) sponsor and an unknown one: the lead gets the credit.
    assert rows["c@example.org"].sponsorship_id == petition.sponsorship(petition.lead).id
    assert rows["d@example.org"].sponsorship_id == petition.sponsorship(petition.lead).id
    total, parts = counts(petition)
    assert total == 4 and parts == {petition.lead.slug: 2, co.slug: 2, petition.invited.slug: 0}
    assert "2 through" in text_of(client.get(petition.hosted_url(co)))

    consents = db.session.scalars(select(Consent).where(Consent.signature_id == rows["a@example.org"].id)).all()
    assert sorted(c.wording for c in consents) == sorted(
        [f"Keep me updated by {petition.lead.name}", f"Keep me updated by {co.name}"])
    assert db.session.scalars(select(Consent).where(Consent.signature_id == rows["b@example.org"].id)).all() == []


def test_form_offers_one_unticked_consent_per_accepted_sponsor(client):
    petition = make_petition()
    html = client.get(petition.url).get_data(as_text=True)
    assert f"Keep me updated by {petition.lead.name}" in html
    assert f"Keep me updated by {petition.co_sponsor.name}" in html
    assert petition.invited.name not in html
    assert 'name="consent"' in html and " checked" not in html
    for name in ("name", "email", "country", "postcode", "comment", "public", "csrf_token"):
        assert f'name="{name}"' in html


def test_expired_or_unknown_links_change_nothing(client, mailbox):
    petition = make_petition()
    sign(client, petition.url, supporter(email="dee@example.org"))
    link = mailbox.last_to("dee@example.org").link("/confirm/")
    row = db.session.scalars(select(Signature).where(Signature.campaign_id == petition.campaign.id)).one()
    row.token_expires_at = row.created_at - dt.timedelta(seconds=1)
    db.session.commit()
    assert client.get(link).status_code == 404
    page = client.get(mailbox.last_to("dee@example.org").link("/withdraw/"))  # a page with a session token
    response = _press_again(client, link, page)
    assert response.status_code == 404
    assert "expired" in text_of(response)
    assert client.get(f"{petition.url}/confirm/not-a-token").status_code == 404
    assert client.get(f"{petition.url}/withdraw/not-a-token").status_code == 404
    other = make_petition()
    assert client.get(link.replace(petition.slug, other.slug)).status_code == 404
    assert counts(petition)[0] == 0


def test_closed_petition_takes_no_signatures_and_confirms_none(client, mailbox):
    petition = make_petition()
    sign(client, petition.url, supporter(email="eve@example.org"))
    link = mailbox.last_to("eve@example.org").link("/confirm/")
    page = client.get(petition.url)
    confirm_page = client.get(link)
    petition.campaign.status = CampaignStatus.CLOSED.value
    db.session.commit()

    # A form still open in a tab when the petition closed.
    response = client.post(f"{petition.url}/sign", data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                                         **supporter(email="fay@example.org")})
    assert response.status_code == 409
    assert "Petition closed" in text_of(response)
    assert signature_rows(petition.campaign) == 1
    response = _press_again(client, link, confirm_page)
    assert response.status_code == 409
    assert counts(petition)[0] == 0


def test_draft_petition_is_not_signable(client):
    petition = make_petition(status=CampaignStatus.DRAFT)
    assert client.post(f"{petition.url}/sign", data=supporter()).status_code == 404
    assert client.get(f"{petition.url}.json").status_code == 404
    assert client.get(f"{petition.url}/embed").status_code == 404
    assert signature_rows(petition.campaign) == 0


def test_petition_page_with_its_form_stays_shareable_in_caches(client):
    """The sign form needs no session, so the page is the same for every anonymous visitor."""
    petition = make_petition()
    response = client.get(f"{petition.url}?source=newsletter")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"].startswith("public")
    html = response.get_data(as_text=True)
    section = html[html.index('id="sign"'):]
    assert 'class="sign-form"' in section and 'name="source" type="hidden" value="newsletter"' in section


def test_odd_links_are_404_not_500(client):
    petition = make_petition()
    for path in (f"{petition.url}/withdraw/%00", f"/p/%00/withdraw/x", f"{petition.url}/confirm/%00%ff",
                 f"/p/{'x' * 500}/confirm/y", f"/p/%00.json", f"/p/a%00/embed"):
        assert client.get(path).status_code == 404, path
