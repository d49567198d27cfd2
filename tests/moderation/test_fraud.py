"""Fraud defences (issue 13, point 4): held signatures, blocked sources, sources per hour, bulk invalidation.

Everything goes through HTTP with the test client, the mail through the real SMTP sink on loopback,
and the background job through `undersign.jobs.sweep_invalidations`, as the in-process thread runs it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from tests.api.test_resources import get, token_for
from tests.factories import add_member, login_as, make_user
from tests.helpers import Mailbox, csrf_token, submit, text_of
from tests.signatures.petitions import Petition, counts, make_petition, sign, supporter
from undersign.audit import AuditEvent
from undersign.db import utcnow
from undersign.extensions import db
from undersign.jobs import sweep_invalidations
from undersign.organizations.models import Role
from undersign.signatures.models import InvalidationBatch, Signature, SignatureBreakdown, SignatureTally
from undersign.signatures.tokens import ip_hash

FLOOD_IP = "203.0.113.66"
FLOOD_DOMAIN = "mailinator.com"  # on the shipped disposable-domains list


def sign_from(client: Any, petition: Petition, email: str, address: str, *, page: str | None = None,
              name: str = "Ann Lee", **extra: Any) -> Any:
    return sign(client, page or petition.url, supporter(name=name, email=email, **extra),
                environ_base={"REMOTE_ADDR": address})


def confirm_all(client: Any, mailbox: Mailbox, emails: list[str]) -> dict[str, Any]:
    """Deliver the outbox once, then press the confirmation button of each address's newest mail."""
    messages = mailbox.deliver()
    answers = {}
    for email in emails:
        mail = [m for m in messages if email in m.to][-1]
        link = mail.link("/confirm/")
        button = client.get(link)
        answers[email] = client.post(link, data={"csrf_token": csrf_token(button.get_data(as_text=True))})
        assert answers[email].status_code == 200, email
    return answers


def admin_client(app: Any) -> Any:
    client = app.test_client()
    login_as(client, make_user(admin=True))
    return client


def held_ids(petition: Petition) -> list[int]:
    return list(db.session.scalars(select(Signature.id).where(
        Signature.campaign_id == petition.campaign.id, Signature.held_at.is_not(None),
        Signature.invalidated_at.is_(None)).order_by(Signature.id)))


def figures(petition: Petition) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    """The campaign's tallies and breakdowns (rows that are all zero left out: a rebuild makes none)."""
    db.session.expire_all()
    tallies = {(t.sponsorship_id, t.hour, t.submitted, t.confirmed, t.withdrawn, t.invalidated)
               for t in db.session.scalars(select(SignatureTally).where(SignatureTally.campaign_id == petition.campaign.id))
               if t.submitted or t.confirmed or t.withdrawn or t.invalidated}
    parts = {(b.sponsorship_id, b.country, b.channel, b.signatures)
             for b in db.session.scalars(select(SignatureBreakdown).where(SignatureBreakdown.campaign_id == petition.campaign.id))
             if b.signatures}
    return tallies, parts


def recount_agrees(app: Any, petition: Petition) -> None:
    """``flask recount`` finds no drift, and rebuilding the tallies from the rows changes none of them."""
    before = figures(petition)
    result = app.test_cli_runner().invoke(args=["recount", petition.slug])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("no drift."), result.output
    assert figures(petition) == before


def release(admin: Any, petition: Petition, ids: list[int]) -> Any:
    page = f"/admin/campaigns/{petition.campaign.id}/held"
    return submit(admin, page, {"signature": [str(i) for i in ids]}, action=page + "/release")


def preview(admin: Any, petition: Petition, **conditions: str) -> Any:
    page = f"/admin/campaigns/{petition.campaign.id}/invalidations"
    return submit(admin, page, conditions, action=page + "/preview")


def run_previewed(admin: Any, petition: Petition, previewed: Any, reason: str = "Flood from one address") -> Any:
    """Press "Invalidate" on a preview page: its hidden fields (conditions and frozen set) plus the reason."""
    html = previewed.get_data(as_text=True)
    form = html[html.index(f'action="/admin/campaigns/{petition.campaign.id}/invalidations" '):]
    form = form[:form.index("</form>")]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    fields["reason"] = reason
    return admin.post(f"/admin/campaigns/{petition.campaign.id}/invalidations", data=fields)


def previewed_numbers(response: Any) -> tuple[int, int]:
    match = re.search(r"This touches <strong>([\d,]+)</strong> signature\(s\), of which\s+<strong>([\d,]+)</strong>",
                      response.get_data(as_text=True))
    assert match, text_of(response)
    return int(match.group(1).replace(",", "")), int(match.group(2).replace(",", ""))


def without_nonces(body: bytes) -> bytes:
    return re.sub(rb'nonce="[^"]+"', b'nonce=""', body)


def header_shape(response: Any) -> list[tuple[str, str]]:
    """The headers, but for the values that legitimately differ: the CSP's per-response nonce, the hard
    rate limit's remaining requests and reset time (what the sender's own address has used, held or not), and
    the clock time a cookie expires at (two responses a second apart)."""
    shaped = []
    for name, value in response.headers.items():
        if name in ("X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After"):
            value = "N"
        value = re.sub(r"Expires=[^;]+", "Expires=T", value) if name == "Set-Cookie" else value
        shaped.append((name, re.sub(r"'nonce-[^']+'", "'nonce-N'", value)))
    return sorted(shaped)


def test_a_flood_from_one_address_and_a_disposable_domain_never_counts(app, client, mailbox):  # type: ignore[no-untyped-def]
    petition = make_petition()
    lead, co = petition.lead.slug, petition.co_sponsor.slug
    honest = [f"supporter{i}@example{i % 7}.org" for i in range(50)]
    first_honest = None
    for i, email in enumerate(honest):
        page = petition.hosted_url(petition.co_sponsor) if i % 5 == 0 else None  # 10 through the co-sponsor
        response = sign_from(client, petition, email, f"10.1.{i // 100}.{i % 100 + 1}", page=page, public="y")
        assert response.status_code == 303
        first_honest = first_honest or response
    flood = [f"zed{i}@{FLOOD_DOMAIN}" for i in range(30)]
    flood_responses = [sign_from(client, petition, email, FLOOD_IP, name="Zed Flood", public="y") for email in flood]

    # The flood is answered exactly as an honest signer is: status, headers and body.
    assert first_honest is not None
    for response in flood_responses:
        assert response.status_code == 303
        assert header_shape(response) == header_shape(first_honest)
        assert response.get_data() == first_honest.get_data()
    assert flood_responses[0].headers["X-RateLimit-Remaining"] == first_honest.headers["X-RateLimit-Remaining"]
    signed_page = client.get(first_honest.headers["Location"])
    assert without_nonces(signed_page.get_data()) == without_nonces(client.get(flood_responses[0].headers["Location"]).get_data())

    # The same mail, and the same thank-you page once confirmed.
    messages = mailbox.deliver()
    honest_mail = next(m for m in messages if honest[1] in m.to)
    flood_mail = next(m for m in messages if flood[0] in m.to)
    assert honest_mail.subject == flood_mail.subject

    def shape(text: str, email: str) -> str:
        return re.sub(r"/(confirm|withdraw)/[\w-]+", r"/\1/TOKEN", text).replace(email, "EMAIL")
    assert shape(honest_mail.body.replace("Ann Lee", "NAME"), honest[1]) == shape(flood_mail.body.replace("Zed Flood", "NAME"), flood[0])
    confirm_all(client, mailbox, honest[:49])
    flood_thanks = confirm_all(client, mailbox, flood[:1])[flood[0]]
    honest_thanks = confirm_all(client, mailbox, honest[49:])[honest[49]]
    confirm_all(client, mailbox, flood[1:])

    def thanks(response: Any) -> bytes:
        body = without_nonces(response.get_data())
        # The language switcher links back to the page itself: the confirmation link.
        return re.sub(rb"/(withdraw|confirm)/[\w-]+", rb"/\1/TOKEN", body)
    assert thanks(flood_thanks) == thanks(honest_thanks)  # both "one of 50": the flood is thanked as if counted
    assert header_shape(flood_thanks) == header_shape(honest_thanks)

    # The honest count exactly, the flood not at all: not in the counters, the figures or the public list.
    assert counts(petition) == (50, {lead: 40, co: 10, petition.invited.slug: 0})
    assert len(held_ids(petition)) == 30
    page = client.get(petition.url).get_data(as_text=True)
    assert "Ann L." in page and "Zed F." not in page
    assert client.get(petition.url + ".json").json["signature_count"] == 50
    tallies, parts = figures(petition)
    assert sum(t[2] for t in tallies) == 50 and sum(t[3] for t in tallies) == 50
    assert sum(p[3] for p in parts) == 50
    recount_agrees(app, petition)

    # The sources page puts the flood first, all of it held.
    admin = admin_client(app)
    sources = admin.get(f"/admin/campaigns/{petition.campaign.id}/sources")
    assert sources.status_code == 200
    html = sources.get_data(as_text=True)
    flood_hash = ip_hash(FLOOD_IP)
    assert flood_hash is not None
    addresses = html[html.index('class="sources-addresses"'):]
    first_row = re.search(r"<tr>\s*<td>(.*?)</td>\s*<td>([\d,]+)</td>\s*<td>([\d,]+)</td>", addresses, re.S)
    assert first_row and flood_hash[:12] in first_row.group(1) and first_row.group(2, 3) == ("30", "30")
    busiest = re.search(r"<td>[\d,]+</td>\s*<td>[\d,]+</td>\s*<td>([\d,]+)</td>\s*<td><svg", addresses)
    assert busiest and busiest.group(1) == "30"  # all in this hour: the spike stands out
    domains = html[html.index('class="sources-domains"'):]
    first_domain = re.search(r"<tr>\s*<td>(.*?)</td>\s*<td>([\d,]+)</td>\s*<td>([\d,]+)</td>", domains, re.S)
    assert first_domain and first_domain.groups() == (FLOOD_DOMAIN, "30", "30")

    # An administrator releases five of them by mistake: they count, once.
    mistaken = held_ids(petition)[:5]
    assert release(admin, petition, mistaken).status_code == 302
    assert release(admin, petition, mistaken).status_code == 302  # again: nothing more
    assert counts(petition) == (55, {lead: 45, co: 10, petition.invited.slug: 0})
    recount_agrees(app, petition)

    # Invalidate the flood: the preview says exactly what the run removes, even with more flood arriving meanwhile.
    previewed = preview(admin, petition, ip_hash=flood_hash, email_domain=FLOOD_DOMAIN)
    assert previewed.status_code == 200
    assert previewed_numbers(previewed) == (30, 5)
    assert sign_from(client, petition, f"late@{FLOOD_DOMAIN}", FLOOD_IP).status_code == 303  # after the preview
    started = run_previewed(admin, petition, previewed)
    assert started.status_code == 302, text_of(started)
    assert counts(petition)[0] == 55  # nothing happens before the job runs
    sweep_invalidations(app)
    batch = db.session.scalars(select(InvalidationBatch).where(InvalidationBatch.campaign_id == petition.campaign.id)).one()
    db.session.refresh(batch)
    assert (batch.status, batch.invalidated, batch.uncounted) == ("done", 30, 5)
    assert counts(petition) == (50, {lead: 40, co: 10, petition.invited.slug: 0})
    late = db.session.scalars(select(Signature).where(Signature.email == f"late@{FLOOD_DOMAIN}")).one()
    assert late.invalidated_at is None and late.held_at is not None  # arrived after the preview: left alone
    listed = admin.get(f"/admin/campaigns/{petition.campaign.id}/invalidations").get_data(as_text=True)
    assert re.search(r'class="batch-status">done</td>\s*<td>30 <small class="muted">of 30 previewed', listed)
    recount_agrees(app, petition)

    # Reversing it restores exactly those signatures and the counts.
    reversed_ = submit(admin, f"/admin/campaigns/{petition.campaign.id}/invalidations", {},
                       action=f"/admin/campaigns/{petition.campaign.id}/invalidations/{batch.id}/reverse")
    assert reversed_.status_code == 302
    sweep_invalidations(app)
    db.session.refresh(batch)
    assert (batch.status, batch.restored) == ("reversed", 30)
    assert counts(petition) == (55, {lead: 45, co: 10, petition.invited.slug: 0})
    assert len(held_ids(petition)) == 26  # the 25 still held, and the late one
    again = submit(admin, f"/admin/campaigns/{petition.campaign.id}/invalidations", {},
                   action=f"/admin/campaigns/{petition.campaign.id}/invalidations/{batch.id}/reverse")
    assert again.status_code == 409 and "This invalidation is reversed" in text_of(again)
    sweep_invalidations(app)
    db.session.refresh(batch)
    assert (batch.status, batch.restored) == ("reversed", 30)
    recount_agrees(app, petition)
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"signatures.released", "signatures.bulk_invalidation_started", "signatures.bulk_invalidated",
            "signatures.bulk_invalidation_reversing", "signatures.bulk_invalidation_reversed"} <= actions


def test_a_blocked_ipv6_range_holds_its_signatures(app, client, mailbox):  # type: ignore[no-untyped-def]
    petition = make_petition()
    admin = admin_client(app)
    bad = submit(admin, "/admin/blocked", {"network": "2001:db8:zz::/48", "reason": "x"}, action="/admin/blocked/ranges")
    assert bad.status_code == 400
    assert "Enter an address range such as" in text_of(bad)
    added = submit(admin, "/admin/blocked", {"network": "2001:DB8:abcd::/48", "reason": "Botnet seen on 3 December"},
                   action="/admin/blocked/ranges")
    assert added.status_code == 302
    assert "2001:db8:abcd::/48" in text_of(admin.get("/admin/blocked"))

    sign_from(client, petition, "inside@example.org", "2001:db8:abcd:12::5")
    sign_from(client, petition, "outside@example.org", "2001:db8:abce::1")
    confirm_all(client, mailbox, ["inside@example.org", "outside@example.org"])
    assert counts(petition)[0] == 1
    inside = db.session.scalars(select(Signature).where(Signature.email == "inside@example.org")).one()
    assert inside.held_reason == "blocked address range 2001:db8:abcd::/48"
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "blocked_range.added")).one()
    assert event.details["network"] == "2001:db8:abcd::/48"


def test_a_wildcard_domain_holds_every_subdomain_but_not_the_domain(app, client, mailbox):  # type: ignore[no-untyped-def]
    petition = make_petition()
    admin = admin_client(app)
    assert submit(admin, "/admin/blocked", {"pattern": "*.Spam.example", "reason": "Throwaway subdomains"},
                  action="/admin/blocked/domains").status_code == 302
    again = submit(admin, "/admin/blocked", {"pattern": "*.spam.example", "reason": "twice"},
                   action="/admin/blocked/domains")
    assert again.status_code == 409 and "already blocked" in text_of(again)
    emails = ["a@x.spam.example", "b@deep.y.spam.example", "c@spam.example"]
    for n, email in enumerate(emails):
        sign_from(client, petition, email, f"10.2.0.{n + 1}")
    confirm_all(client, mailbox, emails)
    assert counts(petition)[0] == 1
    assert len(held_ids(petition)) == 2

    # Removing the entry holds nothing new; what it held waits for review.
    entry = re.search(r'action="(/admin/blocked/domains/\d+/remove)"', admin.get("/admin/blocked").get_data(as_text=True))
    assert entry
    assert submit(admin, "/admin/blocked", {}, action=entry.group(1)).status_code == 302
    sign_from(client, petition, "d@z.spam.example", "10.2.0.9")
    assert len(held_ids(petition)) == 2

    # An internationalized domain is matched in its ASCII form.
    assert submit(admin, "/admin/blocked", {"pattern": "xn--bcher-kva.example", "reason": "IDN farm"},
                  action="/admin/blocked/domains").status_code == 302
    assert sign_from(client, petition, "f@bücher.example", "10.2.0.11").status_code == 303
    assert len(held_ids(petition)) == 3
    # A subdomain of a shipped disposable domain is held too, however long its name.
    long_domain = f"{'x' * 60}.{'y' * 60}.{'z' * 60}.{FLOOD_DOMAIN}"
    assert sign_from(client, petition, f"e@{long_domain}", "10.2.0.10").status_code == 303
    assert len(held_ids(petition)) == 4


def test_release_counts_a_held_signature_exactly_once(app, client, mailbox):  # type: ignore[no-untyped-def]
    petition = make_petition()
    sign_from(client, petition, f"early@{FLOOD_DOMAIN}", "10.3.0.1")   # confirmed before release
    sign_from(client, petition, f"later@{FLOOD_DOMAIN}", "10.3.0.2")   # released before confirming
    confirm_all(client, mailbox, [f"early@{FLOOD_DOMAIN}"])
    assert counts(petition)[0] == 0
    admin = admin_client(app)
    queue = admin.get(f"/admin/campaigns/{petition.campaign.id}/held")
    assert "disposable e-mail domain mailinator.com" in text_of(queue)
    ids = held_ids(petition)
    assert release(admin, petition, ids).status_code == 302
    assert counts(petition)[0] == 1
    assert release(admin, petition, ids).status_code == 302
    assert counts(petition)[0] == 1
    confirm_all(client, mailbox, [f"later@{FLOOD_DOMAIN}"])
    assert counts(petition)[0] == 2
    recount_agrees(app, petition)
    nothing = release(admin, petition, [])
    assert nothing.status_code == 400 and "Choose at least one signature." in text_of(nothing)


def test_a_released_signature_gets_its_receipt_by_mail(app, client, mailbox):  # type: ignore[no-untyped-def]
    petition = make_petition()
    sign_from(client, petition, f"held@{FLOOD_DOMAIN}", "10.3.1.1")
    confirm_all(client, mailbox, [f"held@{FLOOD_DOMAIN}"])
    assert not [m for m in mailbox.to(f"held@{FLOOD_DOMAIN}") if m.subject.startswith("Your receipt")]
    assert release(admin_client(app), petition, held_ids(petition)).status_code == 302
    receipt = mailbox.last_to(f"held@{FLOOD_DOMAIN}")
    assert receipt.subject == f"Your receipt: {petition.campaign.title}"
    assert '"index": 0' in receipt.body


def test_over_the_per_address_rate_signatures_are_held_not_refused(app, client, mailbox, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "SIGN_HOLD_PER_HOUR", 3)
    petition, other = make_petition(), make_petition()
    emails = [f"office{i}@example.org" for i in range(5)]
    for email in emails:
        assert sign_from(client, petition, email, "192.0.2.10").status_code == 303
    assert sign_from(client, other, "office9@example.org", "192.0.2.10").status_code == 303  # another petition
    confirm_all(client, mailbox, [*emails, "office9@example.org"])
    assert counts(petition)[0] == 3
    assert counts(other)[0] == 1
    assert [s.held_reason for s in db.session.scalars(
        select(Signature).where(Signature.campaign_id == petition.campaign.id).order_by(Signature.id))] == [
        None, None, None, "more than 3 signatures from one address in an hour",
        "more than 3 signatures from one address in an hour"]
    # The held ones can be invalidated from the queue; they never counted, so nothing moves.
    admin = admin_client(app)
    page = f"/admin/campaigns/{petition.campaign.id}/held"
    done = submit(admin, page, {"signature": [str(i) for i in held_ids(petition)], "reason": "Office flood"},
                  action=page + "/invalidate")
    assert done.status_code == 302
    assert held_ids(petition) == [] and counts(petition)[0] == 3
    recount_agrees(app, petition)


def test_a_held_signature_is_in_no_signer_list_until_released(app, client, mailbox):  # type: ignore[no-untyped-def]
    petition = make_petition()
    lead = petition.lead.slug
    sign_from(client, petition, "honest@example.org", "10.8.0.1", name="Hana Honest", consent=[lead])
    sign_from(client, petition, f"held@{FLOOD_DOMAIN}", "10.8.0.2", name="Zed Held", consent=[lead])
    confirm_all(client, mailbox, ["honest@example.org", f"held@{FLOOD_DOMAIN}"])
    headers = token_for(petition.lead)

    def names(since: str | None = None) -> set[str]:
        query = f"?modified_since={since}" if since else ""
        page = get(client, f"/api/v1/campaigns/{petition.slug}/signatures{query}", headers)
        return {item["person"]["name"] for item in page["_embedded"]["osdi:signatures"] if not item.get("deleted")}
    assert names() == {"Hana Honest"}
    synced = utcnow().isoformat().replace("+00:00", "Z")  # a CRM's last sync: both were confirmed before it
    assert release(admin_client(app), petition, held_ids(petition)).status_code == 302
    assert names() == {"Hana Honest", "Zed Held"}
    # The released signer is modified when released, so an incremental sync picks it up.
    assert names(since=synced) == {"Zed Held"}


def test_an_invalidation_without_a_condition_is_refused(app, client):  # type: ignore[no-untyped-def]
    petition = make_petition()
    sign_from(client, petition, "ann@example.org", "10.4.0.1")
    admin = admin_client(app)
    refused = preview(admin, petition)
    assert refused.status_code == 400
    assert "Give at least one condition" in text_of(refused)
    forced = submit(admin, f"/admin/campaigns/{petition.campaign.id}/invalidations",
                    {"max_signature_id": "999999", "expected": "1", "expected_counted": "0", "reason": "all"},
                    action=f"/admin/campaigns/{petition.campaign.id}/invalidations")
    assert forced.status_code == 400
    assert "Give at least one condition" in text_of(forced)
    assert db.session.scalars(select(InvalidationBatch)).all() == []
    assert db.session.scalars(select(Signature).where(Signature.invalidated_at.is_not(None))).all() == []


def test_a_preview_whose_set_changed_is_shown_again(app, client, mailbox):  # type: ignore[no-untyped-def]
    petition = make_petition()
    for n in range(3):
        sign_from(client, petition, f"p{n}@example.net", "10.5.0.1")
    admin = admin_client(app)
    previewed = preview(admin, petition, email_domain="example.net")
    assert previewed_numbers(previewed) == (3, 0)
    confirm_all(client, mailbox, ["p0@example.net"])  # counts now: the preview said 0 of them counted
    changed = run_previewed(admin, petition, previewed)
    assert changed.status_code == 409
    assert "changed since the preview" in text_of(changed)
    assert previewed_numbers(changed) == (3, 1)
    unexplained = run_previewed(admin, petition, changed, reason="")
    assert unexplained.status_code == 400 and "Say why these signatures are invalid." in text_of(unexplained)
    assert previewed_numbers(unexplained) == (3, 1)  # the preview stays on the page
    assert run_previewed(admin, petition, changed).status_code == 302
    sweep_invalidations(app)
    assert counts(petition)[0] == 0
    recount_agrees(app, petition)


def test_only_platform_admins_reach_the_fraud_tools(app, client):  # type: ignore[no-untyped-def]
    petition = make_petition()
    sign_from(client, petition, f"x@{FLOOD_DOMAIN}", "10.6.0.1")
    cid = petition.campaign.id
    gets = ["/admin/fraud", "/admin/blocked", f"/admin/campaigns/{cid}/held", f"/admin/campaigns/{cid}/sources",
            f"/admin/campaigns/{cid}/invalidations"]
    posts = ["/admin/blocked/domains", "/admin/blocked/ranges", "/admin/blocked/domains/1/remove",
             f"/admin/campaigns/{cid}/held/release", f"/admin/campaigns/{cid}/held/invalidate",
             f"/admin/campaigns/{cid}/invalidations/preview", f"/admin/campaigns/{cid}/invalidations",
             f"/admin/campaigns/{cid}/invalidations/1/reverse"]
    owner = make_user()
    add_member(petition.lead, owner, Role.OWNER)
    signed_in = app.test_client()
    login_as(signed_in, owner)
    for visitor, page in ((app.test_client(), "/login"), (signed_in, "/orgs")):
        token = csrf_token(visitor.get(page).get_data(as_text=True))
        for path in gets:
            assert visitor.get(path).status_code == 404, path
        for path in posts:
            data = {"csrf_token": token, "pattern": "example.org", "network": "10.0.0.0/8", "reason": "x",
                    "signature": str(held_ids(petition)[0]), "email_domain": FLOOD_DOMAIN}
            assert visitor.post(path, data=data).status_code == 404, path
    assert len(held_ids(petition)) == 1
    assert db.session.scalars(select(InvalidationBatch)).all() == []
    admin = admin_client(app)
    for path in gets:
        assert admin.get(path).status_code == 200, path


@pytest.mark.parametrize("pattern", ["exa mple.com", "*.com*", "*", "com", "a@b@c", "-bad-.org"])
def test_a_malformed_domain_pattern_is_refused_with_a_message(app, pattern):  # type: ignore[no-untyped-def]
    admin = admin_client(app)
    refused = submit(admin, "/admin/blocked", {"pattern": pattern, "reason": "x"}, action="/admin/blocked/domains")
    assert refused.status_code == 400
    assert "Enter a domain such as example.com" in text_of(refused)
