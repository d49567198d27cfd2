"""The mailing on the embedded default: no Redis, no worker; a thread in the web process writes and sends it."""

from __future__ import annotations

import time

from tests.mailings.supporters import three_sponsors
from tests.mailings.test_mailing_jobs import _send
from undersign.mailings import service


def test_a_thread_in_the_web_process_writes_and_delivers_the_mailing(make_app, committed_db, mailbox):  # type: ignore[no-untyped-def]
    app = make_app(MAIL_DELIVERY="thread")
    found = three_sponsors()
    update = _send(app, found, "Threaded news")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and len([m for m in mailbox.messages if m.subject.endswith("Threaded news")]) < 2:
        time.sleep(0.1)
    got = sorted(t for m in mailbox.messages if m.subject.endswith("Threaded news") for t in m.to)
    assert got == ["ann@example.org", "bob@example.org"]
    # The SMTP sink has the mail a moment before the thread commits that it was sent: read until it has.
    sent = 0
    while sent < 2 and time.monotonic() < deadline:
        committed_db.session.commit()  # a fresh read: the thread wrote after this session last looked
        sent = service.progress(service.mailing_of(update))["sent"]
        time.sleep(0.05)
    assert sent == 2
