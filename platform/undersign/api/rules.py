"""Rules of API tokens, shared by the service and the console's form."""

from __future__ import annotations

from undersign.errors import InvalidInput
from undersign.text import has_control_characters

# Every token starts so, so that a leaked one is recognizable (and secret scanners can find it).
PREFIX = "usk_"
NAME_MAX = 100


def token_name(name: str | None) -> str:
    """The name of a token, its spaces collapsed.

    :raise InvalidInput: empty, too long or holding control characters.
    """
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("Give the token a name, such as the system that will use it.", field="name")
    if len(name) > NAME_MAX or has_control_characters(name):
        raise InvalidInput(f"Use at most {NAME_MAX} ordinary characters.", field="name")
    return name
