"""Background work.

Four kinds: delivering the mail outbox, writing an update's mailing to the
outbox (`undersign.mailings.service.write_mailing`), sending webhook
deliveries (`undersign.webhooks.delivery`, kicked like the outbox; retries are
picked up by the same sweeps once due), and running or reversing a bulk
invalidation of signatures (`undersign.signatures.fraud`, one job per batch
like a mailing, resumed by the sweeps while pending). All are kicked after
the commit that asked for them, by the means ``MAIL_DELIVERY`` names:

- ``thread`` (embedded default): a daemon thread in this process, started on
  first use (never before a fork), woken after every commit that queued mail;
- ``queue``: an RQ job on Redis (queue ``JOB_QUEUE``), run by ``flask worker``;
  if Redis is down the mail simply waits in the outbox and the worker's
  periodic sweep sends it (the outbox in the database is the source of truth,
  the queue only says "look now");
- ``manual``: nothing happens until someone calls ``deliver_pending`` (tests).

A viral petition commits hundreds of signatures a second, each with a
confirmation mail. Enqueueing one job per commit would fill Redis with jobs
that find nothing to do, so kicks are debounced: a commit enqueues a job only
if it can set the queue's "kick" key; the job deletes that key *before* it
reads the outbox, so mail committed after the job started triggers a new job
and mail committed before is seen by this one. At most one delivery job waits
in the queue at any time.

A mailing gets a job of its own (one per mailing, never debounced); the
in-process thread and the worker's periodic sweep also run every mailing that
is not finished, so one whose job was lost or died midway is resumed.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from undersign.extensions import db

if TYPE_CHECKING:
    from redis import Redis
    from rq import Queue

log = logging.getLogger(__name__)

DELIVER_JOB = "undersign.jobs.deliver_outbox_job"
MAILING_JOB = "undersign.jobs.write_mailing_job"
WEBHOOK_JOB = "undersign.jobs.deliver_webhooks_job"
INVALIDATION_JOB = "undersign.jobs.run_invalidation_job"
# After Redis failed, a process leaves it alone this long (no request waits on a dead Redis).
REDIS_RETRY_SECONDS = 5.0

_wakeup = threading.Event()
_stop = threading.Event()
# Bulk invalidations wait in the database; the thread looks for them when one was asked for, and once
# when it starts (to resume one whose process stopped), not on every wake-up.
_invalidations_due = threading.Event()
_invalidations_due.set()
_thread: threading.Thread | None = None
_thread_lock = threading.Lock()
_redis_down_until: dict[str, float] = {}


# --- in-process delivery (embedded default) ---------------------------------------------------

def _deliver_forever(app: Flask) -> None:
    while True:
        _wakeup.wait(timeout=30)
        _wakeup.clear()
        if _stop.is_set():
            return
        if _invalidations_due.is_set():
            _invalidations_due.clear()
            sweep_invalidations(app)
        sweep_mailings(app)
        sweep_outbox(app)
        sweep_webhooks(app)
        close_expired(app)
        sweep_retention(app)
        sign_log_heads(app)


def _start_thread(app: Flask) -> None:
    global _thread
    with _thread_lock:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_deliver_forever, args=(app,), name="mail-outbox", daemon=True)
            _thread.start()


def stop_thread(timeout: float = 10.0) -> None:
    """Stop the in-process delivery thread after its current round (an app torn down in the process that ran it)."""
    global _thread
    with _thread_lock:
        if _thread is not None:
            _stop.set()
            _wakeup.set()
            _thread.join(timeout)
            _thread = None
        _stop.clear()
        _wakeup.clear()
        _invalidations_due.set()  # the next thread looks once, as a first one does


# --- Redis and the job queue ------------------------------------------------------------------

def redis_client(app: Flask | None = None) -> Redis:
    """This process's client for ``REDIS_URL`` (connections pooled, re-made after a fork).

    Short timeouts: the web side must never wait long on Redis.
    """
    from redis import Redis

    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    client = app.extensions.get("undersign_redis")
    if client is None:
        timeout = app.config["REDIS_TIMEOUT"]
        client = Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=timeout, socket_timeout=timeout)
        app.extensions["undersign_redis"] = client
    return client


def _queue(app: Flask | None = None, connection: Redis | None = None) -> Queue:
    from rq import Queue

    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    return Queue(app.config["JOB_QUEUE"], connection=connection or redis_client(app))


def _kick_key(app: Flask, what: str = "outbox") -> str:
    return f"undersign:{app.config['JOB_QUEUE']}:{what}-kick"


def _redis_available(app: Flask) -> bool:
    return time.monotonic() >= _redis_down_until.get(app.config["REDIS_URL"], 0.0)


def _redis_failed(app: Flask, what: str, exc: Exception) -> None:
    url = app.config["REDIS_URL"]
    first = _redis_available(app)
    _redis_down_until[url] = time.monotonic() + REDIS_RETRY_SECONDS
    if first:
        log.warning("Redis unavailable (%s): %s; mail stays in the database outbox until the worker's sweep", what, exc)


def enqueue(function_path: str, *args: Any) -> bool:
    """Put a job on the Redis queue; False (and a warning) when Redis cannot be reached."""
    from redis.exceptions import RedisError

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not _redis_available(app):
        return False
    try:
        _queue(app).enqueue(function_path, *args, job_timeout=300, result_ttl=0, failure_ttl=7 * 86400)
        return True
    except RedisError as exc:
        _redis_failed(app, f"enqueue {function_path}", exc)
        return False


def _kick_queue(app: Flask, what: str = "outbox", job: str = DELIVER_JOB) -> bool:
    """Enqueue a delivery job unless one is already waiting (see the module docstring)."""
    from redis.exceptions import RedisError

    if not _redis_available(app):
        return False
    try:
        if not redis_client(app).set(_kick_key(app, what), "1", nx=True, ex=300):
            return True  # a job is already waiting and will see this commit's mail
    except RedisError as exc:
        _redis_failed(app, f"{what} kick", exc)
        return False
    if not enqueue(job):
        try:
            redis_client(app).delete(_kick_key(app, what))
        except RedisError:
            pass
        return False
    return True


def kick_outbox() -> None:
    """Ask for the outbox to be delivered soon, by whatever means this deployment has."""
    mode = current_app.config["MAIL_DELIVERY"]
    if mode == "thread":
        _start_thread(current_app._get_current_object())  # type: ignore[attr-defined]
        _wakeup.set()
    elif mode == "queue":
        _kick_queue(current_app._get_current_object())  # type: ignore[attr-defined]


def kick_mailings(mailing_ids: list[int]) -> None:
    """Have these mailings written to the outbox soon (see the module docstring)."""
    mode = current_app.config["MAIL_DELIVERY"]
    if mode == "thread":
        _start_thread(current_app._get_current_object())  # type: ignore[attr-defined]
        _wakeup.set()
    elif mode == "queue":
        for mailing_id in mailing_ids:
            enqueue(MAILING_JOB, mailing_id)  # when Redis is down, the worker's sweep runs it


def kick_invalidations(batch_ids: list[int]) -> None:
    """Have these bulk invalidations (or their reversals) run soon, like a mailing."""
    mode = current_app.config["MAIL_DELIVERY"]
    if mode == "thread":
        _invalidations_due.set()
        _start_thread(current_app._get_current_object())  # type: ignore[attr-defined]
        _wakeup.set()
    elif mode == "queue":
        for batch_id in batch_ids:
            enqueue(INVALIDATION_JOB, batch_id)  # when Redis is down, the worker's sweep runs it


def _run_invalidation(batch_id: int) -> int:
    from undersign.signatures.fraud import run_unfinished
    from undersign.transaction import unit_of_work

    with unit_of_work():
        return run_unfinished(batch_id)


def run_invalidation_job(batch_id: int) -> int:
    """RQ entry point: run one bulk invalidation or its reversal, in one transaction."""
    try:
        return _run_invalidation(batch_id)
    finally:
        db.session.remove()


def sweep_invalidations(app: Flask) -> int:
    """Run every bulk invalidation (and reversal) still waiting, each in its own transaction; never raises."""
    from undersign.signatures.fraud import unfinished_batches

    done = 0
    with app.app_context():
        try:
            waiting = unfinished_batches()
            db.session.rollback()
            for batch_id, _status in waiting:
                done += _run_invalidation(batch_id)
        except Exception:
            log.exception("a bulk invalidation failed")
        finally:
            db.session.remove()
    return done


def kick_webhooks() -> None:
    """Have the webhook deliveries just committed sent soon (debounced like the outbox)."""
    mode = current_app.config["MAIL_DELIVERY"]
    if mode == "thread":
        _start_thread(current_app._get_current_object())  # type: ignore[attr-defined]
        _wakeup.set()
    elif mode == "queue":
        _kick_queue(current_app._get_current_object(), "webhooks", WEBHOOK_JOB)  # type: ignore[attr-defined]


def deliver_webhooks_job() -> int:
    """RQ entry point: send the webhook deliveries that are due."""
    from redis.exceptions import RedisError

    from undersign.webhooks.delivery import deliver_due

    try:
        redis_client().delete(_kick_key(current_app, "webhooks"))
    except RedisError:
        pass  # the key expires by itself; the sweep covers the gap
    try:
        return deliver_due()
    finally:
        db.session.remove()


def sweep_webhooks(app: Flask) -> int:
    """Send the webhook deliveries that are due (new ones and retries), in a fresh app context; never raises."""
    from undersign.webhooks.delivery import deliver_due

    with app.app_context():
        try:
            return deliver_due()
        except Exception:
            log.exception("webhook delivery failed")
            return 0
        finally:
            db.session.remove()


def write_mailing_job(mailing_id: int) -> int:
    """RQ entry point: write one mailing's messages to the outbox, resuming where an earlier run stopped."""
    from undersign.mailings.service import write_mailing

    try:
        return write_mailing(mailing_id)
    finally:
        db.session.remove()


def sweep_mailings(app: Flask) -> int:
    """Write every unfinished mailing to the outbox, in a fresh app context; never raises."""
    from undersign.mailings.service import unfinished_mailings, write_mailing

    written = 0
    with app.app_context():
        try:
            for mailing_id in unfinished_mailings():
                written += write_mailing(mailing_id)
        except Exception:
            log.exception("writing a mailing to the outbox failed")
        finally:
            db.session.remove()
    return written


def queue_depth(app: Flask | None = None) -> int:
    """Jobs waiting in this deployment's queue. :raise RedisError: Redis cannot be reached."""
    return int(_queue(app).count)


def deliver_outbox_job() -> int:
    """RQ entry point: runs inside the worker's app context (see `run_worker`)."""
    from redis.exceptions import RedisError

    from undersign.mail import deliver_pending

    try:
        redis_client().delete(_kick_key(current_app))
    except RedisError:
        pass  # the key expires by itself; the sweep covers the gap
    try:
        return deliver_pending()
    finally:
        db.session.remove()


def sweep_outbox(app: Flask) -> int:
    """Deliver whatever is due, in a fresh app context; never raises (the outbox keeps the mail)."""
    from undersign.mail import deliver_pending

    with app.app_context():
        try:
            return deliver_pending()
        except Exception:
            log.exception("mail delivery failed")
            return 0
        finally:
            db.session.remove()


# --- the worker process -----------------------------------------------------------------------

def run_worker(app: Flask, burst: bool = False) -> None:
    """`flask worker`: an RQ worker on ``JOB_QUEUE`` plus a periodic sweep of the outbox.

    The sweep (every ``OUTBOX_SWEEP_SECONDS``, and once at start) delivers mail
    whose job never reached Redis, and retries that failed earlier. While Redis
    is down the worker keeps sweeping and reconnects with backoff. With
    ``burst`` it sweeps once, runs the jobs that are waiting, and returns.

    :raise redis.exceptions.ConnectionError: in burst mode, Redis cannot be reached.
    """
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
    from rq import SimpleWorker

    # No socket_timeout here: the worker blocks on BLPOP for minutes by design.
    connection = Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=5, health_check_interval=30)
    queue = _queue(app, connection)
    stop = threading.Event()
    sweeper: threading.Thread | None = None
    if burst:
        sweep_invalidations(app)
        sweep_mailings(app)
        sweep_outbox(app)
        sweep_webhooks(app)
        close_expired(app)
        sweep_retention(app, force=True)
        sign_log_heads(app)
    else:
        sweeper = threading.Thread(target=_sweep_forever, args=(app, stop), name="outbox-sweep", daemon=True)
        sweeper.start()
    # SimpleWorker runs jobs in this process (no fork per job): mail delivery is short, and
    # the app, its connection pool and its templates stay warm between jobs.
    wait = 1.0
    try:
        with app.app_context():
            while True:
                worker = SimpleWorker([queue], connection=connection)
                try:
                    worker.work(burst=burst, logging_level=app.config["LOG_LEVEL"], with_scheduler=False)
                    return
                except (RedisConnectionError, RedisTimeoutError) as exc:
                    if burst:
                        raise
                    log.warning("Redis unreachable, worker retries in %.0f s (the outbox sweep goes on): %s", wait, exc)
                    time.sleep(wait)
                    wait = min(wait * 2, 30.0)
    finally:
        stop.set()


def close_expired(app: Flask) -> int:
    """Write ``closed`` on petitions past their closing date; never raises.

    Readers already see them closed (`Campaign.public_status`); this keeps the
    stored status, listings and reports in step without an extra cron entry.
    """
    from undersign.campaigns.service import close_expired_campaigns
    from undersign.db import utcnow
    from undersign.transaction import unit_of_work

    with app.app_context():
        try:
            with unit_of_work():
                return close_expired_campaigns(utcnow())
        except Exception:
            log.exception("closing expired petitions failed")
            return 0
        finally:
            db.session.remove()


# Retention's work is counted in days: once an hour per process is plenty.
RETENTION_INTERVAL_SECONDS = 3600.0
_retention_ran_at: dict[int, float] = {}


def sweep_retention(app: Flask, *, force: bool = False) -> None:
    """Warn owners, anonymize closed petitions past retention, delete old unconfirmed signatures
    (`undersign.signatures.retention`); at most once an hour per app unless ``force``; never raises."""
    from undersign.db import utcnow
    from undersign.signatures import retention
    from undersign.transaction import unit_of_work

    ran = _retention_ran_at.get(id(app))
    if not force and ran is not None and time.monotonic() - ran < RETENTION_INTERVAL_SECONDS:
        return
    _retention_ran_at[id(app)] = time.monotonic()
    with app.app_context():
        try:
            with unit_of_work():
                report = retention.run(utcnow(), retention_days=app.config["SIGNER_DATA_RETENTION_DAYS"],
                                       unconfirmed_days=app.config["UNCONFIRMED_SIGNATURE_DAYS"],
                                       mail_days=app.config["MAIL_LOG_DAYS"])
            if report.warned or report.anonymized or report.unconfirmed_deleted or report.mail_deleted:
                log.info("retention: %s", "; ".join(report.lines()))
        except Exception:
            log.exception("retention failed")
        finally:
            db.session.remove()


def sign_log_heads(app: Flask) -> int:
    """Sign a fresh head for every petition whose log grew and whose head is a minute old
    (`undersign.transparency.heads`), so heads come at least every minute while a log grows; never raises."""
    from undersign.campaigns.models import Campaign
    from undersign.db import utcnow
    from undersign.transaction import unit_of_work
    from undersign.transparency import heads

    signed = 0
    with app.app_context():
        try:
            due = heads.due_campaigns(utcnow())
            db.session.rollback()
            for campaign_id in due:
                with unit_of_work():
                    campaign = db.session.get(Campaign, campaign_id)
                    if campaign is not None:
                        heads.issue(campaign)
                        signed += 1
        except Exception:
            log.exception("signing log heads failed")
        finally:
            db.session.remove()
    return signed


def _sweep_forever(app: Flask, stop: threading.Event) -> None:
    interval = app.config["OUTBOX_SWEEP_SECONDS"]
    while True:
        sweep_invalidations(app)
        sweep_mailings(app)
        sent = sweep_outbox(app)
        if sent:
            log.info("outbox sweep sent %s message(s)", sent)
        hooks = sweep_webhooks(app)
        if hooks:
            log.info("webhook sweep delivered %s event(s)", hooks)
        closed = close_expired(app)
        if closed:
            log.info("closed %s petition(s) past their closing date", closed)
        sweep_retention(app)
        sign_log_heads(app)
        if stop.wait(min(interval, 30)):
            return


@event.listens_for(Session, "after_commit")
def _kick_after_commit(session: Session) -> None:
    invalidations = session.info.pop("invalidations_started", None)
    if invalidations:
        try:
            kick_invalidations(invalidations)
        except RuntimeError:  # outside an app context (plain scripts)
            pass
    mailings = session.info.pop("mailings_started", None)
    if mailings:
        try:
            kick_mailings(mailings)
        except RuntimeError:  # outside an app context (plain scripts)
            pass
    if session.info.pop("mail_queued", False):
        try:
            kick_outbox()
        except RuntimeError:  # outside an app context (plain scripts)
            pass
    if session.info.pop("webhooks_queued", False):
        try:
            kick_webhooks()
        except RuntimeError:  # outside an app context (plain scripts)
            pass


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop("mailings_started", None)  # nothing was asked for after all
    session.info.pop("invalidations_started", None)
    session.info.pop("webhooks_queued", None)
