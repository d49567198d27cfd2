"""One commit per request, at the edge: views keep what they wrote only when they succeed.

Every route is declared with an audience (`web.access`), and the declaration
makes it transactional (`undersign.transaction`). The source holds no other commit:
jobs and commands use `transaction.unit_of_work`.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
from flask import Blueprint, abort, redirect
from sqlalchemy import func, select

from undersign.db import db
from undersign.links import absolute_url
from undersign.mail import OutboxMessage
from undersign.transaction import is_transactional, keep_changes, unit_of_work
from undersign.web.access import public

PACKAGE = Path(__file__).resolve().parents[1] / "platform" / "undersign"
# The one place that commits, for requests and for jobs and commands alike.
COMMITTERS = {PACKAGE / "transaction.py"}


def _outbox(subject: str) -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.subject == subject))


def _write(subject: str) -> None:
    db.session.add(OutboxMessage(recipient="edge@example.org", subject=subject, body_text="-"))
    db.session.flush()


def test_every_route_runs_in_one_transaction(app):  # type: ignore[no-untyped-def]
    plain = sorted(endpoint for endpoint, view in app.view_functions.items()
                   if endpoint != "static" and not is_transactional(view))
    assert plain == []


def test_nothing_but_the_edge_commits():  # type: ignore[no-untyped-def]
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path in COMMITTERS:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\.commit\(\)", line):
                found.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert found == []


def test_a_view_keeps_its_writes_only_when_it_succeeds(make_app):  # type: ignore[no-untyped-def]
    edge = make_app()
    bp = Blueprint("edge_test", __name__)

    @bp.post("/edge/<outcome>")
    @public
    def write(outcome: str):  # type: ignore[no-untyped-def]
        _write(f"edge {outcome}")
        if outcome == "redirect":
            return redirect("/")
        if outcome == "refused":
            return "no", 400
        if outcome == "kept-refusal":
            keep_changes()
            return "no", 429
        if outcome == "aborted":
            abort(404)
        if outcome == "broken":
            raise RuntimeError("boom")
        return "ok"

    edge.register_blueprint(bp)
    edge.config["WTF_CSRF_ENABLED"] = False
    client = edge.test_client()
    with edge.app_context():
        statuses = {outcome: client.post(f"/edge/{outcome}").status_code
                    for outcome in ("ok", "redirect", "refused", "kept-refusal", "aborted", "broken")}
        assert statuses == {"ok": 200, "redirect": 302, "refused": 400, "kept-refusal": 429,
                            "aborted": 404, "broken": 500}
        kept = {outcome: _outbox(f"edge {outcome}") for outcome in statuses}
        assert kept == {"ok": 1, "redirect": 1, "refused": 0, "kept-refusal": 1, "aborted": 0, "broken": 0}
        with unit_of_work():
            db.session.execute(OutboxMessage.__table__.delete().where(OutboxMessage.subject.like("edge %")))


def test_a_job_or_command_keeps_its_writes_only_when_it_ends_normally(app):  # type: ignore[no-untyped-def]
    with unit_of_work():
        _write("unit ok")
    try:
        with unit_of_work():
            _write("unit broken")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    db.session.remove()
    assert (_outbox("unit ok"), _outbox("unit broken")) == (1, 0)


def test_links_come_from_base_url_in_a_job_and_in_a_command(app):  # type: ignore[no-untyped-def]
    base = app.config["BASE_URL"]
    with app.app_context():  # a job: no request anywhere
        assert absolute_url("public.petition", slug="end-forced-repatriation", _anchor="sign") == (
            f"{base}/p/end-forced-repatriation#sign")

    @click.command("print-link")
    def print_link() -> None:
        click.echo(absolute_url("signing.confirm", slug="a-petition", token="t0ken"))

    result = app.test_cli_runner().invoke(print_link)
    assert result.output.strip() == f"{base}/p/a-petition/confirm/t0ken"
