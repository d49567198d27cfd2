"""The benchmark: ``make bench`` (or ``.venv/bin/python -m bench.run``).

What it does, in one run (details in the README, "Benchmark"):

1. creates the PostgreSQL database ``undersign_bench`` (dropped and re-made
   each run), its tables, three sponsoring organizations and two petitions,
   one with 1,000,000 confirmed signatures (one ``INSERT ... SELECT`` over
   ``generate_series``, every one consenting to the lead) and one with 1,000;
2. starts undersign exactly as in production — gunicorn with gunicorn.conf.py,
   ``flask worker``, Redis on loopback — with rate limits off;
3. drives it with wrk (C, from Debian; LuaJIT scripts in bench/lua) at
   concurrency 8 and 32, each scenario bounded in time (``--seconds``, at most
   30) and in requests: (a) the petition page, (b) its ``.json``, (c) signing
   (GET the page for its form and CSRF token, POST the signature with a unique
   e-mail), (d) confirming (GET the link from the e-mail, POST its button),
   (e) 95% page reads and 5% signature POSTs; then the page of a petition with
   1,000 signatures against the one with 1,000,000; (f) the lead's admin downloading
   the export of its million consenting supporters (bench/export.py);
4. stops undersign and serves the ceiling (bench/ceiling.py: one query, one
   template) under the same gunicorn settings, at the same concurrencies;
5. prints requests/s, p50, p99, the ratio to the ceiling, each worker's peak
   memory, what the load generator itself cost, and checks that the counters
   equal the rows (no signature lost, none duplicated).

Only loopback addresses are used. Nothing here runs in the test suite.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
BIN = Path(sys.executable).parent
DB_NAME = os.environ.get("BENCH_DB_NAME", "undersign_bench")  # another name keeps parallel runs apart
MILLION_SLUG = "bench-viral-petition"
THOUSAND_SLUG = "bench-small-petition"
COUNTRIES = ["GB", "US", "CA", "KR", "DE", "FR", "AU", "NL", "SE", "JP"]
MAX_SECONDS = 30


# ---------------------------------------------------------------------------------------------
# Set-up: the database and its data


def postgres_server() -> str:
    return os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432").rstrip("/")


def bench_database_url() -> str:
    return f"{postgres_server()}/{DB_NAME}"


def _admin_connection():  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(f"{postgres_server()}/postgres", autocommit=True, connect_timeout=5)


def create_database() -> None:
    with _admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def drop_database() -> None:
    with _admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def load_data(signatures: int, log: Any) -> dict[str, Any]:
    """Tables, organizations, the two petitions and their signatures; returns what the scenarios need."""
    from sqlalchemy import text

    from undersign import create_app
    from undersign.campaigns.models import Campaign, CampaignStatus, Sponsorship, SponsorRole, SponsorshipStatus
    from undersign.db import utcnow
    from undersign.demo import load_organizations
    from undersign.extensions import db

    from bench.export import add_consents_and_admin

    app = create_app({
        "SQLALCHEMY_DATABASE_URI": bench_database_url(), "REDIS_URL": None, "RATELIMIT_ENABLED": False,
        "MAIL_DELIVERY": "manual", "LOG_FORMAT": "text",
    })
    with app.app_context():
        db.create_all()
        orgs = list(load_organizations().values())
        lead = orgs[0]
        campaigns = {}
        for slug, title in ((MILLION_SLUG, "Protect North Korean refugees in China"),
                            (THOUSAND_SLUG, "Protect North Korean refugees in China (small copy)")):
            campaign = Campaign(
                slug=slug, lead_organization_id=lead.id, title=title,
                summary="China returns North Korean refugees to a country that punishes them. "
                        "Ask the UN refugee agency to act.",
                body=BODY, decision_maker="The UN Refugee Agency (UNHCR)", decision_maker_handle="Refugees",
                demands=DEMANDS, hashtag="NoForcedReturns", social_handle="Refugees",
                calls_to_action=[{"label": "Watch the film", "url": "https://example.org/film"}],
                goal=1_500_000, status=CampaignStatus.PUBLISHED.value, published_at=utcnow(),
            )
            db.session.add(campaign)
            db.session.flush()
            for i, org in enumerate(orgs):
                db.session.add(Sponsorship(
                    campaign_id=campaign.id, organization_id=org.id,
                    role=(SponsorRole.LEAD if i == 0 else SponsorRole.CO_SPONSOR).value,
                    status=SponsorshipStatus.ACCEPTED.value, accepted_at=utcnow(),
                ))
            db.session.flush()
            campaigns[slug] = campaign
        db.session.commit()

        started = time.monotonic()
        for slug, n in ((MILLION_SLUG, signatures), (THOUSAND_SLUG, 1000)):
            campaign = campaigns[slug]
            sponsor_ids = [s.id for s in campaign.sponsorships]
            insert_signatures(db, campaign.id, sponsor_ids, n, prefix=slug)
        add_consents_and_admin(db, campaigns[MILLION_SLUG].id, lead)
        db.session.commit()
        log(f"inserted {signatures + 1000:,} signatures in {time.monotonic() - started:.1f} s")
        recount_sql(db)
        db.session.commit()
        if "recount" in app.cli.commands:
            result = app.test_cli_runner().invoke(args=["recount"])
            log(f"flask recount: exit {result.exit_code} {result.output.strip()[:200]}")
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        info = {
            "lead_slug": lead.slug,
            "million_id": campaigns[MILLION_SLUG].id,
        }
        db.session.remove()
        db.engine.dispose()
    return info


def insert_signatures(db: Any, campaign_id: int, sponsor_ids: list[int], n: int, prefix: str) -> None:
    """One INSERT ... SELECT over generate_series: a million rows in seconds, all confirmed.

    Columns the benchmark does not know about (added by later changes) get their
    model's scalar default, or the current time for timestamp defaults; a NOT NULL
    column with neither stops the benchmark with its name.
    """
    from sqlalchemy import text

    now = "(now() AT TIME ZONE 'utc')"
    values: dict[str, str] = {
        "campaign_id": ":campaign_id",
        "sponsorship_id": f"(ARRAY[{', '.join(str(i) for i in sponsor_ids)}])[1 + g % {len(sponsor_ids)}]",
        "name": "'Supporter ' || g",
        "email": f"'{prefix}-' || g || '@bench.example'",
        "email_key": f"'{prefix}-' || g || '@bench.example'",
        "country": f"(ARRAY[{', '.join(repr(c) for c in COUNTRIES)}])[1 + g % {len(COUNTRIES)}]",
        "show_publicly": "g % 4 = 0",
        "confirmation_sends": "1",
        "confirmed_at": f"{now} - make_interval(secs => g)",
        "created_at": f"{now} - make_interval(secs => g + 60)",
    }
    params: dict[str, Any] = {"campaign_id": campaign_id, "n": n}
    table = db.metadata.tables["signatures"]
    for column in table.columns:
        if column.name in values or column.primary_key or column.nullable or column.server_default is not None:
            continue
        default = column.default
        if default is not None and getattr(default, "is_scalar", False):
            values[column.name] = f":d_{column.name}"
            params[f"d_{column.name}"] = default.arg
        elif default is not None and getattr(default, "is_callable", False) and "time" in str(column.type).lower():
            values[column.name] = now
        else:
            raise SystemExit(f"bench: signatures.{column.name} is NOT NULL without a default; teach bench/run.py its value")
    for name in list(values):
        if name not in table.columns:
            del values[name]
    columns = ", ".join(values)
    db.session.execute(
        text(f"INSERT INTO signatures ({columns}) SELECT {', '.join(values.values())} FROM generate_series(1, :n) AS g"),
        params,
    )


def recount_sql(db: Any) -> None:
    """The cached counters from the rows (what ``flask recount`` does), in two statements."""
    from sqlalchemy import text

    counts = "confirmed_at IS NOT NULL AND invalidated_at IS NULL AND withdrawn_at IS NULL"
    db.session.execute(text(f"""
        UPDATE campaigns SET signature_count = c.n, changed_at = (now() AT TIME ZONE 'utc')
        FROM (SELECT campaign_id, count(*) AS n FROM signatures WHERE {counts} GROUP BY campaign_id) AS c
        WHERE campaigns.id = c.campaign_id"""))
    db.session.execute(text(f"""
        UPDATE sponsorships SET signature_count = c.n
        FROM (SELECT sponsorship_id, count(*) AS n FROM signatures WHERE {counts} GROUP BY sponsorship_id) AS c
        WHERE sponsorships.id = c.sponsorship_id"""))


BODY = """\
Every year China sends North Koreans who crossed its border back to North Korea, where
they face prison camps, torture and worse. China signed the 1951 Refugee Convention and
its 1967 Protocol; sending people back to persecution breaks them.

The UN refugee agency can ask China for access to these people, publish what happens to
them, and press for their protection. It has not done so loudly enough.

**Join us** and ask the agency to speak up now, while people are still in detention.
"""

DEMANDS = [
    {"title": "Access", "text": "Ask China for access to North Koreans held at the border."},
    {"title": "Report", "text": "Publish every forced return the agency learns about."},
    {"title": "Protect", "text": "Recognise North Koreans in China as refugees sur place."},
]


# ---------------------------------------------------------------------------------------------
# Processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    name: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    port: int = 0

    @property
    def master(self) -> subprocess.Popen[bytes]:
        return self.processes[0]

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_healthy(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except Exception as exc:  # noqa: BLE001
            last = exc
        time.sleep(0.3)
    raise SystemExit(f"bench: server on port {port} did not become healthy: {last}")


def production_env(port: int, redis_url: str, queue: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAIL_", "GUNICORN_", "FLASK_"))}
    env.update(
        UNDERSIGN_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(48),
        LOG_SIGNING_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
        DATABASE_URL=bench_database_url(),
        REDIS_URL=redis_url,
        JOB_QUEUE=queue,
        RATELIMIT_ENABLED="false",
        # All the load comes from one address: without this every signature after the tenth
        # of the hour would be held as suspicious (signatures/screening.py) and never counted.
        SIGN_HOLD_PER_HOUR="0",
        BASE_URL=f"http://127.0.0.1:{port}",
        HOST="127.0.0.1",
        PORT=str(port),
        LOG_FORMAT="json",
        PYTHONUNBUFFERED="1",
    )
    return env


def start_undersign(logdir: Path, redis_url: str, queue: str, extra_env: dict[str, str]) -> Server:
    port = free_port()
    env = production_env(port, redis_url, queue) | extra_env
    server = Server("undersign", port=port)
    server.processes.append(subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "wsgi:app"], cwd=ROOT, env=env,
        stdout=open(logdir / "gunicorn.log", "ab"), stderr=subprocess.STDOUT,
    ))
    server.processes.append(subprocess.Popen(
        [str(BIN / "flask"), "--app", "wsgi", "worker"], cwd=ROOT, env=env,
        stdout=open(logdir / "worker.log", "ab"), stderr=subprocess.STDOUT,
    ))
    wait_healthy(port)
    return server


def start_ceiling(logdir: Path, extra_env: dict[str, str]) -> Server:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUNICORN_")}
    env.update(CEILING_DATABASE_URL=bench_database_url(), HOST="127.0.0.1", PORT=str(port),
               UNDERSIGN_ENV="production", LOG_FORMAT="json", PYTHONUNBUFFERED="1")
    env |= extra_env
    server = Server("ceiling", port=port)
    server.processes.append(subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "bench.ceiling:app"], cwd=ROOT, env=env,
        stdout=open(logdir / "ceiling.log", "ab"), stderr=subprocess.STDOUT,
    ))
    wait_healthy(port)
    return server


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak resident memory) in kB."""
    out: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


def cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        except (OSError, IndexError):
            pass
    return total


def server_pids(server: Server) -> list[int]:
    """The web processes, the job worker, and the PostgreSQL backends serving the bench database."""

    pids = []
    for process in server.processes:
        pids.append(process.pid)
        pids.extend(children(process.pid))
    with _admin_connection() as conn:
        pids += [row[0] for row in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (DB_NAME,))]
    return pids


def busy_cpu_seconds() -> float:
    """Everything the machine's cores did (not idle), from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def wait_until_quiet(limit: float, minutes: float, log: Any) -> None:
    """Other people's work skews a benchmark on 2 cores: wait (bounded) for the 1-minute load to drop."""
    deadline = time.monotonic() + minutes * 60
    while float(load_average()) > limit and time.monotonic() < deadline:
        log(f"load average {load_average()} > {limit}: waiting for the machine to be quiet")
        time.sleep(15)


class Memory:
    """Peak resident memory of every web worker (and the job worker) seen during the run."""

    def __init__(self) -> None:
        self.peaks: dict[str, dict[int, int]] = {}

    def sample(self, server: Server) -> None:
        into = self.peaks.setdefault(server.name, {})
        for pid in children(server.master.pid):
            peak = proc_status(pid).get("VmHWM", 0)
            into[pid] = max(into.get(pid, 0), peak)
        if server.name == "undersign" and len(server.processes) > 1:
            job = self.peaks.setdefault("flask worker", {})
            pid = server.processes[1].pid
            job[pid] = max(job.get(pid, 0), proc_status(pid).get("VmHWM", 0))


# ---------------------------------------------------------------------------------------------
# Load


@dataclass
class Result:
    scenario: str
    concurrency: int
    kinds: dict[str, dict[str, Any]]
    wall_s: float
    client_cpu_s: float
    server_cpu_s: float
    other_cpu_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def kind(self, name: str) -> dict[str, Any]:
        return self.kinds.get(name) or {"count": 0, "p50_ms": 0.0, "p99_ms": 0.0, "span_s": 1.0, "statuses": {}}

    def ok(self, name: str) -> int:
        statuses = self.kind(name)["statuses"]
        return sum(n for code, n in statuses.items() if code.isdigit() and 200 <= int(code) < 400)

    def rate(self, name: str, ok_only: bool = True) -> float:
        k = self.kind(name)
        span = k["span_s"] or 1e-9
        return (self.ok(name) if ok_only else k["count"]) / span

    @property
    def requests(self) -> int:
        return sum(k["count"] for k in self.kinds.values())

    @property
    def errors(self) -> int:
        bad = 0
        for k in self.kinds.values():
            for code, n in k["statuses"].items():
                if not (code.isdigit() and 200 <= int(code) < 400):
                    bad += n
            bad += k.get("socket_errors", 0)
        return bad


def wait_for_outbox(seconds: float = 60.0) -> None:
    """Until the job worker has sent (and, for signers' mail, composed) everything in the outbox."""
    import psycopg

    deadline = time.monotonic() + seconds
    with psycopg.connect(bench_database_url(), autocommit=True) as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(
                "SELECT count(*) FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL").fetchone()[0]
            if not waiting:
                return
            time.sleep(0.2)


def run_wrk(scenario: str, url: str, concurrency: int, seconds: int, script: str, args: list[str],
            stateful: bool, server: Server, logdir: Path, during: Any = None, mail: bool = False) -> Result:
    """One wrk run; stateful scenarios get one thread per connection (see lua/common.lua).

    ``script`` may name several files joined by "+", loaded in that order (the outage
    scenario is the mixed load plus its timeline). ``during``, if given, is called while
    wrk runs (the outage scenario cuts the database). ``mail``: the run writes mail, and its
    server CPU includes the job worker's until the outbox is empty (the mail is composed and
    sent by the worker, partly after wrk stops).
    """
    scripts = "\n".join((BENCH / "lua" / name).read_text() for name in script.split("+"))
    if stateful:
        source = (BENCH / "lua" / "common.lua").read_text() + "\n" + scripts
        threads = concurrency
    else:
        source = scripts
        threads = min(2, concurrency)
    script_path = logdir / f"{scenario}-{concurrency}.lua"
    script_path.write_text(source)
    command = ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script_path), url]
    if args:
        command += ["--", *args]
    load_at_start = float(load_average())
    pids_before = server_pids(server)
    cpu_before = {pid: cpu_seconds([pid]) for pid in pids_before}
    busy_before = busy_cpu_seconds()
    usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if during is not None:
        during()
    stdout, stderr = process.communicate(timeout=seconds + 60)
    completed = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
    if mail:
        wait_for_outbox()
    wall = time.monotonic() - started
    usage_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_after = busy_cpu_seconds()
    pids_after = set(server_pids(server)) | set(pids_before)
    server_cpu = sum(cpu_seconds([pid]) - cpu_before.get(pid, 0.0) for pid in pids_after)
    (logdir / f"{scenario}-{concurrency}.wrk.txt").write_text(completed.stdout + completed.stderr)
    kinds: dict[str, dict[str, Any]] = {}
    extra: dict[str, Any] = {}
    for line in completed.stdout.splitlines():
        if line.startswith("BENCH "):
            data = json.loads(line[6:])
            kinds[data["kind"]] = data
        elif line.startswith(("OUTAGE ", "CLOCK ")):
            extra.update(json.loads(line.split(" ", 1)[1]))
    if not kinds:
        raise SystemExit(f"bench: wrk printed no result for {scenario}:\n{completed.stdout}\n{completed.stderr}")
    if not stateful:
        read = kinds.pop("read")
        # wrk counts only non-2xx/3xx as errors: record them as such, the rest as 200.
        bad = read["statuses"].get("non-2xx/3xx", 0)
        read["statuses"] = {"200": read["count"] - bad, "error": bad} if bad else {"200": read["count"]}
        kinds[scenario] = read
    client = (usage_after.ru_utime + usage_after.ru_stime) - (usage_before.ru_utime + usage_before.ru_stime)
    other = max((busy_after - busy_before) - server_cpu - client, 0.0)
    extra.setdefault("load", load_at_start)
    return Result(scenario, concurrency, kinds, wall, client, server_cpu, other, extra)


def headline(result: Result) -> float:
    """The figure a scenario is ranked by: its main request's rate (all requests for the mixed load)."""
    if result.scenario == "mixed":
        return result.rate("page", ok_only=False) + result.rate("sign", ok_only=False)
    return result.rate(result.scenario)


class Runs:
    """Every repeat of every scenario; the report shows the median run and the spread of the others."""

    def __init__(self) -> None:
        self.all: dict[tuple[str, int], list[Result]] = {}

    def add(self, result: Result) -> Result:
        self.all.setdefault((result.scenario, result.concurrency), []).append(result)
        return result

    def median(self) -> dict[tuple[str, int], Result]:
        picked = {}
        for key, runs in self.all.items():
            ranked = sorted(runs, key=headline)
            picked[key] = ranked[(len(ranked) - 1) // 2]
        return picked

    def spread(self, key: tuple[str, int]) -> str:
        rates = sorted(headline(r) for r in self.all.get(key, []))
        if len(rates) < 2:
            return "1 run"
        return f"{rates[0]:,.0f}–{rates[-1]:,.0f} ({len(rates)} runs)"

    def load(self, key: tuple[str, int]) -> str:
        loads = sorted(r.extra.get("load", 0.0) for r in self.all.get(key, []))
        return f"{loads[0]:.1f}" if len(loads) == 1 else f"{loads[0]:.1f}–{loads[-1]:.1f}" if loads else "—"

    def other(self, key: tuple[str, int]) -> str:
        cores = sorted(r.other_cpu_s / r.wall_s for r in self.all.get(key, []) if r.wall_s)
        return f"{cores[0]:.2f}" if len(cores) == 1 else f"{cores[0]:.2f}–{cores[-1]:.2f}" if cores else "—"


def forget_queue(redis_url: str, queue: str) -> None:
    """Remove this run's queue, its leftover jobs and its kick key from Redis."""
    import redis as redis_lib

    client = redis_lib.Redis.from_url(redis_url)
    jobs = [f"rq:job:{job_id.decode()}" for job_id in client.lrange(f"rq:queue:{queue}", 0, -1)]
    client.delete(f"rq:queue:{queue}", f"undersign:{queue}:outbox-kick", *jobs)
    client.srem("rq:queues", f"rq:queue:{queue}")
    client.close()


def confirm_tokens(run_id: str, wait_seconds: float = 120.0) -> list[str]:
    """The confirmation links from the outbox, as "slug token" lines.

    The job worker writes a confirmation mail's text when it sends it: this waits (at most
    ``wait_seconds``) until it has gone through this run's mail.
    """
    import psycopg

    pattern = re.compile(r"/p/([A-Za-z0-9_-]+)/confirm/([A-Za-z0-9_.~-]+)")
    lines = []
    with psycopg.connect(bench_database_url(), autocommit=True) as conn:
        deadline = time.monotonic() + wait_seconds
        while True:
            waiting = conn.execute(
                "SELECT count(*) FROM mail_outbox WHERE recipient LIKE %s AND sent_at IS NULL AND failed_at IS NULL",
                (f"bench-{run_id}-%",)).fetchone()[0]
            if not waiting or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        if waiting:
            print(f"[bench] {waiting:,} mails still waiting for the worker after {wait_seconds:.0f} s", flush=True)
        for (body,) in conn.execute(
            "SELECT body_text FROM mail_outbox WHERE recipient LIKE %s ORDER BY id", (f"bench-{run_id}-%",)
        ):
            match = pattern.search(body)
            if match:
                lines.append(f"{match.group(1)} {match.group(2)}")
    return lines


def integrity(run_id: str, million_id: int, sign_ok: int, confirm_ok: int) -> dict[str, Any]:
    """Counter = rows, and every accepted signature and confirmation is in the database."""
    import psycopg

    counts = "confirmed_at IS NOT NULL AND invalidated_at IS NULL AND withdrawn_at IS NULL"
    with psycopg.connect(bench_database_url()) as conn:
        counter = conn.execute("SELECT signature_count FROM campaigns WHERE id = %s", (million_id,)).fetchone()[0]
        rows = conn.execute(f"SELECT count(*) FROM signatures WHERE campaign_id = %s AND {counts}", (million_id,)).fetchone()[0]
        sponsor_mismatch = conn.execute(f"""
            SELECT count(*) FROM sponsorships s
            WHERE s.campaign_id = %s AND s.signature_count <>
                  (SELECT count(*) FROM signatures g WHERE g.sponsorship_id = s.id AND {counts})""",
            (million_id,)).fetchone()[0]
        # The dashboard's figures moved with the counters: tallies net of removals, and the breakdowns.
        tallied = conn.execute(
            "SELECT coalesce(sum(confirmed - withdrawn - invalidated), 0) FROM signature_tallies WHERE campaign_id = %s",
            (million_id,)).fetchone()[0]
        broken_down = conn.execute(
            "SELECT coalesce(sum(signatures), 0) FROM signature_breakdowns WHERE campaign_id = %s",
            (million_id,)).fetchone()[0]
        submitted = conn.execute(
            "SELECT coalesce(sum(submitted), 0) FROM signature_tallies WHERE campaign_id = %s",
            (million_id,)).fetchone()[0]
        all_rows = conn.execute("SELECT count(*) FROM signatures WHERE campaign_id = %s", (million_id,)).fetchone()[0]
        signed, distinct, confirmed = conn.execute(
            "SELECT count(*), count(DISTINCT email_key), count(confirmed_at) FROM signatures WHERE email LIKE %s",
            (f"bench-{run_id}-%",),
        ).fetchone()
    return {
        "counter": counter, "rows": rows, "counter_equals_rows": counter == rows,
        "sponsorship_counters_off": sponsor_mismatch,
        "signs_accepted": sign_ok, "signature_rows": signed,
        "lost_signatures": max(sign_ok - signed, 0), "duplicated_signatures": signed - distinct,
        "confirms_accepted": confirm_ok, "confirmed_rows": confirmed,
        "lost_confirmations": max(confirm_ok - confirmed, 0),
        "figures_equal_rows": tallied == rows and broken_down == rows and submitted == all_rows,
    }


def run_outage(logdir: Path, redis_url: str, queue: str, extra_env: dict[str, str], data: dict[str, Any],
               run_id: str, seconds: int) -> dict[str, Any]:
    """Mixed load at concurrency 8; the database link is cut for 3 s in the middle."""
    from urllib.parse import urlsplit

    from bench.outage import CuttableProxy

    target = urlsplit(bench_database_url())
    proxy = CuttableProxy((target.hostname or "127.0.0.1", target.port or 5432), free_port())
    proxied = bench_database_url().replace(target.netloc, f"{target.username or 'postgres'}@127.0.0.1:{proxy.port}", 1)
    env = extra_env | {"DATABASE_URL": proxied, "DB_CONNECT_TIMEOUT": "2"}
    server = start_undersign(logdir, redis_url, queue, env)
    length = max(seconds, 12)
    marks: dict[str, float] = {}

    def cut_and_restore() -> None:
        time.sleep(length / 3)
        marks["cut_us"] = time.monotonic() * 1e6
        proxy.cut()
        time.sleep(3)
        marks["restore_us"] = time.monotonic() * 1e6
        proxy.restore()

    try:
        result = run_wrk("outage", f"http://127.0.0.1:{server.port}", 8, length, "mixed.lua+outage.lua",
                         ["1000000", MILLION_SLUG, f"{run_id}-o {data['lead_slug']}"], True, server, logdir,
                         during=cut_and_restore)
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/healthz", timeout=5) as response:
            healthy_after = response.status == 200
    finally:
        server.stop()
        proxy.cut()
    return {"result": result, "marks": marks, "healthy_after": healthy_after}


def _cookies(response: Any, jar: dict[str, str]) -> None:
    for header, value in response.getheaders():
        if header.lower() == "set-cookie":
            name, _, rest = value.partition("=")
            jar[name.strip()] = rest.split(";", 1)[0]


def _request(conn: Any, method: str, path: str, jar: dict[str, str], body: str | None = None) -> tuple[int, str]:
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items()), "Host": conn.host + f":{conn.port}"}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Origin"] = f"http://{conn.host}:{conn.port}"
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    text = response.read().decode("utf-8", "replace")
    _cookies(response, jar)
    return response.status, text


def run_dashboard(base: str, data: dict[str, Any], loads: int = 20) -> dict[str, Any]:
    """Sign in as the lead organization's owner, then GET the million-signature campaign's dashboard ``loads``
    times, one after another on one keep-alive connection; the time of each, from request to the last byte."""
    import http.client
    import urllib.parse

    from undersign.demo import DEMO_PASSWORD, ORGANIZATIONS

    email = next(spec["staff"][0] for spec in ORGANIZATIONS if spec["slug"] == data["lead_slug"])
    host, port = urllib.parse.urlsplit(base).hostname or "127.0.0.1", urllib.parse.urlsplit(base).port
    conn = http.client.HTTPConnection(host, port, timeout=30)
    jar: dict[str, str] = {}
    status, page = _request(conn, "GET", "/login", jar)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    if status != 200 or token is None:
        raise SystemExit(f"bench: the login page answered {status} without a form")
    form = urllib.parse.urlencode({"csrf_token": token.group(1), "email": email, "password": DEMO_PASSWORD})
    status, _ = _request(conn, "POST", "/login", jar, form)
    if status not in (302, 303):
        raise SystemExit(f"bench: signing in as {email} answered {status}")
    path = f"/orgs/{data['lead_slug']}/campaigns/{MILLION_SLUG}/"
    for _ in range(3):  # warm-up: templates compiled, connections in the pool
        _request(conn, "GET", path, jar)
    times: list[float] = []
    statuses: list[int] = []
    for _ in range(loads):
        started = time.perf_counter()
        status, page = _request(conn, "GET", path, jar)
        times.append((time.perf_counter() - started) * 1000)
        statuses.append(status)
    conn.close()
    times.sort()
    return {"loads": loads, "p50_ms": times[len(times) // 2], "p90_ms": times[int(len(times) * 0.9)],
            "max_ms": times[-1], "statuses": sorted(set(statuses)), "shows_dashboard": "How the petition is doing" in page}


def dashboard_report(result: dict[str, Any], signatures: int) -> str:
    return "\n".join([
        f"Campaign dashboard ({signatures:,} signatures, signed in as a member, {result['loads']} loads one after another):",
        f"p50 {result['p50_ms']:.1f} ms, p90 {result['p90_ms']:.1f} ms, max {result['max_ms']:.1f} ms; "
        f"statuses {result['statuses']}; dashboard shown: {result['shows_dashboard']}.",
    ])


def outage_report(outage: dict[str, Any]) -> str:
    r: Result = outage["result"]
    marks, extra = outage["marks"], r.extra
    statuses: dict[str, int] = {}
    for kind in r.kinds.values():
        for code, n in kind["statuses"].items():
            statuses[code] = statuses.get(code, 0) + n
    first = (extra.get("first_503_us", 0) - marks["cut_us"]) / 1e6 if extra.get("first_503_us") else None
    last = (extra.get("last_503_us", 0) - marks["restore_us"]) / 1e6 if extra.get("last_503_us") else None
    parts = ", ".join(f"{n:,} × {code}" for code, n in sorted(statuses.items()))
    return (
        "PostgreSQL outage under load (mixed 95/5 at concurrency 8, the database link cut for 3 s through a "
        f"loopback proxy): responses {parts}; "
        + (f"first 503 {first:+.2f} s after the cut, last 503 {last:+.2f} s after the restore; " if first is not None else "no 503 seen; ")
        + f"{extra.get('ok_after_last_503', 0):,} successful requests after the last 503, "
        f"/healthz afterwards: {'200' if outage['healthy_after'] else 'not 200'} (no restart). "
        f"{r.ok('sign')} signatures accepted during the run are part of the integrity check."
    )


# ---------------------------------------------------------------------------------------------
# Report


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return f"{os.cpu_count()} cores ({cpu}), {mem_kb / 1024 / 1024:.0f} GiB RAM, Linux {os.uname().release}"


def versions() -> str:
    import psycopg
    import redis as redis_lib

    with psycopg.connect(bench_database_url()) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0].split()[0]
    try:
        rv = redis_lib.Redis.from_url(os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")).info("server")["redis_version"]
    except Exception:  # noqa: BLE001
        rv = "?"
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split()[1]
    return f"Python {sys.version.split()[0]}, PostgreSQL {pg}, Redis {rv}, wrk {wrk}"


def fmt_row(label: str, c: int, rate: float, p50: float, p99: float, ceiling: float | None, errors: int,
            runs: Runs | None = None, key: tuple[str, int] | None = None, result: Result | None = None) -> str:
    ratio = f"{rate / ceiling:.0%}" if ceiling else "—"
    if runs is None or key is None or result is None:
        return f"| {label} | {c} | {rate:,.0f} | | {p50:.1f} | {p99:.1f} | {ratio} | {errors} | | | |"
    cpu = f"{result.server_cpu_s / result.requests * 1e3:.2f}" if result.requests else "—"
    return (f"| {label} | {c} | {rate:,.0f} | {runs.spread(key)} | {p50:.1f} | {p99:.1f} | {ratio} | {errors} "
            f"| {cpu} | {runs.other(key)} | {runs.load(key)} |")


def report(runs: Runs, pages: dict[str, list[Result]], memory: Memory,
           checks: dict[str, Any], concurrencies: list[int], seconds: int, info: str, config: str,
           signatures: int = 1_000_000) -> str:
    results = runs.median()
    out = [f"Date: {dt.date.today().isoformat()}. Machine: {info}.", f"Stack: {config}.",
           f"Each scenario {seconds} s; wrk on the same machine (loopback). Each row is the median run by "
           "requests/s; the spread is the lowest and highest run; server CPU counts gunicorn, the job worker "
           "and their PostgreSQL backends; other cores: what unrelated processes used meanwhile; load: the "
           "1-minute load average at the start of each run.", ""]
    out.append("| scenario | concurrency | requests/s | spread | p50 ms | p99 ms | of ceiling | errors "
               "| server CPU ms/request | other cores | load |")
    out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for c in concurrencies:
        ceiling = results.get(("ceiling", c))
        ceiling_rate = ceiling.rate("ceiling") if ceiling else None
        if ceiling:
            k = ceiling.kind("ceiling")
            out.append(fmt_row("ceiling: minimal Flask app (1 query, 1 template)", c, ceiling_rate or 0, k["p50_ms"], k["p99_ms"], None, ceiling.errors,
                               runs, ("ceiling", c), ceiling))
        for name, label in (("page", f"(a) `GET /p/<slug>` ({signatures:,} signatures), micro-cache on"),
                            ("page-uncached", "(a) … uncached (`PUBLIC_PAGE_CACHE_SECONDS=0`; the page's shell on)"),
                            ("page-rendered", "(a) … uncached and rendered whole (`PUBLIC_PAGE_SHELLS=false` too)"),
                            ("json", "(b) `GET /p/<slug>.json`, micro-cache on")):
            r = results.get((name, c))
            if r:
                k = r.kind(name)
                out.append(fmt_row(label, c, r.rate(name), k["p50_ms"], k["p99_ms"], ceiling_rate, r.errors, runs, (name, c), r))
        r = results.get(("sign", c))
        if r:
            k = r.kind("sign")
            out.append(fmt_row("(c) sign: `POST /p/<slug>/sign`, signatures/s", c, r.rate("sign"), k["p50_ms"], k["p99_ms"], None, r.errors, runs, ("sign", c), r))
            kp = r.kind("sign-page")
            out.append(fmt_row("(c) … its GET of the page (form + CSRF token)", c, r.rate("sign-page"), kp["p50_ms"], kp["p99_ms"], None, 0))
        r = results.get(("confirm", c))
        if r:
            k = r.kind("confirm")
            out.append(fmt_row("(d) confirm: `POST /p/<slug>/confirm/<token>`, confirmations/s", c, r.rate("confirm"), k["p50_ms"], k["p99_ms"], None, r.errors, runs, ("confirm", c), r))
            kp = r.kind("confirm-page")
            out.append(fmt_row("(d) … its GET of the confirmation page", c, r.rate("confirm-page"), kp["p50_ms"], kp["p99_ms"], None, 0))
        r = results.get(("mixed", c))
        if r:
            k, ks = r.kind("page"), r.kind("sign")
            total = r.rate("page", ok_only=False) + r.rate("sign", ok_only=False)
            out.append(fmt_row("(e) mixed: 95% page, 5% sign POST (all requests)", c, total, k["p50_ms"], max(k["p99_ms"], ks["p99_ms"]), ceiling_rate, r.errors, runs, ("mixed", c), r))
            out.append(fmt_row("(e) … of which signatures/s", c, r.rate("sign"), ks["p50_ms"], ks["p99_ms"], None, 0))
    out.append("")
    sign_confirm = []
    for c in concurrencies:
        s, k = results.get(("sign", c)), results.get(("confirm", c))
        if s and k and s.rate("sign") and k.rate("confirm"):
            # One process serves both steps: the time per complete signature is the sum of both.
            combined = 1 / (1 / s.rate("sign") + 1 / k.rate("confirm"))
            # Server CPU per complete signature: the sign run's CPU (page GET + POST, and the job
            # worker sending the mail) per signature, plus the confirm run's per confirmation.
            cpu = s.server_cpu_s / max(s.ok("sign"), 1) + k.server_cpu_s / max(k.ok("confirm"), 1)
            sign_confirm.append(f"c={c}: {combined:,.0f} complete signatures/s (sign then confirm, each with its GET), "
                                f"server CPU {cpu * 1e3:.1f} ms per complete signature")
    if sign_confirm:
        out.append("Sign + confirm: " + "; ".join(sign_confirm) + ".")
    if pages:
        small, large = pages.get(THOUSAND_SLUG, []), pages.get(MILLION_SLUG, [])
        if small and large:
            p_small = sum(r.kind("page-size").get("p50_ms", 0) for r in small) / len(small)
            p_large = sum(r.kind("page-size").get("p50_ms", 0) for r in large) / len(large)
            r_small = sum(r.rate("page-size") for r in small) / len(small)
            r_large = sum(r.rate("page-size") for r in large) / len(large)
            c_small = sum(r.server_cpu_s for r in small) / max(sum(r.requests for r in small), 1) * 1e3
            c_large = sum(r.server_cpu_s for r in large) / max(sum(r.requests for r in large), 1) * 1e3
            ceiling_8 = results.get(("ceiling", 8)) or results.get(("ceiling", max(concurrencies)))
            ratio = ""
            if ceiling_8 and ceiling_8.rate("ceiling"):
                ratio = (f" ({r_small / ceiling_8.rate('ceiling'):.0%} and {r_large / ceiling_8.rate('ceiling'):.0%} "
                         f"of the ceiling at c={ceiling_8.concurrency})")
            out.append(
                f"Uncached page time, 1,000 vs {signatures:,} signatures (c=8, {len(small)} alternating runs each): "
                f"p50 {p_small:.1f} ms vs {p_large:.1f} ms ({(p_large / p_small - 1) if p_small else 0:+.0%}), "
                f"{r_small:,.0f} vs {r_large:,.0f} requests/s ({(r_large / r_small - 1) if r_small else 0:+.0%}){ratio}; server CPU {c_small:.2f} vs {c_large:.2f} ms/request "
                f"({(c_large / c_small - 1) if c_small else 0:+.0%})."
            )
    for name, peaks in memory.peaks.items():
        if peaks:
            mb = sorted(v / 1024 for v in peaks.values())
            out.append(f"Peak resident memory, {name} ({len(mb)} process(es)): " + ", ".join(f"{m:.0f} MB" for m in mb) + ".")
    cpu = []
    for (name, c), r in sorted(results.items()):
        if r.requests:
            cpu.append(f"{name}@{c}: {r.client_cpu_s / r.wall_s:.2f} cores, {r.client_cpu_s / r.requests * 1e6:.0f} µs/request")
    out.append("Load generator's own CPU (wrk, same 2 cores): " + "; ".join(cpu) + ".")
    stack = []
    for (name, c), r in sorted(results.items()):
        if r.requests:
            stack.append(f"{name}@{c}: {r.server_cpu_s / r.requests * 1e3:.2f} ms/request, "
                         f"other processes {r.other_cpu_s / r.wall_s:.2f} cores")
    out.append("Server CPU per request (gunicorn, job worker, PostgreSQL backends), and what unrelated "
               "processes used meanwhile: " + "; ".join(stack) + ".")
    out.append(
        f"Integrity: counter {checks['counter']:,} = rows {checks['rows']:,}: {'yes' if checks['counter_equals_rows'] else 'NO'}; "
        f"sponsor counters off: {checks['sponsorship_counters_off']}; "
        f"signatures accepted {checks['signs_accepted']:,}, rows {checks['signature_rows']:,}: "
        f"{checks['lost_signatures']} lost, {checks['duplicated_signatures']} duplicated; "
        f"confirmations accepted {checks['confirms_accepted']:,}, confirmed rows {checks['confirmed_rows']:,}: "
        f"{checks['lost_confirmations']} lost; dashboard figures (tallies, breakdowns) = rows: "
        f"{'yes' if checks['figures_equal_rows'] else 'NO'}."
    )
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", 10)),
                        help=f"length of each scenario (at most {MAX_SECONDS})")
    parser.add_argument("--signatures", type=int, default=int(os.environ.get("BENCH_SIGNATURES", 1_000_000)))
    parser.add_argument("--concurrency", default="8,32")
    parser.add_argument("--only", default="", help="comma-separated scenarios (ceiling,page,page-uncached,page-rendered,json,sign,confirm,mixed,size,outage,dashboard,export)")
    parser.add_argument("--keep-db", action="store_true", help="keep the undersign_bench database afterwards")
    parser.add_argument("--reuse-db", action="store_true", help="skip creating and loading the database")
    parser.add_argument("--quiet-load", type=float, default=float(os.environ.get("BENCH_QUIET_LOAD", 1.5)),
                        help="before measuring, wait (at most --quiet-wait minutes) until the load average is below this")
    parser.add_argument("--quiet-wait", type=float, default=float(os.environ.get("BENCH_QUIET_WAIT", 5)))
    parser.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", 3)),
                        help="runs of each scenario; the report shows the median and the spread (default 3)")
    parser.add_argument("--access-log", choices=("on", "off"), default=os.environ.get("BENCH_ACCESS_LOG", "off"),
                        help="gunicorn's access log for undersign and the ceiling alike (default off; production has it on)")
    parser.add_argument("--quick", action="store_true",
                        help="under 2 minutes: 100,000 signatures, 3 s scenarios, one run each at concurrency 32, "
                             "page (cached and uncached), json, sign, confirm and the ceiling")
    args = parser.parse_args(argv)
    if args.quick:
        args.signatures = min(args.signatures, 100_000)
        args.seconds, args.repeat, args.concurrency = 3, 1, "32"
        args.only = args.only or "ceiling,page,page-uncached,json,sign,confirm"
        args.quiet_wait = 0
    from bench import export as export_bench

    seconds = min(max(args.seconds, 1), MAX_SECONDS)
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    only = set(filter(None, args.only.split(",")))
    wanted = lambda name: not only or name in only  # noqa: E731
    if shutil.which("wrk") is None:
        raise SystemExit("bench: wrk is not installed (Debian: apt-get install wrk; `make bench` does it)")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    queue = f"undersign-bench-{os.getpid()}"
    run_id = dt.datetime.now().strftime("%H%M%S") + secrets.token_hex(2)
    logdir = Path(tempfile.mkdtemp(prefix="undersign-bench-"))
    extra_env = {k: os.environ[k] for k in ("WEB_CONCURRENCY", "GUNICORN_THREADS", "DB_POOL_SIZE") if k in os.environ}
    # Both servers get the same setting; "-" is stdout, which start_* send to a log file.
    extra_env["GUNICORN_ACCESSLOG"] = "-" if args.access_log == "on" else ""
    repeats = max(args.repeat, 1)

    def log(message: str) -> None:
        print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)

    log(f"logs in {logdir}")
    sys.path.insert(0, str(ROOT / "platform"))
    os.environ.setdefault("UNDERSIGN_ENV", "development")
    if args.reuse_db:
        import psycopg

        with psycopg.connect(bench_database_url()) as conn:
            lead = conn.execute("SELECT o.slug FROM campaigns c JOIN organizations o ON o.id = c.lead_organization_id WHERE c.slug = %s", (MILLION_SLUG,)).fetchone()[0]
            million_id = conn.execute("SELECT id FROM campaigns WHERE slug = %s", (MILLION_SLUG,)).fetchone()[0]
        data = {"lead_slug": lead, "million_id": million_id}
    else:
        log(f"creating {DB_NAME} with {args.signatures:,} signatures")
        create_database()
        data = load_data(args.signatures, log)
    wait_until_quiet(args.quiet_load, args.quiet_wait, log)
    info = machine() + f", load average {load_average()} at the start"
    config_note = (
        f"gunicorn gthread, {extra_env.get('WEB_CONCURRENCY', (os.cpu_count() or 1) + 1)} workers x "
        f"{extra_env.get('GUNICORN_THREADS', 4)} threads, `flask worker`, {versions()}; "
        f"gunicorn access log {'ON (JSON lines)' if args.access_log == 'on' else 'off'} for undersign and the ceiling"
    )
    runs = Runs()
    pages: dict[str, list[Result]] = {}
    memory = Memory()
    sign_ok = confirm_ok = 0
    dashboard: dict[str, Any] | None = None
    server: Server | None = None
    exported: dict[str, Any] | None = None
    try:
        server = start_undersign(logdir, redis_url, queue, extra_env)
        base = f"http://127.0.0.1:{server.port}"
        consent = data["lead_slug"]
        # Warm up: templates compiled, pools filled, every worker touched.
        run_wrk("warmup", f"{base}/p/{MILLION_SLUG}", 8, 2, "read.lua", [], False, server, logdir)
        if wanted("export"):
            log("export of the lead's consenting supporters")
            exported = export_bench.run(server.port, children(server.master.pid), proc_status, data["lead_slug"],
                                        MILLION_SLUG, bench_database_url(), log)
        for c in concurrencies:
            for name, path in (("page", f"/p/{MILLION_SLUG}"), ("json", f"/p/{MILLION_SLUG}.json")):
                if wanted(name):
                    for i in range(repeats):
                        log(f"{name} at concurrency {c} ({i + 1}/{repeats})")
                        runs.add(run_wrk(name, base + path, c, seconds, "read.lua", [], False, server, logdir))
                    memory.sample(server)
        if wanted("sign") or wanted("confirm"):
            for c in concurrencies:
                for i in range(repeats):
                    log(f"sign at concurrency {c} ({i + 1}/{repeats})")
                    # The e-mail addresses carry the run, the scenario, the repeat and the connection: all unique.
                    r = runs.add(run_wrk("sign", base, c, seconds, "sign.lua", ["100000", MILLION_SLUG, f"{run_id}-s{c}r{i} {consent}"], True, server, logdir, mail=True))
                    sign_ok += r.ok("sign")
                memory.sample(server)
        if wanted("confirm"):
            tokens = confirm_tokens(run_id)
            log(f"{len(tokens):,} confirmation links in the outbox")
            share = len(tokens) // (len(concurrencies) * repeats)
            for i, c in enumerate(concurrencies):
                for j in range(repeats):
                    n = i * repeats + j
                    path = logdir / f"tokens-{c}-{j}.txt"
                    path.write_text("\n".join(tokens[n * share:(n + 1) * share]) + "\n")
                    log(f"confirm at concurrency {c} ({share:,} links, {j + 1}/{repeats})")
                    r = runs.add(run_wrk("confirm", base, c, seconds, "confirm.lua", ["100000", str(path), str(c)], True, server, logdir, mail=True))
                    confirm_ok += r.ok("confirm")
                memory.sample(server)
        if wanted("mixed"):
            for c in concurrencies:
                for i in range(repeats):
                    log(f"mixed at concurrency {c} ({i + 1}/{repeats})")
                    r = runs.add(run_wrk("mixed", base, c, seconds, "mixed.lua", ["1000000", MILLION_SLUG, f"{run_id}-m{c}r{i} {consent}"], True, server, logdir, mail=True))
                    sign_ok += r.ok("sign")
                memory.sample(server)
        if wanted("dashboard"):
            log("campaign dashboard, signed in")
            dashboard = run_dashboard(base, data)
        # Let the job worker finish the mail before the checks (it is not what is measured).
        time.sleep(2)
    finally:
        if server is not None:
            server.stop()
    if wanted("page-uncached") or wanted("size"):
        # The same application with its per-process micro-cache off: what a cold process, a
        # sponsor's page, a second petition and every count change cost.
        server = start_undersign(logdir, redis_url, queue, extra_env | {"PUBLIC_PAGE_CACHE_SECONDS": "0"})
        try:
            base = f"http://127.0.0.1:{server.port}"
            run_wrk("warmup", f"{base}/p/{MILLION_SLUG}", 8, 2, "read.lua", [], False, server, logdir)
            if wanted("page-uncached"):
                for c in concurrencies:
                    for i in range(repeats):
                        log(f"uncached page at concurrency {c} ({i + 1}/{repeats})")
                        runs.add(run_wrk("page-uncached", f"{base}/p/{MILLION_SLUG}", c, seconds, "read.lua", [], False, server, logdir))
                memory.sample(server)
            if wanted("size"):
                size_seconds = max(seconds // 3, 3)
                for _ in range(3):
                    for slug in (THOUSAND_SLUG, MILLION_SLUG):
                        log(f"uncached page of {slug}")
                        r = run_wrk("page-size", f"{base}/p/{slug}", 8, size_seconds, "read.lua", [], False, server, logdir)
                        pages.setdefault(slug, []).append(r)
                memory.sample(server)
        finally:
            server.stop()
    if wanted("page-rendered"):
        # Without the page's shell either: the whole page rendered on every view (what the first view after
        # an edit costs, and what every view cost before the shell).
        server = start_undersign(logdir, redis_url, queue,
                                 extra_env | {"PUBLIC_PAGE_CACHE_SECONDS": "0", "PUBLIC_PAGE_SHELLS": "false"})
        try:
            base = f"http://127.0.0.1:{server.port}"
            run_wrk("warmup", f"{base}/p/{MILLION_SLUG}", 8, 2, "read.lua", [], False, server, logdir)
            for c in concurrencies:
                for i in range(repeats):
                    log(f"page rendered whole at concurrency {c} ({i + 1}/{repeats})")
                    runs.add(run_wrk("page-rendered", f"{base}/p/{MILLION_SLUG}", c, seconds, "read.lua", [], False, server, logdir))
        finally:
            server.stop()
    outage: dict[str, Any] | None = None
    if wanted("outage"):
        log("PostgreSQL outage under load (through a cuttable proxy)")
        outage = run_outage(logdir, redis_url, queue, extra_env, data, run_id, seconds)
        sign_ok += outage["result"].ok("sign")
    if wanted("ceiling"):
        ceiling = start_ceiling(logdir, extra_env)
        try:
            url = f"http://127.0.0.1:{ceiling.port}/p/{MILLION_SLUG}"
            run_wrk("warmup", url, 8, 2, "read.lua", [], False, ceiling, logdir)
            for c in concurrencies:
                for i in range(repeats):
                    log(f"ceiling at concurrency {c} ({i + 1}/{repeats})")
                    runs.add(run_wrk("ceiling", url, c, seconds, "read.lua", [], False, ceiling, logdir))
                memory.sample(ceiling)
        finally:
            ceiling.stop()
    info += f" and {load_average()} at the end"
    checks = integrity(run_id, data["million_id"], sign_ok, confirm_ok)
    text = report(runs, pages, memory, checks, concurrencies, seconds, info, config_note, args.signatures)
    if outage is not None:
        text += "\n" + outage_report(outage)
    if dashboard is not None:
        text += "\n" + dashboard_report(dashboard, args.signatures)
    if exported is not None:
        text += "\n" + export_bench.report(exported)
    print()
    print(text)
    (logdir / "report.md").write_text(text + "\n")
    raw = {f"{k[0]}@{k[1]}": [{"kinds": v.kinds, "wall_s": v.wall_s, "client_cpu_s": v.client_cpu_s,
                               "server_cpu_s": v.server_cpu_s, "other_cpu_s": v.other_cpu_s, "load": v.extra.get("load")}
                              for v in vs] for k, vs in runs.all.items()}
    (logdir / "results.json").write_text(json.dumps({"results": raw, "checks": checks}, indent=2))
    log(f"report and raw results in {logdir}")
    forget_queue(redis_url, queue)
    if not args.keep_db and not args.reuse_db:
        drop_database()
    ok = checks["counter_equals_rows"] and not checks["lost_signatures"] and not checks["duplicated_signatures"] \
        and not checks["lost_confirmations"] and not checks["sponsorship_counters_off"] and checks["figures_equal_rows"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
