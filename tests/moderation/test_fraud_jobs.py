"""Bulk invalidation as background work on Redis: the run and its reversal are RQ jobs that `flask worker` runs."""

from __future__ import annotations

import pytest

from tests.factories import login_as, make_user
from tests.helpers import submit
from tests.moderation.test_fraud import confirm_all, preview, previewed_numbers, run_previewed, sign_from
from tests.signatures.petitions import counts, make_petition
from tests.test_redis import limiter_config, namespace  # noqa: F401 (the namespace fixture)
from undersign.extensions import db
from undersign.signatures.models import InvalidationBatch

pytestmark = pytest.mark.redis


def test_the_invalidation_and_its_reversal_run_on_the_worker(make_app, redis_url, namespace, mailbox):  # noqa: F811
    from redis import Redis
    from rq import Queue, SimpleWorker

    app = make_app(REDIS_URL=redis_url, MAIL_DELIVERY="queue", JOB_QUEUE=namespace,
                   **limiter_config(redis_url, namespace))
    petition = make_petition()
    client = app.test_client()
    emails = [f"farm{n}@example.net" for n in range(3)]
    for n, email in enumerate(emails):
        assert sign_from(client, petition, email, f"10.7.0.{n + 1}").status_code == 303
    confirm_all(client, mailbox, emails)
    assert counts(petition)[0] == 3
    admin = app.test_client()
    login_as(admin, make_user(admin=True))
    previewed = preview(admin, petition, email_domain="example.net")
    assert previewed_numbers(previewed) == (3, 3)

    connection = Redis.from_url(redis_url)
    queue = Queue(namespace, connection=connection)
    assert run_previewed(admin, petition, previewed).status_code == 302
    assert [job.func_name for job in queue.jobs].count("undersign.jobs.run_invalidation_job") == 1
    assert counts(petition)[0] == 3  # not before the worker runs it
    with app.app_context():
        SimpleWorker([queue], connection=connection).work(burst=True)
    assert counts(petition)[0] == 0

    db.session.expire_all()
    batch = db.session.scalars(db.select(InvalidationBatch)).one()
    page = f"/admin/campaigns/{petition.campaign.id}/invalidations"
    assert submit(admin, page, {}, action=f"{page}/{batch.id}/reverse").status_code == 302
    with app.app_context():
        SimpleWorker([queue], connection=connection).work(burst=True)
    assert counts(petition)[0] == 3
    db.session.refresh(batch)
    assert (batch.status, batch.invalidated, batch.restored) == ("reversed", 3, 3)
    connection.close()
