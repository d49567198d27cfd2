"""Webhook deliveries go out as background work: an RQ job with Redis, the web process's thread without."""

from __future__ import annotations

import time

import pytest

from tests.factories import make_campaign, make_org, make_user
from tests.test_redis import limiter_config, namespace  # noqa: F401
from tests.webhooks.receiver import Receiver
from tests.webhooks.test_webhooks import signed_and_confirmed
from undersign.extensions import db
from undersign.webhooks.service import register_endpoint


def _scene(receiver: Receiver):  # type: ignore[no-untyped-def]
    owner = make_user()
    org = make_org(owner=owner)
    campaign = make_campaign(org, status="published")
    endpoint = register_endpoint(owner, org, receiver.url("/crm"), ["signature.confirmed"])
    db.session.commit()
    return org, campaign, endpoint


@pytest.mark.redis
def test_with_redis_the_commit_queues_a_job_that_the_worker_runs(make_app, redis_url, namespace, receiver):  # noqa: F811
    from redis import Redis
    from rq import Queue, SimpleWorker

    app = make_app(REDIS_URL=redis_url, MAIL_DELIVERY="queue", JOB_QUEUE=namespace,
                   **limiter_config(redis_url, namespace))
    connection = Redis.from_url(redis_url)
    queue = Queue(namespace, connection=connection)
    with app.app_context():
        org, campaign, endpoint = _scene(receiver)
        signed_and_confirmed(campaign, "ann@example.org", (org,))
        signed_and_confirmed(campaign, "bob@example.org", (org,))
        # Two commits: one waiting webhook job (debounced like the outbox) and one for the receipt mails.
        assert queue.count == 2
        assert receiver.requests == []
        SimpleWorker([queue], connection=connection).work(burst=True)
    got = sorted(r.verified(endpoint.secret)["data"]["person"]["name"] for r in receiver.to("/crm"))
    assert got == ["ann", "bob"]
    connection.close()


def test_on_the_embedded_default_a_thread_of_the_web_process_sends_it(make_app, committed_db, receiver):
    app = make_app(MAIL_DELIVERY="thread")
    with app.app_context():
        org, campaign, endpoint = _scene(receiver)
        secret = endpoint.secret
        signed_and_confirmed(campaign, "ann@example.org", (org,))
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not receiver.to("/crm"):
        time.sleep(0.05)
    (request,) = receiver.to("/crm")
    assert request.verified(secret)["data"]["person"]["email_addresses"][0]["address"] == "ann@example.org"
