"""Taking a petition down with a public reason, and restoring it: platform administrators only."""

from __future__ import annotations

import pytest

from tests.factories import add_member, login_as, make_campaign, make_org, make_user
from tests.helpers import csrf_token, submit, text_of
from tests.organizations.support import events
from tests.moderation.test_suspension import signed_and_confirmed
from tests.signatures.petitions import counts, form_action, hidden_fields, make_petition, signature_rows, supporter
from undersign.audit import ip_hash as audit_ip_hash
from undersign.errors import Conflict, InvalidInput, PermissionDenied
from undersign.extensions import db
from undersign.moderation.rules import TAKEDOWN_REASON_MAX
from undersign.moderation.takedowns import restore, take_down
from undersign.organizations.models import Role

REASON = "It repeats false claims about a named person."


def admin_page(campaign):  # type: ignore[no-untyped-def]
    return f"/admin/campaigns/{campaign.id}"


def test_the_service_refuses_non_admins_bad_reasons_and_repeats(app):
    petition = make_petition()
    campaign = petition.campaign
    owner = add_member(petition.lead, role=Role.OWNER)
    admin = make_user(admin=True)
    with app.test_request_context():
        with pytest.raises(PermissionDenied):
            take_down(owner, campaign, REASON)
        for reason in ("", "   \n ", "x" * (TAKEDOWN_REASON_MAX + 1), "bad\x00reason"):
            with pytest.raises(InvalidInput) as refused:
                take_down(admin, campaign, reason)
            assert refused.value.field == "reason"
        with pytest.raises(Conflict):
            restore(admin, campaign)
        take_down(admin, campaign, REASON, ip="192.0.2.1")
        with pytest.raises(Conflict):
            take_down(admin, campaign, "Again")
        with pytest.raises(PermissionDenied):
            restore(owner, campaign)
        assert campaign.taken_down_at is not None and campaign.takedown_reason == REASON
        restore(admin, campaign)
        assert campaign.taken_down_at is None and campaign.takedown_reason is None
    [down] = events(petition.lead.id, "campaign.taken_down")
    [back] = events(petition.lead.id, "campaign.restored")
    assert down.actor_id == back.actor_id == admin.id and down.ip_hash == audit_ip_hash("192.0.2.1")
    assert down.details == {"reason": REASON} and back.details == {"reason": REASON}


def test_an_org_owner_gets_404_on_every_takedown_route(client):
    petition = make_petition()
    owner = add_member(petition.lead, role=Role.OWNER)
    login_as(client, owner)
    token = csrf_token(client.get(f"/orgs/{petition.lead.slug}/").get_data(as_text=True))
    for path in ("/admin/campaigns", admin_page(petition.campaign)):
        assert client.get(path).status_code == 404, path
    for action in ("take-down", "restore"):
        response = client.post(f"{admin_page(petition.campaign)}/{action}", data={"csrf_token": token, "reason": "x"})
        assert response.status_code == 404
    db.session.expire_all()
    assert petition.campaign.taken_down_at is None


def test_the_admins_list_searches_titles_and_slugs_and_filters_taken_down(client):
    lead = make_org("Fathom")
    make_campaign(lead, status="published", title="Free the films", slug="free-the-films")
    make_campaign(lead, status="published", title="Heat for Harbour Street", slug="heat-harbour")
    make_campaign(lead, title="A draft about 100% of it", slug="draft-one")
    gone = make_campaign(lead, status="published", title="Gone for now", slug="gone-for-now")
    login_as(client, make_user(admin=True))
    with client.application.test_request_context():
        take_down(make_user(admin=True), gone, REASON)
    db.session.commit()

    everything = text_of(client.get("/admin/campaigns"))
    assert all(t in everything for t in ("Free the films", "Heat for Harbour Street", "A draft about", "Gone for now"))
    found = text_of(client.get("/admin/campaigns?q=FILMS"))
    assert "Free the films" in found and "Heat for Harbour" not in found
    found = text_of(client.get("/admin/campaigns?q=heat-harb"))
    assert "Heat for Harbour Street" in found and "Free the films" not in found
    found = text_of(client.get("/admin/campaigns?q=100%25"))
    assert "A draft about" in found and "Free the films" not in found
    found = text_of(client.get("/admin/campaigns?taken_down=1"))
    assert "Gone for now" in found and "taken down" in found and "Free the films" not in found
    assert client.get("/admin/campaigns?q=%00&page=-3").status_code == 200


def test_a_takedown_shows_its_reason_on_every_sponsors_page_closes_signing_and_restoring_brings_it_back(
        app, client, mailbox):
    petition = make_petition()
    lead_owner = add_member(petition.lead, make_user("owner@lead.example.org"), Role.OWNER)
    co_owner = add_member(petition.co_sponsor, make_user("owner@co.example.org"), Role.OWNER)
    lead_editor = add_member(petition.lead, make_user("editor@lead.example.org"), Role.EDITOR)
    supporters = app.test_client()
    signed_and_confirmed(supporters, mailbox, petition.url, "ann@example.org")
    signed_and_confirmed(supporters, mailbox, petition.hosted_url(petition.co_sponsor), "bo@example.org")
    open_form = supporters.get(petition.url).get_data(as_text=True)
    before, rows = counts(petition), signature_rows(petition.campaign)
    mailbox.clear()

    login_as(client, make_user("root@example.org", admin=True))
    page = text_of(client.get(admin_page(petition.campaign)))
    assert petition.campaign.title in page and "Take down" in page and "2" in page
    response = submit(client, admin_page(petition.campaign), {"reason": "  "},
                      action=f"{admin_page(petition.campaign)}/take-down")
    assert response.status_code == 400 and "Give a reason: it is shown on the petition's page." in text_of(response)
    assert supporters.get(petition.url).status_code == 200
    response = submit(client, admin_page(petition.campaign), {"reason": REASON},
                      action=f"{admin_page(petition.campaign)}/take-down")
    assert response.status_code == 302
    assert "is taken down" in text_of(client.get(response.headers["Location"]))

    for url in (petition.url, petition.hosted_url(petition.lead), petition.hosted_url(petition.co_sponsor)):
        response = supporters.get(url)
        text = text_of(response)
        assert response.status_code == 410, url
        assert "The platform's moderators have taken this petition down." in text and REASON in text
        assert "2 supporters signed it" in text
    payload = {**hidden_fields(open_form), "csrf_token": csrf_token(open_form), **supporter(email="cy@example.org")}
    response = supporters.post(form_action(open_form), data=payload)
    assert response.status_code == 410 and "Nothing was recorded" in text_of(response)
    figures = supporters.get(f"{petition.url}.json").json
    assert figures["status"] == "unavailable" and figures["signature_count"] == 2 and figures["reason"] == REASON
    assert counts(petition) == before and signature_rows(petition.campaign) == rows
    # The sponsors' consoles say so too.
    login_as(supporters, lead_owner)
    console = text_of(supporters.get(f"/orgs/{petition.lead.slug}/campaigns/{petition.slug}/"))
    assert "The platform's moderators took this petition down" in console and REASON in console

    for owner, org in ((lead_owner, petition.lead), (co_owner, petition.co_sponsor)):
        [mail] = mailbox.to(owner.email)
        assert " ".join(mail.subject.split()) == f"“{petition.campaign.title}” was taken down on undersign"
        assert REASON in mail.body and f"which {org.name}" in mail.body and "2 signatures are kept" in mail.body
    assert mailbox.to(lead_editor.email) == []
    # A second takedown is a conflict, with a message, and mails nobody.
    response = submit(client, admin_page(petition.campaign), {"reason": "Again"},
                      action=f"{admin_page(petition.campaign)}/take-down")
    assert response.status_code == 409 and "is already taken down" in text_of(response)
    assert len(mailbox.to(lead_owner.email)) == 1
    mailbox.clear()

    response = submit(client, admin_page(petition.campaign), {}, action=f"{admin_page(petition.campaign)}/restore")
    assert response.status_code == 302
    for url in (petition.url, petition.hosted_url(petition.co_sponsor)):
        response = supporters.get(url)
        assert response.status_code == 200 and "2 supporters" in text_of(response) and REASON not in text_of(response)
    assert counts(petition) == before
    assert "was restored" in mailbox.last_to(co_owner.email).subject
    response = submit(client, admin_page(petition.campaign), {}, action=f"{admin_page(petition.campaign)}/restore")
    assert response.status_code == 409 and "is not taken down" in text_of(response)
    assert len(events(petition.lead.id, "campaign.taken_down")) == len(events(petition.lead.id, "campaign.restored")) == 1
