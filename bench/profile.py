"""Profile one kind of request in-process (cProfile), against the benchmark's database.

    .venv/bin/python -m bench.run --only page --keep-db --quick     # once: creates undersign_bench
    .venv/bin/python -m bench.profile page-uncached --requests 300
    .venv/bin/python -m bench.profile sign --requests 200 --top 40
    .venv/bin/python -m bench.profile confirm --requests 200

Runs the production configuration (``UNDERSIGN_ENV=production``, mail to the outbox only, rate limits
and holds off, as the benchmark) with Flask's test client, one request after another, and prints the CPU
time per request (this process only: PostgreSQL's share is not in it) and the functions that take it.
It is a tool for finding where the time goes; throughput is measured by `bench.run`.
"""

from __future__ import annotations

import argparse
import collections
import base64
import cProfile
import io
import os
import pstats
import re
import secrets
import sys
import time
from typing import Any, Callable

from bench.run import bench_database_url

SCENARIOS = ("page", "page-uncached", "hosted-uncached", "json", "sign", "confirm")


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
    """Confirmation links of unconfirmed signatures from the outbox (sign first to have some)."""
    from sqlalchemy import select

    from undersign.extensions import db
    from undersign.mail import OutboxMessage

    with app.app_context():
        bodies = db.session.scalars(select(OutboxMessage.body_text).where(OutboxMessage.body_text.contains("/confirm/"))
                                    .order_by(OutboxMessage.id.desc()).limit(5000))
        links = [m.group(1) for body in bodies if (m := re.search(r"http://127\.0\.0\.1:5000(/p/\S+/confirm/\S+)", body))]
    return links


def counting_statements(do: Callable[[int], None], app: Any, last: int, requests: int,
                        top: int) -> Callable[[int], None]:
    """``do``, counting the statements the app's engine sends (and its commits) from its first call;
    after the ``last`` request, prints them per request, the most frequent first."""
    from sqlalchemy import event

    from undersign.extensions import db

    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(" ".join(statement.split())[:110])

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", record)
        event.listen(db.engine, "commit", lambda conn: statements.append("COMMIT"))

    def counted(i: int) -> None:
        do(i)
        if i == last:
            print(f"{len(statements) / requests:.2f} SQL statements per request (the commit included):")
            for statement, times in collections.Counter(statements).most_common(top):
                print(f"{times / requests:6.2f}  {statement}")
    return counted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", choices=SCENARIOS)
    parser.add_argument("--statements", action="store_true", help="also count the SQL statements per request")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warm", type=int, default=20, help="requests before profiling (caches, pools)")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--no-profile", action="store_true", help="only the CPU per request, without cProfile's overhead")
    args = parser.parse_args(argv)
    app = make_app(2 if args.scenario == "page" else 0)
    slug, org = petition_slug(app)
    client = app.test_client()
    do = requests_for(args.scenario, client, slug, org)
    for i in range(args.warm):
        do(i)
    if args.statements:
        do = counting_statements(do, app, args.warm + args.requests - 1, args.requests, args.top)
    profiler = cProfile.Profile()
    started = time.process_time()
    if not args.no_profile:
        profiler.enable()
    for i in range(args.warm, args.warm + args.requests):
        do(i)
    profiler.disable()
    cpu = (time.process_time() - started) / args.requests * 1000
    if not args.no_profile:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
        print(out.getvalue())
    under = "" if args.no_profile else " (under cProfile)"
    print(f"{args.scenario}: {args.requests} requests, {cpu:.2f} ms CPU per request in this process{under}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
