"""gunicorn settings for production: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Every setting can be changed from the environment (names below), so the same
file serves one small machine, a larger one, and the benchmark.

Worker class ``gthread`` (threads inside each process):
- a request spends part of its time waiting on PostgreSQL and Redis; threads
  let a process overlap those waits while the GIL serialises the Python parts;
- it keeps connections alive (the ``sync`` class closes each one after a
  request and lets a slow client hold a whole process);
- no monkey-patching (``gevent``/``eventlet`` would need psycopg and redis to
  cooperate with green threads; psycopg's C parts do not);
- memory grows by threads, not processes: the budget is 150 MB per worker.

Workers: ``WEB_CONCURRENCY``, default one per core plus one; threads:
``GUNICORN_THREADS``, default 4. The classic ``2 * cores + 1`` assumes sync
workers that block on I/O; with threads covering the waits, more processes
than cores mostly add memory (about 95 MB each) and context switches. The
page is CPU-bound (the GIL lets one thread of a process run Python at a time),
so processes ~ cores, and the spare one covers a process stuck waiting. On the
2-core benchmark machine 2x4, 3x4, 3x8 and 5x2 (workers x threads) were within
the noise of a shared machine; 3x4 was best when it was quiet (README, "Benchmark").

The database pool (``DB_POOL_SIZE``, default 5, and as many overflow) must be
at least the number of threads: each thread holds at most one connection.
PostgreSQL sees ``machines * workers * (pool size + overflow)`` connections
at most; keep that under its ``max_connections`` (or put PgBouncer between).
"""

from __future__ import annotations

import multiprocessing
import os

from gunicorn import glogging

_cores = multiprocessing.cpu_count()

bind = os.environ.get("GUNICORN_BIND") or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", _cores + 1))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 4))
# Behind a load balancer: keep connections a little longer than the balancer's idle probe.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", 5))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 30
backlog = 2048
# Load the application once in the master and fork it: workers share the imported code
# (copy-on-write), start faster, and a broken app fails at start, not in every worker.
# No database or Redis connection is opened before the fork (see post_fork).
preload_app = True
# Recycle workers now and then so that a slow leak can never reach the memory budget.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 20000))
max_requests_jitter = max_requests // 10 if max_requests else 0
# gunicorn's control socket has one default path per user: several instances on one
# machine (web + benchmark ceiling, or two deployments) would fight over it. Unused here.
control_socket_disable = True
# Headers from the proxies in front are handled by ProxyFix (PROXY_COUNT) in the app.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Logs: access and errors on stdout (the platform collects stdout). With LOG_FORMAT=json
# (the production default) both are one JSON object per line, like the application's.
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
errorlog = "-"


class Logger(glogging.Logger):
    """gunicorn's logger, with the access log on only when ``accesslog`` names a target.

    gunicorn also logs every request whenever a ``logconfig_dict`` is set (the JSON
    logs below), so ``GUNICORN_ACCESSLOG=`` alone switched nothing off: each request
    still cost a formatted JSON line (README, "Benchmark", for what that costs).
    """

    def _compute_access_log_enabled(self) -> bool:  # gunicorn >= 24: skips the timing too
        return bool(self.cfg.accesslog)

    def access(self, resp, req, environ, request_time):  # type: ignore[no-untyped-def]
        if self.cfg.accesslog:
            super().access(resp, req, environ, request_time)


logger_class = Logger
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
if os.environ.get("LOG_FORMAT", "json" if os.environ.get("UNDERSIGN_ENV") == "production" else "text") == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "undersign.app.JsonLogFormatter"}},
        "handlers": {
            "stdout": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"},
        },
        # The application's own records go through the root logger (undersign.app sees the
        # JSON handler and adds none of its own).
        "root": {"handlers": ["stdout"], "level": loglevel.upper()},
        "loggers": {
            "gunicorn.error": {"handlers": ["stdout"], "level": loglevel.upper(), "propagate": False},
            "gunicorn.access": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        },
    }


def post_fork(server, worker):  # type: ignore[no-untyped-def]
    """Each worker starts with no inherited database connection (a shared socket corrupts both).

    The factory opens none, but a connection opened in the master by accident
    would otherwise be shared by every worker.
    """
    app = worker.app.wsgi()  # preloaded: the Flask application object
    if "sqlalchemy" not in getattr(app, "extensions", {}):
        return
    from undersign.extensions import db

    with app.app_context():
        db.engine.dispose(close=False)
