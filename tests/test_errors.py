"""Error pages: a readable page with the right status, never internals."""

from __future__ import annotations

import pytest
from flask import abort
from sqlalchemy import func, select

from tests.factories import make_user
from tests.helpers import csrf_token, text_of
from undersign.accounts.models import User
from undersign.errors import Conflict
from undersign.extensions import db
from undersign.web.access import public

SECRET = "s3cr3t-internal-detail"
INTERNALS = ("Traceback", "File \"", "RuntimeError", "ZeroDivisionError", "werkzeug", "sqlalchemy", SECRET)


def assert_error_page(response, status: int, title: str) -> None:  # type: ignore[no-untyped-def]
    html = response.get_data(as_text=True)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert f"<h1>{title}</h1>" in html
    assert f"Error {status}" in text_of(response)
    for leak in INTERNALS:
        assert leak not in html, leak


@pytest.fixture
def crashing_app(make_app):  # type: ignore[no-untyped-def]
    """An app like the test one, run as in production (exceptions not propagated), with routes that fail."""
    test_app = make_app(TESTING=False, PROPAGATE_EXCEPTIONS=False)

    @test_app.get("/_test/crash")
    @public
    def crash():  # type: ignore[no-untyped-def]
        raise RuntimeError(f"database password is {SECRET}")

    @test_app.post("/_test/crash-after-writing")
    @public
    def crash_after_writing():  # type: ignore[no-untyped-def]
        db.session.add(User(email="half-written@example.org", name="Half", password_hash="x"))
        db.session.flush()
        return 1 / 0

    @test_app.get("/_test/forbidden")
    @public
    def forbidden():  # type: ignore[no-untyped-def]
        abort(403)

    @test_app.get("/_test/conflict")
    @public
    def conflict():  # type: ignore[no-untyped-def]
        raise Conflict("That address is already taken.")

    @test_app.get("/_test/undeclared")
    def undeclared():  # type: ignore[no-untyped-def]
        return "a view without an access rule must never be served"

    return test_app


def test_500_shows_no_internals(crashing_app):
    response = crashing_app.test_client().get("/_test/crash")
    assert_error_page(response, 500, "Something went wrong")
    assert "Nothing was saved" in text_of(response)


def test_500_rolls_back_what_the_request_wrote(crashing_app, committed_db):
    client = crashing_app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/_test/crash-after-writing", data={"csrf_token": token})
    assert_error_page(response, 500, "Something went wrong")
    with crashing_app.app_context():
        count = db.session.scalar(select(func.count()).select_from(User).where(User.email == "half-written@example.org"))
        db.session.remove()
    assert count == 0


def test_403_domain_errors_and_undeclared_views(crashing_app):
    client = crashing_app.test_client()
    assert_error_page(client.get("/_test/forbidden"), 403, "Not allowed")
    # A domain error that escapes a view shows its own (safe) message with its status.
    conflict = client.get("/_test/conflict")
    assert conflict.status_code == 409 and "That address is already taken." in text_of(conflict)
    # A view without an access rule is never served.
    assert_error_page(client.get("/_test/undeclared"), 404, "Page not found")


def test_404(client):
    response = client.get("/no/such/<script>alert(1)</script>")
    assert_error_page(response, 404, "Page not found")
    assert "<script>alert(1)" not in response.get_data(as_text=True)


def test_404_for_a_signed_in_user_keeps_the_menu(client):
    from tests.factories import login_as

    login_as(client, make_user("lost@example.org"))
    response = client.get("/nowhere")
    assert_error_page(response, 404, "Page not found")
    assert "Sign out" in text_of(response)


def test_405_names_the_allowed_methods(client):
    response = client.get("/logout")
    assert_error_page(response, 405, "Not allowed")
    assert "POST" in response.headers["Allow"]


def test_400_for_a_form_without_its_csrf_token(client):
    response = client.post("/login", data={"email": "a@example.org", "password": "whatever it is"})
    assert_error_page(response, 400, "Bad request")
    assert "This form has expired" in text_of(response)


def test_401_for_a_signed_out_post(client):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/account/sign-out-everywhere", data={"csrf_token": token})
    assert_error_page(response, 401, "Please sign in")


def test_429(client):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    for _ in range(11):
        response = client.post("/login", data={"email": "a@example.org", "password": "not it at all", "csrf_token": token})
    assert_error_page(response, 429, "Slow down")
    assert "Retry-After" in response.headers


def test_api_clients_get_problem_documents(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json(force=True) == {"type": "about:blank", "title": "Not Found", "status": 404,
                                             "detail": "There is no such resource."}
