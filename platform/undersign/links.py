"""Absolute links, built from ``BASE_URL`` and never from a request's ``Host``.

Mail, feeds, embeds, QR codes and canonical links are read far from the request
that made them (in an inbox, on another site, in a shared cache), so they name
the configured address of the site. The same function works in a request, in a
job and in a CLI command.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app


def absolute_url(endpoint: str, **values: Any) -> str:
    """``BASE_URL`` plus the route for ``endpoint``; ``_anchor`` adds a fragment."""
    anchor = values.pop("_anchor", None)
    values.pop("_external", None)
    base = urlsplit(base_url())
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    current_app.inject_url_defaults(endpoint, values)
    url: str = adapter.build(endpoint, values, force_external=True)
    return f"{url}#{anchor}" if anchor else url


def base_url() -> str:
    """The configured address of the site, without a trailing slash."""
    return str(current_app.config["BASE_URL"]).rstrip("/")
