"""What a signature may contain: the input rules, shared by the sign form and the service.

Pure functions, no database: each takes what was typed and returns the value
to store, or raises `InvalidInput` naming the field. The data objects the form
hands the service (`SignatureInput`, `CleanSignature`) and the consent rules
(which sponsors a supporter may agree to hear from) live here too. The form runs them to
show every problem at once; the service runs them again because it is also
called from the API and the CLI, and it is the one that writes.

Text is NFC-normalized and trimmed. Control characters are refused rather
than silently dropped (NUL in particular: PostgreSQL rejects it in text),
and so are the Unicode bidi overrides that let a name on the public list of
signers display as something else: the platform's rule (`undersign.text`),
plus the direction marks, since a signer's name and comment are shown to everyone.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
import unicodedata
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _

from undersign.campaigns.models import LANGUAGES, Campaign, CampaignStatus, SponsorRole, Sponsorship, public_status
from undersign.errors import InvalidInput
from undersign.organizations.models import Organization
from undersign.signatures.canonical import EmailRules, current_rules, email_key
from undersign.text import has_control_characters, starts_like_formula, unreadable_name

NAME_MAX = 100
EMAIL_MAX = 254
COMMENT_MAX = 1000
POSTCODE_MAX = 16
SOURCE_MAX = 64
CONSENT_WORDING_MAX = 300  # the consents.wording column
# The ``source`` of a signature a sponsor collected elsewhere and records through the API.
OFFLINE = "offline"
API = "api"
COLLECTED_SOURCES = (OFFLINE, API)
# What a supporter reads for any malformed address. The validator's own words ("The part after the
# @-sign is not valid. It should have a period.") are written for programmers; this says what to do.


def N_(message: str) -> str:
    """Marks a message for the catalogue while keeping it English here: the API answers in English,
    and the sign form translates it where it shows it (`signatures.forms.Rule`)."""
    return message


EMAIL_LOOKS_WRONG = N_("That doesn't look like an e-mail address — check for typos, e.g. name@example.org")
# The direction marks (left-to-right, right-to-left, Arabic letter): refused on the public list of signers too.
_DIRECTION_MARKS = frozenset("\u200e\u200f\u061c")
_POSTCODE_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9 -]*[A-Za-z0-9])?")
_SOURCE_DROP_RE = re.compile(r"[^A-Za-z0-9._~:/@+-]+")


@dataclass(frozen=True)
class SignatureInput:
    """What a supporter typed (as strings); `check_input` cleans and checks it."""

    name: str | None
    email: str | None
    country: str | None
    postcode: str | None = None
    comment: str | None = None
    show_publicly: bool = False
    consents: tuple[str, ...] = ()  # organization slugs
    source: str | None = None
    language: str | None = None  # the page's language: later mail to the signer goes out in it


@dataclass(frozen=True)
class CleanSignature:
    name: str
    email: str
    email_key: str
    country: str
    postcode: str | None
    comment: str | None
    show_publicly: bool
    consents: tuple[str, ...]
    source: str | None


def clean_language(language: str | None) -> str:
    """The signer's language if the platform speaks it, else the default (English)."""
    return language if language in LANGUAGES else LANGUAGES[0]


def check_input(data: SignatureInput) -> CleanSignature:
    """Every input rule below, in form order; the first broken one is raised.

    :raise InvalidInput: naming the field.
    """
    name = clean_name(data.name)
    email, key = clean_email(data.email, current_rules())
    country = clean_country(data.country)
    postcode = clean_postcode(data.postcode)
    comment = clean_comment(data.comment)
    consents = tuple(dict.fromkeys(s for s in (clean_via(c) for c in data.consents) if s))
    return CleanSignature(name, email, key, country, postcode, comment, bool(data.show_publicly), consents,
                          clean_source(data.source))


# ---------------------------------------------------------------------------------------------
# Consent: which sponsors a supporter may agree to hear from, in which words


def consent_wording(organization: Organization | Sponsor) -> str:
    """The words next to a consent checkbox; stored with the consent as shown."""
    return f"Keep me updated by {organization.name}"


def clean_consent_wording(raw: str | None) -> str:
    """The words a sponsor showed next to its consent box on paper (or in its own tool), stored as given:
    1–300 characters, no control characters, spaces collapsed.

    :raise InvalidInput: ``field="consent_wording"``.
    """
    value = " ".join(_normal(raw).split())
    if not value:
        raise InvalidInput("Send the words the signer agreed to (consent.wording), or leave consent out.",
                           field="consent_wording")
    if _forbidden(value) or len(value) > CONSENT_WORDING_MAX:
        raise InvalidInput(f"Send the consent wording in at most {CONSENT_WORDING_MAX} ordinary characters.",
                           field="consent_wording")
    return value


def collected_source(raw: str | None) -> str:
    """How a signature collected elsewhere came in: `OFFLINE` (the default: paper, a stall) or `API` (another tool).

    :raise InvalidInput: ``field="source"``.
    """
    value = (raw or OFFLINE).strip().lower()
    if value not in COLLECTED_SOURCES:
        raise InvalidInput(f"source must be one of {', '.join(COLLECTED_SOURCES)}.", field="source")
    return value


@dataclass(frozen=True)
class Sponsor:
    """An accepted sponsorship as signing needs it (plain values, no ORM object), or the lead's."""

    id: int  # the sponsorship's
    organization_id: int
    slug: str
    name: str
    role: str
    accepted: bool
    approved: bool  # the organization


@dataclass(frozen=True)
class SigningCampaign:
    """A petition as the sign POST needs it, in plain values: whether it takes signatures, its sponsors
    (consent boxes, attribution, the hosted page) and the version of the blocked sources
    (`undersign.signatures.screening`). The signer's mail is composed by the job worker from the rows.

    Built by one query (`undersign.signatures.service.signing_campaign`), or from a loaded `Campaign`
    (`signing_view`).
    """

    id: int
    slug: str
    status: str
    closes_at: dt.datetime | None
    taken_down: bool
    lead_approved: bool
    sponsors: tuple[Sponsor, ...]  # the accepted ones, lead first, then in the order they joined; and the lead
    blocked_version: str | None = None
    blocked_version_known: bool = False

    def accepts_signatures(self, now: dt.datetime) -> bool:
        """`Campaign.accepts_signatures` over these values."""
        return (public_status(self.status, self.closes_at, now) == CampaignStatus.PUBLISHED.value
                and not self.taken_down and self.lead_approved)

    def consent_sponsors(self) -> list[Sponsor]:
        """`consent_sponsors`: accepted and approved, lead first."""
        return [s for s in self.sponsors if s.accepted and s.approved]

    def lead(self) -> Sponsor | None:
        return next((s for s in self.sponsors if s.role == SponsorRole.LEAD.value), None)


def signing_view(campaign: Campaign) -> SigningCampaign:
    """``campaign`` (loaded with its sponsors) as a `SigningCampaign`."""
    accepted = campaign.accepted_sponsorships
    others = [s for s in campaign.sponsorships if s.role == SponsorRole.LEAD.value and s not in accepted]
    sponsors = [Sponsor(s.id, s.organization_id, s.organization.slug, s.organization.name, s.role, s in accepted,
                        s.organization.is_approved) for s in [*accepted, *others]]
    return SigningCampaign(
        id=campaign.id, slug=campaign.slug, status=campaign.status, closes_at=campaign.closes_at,
        taken_down=campaign.taken_down_at is not None, lead_approved=campaign.lead_organization.is_approved,
        sponsors=tuple(sponsors),
    )


def consent_sponsors(campaign: Campaign) -> list[Sponsorship]:
    """The sponsors a supporter may agree to hear from: accepted and approved, lead first."""
    return [s for s in campaign.accepted_sponsorships if s.organization.is_approved]


def consent_choices(campaign: Campaign) -> list[tuple[str, str]]:
    """The consent checkboxes of the sign form: (organization slug, `consent_wording`)."""
    return [(s.organization.slug, consent_wording(s.organization)) for s in consent_sponsors(campaign)]


# ---------------------------------------------------------------------------------------------
# The fields


@lru_cache(maxsize=1)
def countries() -> tuple[tuple[str, str], ...]:
    """ISO 3166-1 alpha-2 codes and English names, alphabetical (``data/countries.json``)."""
    text = resources.files("undersign").joinpath("data/countries.json").read_text("utf-8")
    return tuple((c["code"], c["name"]) for c in json.loads(text)["countries"])


@lru_cache(maxsize=1)
def country_names() -> dict[str, str]:
    return dict(countries())


@lru_cache(maxsize=16)
def country_choices(language: str) -> list[tuple[str, str]]:
    """Our country codes named in ``language`` (Babel's CLDR names; ours where CLDR has none), sorted as
    that language sorts them, made once per language and process: the sign form's list."""
    from babel import Locale

    names = Locale.parse(language).territories
    named = [(code, names.get(code, name)) for code, name in countries()]
    return sorted(named, key=lambda choice: unicodedata.normalize("NFKD", choice[1]).casefold())


def _forbidden(text: str, allow: str = "") -> bool:
    """True if ``text`` holds a character `undersign.text` refuses (except those in ``allow``) or a direction mark."""
    return has_control_characters(text, allow) or any(ch in _DIRECTION_MARKS for ch in text)


def _normal(raw: str | None) -> str:
    return unicodedata.normalize("NFC", raw or "").strip()


def clean_name(raw: str | None) -> str:
    """1–100 characters people can read (`undersign.text.unreadable_name`), single spaces, not starting with ``= + - @``.

    :raise InvalidInput: ``field="name"``.
    """
    value = _normal(raw)
    if _forbidden(value):
        raise InvalidInput(N_("Your name contains characters we cannot accept (control characters)."), field="name")
    value = " ".join(value.split())
    if not value:
        raise InvalidInput(N_("Enter your name."), field="name")
    problem = unreadable_name(value, _("Your name"))
    if problem:
        raise InvalidInput(problem, field="name")
    if len(value) > NAME_MAX:
        raise InvalidInput(_("Use at most %(count)s characters for your name.", count=NAME_MAX), field="name")
    if starts_like_formula(value):
        raise InvalidInput(N_("A name cannot start with =, +, - or @."), field="name")
    return value


def clean_email(raw: str | None, rules: EmailRules | None = None) -> tuple[str, str]:
    """The address (syntax-checked by email-validator, no DNS look-up) and its de-duplication key.

    :raise InvalidInput: ``field="email"``.
    """
    value = (raw or "").strip()
    if not value:
        raise InvalidInput(N_("Enter your e-mail address."), field="email")
    if len(value) > EMAIL_MAX or _forbidden(value):
        raise InvalidInput(EMAIL_LOOKS_WRONG, field="email")
    try:
        address = validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidInput(EMAIL_LOOKS_WRONG, field="email") from exc
    except (ValueError, UnicodeError) as exc:  # idna and friends on truly odd input
        raise InvalidInput(EMAIL_LOOKS_WRONG, field="email") from exc
    if len(address) > EMAIL_MAX:
        raise InvalidInput(EMAIL_LOOKS_WRONG, field="email")
    return address, email_key(address, rules)


def clean_country(raw: str | None) -> str:
    """An ISO 3166-1 alpha-2 code from our list.

    :raise InvalidInput: ``field="country"``.
    """
    value = (raw or "").strip().upper()
    if value not in country_names():
        raise InvalidInput(N_("Choose your country from the list."), field="country")
    return value


def clean_postcode(raw: str | None) -> str | None:
    """Optional; up to 16 letters, digits, spaces or hyphens.

    :raise InvalidInput: ``field="postcode"``.
    """
    message = _("Enter a postcode of up to %(count)s letters, digits, spaces or hyphens, or leave it empty.", count=POSTCODE_MAX)
    if _forbidden(raw or ""):
        raise InvalidInput(message, field="postcode")
    value = " ".join(_normal(raw).split())
    if not value:
        return None
    if len(value) > POSTCODE_MAX or not _POSTCODE_RE.fullmatch(value):
        raise InvalidInput(message, field="postcode")
    return value.upper()


def clean_comment(raw: str | None) -> str | None:
    """Optional; up to 1,000 characters; line breaks kept (as ``\\n``).

    :raise InvalidInput: ``field="comment"``.
    """
    value = _normal((raw or "").replace("\r\n", "\n").replace("\r", "\n"))
    if not value:
        return None
    if _forbidden(value, allow="\n\t"):
        raise InvalidInput(N_("Your comment contains characters we cannot accept (control characters)."), field="comment")
    if len(value) > COMMENT_MAX:
        raise InvalidInput(_("Keep your comment to %(most)s characters (it has %(count)s).",
                             most=f"{COMMENT_MAX:,}", count=f"{len(value):,}"), field="comment")
    return value


def clean_source(raw: str | None) -> str | None:
    """A campaign source tag (``?source=newsletter-may``) reduced to safe characters, at most 64; never an error.

    It comes from links other people write, so it is tidied rather than refused.
    """
    value = _SOURCE_DROP_RE.sub("-", raw or "").strip("-")[:SOURCE_MAX]
    return value or None


def clean_via(raw: str | None) -> str | None:
    """An organization slug from ``?via=`` or the form's hidden field, or None if it cannot be one."""
    value = (raw or "").strip()
    return value if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}", value) else None


class ExportStatus(str, enum.Enum):
    """Which signers an export holds: the counted ones still consenting (the default); those who withdrew
    their signature or unsubscribed from the organization (without their personal data); or both.

    A signature never confirmed is in no export: nobody proved the address belongs to whoever typed it.
    """

    CONFIRMED = "confirmed"
    WITHDRAWN = "withdrawn"
    ALL = "all"


@dataclass(frozen=True)
class ExportFilters:
    """An export's filters: status, and the days of signing from and to (UTC, both included)."""

    status: ExportStatus = ExportStatus.CONFIRMED
    signed_from: dt.date | None = None
    signed_to: dt.date | None = None

    def as_details(self) -> dict[str, str | None]:
        """The filters as the audit log keeps them."""
        return {
            "status": self.status.value,
            "from": self.signed_from.isoformat() if self.signed_from else None,
            "to": self.signed_to.isoformat() if self.signed_to else None,
        }


# ---------------------------------------------------------------------------------------------
# Bulk invalidation (`signatures.fraud`)

NO_CONDITION = "Give at least one condition: an e-mail domain, an address hash, a time window or a tag."


@dataclass(frozen=True)
class Conditions:
    """What a bulk invalidation matches: every condition given, together (AND). Empty strings are no condition."""

    email_domain: str = ""
    ip_hash: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    source: str = ""

    @property
    def empty(self) -> bool:
        return not (self.email_domain or self.ip_hash or self.since or self.until or self.source)

    def stored(self) -> dict[str, str]:
        """As kept on the batch and in the audit log (times in ISO 8601, UTC)."""
        return {name: value.isoformat() if isinstance(value, dt.datetime) else value
                for name, value in asdict(self).items() if value}


def clean_conditions(conditions: Conditions) -> Conditions:
    """Lower-cased domain and hash, a sensible window.

    :raise InvalidInput: no condition at all (``field=None``: the whole form), or a window that ends before it starts.
    """
    clean = Conditions(
        email_domain=conditions.email_domain.strip().lower().lstrip("@")[:253],
        ip_hash=conditions.ip_hash.strip().lower()[:64],
        since=conditions.since, until=conditions.until, source=conditions.source.strip()[:64],
    )
    if clean.empty:
        raise InvalidInput(NO_CONDITION)
    if clean.since and clean.until and clean.until <= clean.since:
        raise InvalidInput("The end of the time window must come after its start.", field="until")
    return clean
