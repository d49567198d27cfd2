"""Which requests write: they take SQLite's write lock when their transaction begins.

Every request other than GET, HEAD and OPTIONS may write, and so may a GET
view marked `writes`. The mark is set when the request starts, before URL
value preprocessors, access guards and the user loader run their first query,
so the first transaction of the request already begins the right way (see
`undersign.db.configure_sqlite`). Reading requests never wait for writers.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from flask import Flask, current_app, request, request_started

from undersign.db import set_unit_writes

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

View = TypeVar("View", bound=Callable[..., Any])


def writes(view: View) -> View:
    """Mark a GET view that writes to the database (put it under the route decorator)."""
    view.writes_database = True  # type: ignore[attr-defined]
    return view


def request_writes() -> bool:
    """True for the methods that change things and for views marked `writes`."""
    if request.method not in SAFE_METHODS:
        return True
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "writes_database", False))


def _start(sender: Flask, **_extra: object) -> None:
    set_unit_writes(request_writes())


def _end(_exc: BaseException | None) -> None:
    # Threads are reused between requests (and by the test client): leave nothing behind.
    set_unit_writes(False)


def register(app: Flask) -> None:
    request_started.connect(_start, app)
    app.teardown_request(_end)
