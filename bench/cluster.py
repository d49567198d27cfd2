"""More than one machine, on one: nginx -> two gunicorn instances -> PgBouncer -> PostgreSQL.

``.venv/bin/python -m bench.cluster`` (after a ``bench.run --keep-db``, or it loads
the database itself) starts each piece from its standard package with the files in
deploy/ — PgBouncer (transaction pooling) in front of PostgreSQL, two undersign
instances (gunicorn, ``DB_PGBOUNCER=true``, ``PROXY_COUNT=1``) and one ``flask
worker`` on it, nginx in front of both (proxy_cache for anonymous pages) — runs
the mixed load (95% page reads, 5% signature POSTs) through nginx, and shows:

- both instances served (their CPU), and nginx answered the page reads from its cache;
- the count exact: counter = rows, every accepted signature in the database once;
- the rate limits shared through Redis: with ``SIGN_RATE_LIMIT`` at N per hour for the
  one client address, exactly N signature POSTs are accepted whichever instance
  took them, the rest are refused (429).
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import run as bench

DEPLOY = bench.ROOT / "deploy"


def _fill(template: Path, out: Path, values: dict[str, str]) -> Path:
    text = template.read_text()
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    out.write_text(text)
    return out


def start_pgbouncer(workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    from sqlalchemy.engine import make_url

    binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    server = make_url(bench.postgres_server() + "/x")
    port = bench.free_port()
    users = workdir / "userlist.txt"
    users.write_text(f'"{server.username or "postgres"}" ""\n')
    os.chmod(users, 0o644)
    ini = _fill(DEPLOY / "pgbouncer.ini", workdir / "pgbouncer.ini", {
        "DB_NAME": bench.DB_NAME, "PG_HOST": server.host or "127.0.0.1", "PG_PORT": str(server.port or 5432),
        "PORT": str(port), "AUTH_TYPE": "trust", "AUTH_FILE": str(users),
        "LOG_FILE": str(workdir / "pgbouncer.log"), "PID_FILE": str(workdir / "pgbouncer.pid"),
    })
    command = [binary, str(ini)]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        command[1:1] = ["-u", "nobody"]
    process = subprocess.Popen(command, stdout=open(workdir / "pgbouncer.out", "ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 15
    import psycopg

    while True:
        try:
            with psycopg.connect(f"postgresql://{server.username or 'postgres'}@127.0.0.1:{port}/{bench.DB_NAME}",
                                 connect_timeout=2, prepare_threshold=None) as conn:
                conn.execute("SELECT 1")
            return process, port
        except psycopg.Error:
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit(f"bench: PgBouncer did not start: {(workdir / 'pgbouncer.log').read_text()[-2000:]}")
            time.sleep(0.3)


def start_nginx(workdir: Path, upstreams: list[int]) -> tuple[subprocess.Popen[bytes], int]:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    port = bench.free_port()
    cache = workdir / "nginx-cache"
    cache.mkdir()
    os.chmod(cache, 0o777)
    site = _fill(DEPLOY / "nginx.conf", workdir / "undersign.conf", {
        "CACHE_DIR": str(cache), "LISTEN": f"listen 127.0.0.1:{port};", "SERVER_NAME": "127.0.0.1",
        "UPSTREAMS": "\n    ".join(f"server 127.0.0.1:{p} max_fails=3 fail_timeout=10s;" for p in upstreams),
        "ACCESS_LOG": "off",
    })
    main = workdir / "nginx.conf"
    main.write_text(
        "worker_processes 1;\n"
        f"pid {workdir / 'nginx.pid'};\n"
        f"error_log {workdir / 'nginx-error.log'} warn;\n"
        "events { worker_connections 1024; }\n"
        "http {\n"
        f"  client_body_temp_path {workdir / 'nginx-body'};\n"
        f"  proxy_temp_path {workdir / 'nginx-proxy'};\n"
        f"  fastcgi_temp_path {workdir / 'nginx-fastcgi'};\n  uwsgi_temp_path {workdir / 'nginx-uwsgi'};\n"
        f"  scgi_temp_path {workdir / 'nginx-scgi'};\n"
        f"  include {site};\n"
        "}\n"
    )
    check = subprocess.run([binary, "-t", "-p", str(workdir), "-c", str(main)], capture_output=True, text=True)
    if check.returncode != 0:
        raise SystemExit(f"bench: nginx refused the configuration:\n{check.stderr}")
    process = subprocess.Popen([binary, "-p", str(workdir), "-c", str(main), "-g", "daemon off;"],
                               stdout=open(workdir / "nginx.out", "ab"), stderr=subprocess.STDOUT)
    try:
        bench.wait_healthy(port)
    except SystemExit:
        process.terminate()
        process.wait(timeout=30)
        raise
    return process, port


def start_instance(workdir: Path, name: str, pgbouncer_port: int, redis_url: str, queue: str,
                   extra: dict[str, str], with_worker: bool) -> bench.Server:
    port = bench.free_port()
    env = bench.production_env(port, redis_url, queue) | extra
    env.update(DATABASE_URL=f"{bench.postgres_server().rsplit('@', 1)[0]}@127.0.0.1:{pgbouncer_port}/{bench.DB_NAME}",
               DB_PGBOUNCER="true", PROXY_COUNT="1")
    server = bench.Server(name, port=port)
    server.processes.append(subprocess.Popen(
        [str(bench.BIN / "gunicorn"), "-c", str(bench.ROOT / "gunicorn.conf.py"), "wsgi:app"], cwd=bench.ROOT, env=env,
        stdout=open(workdir / f"{name}.log", "ab"), stderr=subprocess.STDOUT,
    ))
    if with_worker:
        server.processes.append(subprocess.Popen(
            [str(bench.BIN / "flask"), "--app", "wsgi", "worker"], cwd=bench.ROOT, env=env,
            stdout=open(workdir / f"{name}-worker.log", "ab"), stderr=subprocess.STDOUT,
        ))
    bench.wait_healthy(port)
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--sign-limit", type=int, default=150,
                        help="signature POSTs per hour allowed to the one client address, across both instances")
    parser.add_argument("--signatures", type=int, default=100_000, help="when the database has to be made")
    parser.add_argument("--reuse-db", action="store_true", help="use the database a `bench.run --keep-db` left")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(bench.ROOT / "platform"))
    os.environ.setdefault("UNDERSIGN_ENV", "development")
    for tool in ("wrk", "nginx", "pgbouncer"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            raise SystemExit(f"bench: {tool} is not installed (Debian: apt-get install {tool})")
    workdir = Path(tempfile.mkdtemp(prefix="undersign-cluster-"))
    os.chmod(workdir, 0o777)  # PgBouncer and nginx's workers run as nobody when started by root
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    queue = f"undersign-cluster-{os.getpid()}"
    run_id = time.strftime("%H%M%S") + "c"

    def log(message: str) -> None:
        print(f"[cluster {time.strftime('%H:%M:%S')}] {message}", flush=True)

    if args.reuse_db:
        import psycopg

        with psycopg.connect(bench.bench_database_url()) as conn:
            million_id, lead = conn.execute(
                "SELECT c.id, o.slug FROM campaigns c JOIN organizations o ON o.id = c.lead_organization_id WHERE c.slug = %s",
                (bench.MILLION_SLUG,)).fetchone()
        data: dict[str, Any] = {"million_id": million_id, "lead_slug": lead}
    else:
        log(f"creating {bench.DB_NAME} with {args.signatures:,} signatures")
        bench.create_database()
        data = bench.load_data(args.signatures, log)
    # Rate limits on, shared through Redis; the signature limit low enough for the load to reach it.
    # One SECRET_KEY for all instances (README, "Several web machines"): a form served by one is posted to the other;
    # one LOG_SIGNING_KEY, so the log's heads are signed by the key the platform publishes, whichever instance signs.
    extra = {"SECRET_KEY": secrets.token_urlsafe(48), "LOG_SIGNING_KEY": base64.b64encode(secrets.token_bytes(32)).decode(), "RATELIMIT_ENABLED": "true", "SIGN_RATE_LIMIT": f"{args.sign_limit} per hour", "GUNICORN_ACCESSLOG": "",
             "WEB_CONCURRENCY": os.environ.get("WEB_CONCURRENCY", "2")}
    import redis as redis_lib

    client = redis_lib.Redis.from_url(redis_url)
    for key in client.scan_iter(match="LIMITS*sign*"):  # an earlier run's window would count against this one
        client.delete(key)
    client.close()
    processes: list[Any] = []
    servers: list[bench.Server] = []
    try:
        pgbouncer, pgbouncer_port = start_pgbouncer(workdir)
        processes.append(pgbouncer)
        log(f"PgBouncer on 127.0.0.1:{pgbouncer_port} (transaction pooling)")
        for i in range(2):
            servers.append(start_instance(workdir, f"web{i + 1}", pgbouncer_port, redis_url, queue, extra, with_worker=i == 0))
        log("two gunicorn instances on " + ", ".join(f"127.0.0.1:{s.port}" for s in servers))
        nginx, nginx_port = start_nginx(workdir, [s.port for s in servers])
        processes.append(nginx)
        log(f"nginx on 127.0.0.1:{nginx_port}")
        cpu_before = [bench.cpu_seconds([s.master.pid, *bench.children(s.master.pid)]) for s in servers]
        combined = bench.Server("cluster", processes=[p for s in servers for p in s.processes], port=nginx_port)
        result = bench.run_wrk("mixed", f"http://127.0.0.1:{nginx_port}", args.concurrency, args.seconds, "mixed.lua",
                               ["1000000", bench.MILLION_SLUG, f"{run_id} {data['lead_slug']}"], True, combined, workdir)
        cpu = [bench.cpu_seconds([s.master.pid, *bench.children(s.master.pid)]) - b for s, b in zip(servers, cpu_before)]
        time.sleep(2)
    finally:
        for server in servers:
            server.stop()
        for process in reversed(processes):
            process.terminate()
            process.wait(timeout=30)
    statuses = result.kind("sign")["statuses"]
    accepted = result.ok("sign")
    checks = bench.integrity(run_id, data["million_id"], accepted, 0)
    page = result.kind("page")
    lines = [
        f"Cluster: nginx -> 2 gunicorn instances ({extra['WEB_CONCURRENCY']} workers x 4 threads each) -> PgBouncer "
        f"(transaction pooling) -> PostgreSQL; mixed load at concurrency {args.concurrency} for {args.seconds} s, "
        f"load average {bench.load_average()}.",
        f"Page reads: {result.rate('page', ok_only=False):,.0f}/s, p50 {page['p50_ms']:.1f} ms, p99 {page['p99_ms']:.1f} ms "
        f"(nginx's cache answers most); signature POSTs: {statuses}.",
        f"CPU of each instance during the load: " + ", ".join(f"web{i + 1} {c:.1f} s" for i, c in enumerate(cpu))
        + " (both served).",
        f"Rate limit shared: {args.sign_limit} signature POSTs per hour allowed to the one client address; "
        f"accepted {accepted} across both instances, refused with 429: {statuses.get('429', 0)}: "
        f"{'yes' if accepted <= args.sign_limit and (accepted == args.sign_limit or not statuses.get('429')) else 'NO'}.",
        f"Count: counter {checks['counter']:,} = rows {checks['rows']:,}: {'yes' if checks['counter_equals_rows'] else 'NO'}; "
        f"signatures accepted {checks['signs_accepted']:,}, rows {checks['signature_rows']:,}: "
        f"{checks['lost_signatures']} lost, {checks['duplicated_signatures']} duplicated.",
    ]
    print("\n".join(lines))
    (workdir / "report.md").write_text("\n".join(lines) + "\n")
    log(f"logs in {workdir}")
    return 0 if checks["counter_equals_rows"] and not checks["lost_signatures"] and not checks["duplicated_signatures"] else 1


if __name__ == "__main__":
    sys.exit(main())
