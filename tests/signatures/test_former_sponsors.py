"""``/p/<slug>.json``: the sponsors' parts always add up to the shared count, also after a co-sponsor leaves."""

from __future__ import annotations

import pytest

from tests.factories import make_user
from tests.helpers import csrf_token
from tests.signatures.petitions import make_petition, sign, supporter
from undersign.campaigns import sponsorship as campaigns
from undersign.extensions import db
from undersign.moderation.rules import Decision
from undersign.moderation.service import decide


def _signed_and_confirmed(client, mailbox, page: str, email: str) -> None:  # type: ignore[no-untyped-def]
    assert sign(client, page, supporter(email=email)).status_code == 303
    link = mailbox.last_to(email).link("/confirm/")
    button = client.get(link)
    assert client.post(link, data={"csrf_token": csrf_token(button.get_data(as_text=True))}).status_code == 200


def _parts(figures: dict) -> int:  # type: ignore[type-arg]
    return sum(s["signature_count"] for s in figures["sponsors"]) + figures["former_sponsors"]["signature_count"]


@pytest.mark.parametrize("how", ["withdraws", "is removed", "is suspended"])
def test_parts_add_up_after_a_co_sponsor_leaves(app, client, mailbox, how):  # type: ignore[no-untyped-def]
    petition = make_petition()
    _signed_and_confirmed(client, mailbox, petition.url, "ann@example.org")
    for n in range(2):
        _signed_and_confirmed(client, mailbox, petition.hosted_url(petition.co_sponsor), f"bo{n}@example.org")

    before = client.get(petition.url + ".json").json
    assert before["signature_count"] == 3
    assert {s["slug"]: s["signature_count"] for s in before["sponsors"]} == {
        petition.lead.slug: 1, petition.co_sponsor.slug: 2}
    assert before["former_sponsors"] == {"signature_count": 0}

    actor = make_user()
    if how == "withdraws":
        campaigns.withdraw_sponsorship(actor, petition.co_sponsor, petition.campaign)
    elif how == "is removed":
        campaigns.remove_sponsor(actor, petition.lead, petition.campaign, petition.sponsorship(petition.co_sponsor).id)
    else:
        actor.is_admin = True
        with app.test_request_context():  # the owners' mail links to the console
            decide(actor, petition.co_sponsor, Decision.SUSPEND, "spam")
    db.session.commit()

    after = client.get(petition.url + ".json").json
    assert after["signature_count"] == 3
    assert [s["slug"] for s in after["sponsors"]] == [petition.lead.slug]
    assert after["former_sponsors"] == {"signature_count": 2}
    assert _parts(after) == after["signature_count"]
