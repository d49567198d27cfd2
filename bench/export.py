"""The supporters' export under the benchmark's million signatures.

Every signature of the big petition consents to the lead organization (one
``INSERT ... SELECT``, next to the signatures'); an admin of that organization
signs in through the real sign-in form, and the CSV is downloaded once from a
production gunicorn. Measured: the rows, the time to the first byte and to
the last, and how much the peak resident memory (``VmHWM``) of the worker that
served it grew.
"""

from __future__ import annotations

import html
import http.client
import re
import threading
import time
import urllib.parse
from typing import Any

ADMIN_EMAIL = "export-admin@bench.example"
ADMIN_PASSWORD = "a bench password that is long enough"


def add_consents_and_admin(db: Any, campaign_id: int, organization: Any) -> None:
    """Every signature of ``campaign_id`` consents to ``organization``; a verified admin of it signs in later."""
    from sqlalchemy import text

    from undersign.accounts.models import User
    from undersign.accounts.service import hash_password
    from undersign.db import utcnow
    from undersign.organizations.models import Membership, Role

    db.session.execute(text(
        "INSERT INTO consents (signature_id, organization_id, wording, created_at) "
        "SELECT id, :org, :wording, created_at FROM signatures WHERE campaign_id = :campaign"),
        {"org": organization.id, "wording": f"Keep me updated by {organization.name}", "campaign": campaign_id})
    user = User(email=ADMIN_EMAIL, name="Bench Admin", password_hash=hash_password(ADMIN_PASSWORD),
                email_verified_at=utcnow())
    db.session.add(user)
    db.session.flush()
    db.session.add(Membership(organization_id=organization.id, user_id=user.id, role=Role.ADMIN.value))


class Browser:
    """Just enough of a browser over http.client: cookies kept by hand (the production cookies are
    ``Secure``, which a cookie jar would not send over plain HTTP on loopback)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict[str, str] | None = None) -> http.client.HTTPResponse:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"http://127.0.0.1:{self.port}"
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        return response

    def sign_in(self) -> None:
        page = self.request("GET", "/login").read().decode()
        token = html.unescape(re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1))  # type: ignore[union-attr]
        answer = self.request("POST", "/login", {"csrf_token": token, "email": ADMIN_EMAIL,
                                                 "password": ADMIN_PASSWORD, "next": ""})
        text = answer.read().decode(errors="replace")
        if answer.status != 302:
            errors = re.findall(r'class="(?:form-errors|field-error)"[^>]*>(.*?)</', text, re.S)
            raise SystemExit(f"bench: the export admin could not sign in (HTTP {answer.status}): {errors or text[:500]}")


def run(port: int, worker_pids: list[int], proc_status: Any, org_slug: str, campaign_slug: str,
        database_url: str, log: Any) -> dict[str, Any]:
    """Download the export once; returns rows, seconds, time to first byte, each worker's VmHWM growth
    and the row count the audit log recorded."""
    browser = Browser(port)
    browser.sign_in()
    before = {pid: proc_status(pid).get("VmHWM", 0) for pid in worker_pids}
    rss_before = {pid: proc_status(pid).get("VmRSS", 0) for pid in worker_pids}
    # VmHWM can hide growth: the worker that checked the password (argon2, 64 MiB) already peaked
    # higher. So VmRSS is also sampled every 50 ms while the download runs.
    rss_peak = dict(rss_before)
    downloading = threading.Event()
    downloading.set()

    def sample() -> None:
        while downloading.is_set():
            for pid in worker_pids:
                rss_peak[pid] = max(rss_peak[pid], proc_status(pid).get("VmRSS", 0))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    response = browser.request("GET", f"/orgs/{org_slug}/campaigns/{campaign_slug}/export.csv")
    if response.status != 200:
        raise SystemExit(f"bench: export answered HTTP {response.status}: {response.read()[:300]!r}")
    first = response.read(1)
    first_byte = time.monotonic() - started
    lines = first.count(b"\n")
    size = len(first)
    while chunk := response.read(1 << 16):
        lines += chunk.count(b"\n")
        size += len(chunk)
    seconds = time.monotonic() - started
    downloading.clear()
    sampler.join()
    after = {pid: proc_status(pid).get("VmHWM", 0) for pid in worker_pids}
    growth = {pid: after[pid] - before[pid] for pid in worker_pids}
    import psycopg

    time.sleep(0.5)  # the row count is written after the last chunk has left
    with psycopg.connect(database_url) as conn:
        audited = conn.execute("SELECT details FROM audit_events WHERE action = 'supporters.export_finished' "
                               "ORDER BY id DESC LIMIT 1").fetchone()
    result = {
        "audited": audited[0] if audited else None,
        "rows": lines - 1, "bytes": size, "seconds": seconds, "first_byte_s": first_byte,
        "chunked": response.getheader("Transfer-Encoding") == "chunked",
        "peak_growth_kb": max(growth.values(), default=0), "growth_kb": growth,
        "rss_growth_kb": max((rss_peak[p] - rss_before[p] for p in worker_pids), default=0),
        "rss_before_kb": rss_before, "hwm_before_kb": before, "hwm_after_kb": after,
    }
    log(f"export: {result['rows']:,} rows, {size / 1e6:.0f} MB in {seconds:.1f} s, first byte after "
        f"{first_byte * 1000:.0f} ms, worker peak memory +{result['peak_growth_kb'] / 1024:.1f} MB "
        f"(VmHWM), +{result['rss_growth_kb'] / 1024:.1f} MB (VmRSS sampled); "
        f"VmHWM before/after per worker (MB): "
        f"{', '.join(f'{before[p] / 1024:.0f}/{after[p] / 1024:.0f}' for p in worker_pids)}; audit log: {result['audited']}")
    return result


def report(result: dict[str, Any]) -> str:
    return "\n".join([
        "## Supporters' export (one download, signed in as the lead's admin)", "",
        "| rows | MB | seconds | rows/s | first byte ms | worker VmHWM growth MB | VmRSS growth MB | streamed "
        "| rows in the audit log |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {result['rows']:,} | {result['bytes'] / 1e6:.0f} | {result['seconds']:.1f} | "
        f"{result['rows'] / max(result['seconds'], 1e-9):,.0f} | {result['first_byte_s'] * 1000:.0f} | "
        f"{result['peak_growth_kb'] / 1024:.1f} | {result['rss_growth_kb'] / 1024:.1f} | "
        f"{'chunked' if result['chunked'] else 'no'} | "
        f"{(result['audited'] or {}).get('rows')} |",
        "",
    ])
