"""The organizations' input rules: limits, the profile as typed, cleaning, slugs.

Forms import the limits from here; the services clean with the same functions
so that the API and the CLI obey them too; moderation borrows `clean_text`.
Nothing here touches the database.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import unicodedata
from urllib.parse import urlsplit

from flask_babel import gettext as _

from undersign.errors import InvalidInput
from undersign.organizations.models import OrgKind, Role
from undersign.text import LINE_BREAKS_AND_TABS, has_control_characters, slugify, unreadable_name

INVITATION_LIFETIME = dt.timedelta(days=7)
NAME_MIN = 2
NAME_MAX = 120
DESCRIPTION_MAX = 2000
WEBSITE_MAX = 500
SLUG_MAX = 64
# Room for a "-2", "-3", ... suffix inside SLUG_MAX.
SLUG_BASE_MAX = 56
# At most this many open invitations per organization: the platform sends them, so
# an unchecked organization could otherwise use it to mail strangers in bulk.
OPEN_INVITATIONS_MAX = 100
# Path words the URL scheme uses next to /orgs/<org> and /o/<org>; an organization
# named "New" must not get the slug of the creation page.
RESERVED_SLUGS = frozenset({
    "new", "admin", "api", "static", "orgs", "o", "p", "invitations", "login", "logout", "signup",
    "account", "reset", "verify", "healthz", "images", "switch", "settings", "members",
})


@dataclasses.dataclass(frozen=True)
class OrganizationProfile:
    """What an organization says about itself, as typed."""

    name: str
    kind: str
    description: str = ""
    website: str | None = None


def clean_line(raw: str | None, *, field: str, label: str, max_length: int, min_length: int = 0) -> str:
    """One line of printable text, trimmed.

    :raise InvalidInput: control characters or bidi overrides (`undersign.text`), or outside the length bounds.
    """
    text = unicodedata.normalize("NFC", (raw or "").strip())
    if has_control_characters(text):
        raise InvalidInput(_("%(label)s cannot contain control characters or line breaks.", label=label), field=field)
    if min_length and len(text) < min_length:
        raise InvalidInput(_("%(label)s needs at least %(count)d characters.", label=label, count=min_length), field=field)
    if len(text) > max_length:
        raise InvalidInput(_("%(label)s can have at most %(count)s characters.", label=label, count=f"{max_length:,}"), field=field)
    return text


def clean_text(raw: str | None, *, field: str, label: str, max_length: int) -> str:
    """Free text that may span lines (line breaks normalized to ``\\n``; tabs allowed).

    :raise InvalidInput: other control characters or bidi overrides (`undersign.text`), or too long.
    """
    text = unicodedata.normalize("NFC", (raw or "").replace("\r\n", "\n").replace("\r", "\n").strip())
    if has_control_characters(text, allow=LINE_BREAKS_AND_TABS):
        raise InvalidInput(_("%(label)s cannot contain control characters.", label=label), field=field)
    if len(text) > max_length:
        raise InvalidInput(_("%(label)s can have at most %(count)s characters.", label=label, count=f"{max_length:,}"), field=field)
    return text


def clean_website(raw: str | None) -> str | None:
    """An http(s) address with a host, or None when left empty.

    :raise InvalidInput: another scheme (``javascript:``, ``data:``, ...), no host,
        credentials in the address, spaces or control characters, too long.
    """
    text = (raw or "").strip()
    if not text:
        return None
    message = _("Enter the full address of your website, starting with https:// or http://.")
    if len(text) > WEBSITE_MAX:
        raise InvalidInput(_("The address can have at most %(count)d characters.", count=WEBSITE_MAX), field="website")
    if has_control_characters(text) or any(ch.isspace() for ch in text):
        raise InvalidInput(message, field="website")
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise InvalidInput(message, field="website") from exc
    if parts.scheme.lower() not in {"http", "https"} or not host:
        raise InvalidInput(message, field="website")
    if "@" in parts.netloc:
        raise InvalidInput(_("The address cannot contain a user name or password."), field="website")
    return parts.scheme.lower() + text[len(parts.scheme):]


def clean_kind(raw: str | None) -> str:
    try:
        return OrgKind(raw or "").value
    except ValueError as exc:
        raise InvalidInput(_("Choose what kind of organization this is."), field="kind") from exc


def clean_role(raw: str | None, field: str = "role") -> Role:
    try:
        return Role(raw or "")
    except ValueError as exc:
        raise InvalidInput(_("Choose a role: owner, admin, editor or viewer."), field=field) from exc


def clean_name(raw: str | None) -> str:
    """An organization's name: one line that people can read (`undersign.text.unreadable_name`).

    :raise InvalidInput: ``field="name"``.
    """
    name = clean_line(raw, field="name", label=_("The name"), max_length=NAME_MAX, min_length=NAME_MIN)
    problem = unreadable_name(name)
    if problem:
        raise InvalidInput(problem, field="name")
    return name


def clean_profile(profile: OrganizationProfile) -> OrganizationProfile:
    """Every field of ``profile`` cleaned. :raise InvalidInput: naming the first field that breaks a rule."""
    return OrganizationProfile(
        name=clean_name(profile.name),
        kind=clean_kind(profile.kind),
        description=clean_text(profile.description, field="description", label=_("The description"),
                               max_length=DESCRIPTION_MAX),
        website=clean_website(profile.website),
    )


def slug_base(name: str) -> str:
    """The URL form of a name: ASCII letters, digits and hyphens.

    Names in other scripts (Hangul, say) leave nothing after transliteration;
    they get ``organization`` and a numeric suffix.
    """
    return slugify(name, SLUG_BASE_MAX) or "organization"


def first_free_slug(base: str, taken: set[str]) -> str:
    """``base``, or ``base-2``, ``base-3``, ... whichever is neither in ``taken`` nor reserved."""
    taken = taken | RESERVED_SLUGS
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
