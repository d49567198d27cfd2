"""The API's read resources: campaigns an organization sponsors, and its consented signers with tombstones."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import make_campaign, make_org, make_user
from tests.mailings.supporters import Sponsors, add_signature, three_sponsors
from undersign.api import service
from undersign.db import utcnow
from undersign.extensions import db
from undersign.organizations.models import Organization
from undersign.signatures.service import invalidate, withdraw
from undersign.signatures.tokens import withdraw_token

BASE = "http://localhost"


def token_for(org: Organization, *, write: bool = False) -> dict[str, str]:
    _token, secret = service.create_token(None, org, "CRM sync", write=write)
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def get(client: Any, url: str, headers: dict[str, str], status: int = 200) -> Any:
    response = client.get(url.removeprefix(BASE), headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def signers(client: Any, found: Sponsors, org: Organization, query: str = "") -> tuple[set[str], set[str]]:
    """(names of the signers the organization sees, ids it is told to delete) over every page."""
    headers = token_for(org)
    url: str | None = f"/api/v1/campaigns/{found.campaign.slug}/signatures{query}"
    live: set[str] = set()
    deleted: set[str] = set()
    while url:
        page = get(client, url, headers)
        for item in page["_embedded"]["osdi:signatures"]:
            if item.get("deleted"):
                deleted.add(item["identifiers"][0])
            else:
                live.add(item["person"]["name"])
        url = page["_links"].get("next", {}).get("href")
    return live, deleted


def ident(found: Sponsors, name: str) -> str:
    return f"undersign:{found.signatures[name].id}"


def test_each_organization_sees_exactly_its_consented_confirmed_signers(client):
    found = three_sponsors()

    assert signers(client, found, found.lead) == ({"Ann 김", "Bob"}, {ident(found, "dan"), ident(found, "eve")})
    assert signers(client, found, found.partner) == ({"Bob", "Eve"}, set())
    assert signers(client, found, found.festival) == ({"Gus"}, set())

    page = get(client, f"/api/v1/campaigns/{found.campaign.slug}/signatures", token_for(found.partner))
    [bob] = [s for s in page["_embedded"]["osdi:signatures"] if s["person"]["name"] == "Bob"]
    assert bob["identifiers"] == [ident(found, "bob")]
    assert bob["person"]["email_addresses"] == [{"address": "bob@example.org", "primary": True}]
    assert bob["person"]["postal_addresses"] == [{"country": "KR"}]
    assert bob["referrer_data"]["referrer"] == found.lead.slug
    assert bob["action_date"].endswith("Z")
    # A tombstone carries nothing about the person.
    page = get(client, f"/api/v1/campaigns/{found.campaign.slug}/signatures", token_for(found.lead))
    [dan] = [s for s in page["_embedded"]["osdi:signatures"] if s["identifiers"] == [ident(found, "dan")]]
    assert set(dan) == {"identifiers", "deleted", "deleted_date", "modified_date"} and dan["deleted"] is True


def test_another_organizations_token_gets_404_for_a_campaign_it_does_not_sponsor(client):
    found = three_sponsors()
    headers = token_for(found.outsider)
    slug = found.campaign.slug

    assert get(client, "/api/v1/campaigns", headers)["_embedded"]["osdi:petitions"] == []
    problem = client.get(f"/api/v1/campaigns/{slug}", headers=headers)
    assert problem.status_code == 404 and problem.mimetype == "application/problem+json"
    assert client.get(f"/api/v1/campaigns/{slug}/signatures", headers=headers).status_code == 404
    assert client.get("/api/v1/campaigns/no-such-campaign", headers=token_for(found.lead)).status_code == 404


def test_campaigns_carry_the_shared_count_and_the_organizations_part(client):
    lead, partner = make_org("Fathom Film Group"), make_org("Hanvoice")
    campaign = make_campaign(lead, status="published", co_sponsors=(partner,), counts={lead: 40, partner: 2},
                             decision_maker="The Minister of Culture")
    db.session.commit()

    listed = get(client, "/api/v1/campaigns", token_for(partner))["_embedded"]["osdi:petitions"]
    assert [c["identifiers"] for c in listed] == [[f"undersign:{campaign.slug}"]]
    one = get(client, f"/api/v1/campaigns/{campaign.slug}", token_for(partner))
    assert one == listed[0]
    assert one["title"] == campaign.title and one["summary"] == "A short summary."
    assert one["target"] == [{"name": "The Minister of Culture"}]
    assert one["total_signatures"] == 42 and one["undersign:signatures_credited"] == 2
    assert one["status"] == "published"
    assert one["browser_url"] == f"{BASE}/o/{partner.slug}/p/{campaign.slug}"
    assert one["created_date"].endswith("Z") and one["modified_date"].endswith("Z")
    assert get(client, f"/api/v1/campaigns/{campaign.slug}", token_for(lead))["undersign:signatures_credited"] == 40


def test_pages_visit_each_signer_once_even_when_one_signs_between_pages(client):
    lead = make_org("Fathom Film Group", owner=make_user())
    campaign = make_campaign(lead, status="published")
    for n in range(7):
        add_signature(campaign, f"Signer {n}", f"s{n}@example.org", (lead,))
    headers = token_for(lead)

    seen: list[str] = []
    url: str | None = f"/api/v1/campaigns/{campaign.slug}/signatures?per_page=3"
    pages = 0
    while url:
        page = get(client, url, headers)
        seen += [s["person"]["name"] for s in page["_embedded"]["osdi:signatures"]]
        pages += 1
        if pages == 1:
            add_signature(campaign, "Late signer", "late@example.org", (lead,))
        url = page["_links"].get("next", {}).get("href")

    assert pages == 3
    assert sorted(seen) == sorted([f"Signer {n}" for n in range(7)] + ["Late signer"])
    assert seen[-1] == "Late signer"


def test_modified_since_returns_only_newer_changes_and_a_withdrawal_is_a_tombstone_to_those_with_consent(client):
    found = three_sponsors()
    since = utcnow().isoformat()

    withdraw(found.campaign, withdraw_token(found.signatures["bob"]))
    db.session.commit()

    query = "?modified_since=" + since.replace("+", "%2B")
    assert signers(client, found, found.lead, query) == (set(), {ident(found, "bob")})
    assert signers(client, found, found.partner, query) == (set(), {ident(found, "bob")})
    assert signers(client, found, found.festival, query) == (set(), set())
    # And in a full sync too, Bob is now a tombstone only.
    assert signers(client, found, found.partner) == ({"Eve"}, {ident(found, "bob")})


def test_an_invalidated_signature_becomes_a_tombstone(client):
    found = three_sponsors()
    invalidate(found.signatures["gus"], "Bought signatures", actor=None)
    db.session.commit()

    assert signers(client, found, found.festival) == (set(), {ident(found, "gus")})


@pytest.mark.parametrize("query, field", [
    ("cursor=not-a-cursor", "cursor"),
    ("cursor=WyJ5ZXN0ZXJkYXkiLDFd", "cursor"),  # valid base64 of ["yesterday",1]
    ("modified_since=last-tuesday", "modified_since"),
    ("per_page=0", "per_page"),
    ("per_page=501", "per_page"),
    ("per_page=many", "per_page"),
])
def test_bad_parameters_get_400_naming_the_field(client, query, field):
    found = three_sponsors()
    response = client.get(f"/api/v1/campaigns/{found.campaign.slug}/signatures?{query}", headers=token_for(found.lead))
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 400 and [e["field"] for e in problem["errors"]] == [field]
    assert problem["detail"]


def test_a_read_token_suffices_and_a_write_token_reads_too(client):
    found = three_sponsors()
    for write in (False, True):
        headers = token_for(found.festival, write=write)
        page = get(client, f"/api/v1/campaigns/{found.campaign.slug}/signatures", headers)
        assert [s["person"]["name"] for s in page["_embedded"]["osdi:signatures"]] == ["Gus"]
    assert client.get("/api/v1/campaigns").status_code == 401
