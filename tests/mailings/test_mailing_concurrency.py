"""Two workers writing the same mailing at once (a retried job and the sweep): every supporter once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import make_user
from tests.mailings.supporters import add_signature, three_sponsors
from tests.signatures.test_concurrency import run_in_threads
from undersign.campaigns.models import Update
from undersign.extensions import db
from undersign.mail import OutboxMessage
from undersign.mailings import service
from undersign.mailings.models import MailingRecipient

pytestmark = pytest.mark.postgres_only


def test_two_workers_on_one_mailing_write_each_message_once(app, committed_db, mailbox):
    found = three_sponsors()
    for n in range(40):
        add_signature(found.campaign, f"Extra {n}", f"extra{n}@example.org", (found.lead,))
    update = Update(campaign_id=found.campaign.id, organization_id=found.lead.id, title="Raced news", body="News.")
    db.session.add(update)
    db.session.commit()
    mailing = service.start_mailing(make_user(), found.lead, found.campaign, update)
    db.session.commit()
    mailing_id = mailing.id

    assert run_in_threads(app, 4, lambda i: service.write_mailing(mailing_id, batch_size=5)) == []
    db.session.expire_all()
    recipients = db.session.scalar(select(func.count()).select_from(MailingRecipient)
                                   .where(MailingRecipient.mailing_id == mailing_id))
    assert recipients == 42
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.subject.like("%Raced news"))) == 42
    got = sorted(t for m in mailbox.deliver() if m.subject.endswith("Raced news") for t in m.to)
    assert len(got) == len(set(got)) == 42
