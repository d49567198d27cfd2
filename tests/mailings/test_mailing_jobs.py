"""The mailing as background work: an RQ job per mailing, and the worker's sweep resuming one that died."""

from __future__ import annotations

import pytest

from tests.factories import login_as
from tests.helpers import submit
from tests.mailings.supporters import editor, three_sponsors
from tests.test_redis import limiter_config, namespace, received  # noqa: F401 (the namespace fixture)
from undersign.campaigns.models import Update
from undersign.extensions import db
from undersign.mailings import service

pytestmark = pytest.mark.redis


def _send(app, found, title: str) -> Update:  # type: ignore[no-untyped-def]
    client = app.test_client()
    login_as(client, editor(found, found.lead))
    assert submit(client, found.url(found.lead, "updates/new"), {"title": title, "body": "News."}).status_code == 302
    db.session.commit()  # end this session's read, so that it sees what the app just wrote (SQLite snapshots)
    update = db.session.scalar(db.select(Update).where(Update.title == title))
    page = found.url(found.lead, f"updates/{update.id}/mailing")
    assert submit(client, page, {}, action=page + "/send").status_code == 302
    return update


def test_sending_puts_a_job_on_the_queue_that_the_worker_runs(make_app, redis_url, namespace, mailbox):  # noqa: F811
    from redis import Redis
    from rq import Queue, SimpleWorker

    app = make_app(REDIS_URL=redis_url, MAIL_DELIVERY="queue", JOB_QUEUE=namespace,
                   **limiter_config(redis_url, namespace))
    found = three_sponsors()
    update = _send(app, found, "Queued news")
    connection = Redis.from_url(redis_url)
    queue = Queue(namespace, connection=connection)
    assert any(job.func_name == "undersign.jobs.write_mailing_job" for job in queue.jobs)
    assert [m for m in mailbox.messages if "Queued news" in m.subject] == []  # nothing before the worker runs

    with app.app_context():
        SimpleWorker([queue], connection=connection).work(burst=True)
    got = sorted(t for m in mailbox.messages if m.subject.endswith("Queued news") for t in m.to)
    assert got == ["ann@example.org", "bob@example.org"]
    assert service.progress(service.mailing_of(update))["sent"] == 2
    connection.close()


def test_a_restarted_worker_finishes_a_mailing_that_died_midway(make_app, redis_url, namespace, mailbox,  # noqa: F811
                                                               monkeypatch):
    from tests.mailings.supporters import add_signature

    app = make_app(REDIS_URL=redis_url, MAIL_DELIVERY="manual", JOB_QUEUE=namespace,
                   **limiter_config(redis_url, namespace))
    found = three_sponsors()
    for n in range(4):
        add_signature(found.campaign, f"Extra {n}", f"extra{n}@example.org", (found.lead,))
    update = _send(app, found, "Swept news")
    mailing = service.mailing_of(update)

    real = service.queue_message
    calls = {"n": 0}

    def dies_in_the_second_batch(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise SystemExit("worker killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "queue_message", dies_in_the_second_batch)
    with pytest.raises(SystemExit), app.app_context():
        service.write_mailing(mailing.id, batch_size=2)
    monkeypatch.setattr(service, "queue_message", real)

    with app.app_context():  # `flask worker --burst`: sweeps unfinished mailings, then the outbox
        result = app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output
    got = sorted(t for m in mailbox.messages if m.subject.endswith("Swept news") for t in m.to)
    assert got == sorted(["ann@example.org", "bob@example.org"] + [f"extra{n}@example.org" for n in range(4)])
    assert received(mailbox, "cat@example.org") == []
