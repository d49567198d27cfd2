"""Background work.

The only background work so far is delivering the mail outbox. How it is
kicked after a commit depends on ``MAIL_DELIVERY``:

- ``thread`` (embedded default): a daemon thread in this process, started on
  first use (never before a fork), woken after every commit that queued mail;
- ``queue``: an RQ job on Redis, run by ``flask worker``; if Redis is down the
  mail simply waits in the outbox and the worker's periodic sweep sends it;
- ``manual``: nothing happens until someone calls ``deliver_pending`` (tests).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from undersign.extensions import db

log = logging.getLogger(__name__)

_wakeup = threading.Event()
_thread: threading.Thread | None = None
_thread_lock = threading.Lock()


def _deliver_forever(app: Flask) -> None:
    from undersign.mail import deliver_pending

    while True:
        _wakeup.wait(timeout=30)
        _wakeup.clear()
        with app.app_context():
            try:
                deliver_pending()
            except Exception:  # keep the thread alive; the outbox keeps the mail
                log.exception("mail delivery failed")
                db.session.rollback()
            finally:
                db.session.remove()


def _start_thread(app: Flask) -> None:
    global _thread
    with _thread_lock:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_deliver_forever, args=(app,), name="mail-outbox", daemon=True)
            _thread.start()


def kick_outbox() -> None:
    """Ask for the outbox to be delivered soon, by whatever means this deployment has."""
    mode = current_app.config["MAIL_DELIVERY"]
    if mode == "thread":
        _start_thread(current_app._get_current_object())  # type: ignore[attr-defined]
        _wakeup.set()
    elif mode == "queue":
        enqueue("undersign.jobs.deliver_outbox_job")


def enqueue(function_path: str, *args: Any) -> bool:
    """Put a job on the Redis queue; False (and a warning) when Redis cannot be reached."""
    from redis import Redis
    from redis.exceptions import RedisError
    from rq import Queue

    try:
        queue = Queue("undersign", connection=Redis.from_url(current_app.config["REDIS_URL"], socket_timeout=2))
        queue.enqueue(function_path, *args, job_timeout=300, result_ttl=0)
        return True
    except RedisError as exc:
        log.warning("job queue unavailable, %s stays in the database until the worker's sweep: %s", function_path, exc)
        return False


def deliver_outbox_job() -> int:
    """RQ entry point: runs inside the worker's app context."""
    from undersign.mail import deliver_pending

    return deliver_pending()


@event.listens_for(Session, "after_commit")
def _kick_after_commit(session: Session) -> None:
    if session.info.pop("mail_queued", False):
        try:
            kick_outbox()
        except RuntimeError:  # outside an app context (plain scripts)
            pass
