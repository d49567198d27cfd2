"""Demo petitions for `flask seed-demo`: the example page's petition (closed, 586 supporters),
an open one by the same three organizations for trying out signing, and an open one of the
Harbour Street tenants alone, which none of the three co-sponsors.

Idempotent: campaigns, sponsorships and updates are looked up by their natural
keys; demo supporters by their e-mail key, and only the missing ones are
inserted (in one bulk insert). The cached counters are then set from the rows,
so after any number of runs the counters equal the rows (DESIGN §5).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, insert, select

from undersign.campaigns.models import (
    Campaign,
    CampaignStatus,
    CampaignTranslation,
    SponsorRole,
    Sponsorship,
    SponsorshipStatus,
    Update,
)
from undersign.db import db, utcnow
from undersign.organizations.models import Organization
from undersign.signatures import tallies
from undersign.signatures.models import Consent, Signature
from undersign.signatures.rules import consent_wording
from undersign.transparency import heads
from undersign.transparency import service as signature_log

LEAD = "fathom-film-group"
CO_SPONSORS = ("hanvoice", "nkhr-film-festival")
TENANTS = "harbour-street-tenants"
SUPPORTER_EMAIL = "demo-supporter-{n}@example.org"

DECISION_MAKER = "UN High Commissioner for Refugees"
DECISION_MAKER_HANDLE = "Refugees"
HASHTAG = "EscapeNorthKorea"
HANDLE = "thedefectormov"

CLOSED_BODY = """\
Picture a country where:

- going hungry is simply part of everyday life;
- anyone can be sent to prison, at any moment, without warning;
- prisoners are tortured, starved, mistreated and made to watch public executions;
- when one person is jailed, three generations of their family are often jailed with them;
- around 200,000 political prisoners are thought to be held in labour camps.

For the people of North Korea, this is not a thought experiment. It is daily life.

To get away from this regime, thousands of women and men flee North Korea through China, hoping
to build a better life somewhere else. Between 20,000 and 200,000 North Korean refugees are
believed to be hiding in China today. China does not treat them as refugees, so they live in
constant danger: anyone who is caught is sent back to North Korea to face prison or execution.

We admire the United Nations for its work for peace, for equality and for people in need all over
the world. We also believe it can do far more for the people who escape North Korea, and we ask
it to act on two points.
"""

CLOSED_DEMANDS = [
    {
        "title": "Rethink deportation laws",
        "text": (
            "Every North Korean defector found in China is deported to North Korea, where prison or death "
            "awaits. The UN should recognize North Korean defectors as refugees under international law, "
            "which forbids sending them back, and call on all of its member states to do the same. Forced "
            "repatriation must stop now, and the UN has the people and the means to make that happen."
        ),
    },
    {
        "title": "Rethink human smuggling laws",
        "text": (
            "Today anyone who helps a defector get out of China to another country, with money or in any "
            "other way, is treated as a human smuggler. Allowing private sponsorship of North Korean "
            "defectors would change that, so that individuals and groups could pay for their way to safety."
        ),
    },
]

TWEET_AT_DECISION_MAKER = (
    "https://twitter.com/intent/tweet?text=%40Refugees%20recognize%20North%20Korean%20defectors%20as%20refugees"
    "%20%40thedefectormov&hashtags=EscapeNorthKorea"
)

CLOSED_CALLS_TO_ACTION = [
    {"label": "Walk in a defector's shoes: try The Defector Interactive",
     "url": "https://example.org/the-defector-interactive"},
    {"label": "Help us flood the UN High Commissioner for Refugees (@Refugees) with tweets",
     "url": TWEET_AT_DECISION_MAKER},
    {"label": "Join the community on Facebook", "url": "https://example.org/escape-north-korea-community"},
]

OPEN_BODY = """\
China sends North Korean refugees back across the border as soon as it catches them. Back home they
are jailed, sent to labour camps, and sometimes executed, only for having left.

The UN refugee agency can change this. If it recognizes people who flee North Korea as refugees,
international law forbids returning them, and the governments that deport them today have to answer
for it.

This petition picks up where our first one left off, when 586 people asked the UN to act. Add your
name and help us go further.
"""

OPEN_DEMANDS = [
    {"title": "Recognize North Korean defectors as refugees",
     "text": "Declare that people who escape North Korea are refugees under international law, "
             "and ask every member state to treat them as such."},
    {"title": "Stop forced repatriation",
     "text": "Press China to stop returning North Korean refugees, and give them access to the UN "
             "refugee agency while their cases are heard."},
]

TENANTS_BODY = """\
Every winter since the housing department took over the Harbour Street blocks, the old boilers have
broken down in the first cold week, and families have gone without heat or hot water for days and
sometimes weeks. Repairs patch one block while the next one fails.

The boilers are older than most of the people living with them. We ask the department to replace
them, and until then to fix a breakdown within a day.
"""

TENANTS_DEMANDS = [
    {"title": "Replace the boilers before winter",
     "text": "Put new boilers into all four Harbour Street blocks by the end of October."},
    {"title": "Fix a breakdown within 24 hours",
     "text": "Until then, send a repair crew within a day of a reported failure, and space heaters "
             "to every home that asks."},
]

# The Korean versions (Hanvoice's supporters read Korean): the same petitions, written for Korean readers.
CLOSED_KO = {
    "title": "탈북 난민을 도와주세요",
    "summary": (
        "중국에서 붙잡힌 탈북 난민은 북한으로 끌려가 감옥에 갇히거나 목숨을 잃습니다. 유엔난민기구 최고대표에게 "
        "이들을 난민으로 인정하고, 이들이 안전한 곳으로 갈 수 있도록 돕는 길을 열어 달라고 요구해 주세요."
    ),
    "body": """\
이런 나라를 한번 상상해 보세요.

- 굶주림이 그저 일상인 나라
- 누구든 언제라도 아무 예고 없이 감옥에 끌려갈 수 있는 나라
- 수감자들이 고문과 굶주림, 학대에 시달리고 공개 처형을 억지로 지켜봐야 하는 나라
- 한 사람이 잡혀가면 삼대가 함께 끌려가는 일이 드물지 않은 나라
- 약 20만 명의 정치범이 노동 수용소에 갇혀 있는 것으로 알려진 나라

북한 주민들에게 이것은 상상이 아니라 매일 겪는 현실입니다.

이 정권에서 벗어나기 위해 수많은 북한 주민이 더 나은 삶을 꿈꾸며 중국을 거쳐 탈출합니다. 지금 중국에 숨어
지내는 탈북 난민은 2만 명에서 20만 명에 이르는 것으로 추정됩니다. 중국은 이들을 난민으로 인정하지 않기에
이들은 늘 위험 속에서 살아갑니다. 붙잡히면 누구든 북한으로 송환되어 투옥되거나 처형당합니다.

우리는 평화와 평등을 위해, 그리고 세계 곳곳의 어려운 이들을 위해 일해 온 유엔을 존경합니다. 동시에 유엔이
북한을 탈출한 사람들을 위해 훨씬 더 많은 일을 할 수 있다고 믿습니다. 그래서 유엔에 다음 두 가지를 요청합니다.
""",
    "demands": [
        {
            "title": "강제송환 관련 법을 다시 생각해 주세요",
            "text": (
                "중국에서 발견된 탈북자는 예외 없이 북한으로 추방되고, 그곳에서는 감옥이나 죽음이 기다리고 있습니다. "
                "유엔은 탈북자를 국제법상 난민으로 인정해야 합니다. 국제법은 난민을 돌려보내는 것을 금지합니다. "
                "그리고 모든 회원국에도 같은 조치를 촉구해야 합니다. 강제송환은 지금 멈춰야 하며, 유엔에는 이를 "
                "이뤄 낼 사람과 수단이 있습니다."
            ),
        },
        {
            "title": "밀입국 알선 관련 법을 다시 생각해 주세요",
            "text": (
                "지금은 돈을 대든 다른 방법으로든 탈북자가 중국을 벗어나 다른 나라로 가도록 돕는 사람은 모두 "
                "밀입국 알선범으로 취급됩니다. 탈북자에 대한 민간 후원을 허용하면 이 현실이 바뀌어, 개인과 단체가 "
                "이들이 안전한 곳으로 가는 데 드는 비용을 떳떳하게 댈 수 있게 됩니다."
            ),
        },
    ],
}

OPEN_KO = {
    "title": "탈북 난민 강제북송을 멈춰 주세요",
    "summary": (
        "북한을 탈출한 사람들이 중국에서 붙잡혀 정치범 수용소로 돌려보내지고 있습니다. 유엔난민기구에 이들을 "
        "난민으로 인정하고 강제북송을 멈추게 해 달라고 요구해 주세요."
    ),
    "body": """\
중국은 탈북 난민을 붙잡는 즉시 국경 너머로 돌려보냅니다. 북으로 끌려간 이들은 나라를 떠났다는 이유 하나만으로
감옥과 노동 수용소에 갇히고, 때로는 처형되기까지 합니다.

유엔난민기구는 이 현실을 바꿀 수 있습니다. 북한을 탈출한 사람들을 난민으로 인정하면 국제법에 따라 누구도
이들을 돌려보낼 수 없고, 지금 이들을 추방하는 정부들은 그 책임을 져야 합니다.

이 청원은 586명이 유엔에 행동을 촉구했던 첫 번째 청원을 이어 갑니다. 이름을 보태 더 멀리 나아갈 수 있도록
함께해 주세요.
""",
    "demands": [
        {"title": "탈북자를 난민으로 인정해 주세요",
         "text": "북한을 탈출한 사람들이 국제법상 난민임을 분명히 밝히고, 모든 회원국이 이들을 난민으로 대우하도록 "
                 "요청해 주세요."},
        {"title": "강제북송을 멈춰 주세요",
         "text": "중국이 탈북 난민을 돌려보내지 않도록 압력을 넣고, 이들의 사정을 심사하는 동안 유엔난민기구의 "
                 "보호를 받을 수 있게 해 주세요."},
    ],
}

# Campaigns that say nothing else are led by Fathom and co-sponsored by the other two demo sponsors,
# with the example page's decision maker, hashtag and handle.
CAMPAIGNS: list[dict[str, Any]] = [
    {
        "slug": "help-north-korean-refugees",
        "title": "Help North Korean Refugees",
        "summary": (
            "North Korean refugees caught in China are sent back to prison or death. Ask the UN High "
            "Commissioner for Refugees to recognize them as refugees and to let people help them reach safety."
        ),
        "body": CLOSED_BODY,
        "demands": CLOSED_DEMANDS,
        "calls_to_action": CLOSED_CALLS_TO_ACTION,
        "translations": {"ko": CLOSED_KO},
        "status": CampaignStatus.CLOSED,
        "goal": None,
        "published_days_ago": 150,
        "closed_days_ago": 60,
        # Supporters per sponsor (lead first): 586 in all, as on the example page.
        "supporters": {LEAD: 293, "hanvoice": 176, "nkhr-film-festival": 117},
        "updates": [
            {
                "title": "586 voices for North Korean refugees",
                "body": (
                    "The petition is closed. **586 of you** signed it, from twelve countries.\n\n"
                    "We are delivering your names and comments to the office of the UN High Commissioner "
                    "for Refugees, together with Hanvoice and the North Korean Human Rights Film Festival. "
                    "Thank you for standing with the people who escape North Korea."
                ),
                "days_ago": 55,
            },
        ],
    },
    {
        "slug": "end-forced-repatriation",
        "title": "End Forced Repatriation of North Korean Refugees",
        "summary": (
            "People who flee North Korea are caught in China and sent back to prison camps. Ask the UN refugee "
            "agency to recognize them as refugees and to stop their forced return."
        ),
        "body": OPEN_BODY,
        "demands": OPEN_DEMANDS,
        "translations": {"ko": OPEN_KO},
        "calls_to_action": [
            {"label": f"Tell the UN High Commissioner for Refugees (@{DECISION_MAKER_HANDLE}) why it matters",
             "url": TWEET_AT_DECISION_MAKER},
        ],
        "status": CampaignStatus.PUBLISHED,
        "goal": 1000,
        "published_days_ago": 7,
        "closed_days_ago": None,
        "supporters": {LEAD: 6, "hanvoice": 4, "nkhr-film-festival": 2},
        "updates": [],
    },
    {
        "slug": "heat-for-harbour-street",
        "lead": TENANTS,
        "co_sponsors": (),
        "title": "Heat and Hot Water for Harbour Street",
        "summary": (
            "For three winters the boilers of the Harbour Street blocks have failed for weeks at a time. "
            "Ask the city's housing department to replace them before the cold comes."
        ),
        "body": TENANTS_BODY,
        "demands": TENANTS_DEMANDS,
        "calls_to_action": [],
        "decision_maker": "Harbour City Housing Department",
        "decision_maker_handle": None,
        "hashtag": "WarmHarbourStreet",
        "social_handle": None,
        "status": CampaignStatus.PUBLISHED,
        "goal": 200,
        "published_days_ago": 10,
        "closed_days_ago": None,
        "supporters": {TENANTS: 9},
        "updates": [],
    },
]

FIRST_NAMES = (
    "Ji-woo", "Min-jun", "Seo-yeon", "Anna", "David", "Hana", "James", "Sofia", "Daniel", "Yuna", "Grace",
    "Lukas", "Emma", "Noah", "Chloé", "Hiroshi", "Sarah", "Joon", "Olivia", "Mateo", "Eun-ji", "Liam",
    "Mia", "Tomás", "Aiko", "Ben", "Isabel", "Sung-min", "Fatima", "Erik",
)
LAST_INITIALS = "KLPCSMHBJWRDTNGY"
# Weighted so that most supporters come from a few countries, as on a real petition.
COUNTRIES = ("US",) * 6 + ("CA",) * 3 + ("KR",) * 3 + ("GB",) * 2 + ("AU", "DE", "FR", "JP", "NL", "NZ", "SE", "IE")
COMMENTS = (
    "No one should be sent back to a prison camp for trying to live.",
    "I watched the film and could not stay silent.",
    "Recognize them as refugees. It is that simple.",
    "For my grandparents, who crossed the border in 1950.",
    "Helping someone escape should never be a crime.",
    "Standing with every defector hiding in China tonight.",
    "The UN can do this. Please act.",
    "Freedom is not smuggling.",
    "Signed from a classroom of students who care.",
    "Thank you Hanvoice for opening my eyes.",
)


def _supporter_rows(campaign: Campaign, sponsorships: dict[str, Sponsorship], spec: dict[str, Any],
                    existing: set[str | None]) -> list[dict[str, Any]]:
    """The demo supporters not in the database yet, spread over the sponsors and countries."""
    published = campaign.published_at or utcnow()
    until = campaign.closes_at or utcnow()
    span = max((until - published).total_seconds(), 3600.0)
    total = sum(spec["supporters"].values())
    rows: list[dict[str, Any]] = []
    n = 0
    for org_slug, how_many in spec["supporters"].items():
        sponsorship = sponsorships[org_slug]
        for _ in range(how_many):
            n += 1
            email = SUPPORTER_EMAIL.format(n=n)
            if email in existing:
                continue
            # Most people sign early; the square bunches the moments towards the launch.
            confirmed = published + dt.timedelta(seconds=span * (n / (total + 1)) ** 2)
            public = n % 5 == 0
            rows.append({
                "campaign_id": campaign.id,
                "sponsorship_id": sponsorship.id,
                "name": f"{FIRST_NAMES[n % len(FIRST_NAMES)]} {LAST_INITIALS[(n * 7) % len(LAST_INITIALS)]}.",
                "email": email,
                "email_key": email,
                "country": COUNTRIES[(n * 5) % len(COUNTRIES)],
                "comment": COMMENTS[(n // 5) % len(COMMENTS)] if public and n % 2 == 0 else None,
                "show_publicly": public,
                "source": "demo",
                "confirmation_sends": 1,
                "created_at": confirmed - dt.timedelta(minutes=3),
                "confirmed_at": confirmed,
            })
    return rows


def _consents(campaign: Campaign, sponsorships: dict[str, Sponsorship], email_keys: list[str]) -> None:
    """Two in three demo supporters agree to hear from the sponsor they came through, one in four from
    the lead too: so that each sponsor's export, API and update mailing hold people of their own."""
    by_id = {s.id: s for s in sponsorships.values()}
    lead = next(s for s in sponsorships.values() if s.role == SponsorRole.LEAD.value)
    new = db.session.execute(select(Signature.id, Signature.sponsorship_id).where(
        Signature.campaign_id == campaign.id, Signature.email_key.in_(email_keys)).order_by(Signature.id)).all()
    consents = []
    for n, (signature_id, sponsorship_id) in enumerate(new):
        chosen = {by_id[sponsorship_id]} if n % 3 != 2 else set()
        if n % 4 == 0:
            chosen.add(lead)
        consents += [{"signature_id": signature_id, "organization_id": s.organization_id,
                      "wording": consent_wording(s.organization), "created_at": utcnow()} for s in chosen]
    if consents:
        db.session.execute(insert(Consent), consents)


def _sponsorships(campaign: Campaign, orgs: dict[str, Organization], published: dt.datetime,
                  spec: dict[str, Any]) -> dict[str, Sponsorship]:
    found = {s.organization_id: s for s in campaign.sponsorships}
    result: dict[str, Sponsorship] = {}
    lead = spec.get("lead", LEAD)
    for slug in (lead, *spec.get("co_sponsors", CO_SPONSORS)):
        org = orgs[slug]
        sponsorship = found.get(org.id)
        if sponsorship is None:
            sponsorship = Sponsorship(
                organization_id=org.id,
                role=SponsorRole.LEAD.value if slug == lead else SponsorRole.CO_SPONSOR.value,
                status=SponsorshipStatus.ACCEPTED.value,
                invited_at=published - dt.timedelta(days=2),
                accepted_at=published - dt.timedelta(days=1 if slug != lead else 2),
            )
            campaign.sponsorships.append(sponsorship)
        result[slug] = sponsorship
    db.session.flush()
    return result


def _recount(campaign: Campaign, sponsorships: dict[str, Sponsorship]) -> None:
    """Set the cached counters, the tallies and the breakdowns from the rows (confirmed, not invalidated, not withdrawn)."""
    counting = (
        Signature.campaign_id == campaign.id,
        Signature.confirmed_at.is_not(None),
        Signature.invalidated_at.is_(None),
        Signature.withdrawn_at.is_(None),
    )
    per_sponsorship = dict(
        db.session.execute(
            select(Signature.sponsorship_id, func.count()).where(*counting).group_by(Signature.sponsorship_id)
        ).all()
    )
    total = sum(per_sponsorship.values())
    changed = campaign.signature_count != total
    campaign.signature_count = total
    for sponsorship in campaign.sponsorships:
        count = per_sponsorship.get(sponsorship.id, 0)
        changed = changed or sponsorship.signature_count != count
        sponsorship.signature_count = count
    if changed:
        campaign.edited(utcnow())


def _translations(campaign: Campaign, versions: dict[str, dict[str, Any]], now: dt.datetime) -> None:
    """The demo's versions in other languages, each added once (looked up by language)."""
    have = set(db.session.scalars(
        select(CampaignTranslation.language).where(CampaignTranslation.campaign_id == campaign.id)))
    for language, text in versions.items():
        if language not in have:
            db.session.add(CampaignTranslation(campaign_id=campaign.id, language=language, title=text["title"],
                                               summary=text["summary"], body=text["body"],
                                               demands=text["demands"], created_at=now))
    db.session.flush()


def load(orgs: dict[str, Organization]) -> list[Campaign]:
    """Create (or complete) the demo petitions of the demo organizations."""
    now = utcnow()
    campaigns: list[Campaign] = []
    for spec in CAMPAIGNS:
        campaign = db.session.scalar(select(Campaign).where(Campaign.slug == spec["slug"]))
        lead = orgs[spec.get("lead", LEAD)]
        if campaign is None:
            published = now - dt.timedelta(days=spec["published_days_ago"])
            closes = now - dt.timedelta(days=spec["closed_days_ago"]) if spec["closed_days_ago"] else None
            campaign = Campaign(
                slug=spec["slug"],
                lead_organization_id=lead.id,
                title=spec["title"],
                summary=spec["summary"],
                body=spec["body"],
                decision_maker=spec.get("decision_maker", DECISION_MAKER),
                decision_maker_handle=spec.get("decision_maker_handle", DECISION_MAKER_HANDLE),
                demands=spec["demands"],
                hashtag=spec.get("hashtag", HASHTAG),
                social_handle=spec.get("social_handle", HANDLE),
                calls_to_action=spec["calls_to_action"],
                goal=spec["goal"],
                closes_at=closes,
                status=spec["status"].value,
                published_at=published,
                created_at=published - dt.timedelta(days=3),
                changed_at=closes or now,
                edited_at=closes or now,
                signature_count=0,
            )
            db.session.add(campaign)
            db.session.flush()
        sponsorships = _sponsorships(campaign, orgs, campaign.published_at or now, spec)
        _translations(campaign, spec.get("translations", {}), now)

        existing = set(db.session.scalars(
            select(Signature.email_key).where(
                Signature.campaign_id == campaign.id, Signature.email_key.like("demo-supporter-%")
            )
        ))
        rows = _supporter_rows(campaign, sponsorships, spec, existing)
        if rows:
            db.session.execute(insert(Signature), rows)
            _consents(campaign, sponsorships, [row["email_key"] for row in rows])
        _recount(campaign, sponsorships)
        tallies.rebuild(campaign.id)
        # The public log holds one entry per counted signature, so the demo's count verifies, under a signed head.
        signature_log.backfill(campaign.id)
        heads.issue(campaign)

        titles = set(db.session.scalars(select(Update.title).where(Update.campaign_id == campaign.id)))
        for update in spec["updates"]:
            if update["title"] not in titles:
                db.session.add(Update(
                    campaign_id=campaign.id, organization_id=lead.id, title=update["title"],
                    body=update["body"], created_at=now - dt.timedelta(days=update["days_ago"]),
                ))
        campaigns.append(campaign)
    db.session.flush()
    return campaigns
