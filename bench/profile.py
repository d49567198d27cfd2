"""Profile one kind of request in-process (cProfile), against the benchmark's database.

    .venv/bin/python -m bench.run --only page --keep-db --quick     # once: creates undersign_bench
    .venv/bin/python -m bench.profile page-uncached --requests 300
    .venv/bin/python -m bench.profile sign --requests 200 --top 40
    .venv/bin/python -m bench.profile confirm --requests 200
    .venv/bin/python -m bench.profile confirm --requests 200 --no-profile   # CPU and statements only
    .venv/bin/python -m bench.profile deliver --requests 200 --no-profile > /dev/null

Runs the production configuration (``UNDERSIGN_ENV=production``, mail to the outbox only, rate limits
and holds off, as the benchmark) with Flask's test client, one request after another, and prints the CPU
time per request (this process only: PostgreSQL's share is not in it), the SQL statements per request
and the functions that take the time. ``--no-profile`` measures without cProfile's overhead.
It is a tool for finding where the time goes; throughput is measured by `bench.run`.

``deliver`` measures the mail worker instead of a request: it signs ``--requests`` signatures (not
measured), delivers their confirmation mails through `deliver_pending` with ``MAIL_SERVER`` unset
(measured: each message composed and written to the log, JSON lines on stdout as in production;
``--mail-log off`` leaves out the log line), confirms them through their links (not measured) and
delivers the receipts (measured). Figures are per message.
A ``confirm`` request is the pair: the page GET and its POST.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import io
import logging
import os
import pstats
import re
import secrets
import sys
import time
from typing import Any, Callable

from bench.run import bench_database_url

SCENARIOS = ("page", "page-uncached", "hosted-uncached", "json", "sign", "confirm", "deliver")


def make_app(cache_seconds: int) -> Any:
    os.environ.update(
        UNDERSIGN_ENV="production", SECRET_KEY=os.environ.get("BENCH_SECRET_KEY", secrets.token_urlsafe(48)),
        LOG_SIGNING_KEY=base64.b64encode(secrets.token_bytes(32)).decode(), DATABASE_URL=bench_database_url(),
        RATELIMIT_ENABLED="false", SIGN_HOLD_PER_HOUR="0", BASE_URL="http://127.0.0.1:5000",
        MAIL_DELIVERY="manual", PUBLIC_PAGE_CACHE_SECONDS=str(cache_seconds), LOG_FORMAT="json",
    )
    os.environ.pop("REDIS_URL", None)
    from undersign import create_app

    return create_app()


def petition_slug(app: Any) -> tuple[str, str]:
    """The 1,000,000 (or --signatures) petition of the benchmark, and one of its co-sponsors."""
    from sqlalchemy import select

    from undersign.campaigns.models import Campaign, Sponsorship
    from undersign.extensions import db
    from undersign.organizations.models import Organization

    with app.app_context():
        campaign = db.session.scalar(select(Campaign).order_by(Campaign.signature_count.desc()).limit(1))
        org = db.session.scalar(select(Organization.slug).join(Sponsorship, Sponsorship.organization_id == Organization.id)
                                .where(Sponsorship.campaign_id == campaign.id, Sponsorship.role != "lead").limit(1))
        return campaign.slug, org


def requests_for(name: str, client: Any, slug: str, org: str) -> Callable[[int], None]:
    # Production cookies are Secure (``__Host-``): the test client sends them over https only, and
    # Flask-WTF wants a same-site Referer on https.
    base = "https://127.0.0.1:5000"
    headers = {"Sec-Fetch-Site": "same-origin", "Referer": base + "/"}
    run = secrets.token_hex(4)

    def get(path: str) -> Any:
        response = client.get(path, base_url=base)
        assert response.status_code == 200, (path, response.status_code)
        return response

    if name in ("page", "page-uncached"):
        return lambda i: get(f"/p/{slug}")
    if name == "hosted-uncached":
        return lambda i: get(f"/o/{org}/p/{slug}")
    if name == "json":
        return lambda i: get(f"/p/{slug}.json")
    if name == "sign":
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', get(f"/p/{slug}").text)
        assert token is not None

        def sign(i: int) -> None:
            response = client.post(f"/p/{slug}", base_url=base, headers=headers, data={
                "csrf_token": token.group(1), "name": "Profile Signer", "email": f"profile-{run}-{i}@example.org",
                "country": "KR", "public": "y", "consent": org})  # one box ticked, as bench/lua/sign.lua
            assert response.status_code == 303, response.status_code
        return sign
    if name == "confirm":
        links = iter(confirm_links(client.application))

        def confirm(i: int) -> None:
            path = next(links)
            page = client.get(path, base_url=base)
            assert page.status_code == 200, page.status_code
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
            assert token is not None
            response = client.post(path, base_url=base, headers=headers, data={"csrf_token": token.group(1)})
            assert response.status_code == 200, response.status_code
        return confirm
    raise SystemExit(f"unknown scenario {name!r}; one of {', '.join(SCENARIOS)}")


def confirm_links(app: Any) -> list[str]:
    """Confirmation links of unconfirmed signatures from the outbox (sign first to have some).

    The worker composes the mail: what is still waiting is delivered (to the log) first.
    """
    from sqlalchemy import select

    from undersign.extensions import db
    from undersign.mail import OutboxMessage, deliver_pending
    from undersign.signatures.models import Signature
    from undersign.tokens import hash_token

    with app.app_context():
        _quietly(deliver_pending)
        bodies = db.session.scalars(select(OutboxMessage.body_text).where(OutboxMessage.body_text.contains("/confirm/"))
                                    .order_by(OutboxMessage.id.desc()).limit(5000))
        links = [m.group(1) for body in bodies if (m := re.search(r"http://127\.0\.0\.1:5000(/p/\S+/confirm/\S+)", body))]
        by_hash = {hash_token(link.rsplit("/", 1)[1].split("?")[0]): link for link in links}
        open_hashes = set(db.session.scalars(select(Signature.token_hash).where(
            Signature.token_hash.in_(list(by_hash)), Signature.confirmed_at.is_(None))))
    return [link for digest, link in by_hash.items() if digest in open_hashes]


def _quietly(function: Callable[[], Any]) -> Any:
    """Run ``function`` with the mail log off (delivery that is not what is measured, or ``--mail-log off``)."""
    mail_log = logging.getLogger("undersign.mail")
    level = mail_log.level
    mail_log.setLevel(logging.WARNING)
    try:
        return function()
    finally:
        mail_log.setLevel(level)


class Statements:
    """Counts the SQL statements the application sends (a ``before_cursor_execute`` listener)."""

    def __init__(self, app: Any) -> None:
        from sqlalchemy import event

        from undersign.extensions import db

        self.count = 0
        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", self._seen)

    def _seen(self, *args: Any) -> None:
        self.count += 1


class Measured:
    """CPU time and statements over the measured part, with or without cProfile."""

    def __init__(self, statements: Statements, profile: bool) -> None:
        self.statements = statements
        self.profiler = cProfile.Profile() if profile else None
        self.cpu = 0.0
        self.wall = 0.0
        self.sql = 0

    def __enter__(self) -> "Measured":
        self._sql = self.statements.count
        self._started = time.process_time()
        self._wall = time.perf_counter()
        if self.profiler:
            self.profiler.enable()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.profiler:
            self.profiler.disable()
        self.cpu += time.process_time() - self._started
        self.wall += time.perf_counter() - self._wall
        self.sql += self.statements.count - self._sql


def deliver(app: Any, client: Any, slug: str, org: str, args: argparse.Namespace, measured: Measured) -> list[str]:
    """The worker's part: compose and send (to the log) confirmation mails, then receipts; one line per kind."""
    from undersign.mail import deliver_pending

    with app.app_context():
        _quietly(deliver_pending)  # whatever an earlier run left
    sign = requests_for("sign", client, slug, org)
    lines = []
    for kind, make in (("confirmation mails", sign), ("receipts", None)):
        if make is not None:
            for i in range(args.requests):
                make(i)
        else:
            confirm = requests_for("confirm", client, slug, org)  # delivers the confirmation mails first
            for i in range(args.requests):
                confirm(i)
        before_cpu, before_sql = measured.cpu, measured.sql
        with app.app_context(), measured:
            sent = deliver_pending(batch_size=50) if args.mail_log == "on" else _quietly(deliver_pending)
        cpu = (measured.cpu - before_cpu) / max(sent, 1) * 1000
        sql = (measured.sql - before_sql) / max(sent, 1)
        lines.append(f"deliver: {sent} {kind}, {cpu:.2f} ms CPU and {sql:.2f} SQL statements per message"
                     f" (mail log {args.mail_log})")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", choices=SCENARIOS)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warm", type=int, default=20, help="requests before profiling (caches, pools)")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--no-profile", action="store_true", help="CPU and statements only, without cProfile")
    parser.add_argument("--mail-log", choices=("on", "off"), default="on",
                        help="deliver: write each message to the log (what MAIL_SERVER unset does) or not")
    args = parser.parse_args(argv)
    app = make_app(2 if args.scenario == "page" else 0)
    slug, org = petition_slug(app)
    client = app.test_client()
    measured = Measured(Statements(app), profile=not args.no_profile)
    if args.scenario == "deliver":
        lines = deliver(app, client, slug, org, args, measured)
    else:
        do = requests_for(args.scenario, client, slug, org)
        for i in range(args.warm):
            do(i)
        for i in range(args.warm, args.warm + args.requests):
            with measured:
                do(i)
        how = "without cProfile" if args.no_profile else "under cProfile"
        lines = [f"{args.scenario}: {args.requests} requests, {measured.cpu / args.requests * 1000:.2f} ms CPU per request"
                 f" in this process ({how}), {measured.wall / args.requests * 1000:.2f} ms wall,"
                 f" {measured.sql / args.requests:.2f} SQL statements per request"]
    if measured.profiler:
        out = io.StringIO()
        pstats.Stats(measured.profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
        print(out.getvalue())
    for line in lines:
        print(line, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
