"""The Redis-backed paths against the real Redis: rate limits shared by several app
instances (workers, machines), and jobs enqueued by the web and run by ``flask worker``.

Other people run the suite against the same Redis at the same time: everything here
lives in database 15 (the ``redis_url`` fixture) under a key prefix and a queue name
of its own, removed afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from tests.helpers import submit
from tests.signatures.petitions import make_petition, sign, supporter

pytestmark = pytest.mark.redis
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def namespace(redis_url: str):  # type: ignore[no-untyped-def]
    """A prefix no one else uses; its keys are deleted afterwards."""
    import redis

    name = f"undersign-test-{uuid.uuid4().hex[:12]}"
    yield name
    client = redis.Redis.from_url(redis_url)
    jobs = [f"rq:job:{job_id.decode()}" for job_id in client.lrange(f"rq:queue:{name}", 0, -1)]
    keys = list(client.scan_iter(match=f"*{name}*", count=1000)) + jobs
    if keys:
        client.delete(*keys)
    client.srem("rq:queues", f"rq:queue:{name}")
    client.close()


def received(mailbox, address: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Bodies the SMTP server got for ``address``, without delivering anything ourselves
    (``mailbox.last_to`` would run the outbox delivery and hide what the worker did)."""
    return [m.body for m in mailbox.messages if address in m.to]


def limiter_config(redis_url: str, namespace: str) -> dict[str, object]:
    return {
        "RATELIMIT_STORAGE_URI": redis_url,
        "RATELIMIT_KEY_PREFIX": namespace,
        "RATELIMIT_STORAGE_OPTIONS": {"key_prefix": namespace, "socket_connect_timeout": 2, "socket_timeout": 2},
    }


SECOND_INSTANCE = textwrap.dedent("""
    import json, sys, tempfile
    from pathlib import Path
    from undersign import create_app
    from undersign.extensions import db
    from tests.helpers import submit

    redis_url, namespace, attempts = sys.argv[1], sys.argv[2], int(sys.argv[3])
    tmp = Path(tempfile.mkdtemp())
    app = create_app({
        "TESTING": True, "SECRET_KEY": "second-instance-secret-key-0123456789abcdef",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'second.sqlite3'}", "INSTANCE_PATH": str(tmp),
        "MAIL_DELIVERY": "manual", "REDIS_URL": None, "LOG_FORMAT": "text",
        "RATELIMIT_STORAGE_URI": redis_url, "RATELIMIT_KEY_PREFIX": namespace,
        "RATELIMIT_STORAGE_OPTIONS": {"key_prefix": namespace, "socket_connect_timeout": 2, "socket_timeout": 2},
    })
    with app.app_context():
        db.create_all()
    client = app.test_client()
    statuses = [submit(client, "/login", {"email": "nobody@example.org", "password": "wrong"}).status_code
                for _ in range(attempts)]
    print(json.dumps(statuses))
""")


def test_rate_limits_are_shared_between_app_instances(make_app, redis_url, namespace):
    """Another process (another worker or machine) spends 6 of the 10 sign-in attempts a
    minute that one address has; this instance gets the remaining 4, then 429."""
    second = subprocess.run(
        [sys.executable, "-c", SECOND_INSTANCE, redis_url, namespace, "6"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env=os.environ | {"UNDERSIGN_ENV": "development"},
    )
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout.strip().splitlines()[-1]) == [400] * 6

    client = make_app(**limiter_config(redis_url, namespace)).test_client()
    statuses = [submit(client, "/login", {"email": "nobody@example.org", "password": "wrong"}).status_code
                for _ in range(5)]
    assert statuses == [400, 400, 400, 400, 429]


def test_a_job_enqueued_by_the_web_is_run_by_the_worker(make_app, redis_url, namespace, mailbox):
    """Signing commits the confirmation mail to the outbox and puts one delivery job on the
    queue; nothing is sent until a worker runs it (here an RQ SimpleWorker in burst mode,
    what ``flask worker`` runs)."""
    from redis import Redis
    from rq import Queue, SimpleWorker

    app = make_app(REDIS_URL=redis_url, MAIL_DELIVERY="queue", JOB_QUEUE=namespace,
                   **limiter_config(redis_url, namespace))
    petition = make_petition()
    client = app.test_client()
    for email in ("ana@example.org", "ben@example.org"):
        assert sign(app.test_client(), petition.url, supporter(email=email)).status_code == 303

    health = client.get("/healthz").json
    assert health["redis"] == "ok"
    # Two commits, one waiting job: kicks are debounced while a job is queued (jobs.py).
    assert health["queue_depth"] == 1
    assert health["outbox_backlog"] == 2
    assert mailbox.messages == []

    connection = Redis.from_url(redis_url)
    with app.app_context():
        SimpleWorker([Queue(namespace, connection=connection)], connection=connection).work(burst=True)
    assert "/confirm/" in received(mailbox, "ana@example.org")[0]
    assert "/confirm/" in received(mailbox, "ben@example.org")[0]
    after = client.get("/healthz").json
    assert after["queue_depth"] == 0 and after["outbox_backlog"] == 0

    # The job cleared the debounce key: the next signature queues a new job.
    assert sign(app.test_client(), petition.url, supporter(email="cy@example.org")).status_code == 303
    assert client.get("/healthz").json["queue_depth"] == 1
    connection.close()


def test_flask_worker_burst_sweeps_the_outbox_and_runs_the_queue(make_app, redis_url, namespace, mailbox):
    """``flask worker --burst``: mail that never reached the queue (Redis was down when it was
    committed) goes out too, because the worker sweeps the outbox from the database."""
    app = make_app(REDIS_URL=redis_url, MAIL_DELIVERY="manual", JOB_QUEUE=namespace,
                   **limiter_config(redis_url, namespace))
    client = app.test_client()
    assert submit(client, "/signup", {"name": "Dee", "email": "dee@example.org",
                                      "password": "a long enough passphrase"}).status_code == 200
    assert client.get("/healthz").json["queue_depth"] == 0  # nothing was queued
    with app.app_context():  # the command runs in the app it is given (here: this one)
        result = app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output
    assert "/verify/" in received(mailbox, "dee@example.org")[0]


def test_flask_worker_closes_petitions_past_their_closing_date(make_app, redis_url, namespace):
    """Nobody has to remember a cron entry: the worker's sweep writes ``closed`` on expired petitions."""
    import datetime as dt

    from tests.campaigns.campaign_factories import make_campaign
    from tests.factories import make_org
    from undersign.campaigns.models import Campaign
    from undersign.db import utcnow
    from undersign.extensions import db

    app = make_app(REDIS_URL=redis_url, MAIL_DELIVERY="manual", JOB_QUEUE=namespace,
                   **limiter_config(redis_url, namespace))
    lead = make_org()
    expired = make_campaign(lead, status="published", closes_at=utcnow() - dt.timedelta(minutes=1))
    running = make_campaign(lead, status="published", closes_at=utcnow() + dt.timedelta(days=1))
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(Campaign, expired.id).status == "closed"
    assert db.session.get(Campaign, running.id).status == "published"


API_INSTANCE = textwrap.dedent("""
    import json, sys, tempfile
    from pathlib import Path
    from undersign import create_app

    redis_url, namespace, database, secret, attempts = sys.argv[1:6]
    tmp = Path(tempfile.mkdtemp())
    app = create_app({
        "TESTING": True, "SECRET_KEY": "second-instance-secret-key-0123456789abcdef",
        "SQLALCHEMY_DATABASE_URI": database, "INSTANCE_PATH": str(tmp),
        "MAIL_DELIVERY": "manual", "REDIS_URL": None, "LOG_FORMAT": "text", "API_RATE_LIMIT": "3 per minute",
        "RATELIMIT_STORAGE_URI": redis_url, "RATELIMIT_KEY_PREFIX": namespace,
        "RATELIMIT_STORAGE_OPTIONS": {"key_prefix": namespace, "socket_connect_timeout": 2, "socket_timeout": 2},
    })
    client = app.test_client()
    print(json.dumps([client.get("/api/v1/me", headers={"Authorization": "Bearer " + secret}).status_code
                      for _ in range(int(attempts))]))
""")


def test_an_api_tokens_rate_limit_is_shared_between_app_instances(app, make_app, redis_url, namespace,
                                                                   committed_db):
    """Another process spends 2 of a token's 3 requests a minute; this instance gets the last one, then 429,
    while another token of the same organization is unaffected."""
    from tests.factories import make_org, make_user
    from undersign.api.service import create_token

    org = make_org(owner=make_user())
    _one, busy = create_token(None, org, "busy", write=False)
    _two, calm = create_token(None, org, "calm", write=False)
    committed_db.session.commit()
    second = subprocess.run(
        [sys.executable, "-c", API_INSTANCE, redis_url, namespace, app.config["SQLALCHEMY_DATABASE_URI"], busy, "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env=os.environ | {"UNDERSIGN_ENV": "development"},
    )
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout.strip().splitlines()[-1]) == [200, 200]

    client = make_app(API_RATE_LIMIT="3 per minute", **limiter_config(redis_url, namespace)).test_client()
    statuses = [client.get("/api/v1/me", headers={"Authorization": f"Bearer {busy}"}).status_code for _ in range(2)]
    assert statuses == [200, 429]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {calm}"}).status_code == 200
