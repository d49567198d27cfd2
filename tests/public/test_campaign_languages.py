"""A petition in more than one language: each visitor reads the version in their language where there
is one (else the original), with hreflang alternates; every version shares one count; a signer's later
mail comes in the language they signed in; the lead's editors keep the versions in the console."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from tests.campaigns.campaign_factories import console, staff
from tests.factories import login_as, make_org, make_user
from tests.helpers import Mailbox, submit, text_of
from tests.signatures.petitions import Petition, make_petition, sign, supporter
from tests.supporters.me import confirm
from undersign.audit import AuditEvent
from undersign.campaigns.models import Campaign, CampaignTranslation
from undersign.extensions import db
from undersign.organizations.models import Role
from undersign.signatures.models import Signature

KOREAN = {"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.5"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}
KO_TITLE = "탈북 난민 강제북송을 멈춰 주세요"


def korean_petition(**fields: Any) -> Petition:
    petition = make_petition(title="End Forced Repatriation", summary="Stop the deportations.",
                             body="Why **this** matters.", demands=[{"title": "Stop it", "text": "Now."}], **fields)
    db.session.add(CampaignTranslation(
        campaign_id=petition.campaign.id, language="ko", title=KO_TITLE, summary="강제북송을 멈추게 해 주세요.",
        body="왜 **중요한지** 알려 드립니다.<script>alert(1)</script>",
        demands=[{"title": "난민으로 인정해 주세요", "text": "[지금](javascript:alert(1)) 바로."}]))
    db.session.commit()
    return petition


def links(html: str, rel: str) -> list[tuple[str, str]]:
    found = []
    for tag in re.findall(r"<link [^>]*>", html):
        if f'rel="{rel}"' in tag:
            lang = re.search(r'hreflang="([^"]+)"', tag)
            href = re.search(r'href="([^"]+)"', tag)
            found.append((lang.group(1) if lang else "", href.group(1) if href else ""))
    return found


def meta(html: str, prop: str) -> str | None:
    match = re.search(rf'<meta property="{prop}" content="([^"]*)"', html)
    return match.group(1) if match else None


def test_a_korean_reader_gets_the_korean_version_and_others_the_original(client):
    petition = korean_petition()

    korean = client.get(petition.url, headers=KOREAN)
    english = client.get(petition.url, headers=ENGLISH)

    assert korean.status_code == 200 and english.status_code == 200
    ko_html, en_html = korean.get_data(as_text=True), english.get_data(as_text=True)
    assert f"<title>{KO_TITLE}" in ko_html
    assert re.search(rf"<h1>{KO_TITLE}", ko_html)
    assert "<strong>중요한지</strong>" in ko_html and "난민으로 인정해 주세요" in ko_html
    assert "End Forced Repatriation" not in text_of(korean).split("|")[0]
    assert meta(ko_html, "og:title") == KO_TITLE and meta(ko_html, "og:description") == "강제북송을 멈추게 해 주세요."
    assert meta(ko_html, "og:locale") == "ko_KR"
    assert re.search(r"<h1>End Forced Repatriation", en_html) and KO_TITLE not in en_html
    assert "<strong>this</strong> matters" in en_html
    assert meta(en_html, "og:title") == "End Forced Repatriation"


def test_the_korean_markdown_is_sanitized_like_the_original(client):
    petition = korean_petition()

    html = client.get(petition.url, headers=KOREAN).get_data(as_text=True)

    body = re.search(r'<div class="petition-body">(.*?)</div>', html, re.S)
    demands = re.search(r'<ol class="demands">(.*?)</ol>', html, re.S)
    assert body and demands
    assert "<strong>중요한지</strong>" in body.group(1) and "<script" not in body.group(1)
    assert "지금" in demands.group(1) and "<a " not in demands.group(1)  # a javascript: link stays text


def test_hreflang_alternates_name_every_version_absolute_from_base_url(client, app):
    petition = korean_petition()
    base = app.config["BASE_URL"]

    html = client.get(petition.url, headers=ENGLISH).get_data(as_text=True)

    assert links(html, "alternate") == [
        ("en", f"{base}/p/{petition.slug}?lang=en"),
        ("ko", f"{base}/p/{petition.slug}?lang=ko"),
        ("x-default", f"{base}/p/{petition.slug}"),
    ]
    assert links(html, "canonical") == [("", f"{base}/p/{petition.slug}?lang=en")]
    hosted = client.get(petition.hosted_url(petition.co_sponsor), headers=ENGLISH).get_data(as_text=True)
    assert ("ko", f"{base}/o/{petition.co_sponsor.slug}/p/{petition.slug}?lang=ko") in links(hosted, "alternate")


def test_a_petition_in_one_language_has_no_alternates(client):
    petition = make_petition()

    html = client.get(petition.url).get_data(as_text=True)

    assert links(html, "alternate") == []


def test_the_lang_link_wins_over_the_browser(client):
    petition = korean_petition()

    korean_link = client.get(f"{petition.url}?lang=ko", headers=ENGLISH)
    english_link = client.get(f"{petition.url}?lang=en", headers=KOREAN)
    unknown = client.get(f"{petition.url}?lang=xx", headers=ENGLISH)

    assert korean_link.status_code == 200 and re.search(rf"<h1>{KO_TITLE}", korean_link.get_data(as_text=True))
    assert '<html lang="ko">' in korean_link.get_data(as_text=True)  # the interface follows the link too
    assert re.search(r"<h1>End Forced Repatriation", english_link.get_data(as_text=True))
    assert unknown.status_code == 200 and re.search(r"<h1>End Forced Repatriation", unknown.get_data(as_text=True))


def test_the_original_shows_where_there_is_no_version_and_says_its_language(client):
    petition = make_petition(title="Only in English")

    html = client.get(petition.url, headers=KOREAN).get_data(as_text=True)

    assert '<h1 lang="en">Only in English' in html  # Korean interface, English text: marked for screen readers


def test_the_sponsor_page_and_the_embed_show_the_korean_version(client):
    petition = korean_petition()

    hosted = client.get(petition.hosted_url(petition.co_sponsor), headers=KOREAN)
    embed = client.get(f"{petition.url}/embed", headers=KOREAN)

    assert hosted.status_code == 200 and re.search(rf"<h1>{KO_TITLE}", hosted.get_data(as_text=True))
    assert embed.status_code == 200 and KO_TITLE in embed.get_data(as_text=True)
    assert "End Forced Repatriation" not in embed.get_data(as_text=True)


def test_the_json_says_the_language_and_the_versions(client):
    petition = korean_petition()

    korean = client.get(f"{petition.url}.json", headers=KOREAN)
    english = client.get(f"{petition.url}.json?lang=en")

    assert korean.status_code == 200
    assert korean.json["title"] == KO_TITLE and korean.json["language"] == "ko"
    assert korean.json["languages"] == ["en", "ko"]
    assert english.json["title"] == "End Forced Repatriation" and english.json["language"] == "en"
    assert "Accept-Language" in korean.headers["Vary"]


def test_the_cards_on_the_home_and_organization_pages_are_in_the_readers_language(client):
    petition = korean_petition()

    home = client.get("/", headers=KOREAN)
    org_page = client.get(f"/o/{petition.lead.slug}", headers=KOREAN)
    english_home = client.get("/", headers=ENGLISH)

    assert KO_TITLE in text_of(home) and "강제북송을 멈추게 해 주세요." in text_of(home)
    assert KO_TITLE in text_of(org_page)
    assert KO_TITLE not in text_of(english_home) and "End Forced Repatriation" in text_of(english_home)


def test_signing_the_korean_version_counts_on_the_english_page(client, mailbox: Mailbox):
    petition = korean_petition()
    before = client.get(f"{petition.url}.json?lang=en").json["signature_count"]

    signed = sign(client, f"{petition.url}?lang=ko", supporter(email="jiwoo@example.org"))
    assert signed.status_code == 303
    mail = mailbox.last_to("jiwoo@example.org")
    assert KO_TITLE in mail.subject  # the confirmation, in the page's language
    link = mail.link("/confirm/")
    assert link.endswith("?lang=ko")
    assert KO_TITLE in text_of(client.get(link, headers=ENGLISH))  # the link opens the page in Korean
    confirmed = confirm(client, link)
    assert confirmed.status_code == 200 and KO_TITLE in text_of(confirmed)

    row = db.session.scalar(select(Signature).where(Signature.email == "jiwoo@example.org"))
    assert row is not None and row.language == "ko"
    english = client.get(petition.url, headers=ENGLISH)
    assert client.get(f"{petition.url}.json?lang=en").json["signature_count"] == before + 1
    assert f"{before + 1} supporter" in text_of(english)


def test_the_already_signed_mail_goes_out_in_the_signers_language(client, mailbox: Mailbox):
    petition = korean_petition()
    assert sign(client, f"{petition.url}?lang=ko", supporter(email="minjun@example.org")).status_code == 303
    mailbox.clear()

    # The same person signs again, this time from an English page: the mail follows how they first signed.
    again = sign(client, f"{petition.url}?lang=en", supporter(email="minjun@example.org"))

    assert again.status_code == 303
    mail = mailbox.last_to("minjun@example.org")
    assert mail.subject == f"이미 서명하신 청원입니다: {KO_TITLE}"
    assert KO_TITLE in mail.body and "End Forced Repatriation" not in mail.body


# --- the console ------------------------------------------------------------------------------------


def test_an_editor_adds_changes_and_removes_the_korean_version(client):
    petition = make_petition(title="End Forced Repatriation")
    editor = staff(petition.lead, Role.EDITOR)
    login_as(client, editor)
    page = console(petition.lead, petition.campaign, "languages")

    listing = client.get(page)
    assert listing.status_code == 200
    assert "No version yet" in text_of(listing)
    assert f'href="{page}"' in client.get(console(petition.lead, petition.campaign)).get_data(as_text=True)

    added = submit(client, f"{page}/ko", {"title": KO_TITLE, "summary": "요약", "body": "본문",
                                          "demands": "난민으로 인정해 주세요\n지금 바로.\n\n강제북송 중단"})
    assert added.status_code == 302 and added.headers["Location"] == page
    assert "한국어 version is saved." in text_of(client.get(page))
    version = db.session.scalar(select(CampaignTranslation).where(
        CampaignTranslation.campaign_id == petition.campaign.id))
    assert version is not None and version.title == KO_TITLE
    assert version.demands == [{"title": "난민으로 인정해 주세요", "text": "지금 바로."},
                               {"title": "강제북송 중단", "text": ""}]

    changed = submit(client, f"{page}/ko", {"title": "새 제목", "summary": "", "body": "", "demands": ""})
    assert changed.status_code == 302
    db.session.expire_all()
    assert db.session.get(CampaignTranslation, version.id).title == "새 제목"  # type: ignore[union-attr]

    removed = submit(client, page, {}, action=f"{page}/ko/delete")
    assert removed.status_code == 302
    db.session.expire_all()
    assert db.session.get(Campaign, petition.campaign.id).translations == []  # type: ignore[union-attr]
    actions = list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.organization_id == petition.lead.id, AuditEvent.action.like("campaign.translation_%"))
        .order_by(AuditEvent.id)))
    assert actions == ["campaign.translation_added", "campaign.translation_edited", "campaign.translation_removed"]


def test_a_bad_version_is_refused_with_the_edit_forms_messages(client):
    petition = make_petition()
    login_as(client, staff(petition.lead, Role.EDITOR))
    page = console(petition.lead, petition.campaign, "languages/ko")

    empty = submit(client, page, {"title": "", "summary": "", "body": "", "demands": ""})
    too_long = submit(client, page, {"title": "가" * 201, "summary": "", "body": "", "demands": ""})
    control = submit(client, page, {"title": "제목\x07", "summary": "", "body": "", "demands": ""})
    no_token = client.post(page, data={"title": "제목"})

    assert empty.status_code == 400 and "Give the petition a title." in text_of(empty)
    assert too_long.status_code == 400 and "Use at most 200 characters." in text_of(too_long)
    assert control.status_code == 400
    assert no_token.status_code == 400
    assert db.session.scalars(select(CampaignTranslation)).all() == []


def test_only_real_other_languages_have_a_page(client):
    petition = make_petition()
    login_as(client, staff(petition.lead, Role.EDITOR))

    assert client.get(console(petition.lead, petition.campaign, "languages/en")).status_code == 404  # the original
    assert client.get(console(petition.lead, petition.campaign, "languages/xx")).status_code == 404
    assert client.post(console(petition.lead, petition.campaign, "languages/ko/delete"),
                       data={}).status_code == 400  # no CSRF token


def test_viewers_co_sponsors_and_other_organizations_cannot_touch_the_versions(client):
    petition = korean_petition()
    viewer = staff(petition.lead, Role.VIEWER)
    co_editor = staff(petition.co_sponsor, Role.EDITOR)
    stranger_org = make_org("Elsewhere", slug="elsewhere", owner=make_user())
    stranger = staff(stranger_org, Role.OWNER)

    login_as(client, viewer)
    assert client.get(console(petition.lead, petition.campaign, "languages")).status_code == 403
    login_as(client, co_editor)
    assert client.get(console(petition.co_sponsor, petition.campaign, "languages")).status_code == 403
    assert client.get(console(petition.co_sponsor, petition.campaign, "languages/ko")).status_code == 403
    login_as(client, stranger)
    assert client.get(console(stranger_org, petition.campaign, "languages")).status_code == 404
    assert client.get(console(stranger_org, petition.campaign, "languages/ko")).status_code == 404
    assert client.get(console(petition.lead, petition.campaign, "languages")).status_code == 404


def test_the_demo_petitions_have_korean_versions(app):
    from undersign import demo

    demo.load()
    demo.load()  # twice: nothing doubles

    for slug in ("end-forced-repatriation", "help-north-korean-refugees"):
        campaign = db.session.scalar(select(Campaign).where(Campaign.slug == slug))
        assert campaign is not None and campaign.language == "en"
        [korean] = campaign.translations
        assert korean.language == "ko" and korean.title and korean.summary and korean.body
        assert len(korean.demands) == len(campaign.demands)


def test_the_lead_says_which_language_the_original_is_in(client):
    petition = korean_petition()
    login_as(client, staff(petition.lead, Role.EDITOR))
    page = console(petition.lead, petition.campaign, "languages")

    taken = submit(client, page, {"language": "ko"})  # Korean has a version already
    unknown = submit(client, page, {"language": "xx"})
    assert taken.status_code == 400 and "There is a version in that language already" in text_of(taken)
    assert unknown.status_code == 400

    submit(client, page, {}, action=f"{page}/ko/delete")
    done = submit(client, page, {"language": "ko"})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Campaign, petition.campaign.id).language == "ko"  # type: ignore[union-attr]
    assert client.get(f"{page}/ko").status_code == 404  # the original is edited on the edit page
    assert client.get(f"{page}/en").status_code == 200  # English is now a version to add
