"""Updates e-mailed to the supporters who consented to the posting sponsor, through the real SMTP server."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.factories import login_as
from tests.helpers import csrf_token, submit, text_of
from tests.mailings.supporters import Sponsors, consent, editor, three_sponsors
from undersign.campaigns.models import Update
from undersign.extensions import db
from undersign.mailings import service
from undersign.mailings.models import Mailing
from undersign.organizations.models import Organization


@pytest.fixture
def sponsors() -> Sponsors:
    return three_sponsors()


def post_update(client, found: Sponsors, org: Organization, title: str, body: str = "We met the **UNHCR**.") -> Update:  # type: ignore[no-untyped-def]
    client.get("/logout")
    login_as(client, editor(found, org))
    assert submit(client, found.url(org, "updates/new"), {"title": title, "body": body}).status_code == 302
    return db.session.scalar(select(Update).where(Update.title == title))


def mail_it(client, found: Sponsors, org: Organization, update: Update):  # type: ignore[no-untyped-def]
    """Press "Send to N supporters" on the update's mailing page, then run the job as the worker would."""
    page = found.url(org, f"updates/{update.id}/mailing")
    response = submit(client, page, {}, action=page + "/send")
    if response.status_code == 302:
        mailing = service.mailing_of(update)
        assert mailing is not None
        service.write_mailing(mailing.id)
    return response


def received_update(mailbox, title: str) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(t for m in mailbox.deliver() if title in m.subject and not m.subject.startswith("[Test]") for t in m.to)


def test_each_sponsor_reaches_exactly_its_consenting_confirmed_supporters(client, mailbox, sponsors):
    update = post_update(client, sponsors, sponsors.lead, "We met the UNHCR",
                         "It went **well**.\n\n<script>alert(1)</script>")
    page = sponsors.url(sponsors.lead, f"updates/{update.id}/mailing")
    preview = client.get(page)
    assert preview.status_code == 200
    assert "Send to 2 supporters" in text_of(preview)
    assert "<strong>well</strong>" in preview.get_data(as_text=True)
    assert "<script>alert" not in preview.get_data(as_text=True)

    # The test goes to the editor alone.
    me = editor(sponsors, sponsors.lead)
    assert submit(client, page, {}, action=page + "/test").status_code == 302
    [test] = mailbox.deliver()
    assert test.to == [me.email] and test.subject.startswith("[Test] Fathom Film Group: We met the UNHCR")
    mailbox.clear()

    assert mail_it(client, sponsors, sponsors.lead, update).status_code == 302
    received = mailbox.deliver()
    assert sorted(t for m in received for t in m.to) == ["ann@example.org", "bob@example.org"]
    ann = next(m for m in received if m.to == ["ann@example.org"])
    assert ann.subject == "Fathom Film Group: We met the UNHCR"
    unsubscribe_url = re.fullmatch(r"<(http://localhost/unsubscribe/[^>]+)>", ann.headers["List-Unsubscribe"]).group(1)
    assert ann.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe_url in ann.body and unsubscribe_url in (ann.html or "")
    assert "It went **well**." in ann.body
    assert "<strong>well</strong>" in ann.html and "<script>alert" not in ann.html
    # Every supporter has a link of their own.
    bob = next(m for m in received if m.to == ["bob@example.org"])
    assert bob.headers["List-Unsubscribe"] != ann.headers["List-Unsubscribe"]

    progress = text_of(client.get(page))
    assert "Queued 0" in progress and "Sent 2" in progress and "Failed 0" in progress
    assert "e-mailed to supporters" in text_of(client.get(sponsors.url(sponsors.lead, "updates")))

    # A co-sponsor reaches its own supporters only, and so does the third one.
    mailbox.clear()
    partner_news = post_update(client, sponsors, sponsors.partner, "Hanvoice news")
    assert mail_it(client, sponsors, sponsors.partner, partner_news).status_code == 302
    festival_news = post_update(client, sponsors, sponsors.festival, "Festival news")
    assert mail_it(client, sponsors, sponsors.festival, festival_news).status_code == 302
    assert received_update(mailbox, "Hanvoice news") == ["bob@example.org", "eve@example.org"]
    assert received_update(mailbox, "Festival news") == ["gus@example.org"]


def test_one_click_unsubscribe_stops_the_next_update(app, client, mailbox, sponsors):
    first = post_update(client, sponsors, sponsors.lead, "First news")
    mail_it(client, sponsors, sponsors.lead, first)
    ann = next(m for m in mailbox.deliver() if m.to == ["ann@example.org"])
    path = ann.link("/unsubscribe/")

    # Opening the link changes nothing (mail scanners open links): it shows a button.
    visitor = app.test_client()
    page = visitor.get(path)
    assert page.status_code == 200 and "Stop hearing from Fathom Film Group" in text_of(page)
    assert consent(sponsors.signatures["ann"], sponsors.lead).withdrawn_at is None

    # The mail client's one-click POST: no session, no CSRF token (RFC 8058).
    answer = app.test_client().post(path, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200 and "You are unsubscribed" in text_of(answer)
    ended = consent(sponsors.signatures["ann"], sponsors.lead)
    assert ended is not None and ended.withdrawn_at is not None  # the record stays, with its end
    again = app.test_client().post(path, data={"List-Unsubscribe": "One-Click"})
    assert again.status_code == 200
    assert "You are unsubscribed" in text_of(visitor.get(path))

    mailbox.clear()
    second = post_update(client, sponsors, sponsors.lead, "Second news")
    mail_it(client, sponsors, sponsors.lead, second)
    assert received_update(mailbox, "Second news") == ["bob@example.org"]


@pytest.mark.parametrize("token", ["nonsense", "1.1." + "A" * 43, "99999999999.1." + "A" * 43])
def test_a_link_that_is_not_ours_unsubscribes_nobody(app, sponsors, token):
    for method in ("get", "post"):
        response = getattr(app.test_client(), method)(f"/unsubscribe/{token}")
        assert response.status_code == 404
        assert "This unsubscribe link is not valid" in text_of(response)


def test_a_tampered_link_does_not_unsubscribe_someone_else(app, client, mailbox, sponsors):
    update = post_update(client, sponsors, sponsors.lead, "News")
    mail_it(client, sponsors, sponsors.lead, update)
    path = next(m for m in mailbox.deliver() if m.to == ["ann@example.org"]).link("/unsubscribe/")
    signature_id, org_id, mac = path.rsplit("/", 1)[1].split(".")
    bob = sponsors.signatures["bob"]
    forged = f"/unsubscribe/{bob.id}.{org_id}.{mac}"
    assert app.test_client().post(forged).status_code == 404
    assert consent(bob, sponsors.lead).withdrawn_at is None


def test_a_worker_killed_mid_send_resumes_and_nobody_gets_the_update_twice(client, mailbox, sponsors, monkeypatch):
    from tests.mailings.supporters import add_signature

    for n in range(6):
        add_signature(sponsors.campaign, f"Extra {n}", f"extra{n}@example.org", (sponsors.lead,))
    expected = sorted(["ann@example.org", "bob@example.org"] + [f"extra{n}@example.org" for n in range(6)])
    update = post_update(client, sponsors, sponsors.lead, "Resumable news")
    page = sponsors.url(sponsors.lead, f"updates/{update.id}/mailing")
    assert submit(client, page, {}, action=page + "/send").status_code == 302
    mailing = service.mailing_of(update)

    # The worker dies while writing the second batch of three, after its first message.
    real = service.queue_message
    calls = {"n": 0}

    def dies_after_four(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] > 4:
            raise SystemExit("worker killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "queue_message", dies_after_four)
    with pytest.raises(SystemExit):
        service.write_mailing(mailing.id, batch_size=3)
    delivered_before = received_update(mailbox, "Resumable news")
    assert len(delivered_before) == 3  # the first batch went out; the broken one left nothing behind
    progress = text_of(client.get(page))
    assert "Messages are still being prepared" in progress and "Sent 3" in progress

    # Restarted, it goes on from where it stopped.
    monkeypatch.setattr(service, "queue_message", real)
    assert service.write_mailing(mailing.id, batch_size=3) == 5
    assert service.write_mailing(mailing.id, batch_size=3) == 0  # finished: a third run writes nothing
    assert received_update(mailbox, "Resumable news") == expected
    progress = text_of(client.get(page))
    assert "Sent 8" in progress and "Messages are still being prepared" not in progress


def test_the_same_update_cannot_be_sent_twice(client, mailbox, sponsors):
    update = post_update(client, sponsors, sponsors.lead, "Only once")
    assert mail_it(client, sponsors, sponsors.lead, update).status_code == 302
    page = sponsors.url(sponsors.lead, f"updates/{update.id}/mailing")
    response = client.post(page + "/send", data={"csrf_token": _token_for(client, page)})
    assert response.status_code == 409
    assert "already e-mailed to supporters" in text_of(response) and "cannot be sent twice" in text_of(response)
    assert db.session.scalar(select(func.count()).select_from(Mailing)) == 1
    assert received_update(mailbox, "Only once") == ["ann@example.org", "bob@example.org"]


def test_nobody_to_mail_is_said_so(client, mailbox, sponsors):
    update = post_update(client, sponsors, sponsors.festival, "Festival news")
    # gus unsubscribes: the festival has nobody left.
    consent(sponsors.signatures["gus"], sponsors.festival).withdrawn_at = update.created_at
    db.session.commit()
    page = sponsors.url(sponsors.festival, f"updates/{update.id}/mailing")
    assert "Send to" not in text_of(client.get(page))
    response = client.post(page + "/send", data={"csrf_token": _token_for(client, page)})
    assert response.status_code == 409 and "No supporter has agreed to hear from Film Festival" in text_of(response)
    assert service.mailing_of(update) is None and mailbox.deliver() == []


def _token_for(client, page: str) -> str:  # type: ignore[no-untyped-def]
    return csrf_token(client.get(page).get_data(as_text=True))


def test_only_the_posting_sponsor_mails_its_update_and_strangers_find_nothing(client, mailbox, sponsors):
    from tests.campaigns.campaign_factories import staff
    from undersign.organizations.models import Role

    update = post_update(client, sponsors, sponsors.lead, "Lead news")
    # A co-sponsor's editor: the update is not theirs to mail.
    client.get("/logout")
    login_as(client, editor(sponsors, sponsors.partner))
    theirs = sponsors.url(sponsors.partner, f"updates/{update.id}/mailing")
    assert client.get(theirs).status_code == 403
    token = _token_for(client, sponsors.url(sponsors.partner, "updates"))
    assert client.post(theirs + "/send", data={"csrf_token": token}).status_code == 403
    assert client.post(theirs + "/test", data={"csrf_token": token}).status_code == 403
    # An organization that does not sponsor the petition does not see it at all.
    client.get("/logout")
    login_as(client, editor(sponsors, sponsors.outsider))
    outside = sponsors.url(sponsors.outsider, f"updates/{update.id}/mailing")
    assert client.get(outside).status_code == 404
    token = _token_for(client, f"/orgs/{sponsors.outsider.slug}/campaigns/")
    assert client.post(outside + "/send", data={"csrf_token": token}).status_code == 404
    # The lead's viewer sees the preview and the progress but cannot send.
    client.get("/logout")
    login_as(client, staff(sponsors.lead, Role.VIEWER))
    mine = sponsors.url(sponsors.lead, f"updates/{update.id}/mailing")
    page = client.get(mine)
    assert page.status_code == 200 and "Send to" not in text_of(page)
    token = _token_for(client, mine)
    assert client.post(mine + "/send", data={"csrf_token": token}).status_code == 403
    assert client.get(sponsors.url(sponsors.lead, "updates/999999/mailing")).status_code == 404
    assert service.mailing_of(update) is None
    assert mailbox.deliver() == []


def test_an_update_over_the_length_limit_is_refused_on_the_form(client, sponsors):
    login_as(client, editor(sponsors, sponsors.lead))
    response = submit(client, sponsors.url(sponsors.lead, "updates/new"), {"title": "Long", "body": "x" * 20_001})
    assert response.status_code == 400
    assert "Use at most 20,000 characters." in text_of(response)
    assert db.session.scalar(select(Update).where(Update.title == "Long")) is None
