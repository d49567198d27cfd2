"""The sponsors hear of each other: the lead of answers to its invitations, every sponsor's owners of
publishing, closing (by hand or on the closing date) and victory. Through the real SMTP sink."""

from __future__ import annotations

import datetime as dt

from tests.campaigns.campaign_factories import console, make_campaign, staff
from tests.factories import add_member, login_as, make_org, make_user
from tests.helpers import Mailbox, ReceivedMail, submit, text_of
from undersign.campaigns.models import SponsorRole, Sponsorship, SponsorshipStatus
from undersign.db import utcnow
from undersign.extensions import db
from undersign.organizations.models import Role


def _post(client, org, campaign, action, page=None):  # type: ignore[no-untyped-def]
    return submit(client, page or console(org, campaign), {}, action=console(org, campaign, action))


def _received(mailbox: Mailbox, subject_part: str) -> dict[str, list[ReceivedMail]]:
    """Every delivered message whose subject contains ``subject_part``, by recipient."""
    found: dict[str, list[ReceivedMail]] = {}
    for mail in mailbox.deliver():
        if subject_part in mail.subject:
            for to in mail.to:
                found.setdefault(to, []).append(mail)
    return found


def _lead_with_staff():  # type: ignore[no-untyped-def]
    owner = make_user("owner@fathom.example", "Fatima Owner")
    lead = make_org("Fathom Film Group", slug="fathom", owner=owner)
    admin = staff(lead, Role.ADMIN)
    staff(lead, Role.EDITOR)
    staff(lead, Role.VIEWER)
    return lead, owner, admin


def test_lead_owners_and_admins_hear_that_an_invitation_was_accepted(client, mailbox):
    lead, lead_owner, lead_admin = _lead_with_staff()
    partner_owner = make_user("owner@hanvoice.example")
    partner = make_org("Hanvoice", slug="hanvoice", owner=partner_owner)
    partner_admin = staff(partner, Role.ADMIN)
    campaign = make_campaign(lead, status="published", title="Help North Korean Refugees", invited=(partner,))

    login_as(client, partner_admin)
    page = console(partner, campaign)
    assert _post(client, partner, campaign, "invitation/accept", page=page).status_code == 302

    received = _received(mailbox, "now co-sponsors")
    assert sorted(received) == sorted([lead_owner.email, lead_admin.email])
    assert all(len(mails) == 1 for mails in received.values())
    mail = received[lead_owner.email][0]
    assert mail.subject == "Hanvoice now co-sponsors “Help North Korean Refugees”"
    assert f"{partner_admin.name} of Hanvoice accepted the invitation" in mail.body
    assert "admin or owner of Fathom Film Group" in mail.body
    # Nobody at the co-sponsor is told of its own answer.
    assert not mailbox.to(partner_owner.email) and not mailbox.to(partner_admin.email)
    login_as(client, lead_owner)
    assert "Hanvoice" in client.get(mail.link(f"/orgs/fathom/campaigns/{campaign.slug}/sponsors")).get_data(as_text=True)


def test_lead_hears_that_an_invitation_was_declined(client, mailbox):
    lead, lead_owner, lead_admin = _lead_with_staff()
    partner_owner = make_user()
    partner = make_org("Hanvoice", owner=partner_owner)
    campaign = make_campaign(lead, title="Help North Korean Refugees", invited=(partner,))

    login_as(client, partner_owner)
    assert _post(client, partner, campaign, "invitation/decline").status_code == 302

    received = _received(mailbox, "declined to co-sponsor")
    assert sorted(received) == sorted([lead_owner.email, lead_admin.email])
    mail = received[lead_admin.email][0]
    assert mail.subject == "Hanvoice declined to co-sponsor “Help North Korean Refugees”"
    assert "Fathom Film Group can invite Hanvoice again later" in mail.body
    login_as(client, lead_admin)
    sponsors = client.get(mail.link(f"/orgs/fathom/campaigns/{campaign.slug}/sponsors"))
    assert sponsors.status_code == 200


def test_an_answer_that_is_refused_sends_nothing(client, mailbox):
    lead, lead_owner, _ = _lead_with_staff()
    partner_owner = make_user()
    partner = make_org(owner=partner_owner)
    campaign = make_campaign(lead, invited=(partner,))
    login_as(client, partner_owner)
    assert _post(client, partner, campaign, "invitation/decline").status_code == 302
    mailbox.deliver()
    mailbox.clear()
    # Accepting a declined invitation is refused: no second mail to the lead.
    assert _post(client, partner, campaign, "invitation/accept", page=console(partner)).status_code == 404
    assert mailbox.deliver() == []


def _three_sponsors():  # type: ignore[no-untyped-def]
    """A draft led by Fathom, co-sponsored by Hanvoice and the festival, with an invited and a
    departed organization; one person owns both Fathom and Hanvoice."""
    lead, lead_owner, lead_admin = _lead_with_staff()
    hanvoice_owner = make_user("owner@hanvoice.example")
    hanvoice = make_org("Hanvoice", slug="hanvoice", owner=hanvoice_owner)
    staff(hanvoice, Role.ADMIN)
    both = make_user("both@example.org")
    add_member(lead, both, Role.OWNER)
    add_member(hanvoice, both, Role.OWNER)
    festival_owner = make_user("owner@festival.example")
    festival = make_org("One World Film Festival", slug="one-world", owner=festival_owner)
    invited = make_org("Invited Only", owner=make_user("owner@invited.example"))
    departed = make_org("Departed", owner=make_user("owner@departed.example"))
    campaign = make_campaign(lead, title="Help North Korean Refugees", co_sponsors=(hanvoice, festival),
                             invited=(invited,), counts={lead: 400, hanvoice: 150, festival: 36})
    campaign.sponsorships.append(Sponsorship(
        organization_id=departed.id, role=SponsorRole.CO_SPONSOR.value, status=SponsorshipStatus.WITHDRAWN.value,
        signature_count=3))
    db.session.commit()
    owners = {lead_owner.email: "Fathom Film Group", hanvoice_owner.email: "Hanvoice",
              festival_owner.email: "One World Film Festival"}
    return campaign, lead, lead_admin, owners, both


def _assert_each_owner_told(received: dict[str, list[ReceivedMail]], owners: dict[str, str], both: str) -> None:
    assert sorted(received) == sorted([*owners, both])
    for email, org_name in owners.items():
        [mail] = received[email]
        assert mail.subject.startswith(f"{org_name}: ")
        assert f"you are an owner of {org_name} on undersign" in mail.body
    # Owner of two sponsors: one message for each, each naming its organization.
    assert sorted(m.subject.split(":")[0] for m in received[both]) == ["Fathom Film Group", "Hanvoice"]


def test_every_accepted_sponsors_owners_hear_of_publish_close_and_victory(client, mailbox):
    campaign, lead, lead_admin, owners, both = _three_sponsors()
    login_as(client, lead_admin)

    assert _post(client, lead, campaign, "publish").status_code == 302
    published = _received(mailbox, "is published")
    _assert_each_owner_told(published, owners, both.email)
    festival = published["owner@festival.example"][0]
    assert festival.subject == "One World Film Festival: “Help North Korean Refugees” is published"
    assert f"{lead_admin.name} of Fathom Film Group published it" in festival.body
    assert festival.link(f"/o/one-world/p/{campaign.slug}") == f"/o/one-world/p/{campaign.slug}"
    assert client.get(festival.link(f"/o/one-world/p/{campaign.slug}")).status_code == 200
    assert published["owner@fathom.example"][0].link(f"/p/{campaign.slug}") == f"/p/{campaign.slug}"
    mailbox.clear()

    assert _post(client, lead, campaign, "close").status_code == 302
    closed = _received(mailbox, "is closed")
    _assert_each_owner_told(closed, owners, both.email)
    assert "586 confirmed signatures in all, 150 of them through Hanvoice" in closed["owner@hanvoice.example"][0].body
    mailbox.clear()

    assert _post(client, lead, campaign, "victory").status_code == 302
    won = _received(mailbox, "is a victory")
    _assert_each_owner_told(won, owners, both.email)
    assert "its demands were met" in won["owner@festival.example"][0].body
    assert not mailbox.to("owner@invited.example") and not mailbox.to("owner@departed.example")


def test_a_refused_transition_sends_nothing(client, mailbox):
    campaign, lead, lead_admin, _, _ = _three_sponsors()
    login_as(client, lead_admin)
    response = _post(client, lead, campaign, "close")  # a draft cannot be closed
    assert response.status_code == 302
    assert "Only a published petition can be closed" in text_of(client.get(response.headers["Location"]))
    assert mailbox.deliver() == []


def test_owners_hear_when_the_closing_date_closes_the_petition(app, mailbox):
    campaign, _, _, owners, both = _three_sponsors()
    campaign.status = "published"
    campaign.closes_at = utcnow() - dt.timedelta(seconds=5)
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["close-expired"])
    assert result.exit_code == 0, result.output
    closed = _received(mailbox, "is closed")
    _assert_each_owner_told(closed, owners, both.email)
    body = closed["owner@festival.example"][0].body
    assert "its closing date has passed" in body and "closed it" not in body
