"""Who may do what in a campaign's console.

- A member's role limits what they do (viewer < editor < admin < owner): 403.
- Only the lead organization changes the petition; a co-sponsor that can see it gets 403
  (see test_sponsorship.test_co_sponsor_staff_cannot_change_the_leads_petition).
- An organization with no part in the campaign gets 404 on every console URL of it,
  whatever its member's role, and so does anyone who is not a member of the organization in the URL.
"""

from __future__ import annotations

import re

import pytest

from tests.campaigns.campaign_factories import console, make_campaign, staff
from tests.factories import login_as, make_org, make_user
from tests.helpers import csrf_token, submit
from undersign.campaigns.models import CampaignRevision, Update
from undersign.extensions import db
from undersign.organizations.models import Role


def _campaign_urls(app, org_slug, campaign, *, sponsorship_id, update_id, revision_id):  # type: ignore[no-untyped-def]
    """Every console rule of the campaigns blueprint that names a campaign, filled in, with its methods."""
    values = {"org": org_slug, "slug": campaign.slug, "sponsorship_id": sponsorship_id, "update_id": update_id,
              "revision_id": revision_id, "code": "ko"}
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("campaigns.") or "slug" not in rule.arguments:
            continue
        path = rule.rule
        for name in rule.arguments:
            path = re.sub(rf"<(?:[a-z]+:)?{name}>", str(values[name]), path)
        urls.append((path, sorted(rule.methods - {"HEAD", "OPTIONS"})))
    assert len(urls) >= 15, urls
    return urls


@pytest.fixture
def world(db_session):  # type: ignore[no-untyped-def]
    lead = make_org("Lead", owner=make_user())
    partner = make_org("Partner")
    campaign = make_campaign(lead, status="published", co_sponsors=(partner,), signature_count=3)
    update = Update(campaign_id=campaign.id, organization_id=lead.id, title="News", body="Body")
    revision = CampaignRevision(campaign_id=campaign.id, title="Old", body="Old body", demands=[], signature_count_at_edit=1)
    db.session.add_all([update, revision])
    db.session.commit()
    return {"lead": lead, "partner": partner, "campaign": campaign, "update": update, "revision": revision,
            "sponsorship_id": campaign.sponsorships[1].id}


@pytest.mark.parametrize("role", [Role.OWNER, Role.VIEWER])
def test_unrelated_organization_gets_404_on_every_console_url(app, client, world, role):
    outsider_org = make_org("Unrelated")
    outsider = staff(outsider_org, role)
    login_as(client, outsider)
    token = csrf_token(client.get(console(outsider_org)).get_data(as_text=True))
    for org_slug in (outsider_org.slug, world["lead"].slug, world["partner"].slug):
        for path, methods in _campaign_urls(app, org_slug, world["campaign"], sponsorship_id=world["sponsorship_id"],
                                            update_id=world["update"].id, revision_id=world["revision"].id):
            for method in methods:
                response = client.open(path, method=method, data={"csrf_token": token, "title": "x", "body": "x",
                                                                  "organization": outsider_org.slug})
                assert response.status_code == 404, (method, path, response.status_code)
    db.session.expire_all()
    assert world["campaign"].status == "published" and len(world["campaign"].sponsorships) == 2


def test_signed_out_visitors_learn_nothing_about_which_campaigns_exist(app, client, world):
    lead = world["lead"]
    existing = client.get(console(lead, world["campaign"]))
    missing = client.get(f"/orgs/{lead.slug}/campaigns/no-such-campaign/")
    assert existing.status_code == missing.status_code == 302
    assert "/login" in existing.headers["Location"]


def test_viewer_reads_but_cannot_change_anything(client, world):
    lead, campaign = world["lead"], world["campaign"]
    viewer = staff(lead, Role.VIEWER)
    login_as(client, viewer)
    for rest in ("", "preview", "sponsors", "updates", "revisions", f"revisions/{world['revision'].id}"):
        assert client.get(console(lead, campaign, rest)).status_code == 200, rest
    assert client.get(console(lead)).status_code == 200
    assert client.get(console(lead, rest="new")).status_code == 403
    assert client.get(console(lead, campaign, "edit")).status_code == 403
    assert client.get(console(lead, campaign, "updates/new")).status_code == 403
    page = console(lead, campaign)
    for action in ("edit", "publish", "close", "victory", "sponsors/invite", f"sponsors/{world['sponsorship_id']}/remove",
                   "updates/new", f"updates/{world['update'].id}/delete", f"updates/{world['update'].id}/edit"):
        response = submit(client, page, {"title": "Changed", "body": "Changed", "organization": "x"},
                          action=console(lead, campaign, action))
        assert response.status_code == 403, action
    db.session.expire_all()
    assert campaign.title != "Changed" and campaign.status == "published"
    assert world["update"].title == "News"


def test_editor_edits_but_does_not_manage(client, world):
    lead, campaign = world["lead"], world["campaign"]
    editor = staff(lead, Role.EDITOR)
    login_as(client, editor)
    assert client.get(console(lead, campaign, "edit")).status_code == 200
    page = console(lead, campaign)
    for action in ("close", "victory", "sponsors/invite", f"sponsors/{world['sponsorship_id']}/remove"):
        assert submit(client, page, {"organization": "x"}, action=console(lead, campaign, action)).status_code == 403
    db.session.expire_all()
    assert campaign.status == "published"
    assert [(s.organization_id, s.status) for s in campaign.sponsorships] == [
        (lead.id, "accepted"), (world["partner"].id, "accepted")]
    # Without the management rights, the page offers no buttons for them.
    text = client.get(page).get_data(as_text=True)
    assert "Close the petition" not in text and "Declare victory" not in text


def test_post_without_csrf_token_is_refused(client, world):
    lead, campaign = world["lead"], world["campaign"]
    owner = staff(lead, Role.OWNER)
    login_as(client, owner)
    assert client.post(console(lead, campaign, "close")).status_code == 400
    db.session.expire_all()
    assert campaign.status == "published"
