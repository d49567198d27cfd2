"""Readers of ``/p/<slug>/log/head`` sign new heads while signatures are logged: on SQLite a read transaction
cannot become a write once another writer committed, so the view takes the write lock first; nobody gets a 5xx."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import func, insert, select

from tests.signatures.petitions import make_petition
from undersign.db import writing
from undersign.transparency.models import LogEntry


def test_concurrent_readers_and_a_writer_all_get_a_head(app, committed_db, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "LOG_HEAD_SECONDS", 0)
    petition = make_petition()
    committed_db.session.commit()
    campaign_id, url = petition.campaign.id, petition.url + "/log/head"
    statuses: list[int] = []
    sizes: list[int] = []
    written: list[int] = []

    def writer() -> None:
        with app.app_context(), writing():   # the writer itself takes the lock first, as signing does
            for n in range(20):
                with committed_db.engine.begin() as conn:
                    index = conn.scalar(select(func.count()).select_from(LogEntry)
                                        .where(LogEntry.campaign_id == campaign_id))
                    conn.execute(insert(LogEntry).values(campaign_id=campaign_id, index=index, delta=1,
                                                         kind="confirmed", sponsor="x", time=n, commitment="0" * 64,
                                                         leaf_hash=f"{n:064x}"))
                written.append(n)

    def reader() -> None:
        client: Any = app.test_client()
        for _ in range(15):
            response = client.get(url)
            statuses.append(response.status_code)
            if response.status_code == 200:
                sizes.append(response.json["tree_size"])

    threads = [threading.Thread(target=writer)] + [threading.Thread(target=reader) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(statuses) == {200}
    assert len(statuses) == 45 and len(written) == 20
