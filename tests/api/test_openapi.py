"""The API's OpenAPI 3.1 document (generated from the models that validate), its reference page, and
problem documents for requests and answers that break their models."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint
from openapi_spec_validator import OpenAPIV31SpecValidator
from pydantic import BaseModel

from tests.api.test_resources import token_for
from tests.factories import login_as, make_org, make_user
from tests.helpers import text_of
from tests.mailings.supporters import three_sponsors
from undersign.api.auth import api
from undersign.api.schemas import Answer
from undersign.extensions import csrf, db

DOCUMENT = "/api/v1/openapi.json"
NOT_IN_THE_DOCUMENT = {"api.openapi_document", "api.reference"}  # the document and its page describe the API


def openapi_path(rule: str) -> str:
    """``/api/v1/campaigns/<slug>`` as the document writes it: ``/api/v1/campaigns/{slug}``."""
    return re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", r"{\1}", rule)


def test_the_document_is_valid_openapi_3_1_public_and_cacheable(client):
    response = client.get(DOCUMENT)
    assert response.status_code == 200 and response.mimetype == "application/json"
    doc = response.get_json()
    assert doc["openapi"] == "3.1.0"
    OpenAPIV31SpecValidator(doc).validate()  # raises on the first break of the 3.1 schema
    assert doc["servers"] == [{"url": "http://localhost"}]  # BASE_URL, never the request's Host
    assert doc["components"]["securitySchemes"]["bearer"]["type"] == "http"
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert doc["security"] == [{"bearer": []}]

    assert "public" in response.headers["Cache-Control"] and "max-age=300" in response.headers["Cache-Control"]
    again = client.get(DOCUMENT, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_every_api_route_in_the_url_map_is_in_the_document(app, client):
    paths = client.get(DOCUMENT).get_json()["paths"]
    routes = [rule for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/v1/") and rule.endpoint not in NOT_IN_THE_DOCUMENT]
    assert len(routes) >= 4
    missing = [f"{method} {rule.rule}" for rule in routes for method in rule.methods - {"HEAD", "OPTIONS"}
               if method.lower() not in paths.get(openapi_path(rule.rule), {})]
    assert missing == []
    assert set(paths) == {openapi_path(rule.rule) for rule in routes}


def test_every_answer_is_declared_and_errors_are_problem_documents(client):
    paths = client.get(DOCUMENT).get_json()["paths"]
    signatures = paths["/api/v1/campaigns/{slug}/signatures"]["get"]
    assert {p["name"]: p["in"] for p in signatures["parameters"]} == {
        "slug": "path", "cursor": "query", "modified_since": "query", "per_page": "query"}
    per_page = next(p for p in signatures["parameters"] if p["name"] == "per_page")["schema"]
    assert (per_page["minimum"], per_page["maximum"], per_page["default"]) == (1, 500, 100)
    assert set(signatures["responses"]) == {"200", "400", "401", "404", "429"}
    assert set(paths["/api/v1/me"]["get"]["responses"]) == {"200", "400", "401", "429"}
    for methods in paths.values():
        for op in methods.values():
            assert op["summary"] and not op["summary"].startswith(":")
            for code, answer in op["responses"].items():
                media = "application/problem+json" if int(code) >= 400 else "application/json"
                assert list(answer["content"]) == [media], (op["operationId"], code)


def test_the_reference_page_shows_every_route_and_schema_without_scripts(client):
    doc = client.get(DOCUMENT).get_json()
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = text_of(response)
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            assert f"{method.upper()} {path}" in text
            assert op["summary"] in text
            assert f'id="op-{op["operationId"]}"' in html
    for name in doc["components"]["schemas"]:
        assert f'id="schema-{name}"' in html
    assert "per_page" in text and "integer, from 1 to 500" in text
    assert "application/problem+json" in text and "Your organization sponsors no campaign" in text
    # Our own CSS only: no script, no inline style, nothing from another host.
    assert "<script" not in html and "style=" not in html
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)
    assert "script-src" in response.headers["Content-Security-Policy"]


def test_the_console_token_page_links_to_the_reference(client):
    owner = make_user()
    org = make_org(owner=owner)
    login_as(client, owner)
    page = client.get(f"/orgs/{org.slug}/api-tokens/")
    assert page.status_code == 200
    assert 'href="/api/v1/docs"' in page.get_data(as_text=True)


def test_a_bad_query_gets_400_naming_the_field_before_any_data_is_read(client):
    found = three_sponsors()
    response = client.get(f"/api/v1/campaigns/{found.campaign.slug}/signatures?per_page=0&cursor=nope",
                          headers=token_for(found.lead))
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert response.get_json()["errors"] == [
        {"field": "cursor", "message": "This cursor is not one the API handed out; start again without it."},
        {"field": "per_page", "message": "per_page must be a whole number from 1 to 500."},
    ]
    # Without a token the answer is 401 whatever the query.
    assert client.get(f"/api/v1/campaigns/{found.campaign.slug}/signatures?per_page=0").status_code == 401


class Person(BaseModel):
    given_name: str


class Body(BaseModel):
    person: Person


class Echo(Answer):  # as every answer of ours: no field it does not declare
    given_name: str


def probe_app(make_app: Any, **config: Any) -> Any:
    """An app with two probe routes: one that echoes a validated body, one whose answer breaks its model."""
    other = make_app(**config)
    probe = Blueprint("probe", __name__, url_prefix="/api/v1/probe")

    @probe.post("/echo")
    @api(scope="write", answer=Echo, status=201, json=Body)
    def echo(json: Body) -> Any:
        """Echoes the given name."""
        return {"given_name": json.person.given_name}, 201

    @probe.get("/broken")
    @api(scope="read", answer=Echo)
    def broken() -> Any:
        """Answers a field its model does not have."""
        return {"given_name": "Ann", "email": "ann@example.org"}

    other.register_blueprint(probe)
    csrf.exempt(probe)
    return other


def write_token(other: Any) -> dict[str, str]:
    with other.app_context():
        org = make_org(owner=make_user())
        secret = other.test_cli_runner().invoke(
            args=["api-token", "create", org.slug, "writer", "--write"]).output.splitlines()[-1]
    return {"Authorization": f"Bearer {secret}"}


def test_a_body_that_breaks_its_model_gets_400_naming_the_nested_field(make_app, committed_db):
    other = probe_app(make_app)
    client, headers = other.test_client(), write_token(other)

    ok = client.post("/api/v1/probe/echo", json={"person": {"given_name": "Ann"}}, headers=headers)
    assert (ok.status_code, ok.get_json()) == (201, {"given_name": "Ann"})
    bad = client.post("/api/v1/probe/echo", json={"person": {"given_name": 7}}, headers=headers)
    assert bad.status_code == 400 and bad.mimetype == "application/problem+json"
    assert [e["field"] for e in bad.get_json()["errors"]] == ["person.given_name"]
    not_json = client.post("/api/v1/probe/echo", data="given_name=Ann", headers=headers,
                           content_type="text/plain")
    assert not_json.status_code == 400 and [e["field"] for e in not_json.get_json()["errors"]] == ["person"]

    with other.app_context(), other.test_request_context():
        from undersign.api.openapi import document

        echo = document()["paths"]["/api/v1/probe/echo"]["post"]
    assert echo["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Body"}
    assert set(echo["responses"]) == {"201", "400", "401", "403", "429"}


def test_an_answer_that_breaks_its_model_is_a_500_when_answers_are_checked(make_app, committed_db):
    checked = probe_app(make_app, API_VALIDATE_RESPONSES=True, PROPAGATE_EXCEPTIONS=False)
    response = checked.test_client().get("/api/v1/probe/broken", headers=write_token(checked))
    assert response.status_code == 500 and response.mimetype == "application/problem+json"
    assert "ann@example.org" not in response.get_data(as_text=True)

    # Production does not pay for the check: the answer goes out as the view made it.
    unchecked = probe_app(make_app, API_VALIDATE_RESPONSES=False)
    response = unchecked.test_client().get("/api/v1/probe/broken", headers=write_token(unchecked))
    assert response.status_code == 200 and response.get_json()["email"] == "ann@example.org"


def test_validation_of_answers_is_on_by_default_except_in_production(make_app):
    assert make_app().config["API_VALIDATE_RESPONSES"] is True
    production = make_app(UNDERSIGN_ENV="production", SECRET_KEY="x" * 48)
    assert production.config["API_VALIDATE_RESPONSES"] is False

