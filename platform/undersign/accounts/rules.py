"""The accounts' input rules: password rules, e-mail addresses and names as people type them.

Pure functions (no database); forms, services, the API and the CLI share them.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from importlib import resources

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _

from undersign.errors import InvalidInput
from undersign.text import unreadable_name

PASSWORD_MIN = 12
PASSWORD_MAX = 1024


def normalized_password(password: str) -> str:
    # NFKC (NIST SP 800-63B 5.1.1.2): the same password typed on another keyboard or system still matches.
    return unicodedata.normalize("NFKC", password or "")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    text = resources.files("undersign").joinpath("data/common-passwords.txt").read_text("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def check_password_rules(password: str, *, email: str = "", name: str = "") -> None:
    """Length 12–1,024, not a well-known password, not the e-mail or name (DESIGN §9). No composition rules.

    :raise InvalidInput: with ``field="password"``.
    """
    password = normalized_password(password)
    if len(password) < PASSWORD_MIN:
        raise InvalidInput(_("Use at least %(count)d characters.", count=PASSWORD_MIN), field="password")
    if len(password) > PASSWORD_MAX:
        raise InvalidInput(_("Use at most %(count)s characters.", count=f"{PASSWORD_MAX:,}"), field="password")
    lowered = password.lower()
    guessable = {email.lower(), name.lower(), email.split("@")[0].lower()} - {""}
    # "correct horse battery staple" is as well known as "correcthorsebatterystaple".
    squeezed = "".join(lowered.split())
    if {lowered, squeezed} & (common_passwords() | guessable) or len(set(password)) < 4:
        raise InvalidInput(_("This password is too easy to guess. A few unrelated words make a strong one."), field="password")


def normalize_email(raw: str) -> str:
    """Syntax-checked, lower-cased e-mail address (no network look-ups).

    :raise InvalidInput: with ``field="email"``.
    """
    try:
        result = validate_email((raw or "").strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(_("Enter a valid e-mail address (%(reason)s).", reason=exc), field="email") from exc
    return result.normalized.lower()


def clean_name(raw: str) -> str:
    """A staff member's name, trimmed: the forms check its length and characters, this the part the
    API and the CLI must obey too, that people can read it (`undersign.text.unreadable_name`).

    :raise InvalidInput: ``field="name"``.
    """
    name = raw.strip()
    problem = unreadable_name(name, _("Your name"))
    if problem:
        raise InvalidInput(problem, field="name")
    return name
