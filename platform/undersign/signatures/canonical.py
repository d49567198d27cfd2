"""E-mail canonicalization for "one supporter, one signature" (DESIGN §5, §9).

Two spellings of one mailbox must give one key, so that the database's unique
``(campaign_id, email_key)`` refuses the second signature. The rules are data,
not code: ``data/email-rules.json`` ships the defaults (trim, lower-case, cut a
``+tag``, and for Gmail drop the dots and treat ``googlemail.com`` as
``gmail.com``); an operator adds domains with a file of the same shape named by
the ``EMAIL_RULES_FILE`` setting, or a mapping in ``EMAIL_RULES`` (tests).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from flask import current_app


@dataclass(frozen=True)
class DomainRule:
    """How the local part of an address at one domain is folded."""

    tag_separators: tuple[str, ...] = ("+",)
    remove_dots: bool = False
    alias: str | None = None


@dataclass(frozen=True)
class EmailRules:
    default: DomainRule = DomainRule()
    domains: Mapping[str, DomainRule] = field(default_factory=dict)

    def for_domain(self, domain: str) -> DomainRule:
        return self.domains.get(domain, self.default)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> EmailRules:
        """Rules from the JSON shape of ``data/email-rules.json``.

        :raise ValueError: a malformed file (wrong types); the message names the entry.
        """
        default = _rule(data.get("default") or {}, DomainRule(), "default")
        domains: dict[str, DomainRule] = {}
        raw_domains = data.get("domains") or {}
        if not isinstance(raw_domains, Mapping):
            raise ValueError("email rules: 'domains' must be an object")
        for name, spec in raw_domains.items():
            domains[str(name).strip().lower()] = _rule(spec, default, f"domains.{name}")
        return cls(default=default, domains=domains)


def _rule(spec: Any, base: DomainRule, where: str) -> DomainRule:
    if not isinstance(spec, Mapping):
        raise ValueError(f"email rules: {where} must be an object")
    separators = spec.get("tag_separators", list(base.tag_separators))
    if not isinstance(separators, list) or not all(isinstance(s, str) and len(s) == 1 for s in separators):
        raise ValueError(f"email rules: {where}.tag_separators must be a list of single characters")
    remove_dots = spec.get("remove_dots", base.remove_dots)
    if not isinstance(remove_dots, bool):
        raise ValueError(f"email rules: {where}.remove_dots must be true or false")
    alias = spec.get("alias")
    if alias is not None and not isinstance(alias, str):
        raise ValueError(f"email rules: {where}.alias must be a domain name")
    return DomainRule(tuple(separators), remove_dots, alias.strip().lower() if alias else None)


@lru_cache(maxsize=8)
def load_rules(path: str | None = None) -> EmailRules:
    """The rules in ``path``, or the packaged defaults when ``path`` is None.

    :raise OSError: the file cannot be read. :raise ValueError: it is not valid rules JSON.
    """
    if path is None:
        text = resources.files("undersign").joinpath("data/email-rules.json").read_text("utf-8")
    else:
        text = Path(path).read_text("utf-8")
    return EmailRules.from_mapping(json.loads(text))


def current_rules() -> EmailRules:
    """The rules this application is configured with (``EMAIL_RULES`` mapping, else ``EMAIL_RULES_FILE``)."""
    config = current_app.config
    inline = config.get("EMAIL_RULES")
    if isinstance(inline, Mapping):
        return EmailRules.from_mapping(inline)
    return load_rules(config.get("EMAIL_RULES_FILE") or None)


def email_key(address: str, rules: EmailRules | None = None) -> str:
    """The de-duplication key of an (already syntax-checked) address.

    ``"Ann.Lee+petitions@GoogleMail.com "`` and ``"annlee@gmail.com"`` give the
    same key. A local part that a rule would empty (``"+x@example.org"``) is
    kept as it was rather than collapsing many addresses into one.
    """
    rules = rules or current_rules()
    address = address.strip().lower()
    local, at, domain = address.rpartition("@")
    if not at:
        return address
    rule = rules.for_domain(domain)
    folded = local
    cut = [folded.index(s) for s in rule.tag_separators if s in folded]
    if cut:
        folded = folded[: min(cut)]
    if rule.remove_dots:
        folded = folded.replace(".", "")
    if not folded:
        folded = local
    return f"{folded}@{rule.alias or domain}"
