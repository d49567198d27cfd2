"""A petition in more than one language: one campaign, one count, its text in each language it has.

The campaign's own columns hold the original (in ``Campaign.language``); each
`CampaignTranslation` holds the title, summary, body and demands in another
language. Everything else (sponsors, decision maker, image, the count, the
form) is the campaign's, so a signature on any version counts for all of them.
A page shows the version in its language when there is one, else the original.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, cast

from flask_babel import force_locale, gettext as _

from undersign.accounts.models import User
from undersign.audit import record
from undersign.campaigns.models import LANGUAGES, Campaign, CampaignTranslation
from undersign.campaigns.rules import CampaignDraft, Demand, Problems, clean_draft
from undersign.campaigns.service import require_lead
from undersign.db import db, utcnow
from undersign.errors import InvalidInput, NotFound
from undersign.organizations.models import Organization

TEXT_FIELDS = ("title", "summary", "body", "demands")


class Text(Protocol):
    """A petition's text in one language: the original's columns or one version's."""

    @property
    def title(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def body(self) -> str: ...
    @property
    def demands(self) -> list[dict[str, Any]]: ...


class Readable(Text, Protocol):
    """What reading a petition in a language needs: the original's language and text, and its other
    versions. A `Campaign`, or a plain copy of those parts (`undersign.signatures.rules.SigningCampaign`)."""

    @property
    def language(self) -> str: ...
    @property
    def translations(self) -> Sequence[Any]: ...


class CampaignInLanguage:
    """A campaign read in one language, for templates: the text from that version, the rest from the campaign.

    Never handed to a service: it is a read-only view, and writing through it would change the campaign.
    """

    def __init__(self, campaign: Readable, language: str, text: Text) -> None:
        self._campaign = campaign
        self.language = language
        self.title = text.title
        self.summary = text.summary or ""
        self.body = text.body or ""
        self.demands = list(text.demands or [])

    def __getattr__(self, name: str) -> Any:
        return getattr(self._campaign, name)

    @property
    def campaign(self) -> Campaign:
        return cast(Campaign, self._campaign)


def languages_of(campaign: Campaign) -> list[str]:
    """The languages the petition can be read in, the original's first."""
    return [campaign.language] + [t.language for t in campaign.translations if t.language != campaign.language]


def version(campaign: Campaign, language: str | None) -> CampaignTranslation | None:
    """The version in ``language`` other than the original, if there is one."""
    if language is None or language == campaign.language:
        return None
    return next((t for t in campaign.translations if t.language == language), None)


def in_language(campaign: Readable, language: str | None) -> CampaignInLanguage:
    """The campaign as read in ``language``: its version there, else the original."""
    found = (None if language is None or language == campaign.language
             else next((t for t in campaign.translations if t.language == language), None))
    return CampaignInLanguage(campaign, found.language, found) if found else CampaignInLanguage(
        campaign, campaign.language, campaign)


@contextmanager
def in_signers_language(campaign: Readable, language: str | None) -> Iterator[CampaignInLanguage]:
    """For mail to a signer: the interface's strings in their language (``Signature.language``) and the
    campaign in its version there, whatever the language of the request or job that writes the mail."""
    language = language if language in LANGUAGES else LANGUAGES[0]
    with force_locale(language):
        yield in_language(campaign, language)


def _check_language(campaign: Campaign, language: str) -> str:
    if language not in LANGUAGES:
        raise InvalidInput(_("Choose one of the languages listed."), field="language")
    if language == campaign.language:
        raise InvalidInput(_("That is the language of the original text: edit the petition instead."),
                           field="language")
    return language


def save_translation(actor: User, org: Organization, campaign: Campaign, language: str, draft: CampaignDraft, *,
                     now: dt.datetime | None = None, ip: str | None = None) -> CampaignTranslation:
    """Add the version in ``language``, or change it; the public pages show it from the next change of the page.

    :raise PermissionDenied: ``org`` does not lead the campaign.
    :raise InvalidInput / InvalidFields: an unknown language, the original's language, or text that breaks
        the rules of the edit form (length, control characters, demands), all at once.
    """
    require_lead(org, campaign)
    now = now or utcnow()
    problems = Problems()
    problems.check(lambda: _check_language(campaign, language), None)
    values = clean_draft(CampaignDraft(title=draft.title, summary=draft.summary, body=draft.body,
                                       demands=draft.demands), problems)
    problems.raise_all()
    existing = version(campaign, language)
    if existing is None:
        existing = CampaignTranslation(campaign=campaign, language=language, created_at=now)
        db.session.add(existing)
        action = "campaign.translation_added"
    else:
        existing.edited_at = now
        action = "campaign.translation_edited"
    for name in TEXT_FIELDS:
        setattr(existing, name, values[name])
    campaign.edited(now)  # Last-Modified of the public pages
    db.session.flush()
    record(actor, action, campaign, organization_id=org.id, ip=ip, details={"language": language})
    return existing


def set_original_language(actor: User, org: Organization, campaign: Campaign, language: str, *,
                          now: dt.datetime | None = None, ip: str | None = None) -> None:
    """Say which language the petition's own text is written in (the default is English).

    :raise PermissionDenied: ``org`` does not lead the campaign.
    :raise InvalidInput: an unknown language, or one that has a version already (two texts cannot both be it).
    """
    require_lead(org, campaign)
    if language not in LANGUAGES:
        raise InvalidInput(_("Choose one of the languages listed."), field="language")
    if language == campaign.language:
        return
    if version(campaign, language) is not None:
        raise InvalidInput(_("There is a version in that language already: remove it first."), field="language")
    campaign.language = language
    campaign.edited(now or utcnow())
    db.session.flush()
    record(actor, "campaign.edited", campaign, organization_id=org.id, ip=ip,
           details={"fields": ["language"], "language": language})


def remove_translation(actor: User, org: Organization, campaign: Campaign, language: str, *,
                       now: dt.datetime | None = None, ip: str | None = None) -> None:
    """Remove the version in ``language``: its readers see the original from then on.

    :raise PermissionDenied: ``org`` does not lead the campaign.
    :raise NotFound: there is no such version.
    """
    require_lead(org, campaign)
    existing = version(campaign, language)
    if existing is None:
        raise NotFound(_("There is no such version."))
    campaign.translations.remove(existing)
    campaign.edited(now or utcnow())
    db.session.flush()
    record(actor, "campaign.translation_removed", campaign, organization_id=org.id, ip=ip,
           details={"language": language})


def demands_of(version: Campaign | CampaignTranslation | None) -> tuple[Demand, ...]:
    """The stored demands as the form's data objects (to fill the edit form)."""
    return tuple(Demand(title=d.get("title") or "", text=d.get("text") or "")
                 for d in (version.demands if version is not None else []) or [] if isinstance(d, dict))
