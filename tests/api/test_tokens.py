"""API tokens: the console page, `flask api-token create`, bearer authentication, scopes,
the per-token rate limit and the API's problem documents."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from tests.factories import add_member, login_as, make_org, make_user
from tests.helpers import submit, text_of
from tests.organizations.support import events
from undersign.api.models import ApiToken
from undersign.audit import ip_hash
from undersign.extensions import db
from undersign.organizations.models import Role

SECRET = re.compile(r"usk_[A-Za-z0-9_-]{43}")


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def create_in_console(client, org, name="CRM sync", scope="read"):  # type: ignore[no-untyped-def]
    response = submit(client, f"/orgs/{org.slug}/api-tokens/", {"name": name, "scope": scope})
    assert response.status_code == 201, text_of(response)
    [secret] = SECRET.findall(response.get_data(as_text=True))
    return secret


def only_token(org) -> ApiToken:  # type: ignore[no-untyped-def]
    db.session.expire_all()
    [token] = db.session.scalars(select(ApiToken).where(ApiToken.organization_id == org.id))
    return token


def test_a_token_is_shown_once_stored_as_its_hash_and_identifies_its_organization(client):
    admin = make_user(name="Ada Admin")
    org = make_org("Green Screen Collective", owner=make_user())
    add_member(org, admin, Role.ADMIN)
    login_as(client, admin)

    secret = create_in_console(client, org, "CRM sync")
    token = only_token(org)
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = [str(getattr(token, c.key)) for c in ApiToken.__table__.columns]
    assert not any(secret in value or secret[4:] in value for value in stored)
    assert token.prefix == secret[:8] and token.scopes == ["read"]

    # Never again on the page: the list shows the prefix only.
    page = client.get(f"/orgs/{org.slug}/api-tokens/")
    assert page.status_code == 200
    assert secret not in page.get_data(as_text=True)
    row = text_of(page)
    assert f"CRM sync read {secret[:8]}…" in row and "never" in row and "by Ada Admin" in row

    me = client.get("/api/v1/me", headers=bearer(secret))
    assert me.status_code == 200
    assert me.json["organization"] == {"slug": org.slug, "name": "Green Screen Collective"}
    assert me.json["scope"] == "read"
    # The console now says when and from where it was used.
    row = text_of(client.get(f"/orgs/{org.slug}/api-tokens/"))
    assert "never" not in row and "from 127.0.0.1" in row

    [event] = events(org.id, "api_token.created")
    assert (event.actor_id, event.ip_hash, event.object_id) == (admin.id, ip_hash("127.0.0.1"), token.id)
    assert event.details == {"name": "CRM sync", "scope": "read", "prefix": secret[:8]}


def test_a_revoked_token_gets_401_and_the_revocation_is_recorded(client):
    owner = make_user()
    org = make_org(owner=owner)
    login_as(client, owner)
    secret = create_in_console(client, org, "Mailing tool", scope="write")
    assert client.get("/api/v1/me", headers=bearer(secret)).json["scope"] == "read+write"
    token = only_token(org)

    response = submit(client, f"/orgs/{org.slug}/api-tokens/", action=f"/orgs/{org.slug}/api-tokens/{token.id}/revoke")
    assert response.status_code == 302
    assert "is revoked" in text_of(client.get(response.headers["Location"]))

    refused = client.get("/api/v1/me", headers=bearer(secret))
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert refused.mimetype == "application/problem+json"
    assert refused.get_json(force=True) == {"type": "about:blank", "title": "Unauthorized", "status": 401,
                                            "detail": "This token is not valid or was revoked."}
    [event] = events(org.id, "api_token.revoked")
    assert (event.actor_id, event.ip_hash, event.object_id) == (owner.id, ip_hash("127.0.0.1"), token.id)
    assert "revoked" in text_of(client.get(f"/orgs/{org.slug}/api-tokens/"))


def test_requests_without_a_valid_token_get_401(client):
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer "},
                    bearer("usk_" + "x" * 43), bearer("not-even-prefixed"), bearer("usk_" + "x" * 5000)):
        response = client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="undersign"'
        assert response.mimetype == "application/problem+json"
        assert response.get_json(force=True)["status"] == 401


@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR])
def test_viewers_and_editors_cannot_see_or_make_tokens(client, role):
    org = make_org(owner=make_user())
    login_as(client, add_member(org, role=role))
    assert client.get(f"/orgs/{org.slug}/api-tokens/").status_code == 403
    response = submit(client, f"/orgs/{org.slug}/", {"name": "sneaky", "scope": "write"},
                      action=f"/orgs/{org.slug}/api-tokens/")
    assert response.status_code == 403
    assert db.session.scalars(select(ApiToken).where(ApiToken.organization_id == org.id)).all() == []
    assert "API tokens" not in text_of(client.get(f"/orgs/{org.slug}/"))


def test_another_organizations_owner_gets_404(client):
    org = make_org(owner=make_user())
    stranger = make_user()
    make_org(owner=stranger)
    login_as(client, stranger)
    assert client.get(f"/orgs/{org.slug}/api-tokens/").status_code == 404


def test_a_token_needs_a_name(client):
    owner = make_user()
    org = make_org(owner=owner)
    login_as(client, owner)
    response = submit(client, f"/orgs/{org.slug}/api-tokens/", {"name": "   ", "scope": "read"})
    assert response.status_code == 400
    assert "Give the token a name" in text_of(response)
    response = submit(client, f"/orgs/{org.slug}/api-tokens/", {"name": "ok", "scope": "admin"})
    assert response.status_code == 400 and "Not a valid choice" in text_of(response)
    assert db.session.scalars(select(ApiToken).where(ApiToken.organization_id == org.id)).all() == []


def test_the_command_prints_the_token_alone_on_its_last_line(app, client):
    org = make_org("Festival Office", owner=make_user())
    result = app.test_cli_runner().invoke(args=["api-token", "create", org.slug, "Nightly export", "--write"])
    assert result.exit_code == 0, result.output
    secret = result.output.splitlines()[-1]
    assert SECRET.fullmatch(secret)
    me = client.get("/api/v1/me", headers=bearer(secret))
    assert me.status_code == 200
    assert me.json["organization"]["slug"] == org.slug and me.json["scope"] == "read+write"
    [event] = events(org.id, "api_token.created")
    assert event.actor_id is None and event.details["by"] == "flask api-token create"

    unknown = app.test_cli_runner().invoke(args=["api-token", "create", "no-such-org", "x"])
    assert unknown.exit_code != 0 and "No organization with the slug 'no-such-org'" in unknown.output
    empty = app.test_cli_runner().invoke(args=["api-token", "create", org.slug, " "])
    assert empty.exit_code != 0 and "Give the token a name" in empty.output


def test_the_rate_limit_counts_per_token(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")
    org = make_org(owner=make_user())
    runner = app.test_cli_runner()
    first, second = (runner.invoke(args=["api-token", "create", org.slug, name]).output.splitlines()[-1]
                     for name in ("one", "two"))
    for _ in range(3):
        assert client.get("/api/v1/me", headers=bearer(first)).status_code == 200
    limited = client.get("/api/v1/me", headers=bearer(first))
    assert limited.status_code == 429
    assert limited.mimetype == "application/problem+json"
    assert limited.get_json(force=True)["title"] == "Too Many Requests"
    assert "Retry-After" in limited.headers
    # Another token of the same organization, from the same address, is unaffected.
    assert client.get("/api/v1/me", headers=bearer(second)).status_code == 200


def test_scopes_and_field_errors_on_routes_of_a_test_app(make_app, committed_db):
    """A write route answers 403 to a read token; a domain error names its field in the problem document."""
    from flask import Blueprint
    from pydantic import BaseModel

    from undersign.api.auth import api
    from undersign.errors import InvalidInput
    from undersign.extensions import csrf

    class Written(BaseModel):
        written: bool

    other = make_app()
    probe = Blueprint("probe", __name__, url_prefix="/api/v1/probe")

    @probe.post("/write")
    @api(scope="write", answer=Written, status=201)
    def write():  # type: ignore[no-untyped-def]
        return {"written": True}, 201

    @probe.post("/invalid")
    @api(scope="write", answer=Written)
    def invalid():  # type: ignore[no-untyped-def]
        raise InvalidInput("Enter a postal code.", field="postal_code")

    other.register_blueprint(probe)
    csrf.exempt(probe)
    with other.app_context():
        org = make_org(owner=make_user())
        runner = other.test_cli_runner()
        read = runner.invoke(args=["api-token", "create", org.slug, "reader"]).output.splitlines()[-1]
        write_token = runner.invoke(args=["api-token", "create", org.slug, "writer", "--write"]).output.splitlines()[-1]
    client = other.test_client()

    refused = client.post("/api/v1/probe/write", headers=bearer(read))
    assert refused.status_code == 403
    assert refused.mimetype == "application/problem+json"
    assert refused.get_json(force=True)["title"] == "Forbidden"
    assert "read+write token" in refused.get_json(force=True)["detail"]
    assert client.post("/api/v1/probe/write", headers=bearer(write_token)).status_code == 201
    assert client.post("/api/v1/probe/write").status_code == 401

    bad = client.post("/api/v1/probe/invalid", headers=bearer(write_token))
    assert bad.status_code == 400
    assert bad.get_json(force=True) == {
        "type": "about:blank", "title": "Bad Request", "status": 400, "detail": "Enter a postal code.",
        "errors": [{"field": "postal_code", "message": "Enter a postal code."}],
    }
    wrong_method = client.get("/api/v1/probe/write", headers=bearer(write_token))
    assert wrong_method.status_code == 405 and "POST" in wrong_method.headers["Allow"].split(", ")
    assert wrong_method.mimetype == "application/problem+json"


def test_noting_a_use_survives_a_writer_that_commits_while_the_request_reads(app, client, committed_db,
                                                                          monkeypatch):
    """On SQLite a read transaction cannot become a write after another commit; the note must not 503."""
    from sqlalchemy import text

    from undersign.api import service

    org = make_org(owner=make_user())
    _token, secret = service.create_token(None, org, "busy", write=False)
    db.session.commit()
    org_id = org.id
    db.session.remove()
    real = service.use_is_news
    writes = []

    def another_writer_commits_meanwhile(token, ip, now=None):  # type: ignore[no-untyped-def]
        if not writes:  # once: after the request has read the token, before it notes the use
            writes.append(1)
            with db.engine.begin() as other:
                other.execute(text("UPDATE organizations SET description = 'changed' WHERE id = :id"),
                              {"id": org_id})
        return real(token, ip, now)

    monkeypatch.setattr(service, "use_is_news", another_writer_commits_meanwhile)
    response = client.get("/api/v1/me", headers=bearer(secret))
    assert response.status_code == 200, response.get_data(as_text=True)
    db.session.remove()
    token = db.session.scalar(select(ApiToken).where(ApiToken.organization_id == org_id))
    assert token.last_used_at is not None and token.last_used_ip == "127.0.0.1"
