"""Odd values in URLs, for every route at once: a NUL byte (PostgreSQL refuses it in text), a
2,000-character string and a number beyond any row id (it overflows the query's parameter) reach no
query and give no 500; the answer is 404 (or 400, or for a signed-out visitor the sign-in page).

The test walks ``app.url_map``, so a route added tomorrow is covered too. Each
parameter is replaced in turn while the others name real rows (the signed-in
owner's organization, its published campaign) or have a plausible shape
(tokens, hashes, ids), so the odd value gets as deep as it can.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, url_for
from werkzeug.routing import Rule
from werkzeug.routing.converters import AnyConverter, IntegerConverter

from tests.campaigns.campaign_factories import make_campaign
from tests.factories import login_as, make_org, make_user
from tests.helpers import text_of
from undersign.api.service import create_token
from undersign.audit import record
from undersign.extensions import db

ODD_STRINGS = {"NUL": "a\x00b", "2,000 characters": "a" * 2000}
ODD_NUMBERS = {"a 31-digit id": 10**30}
NOT_WALKED = {"static"}  # files, not rows


def _parameters(rule: Rule) -> dict[str, dict[str, Any]]:
    """The odd values to try for each parameter of ``rule`` (``any(...)`` ones only match their words)."""
    odd: dict[str, dict[str, Any]] = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, IntegerConverter):
            odd[name] = ODD_NUMBERS
        elif not isinstance(converter, AnyConverter):
            odd[name] = ODD_STRINGS
    return odd


def _routes(app: Flask) -> list[Rule]:
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint not in NOT_WALKED and _parameters(rule)]


def _good_values(org_slug: str, campaign_slug: str) -> dict[str, Any]:
    return {"org": org_slug, "slug": campaign_slug, "token": "x" * 43, "sha": "0" * 16, "decision": "approve",
            "image_id": 1, "revision_id": 1, "sponsorship_id": 1, "update_id": 1, "invitation_id": 1,
            "member_id": 1, "org_id": 1, "campaign_id": 1, "token_id": 1, "endpoint_id": 1, "delivery_id": 1, "link_id": 1,
            "report_id": 1, "passkey_id": 1, "batch_id": 1, "entry_id": 1, "kind": "domains", "action": "release",
            "signature_id": 1, "organization_id": 1, "visibility": "show", "answer": "give", "code": "ko"}


def test_the_routes_of_the_bug_report_are_walked(app):
    walked = {rule.rule for rule in _routes(app)}
    for route in ("/orgs/<org>/", "/o/<org>", "/p/<slug>", "/p/<slug>.json", "/o/<org>/p/<slug>",
                  "/p/<slug>/confirm/<token>", "/invitations/<token>", "/reset/<token>", "/verify/<token>",
                  "/images/<int:image_id>-<sha>.webp", "/admin/organizations/<int:org_id>"):
        assert route in walked


@pytest.mark.parametrize("signed_in", [True, False], ids=["owner and admin", "anonymous"])
def test_odd_url_values_are_refused_without_a_500(app, client, signed_in):
    owner = make_user(admin=True)
    org = make_org(owner=owner)
    campaign = make_campaign(org, status="published")
    if signed_in:
        login_as(client, owner)
    good = _good_values(org.slug, campaign.slug)
    _token, secret = create_token(None, org, "odd values", write=True)
    db.session.commit()
    failures = []
    for rule in _routes(app):
        method = "GET" if "GET" in rule.methods else "POST"
        for name, odd_values in _parameters(rule).items():
            for label, odd in odd_values.items():
                values = {key: good[key] for key in rule.arguments}
                values[name] = odd
                with app.test_request_context():
                    url = url_for(rule.endpoint, **values)
                # API routes get the organization's token, so the odd value gets past authentication.
                api = hasattr(app.view_functions[rule.endpoint], "api_scope")
                headers = {"Authorization": f"Bearer {secret}"} if api else {}
                try:
                    status = client.open(url, method=method, headers=headers).status_code
                except Exception as exc:  # noqa: BLE001 - the test app propagates what would be a 500
                    status = f"500 ({type(exc).__name__})"
                if status not in ({400, 404} if signed_in else {302, 400, 401, 404}):
                    failures.append(f"{method} {rule.rule} with {name} = {label}: {status}")
    assert failures == [], "\n".join(failures)


@pytest.mark.parametrize(("query", "shows_the_log"), [
    ("action=a%00b", True), ("org=" + "9" * 31, True), ("org=-1&page=-1", True),  # filters that cannot match: ignored
    ("page=" + "9" * 31, False), ("action=" + "a" * 2000, False),  # a page past the end; an action no event has
])
def test_odd_audit_filters_give_no_500(client, query, shows_the_log):
    admin = make_user(admin=True)
    org = make_org("Hanvoice", owner=admin)
    record(admin, "organization.approved", org, organization_id=org.id)
    db.session.commit()
    login_as(client, admin)
    response = client.get(f"/admin/audit?{query}")
    assert response.status_code == 200
    assert ("organization.approved" in text_of(response)) is shows_the_log
