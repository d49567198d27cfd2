"""One commit per request, made here and nowhere else in the web layer.

Every view declared with an audience (`web.access`) runs inside `transactional`:
the session is committed when the view answers below 400 and rolled back when
it answers 400 or above or raises. A view never commits; a view that must keep
nothing after a domain error (a form shown again with a message) rolls back
through `web.forms.field_errors`. Jobs and CLI commands use the same unit of
work through `undersign.db.unit_of_work`.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar, cast

from flask import current_app, g
from flask.typing import ResponseReturnValue

from undersign.db import db

F = TypeVar("F", bound=Callable[..., Any])


def transactional(view: F) -> F:
    @functools.wraps(view)
    def run(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except BaseException:
            db.session.rollback()
            raise
        if response.status_code < 400 or g.pop("keep_changes", False):
            db.session.commit()
        else:
            db.session.rollback()
        return response

    run.transactional = True  # type: ignore[attr-defined]
    return cast(F, run)


def keep_changes() -> None:
    """Commit this request's changes even though it answers 400 or above.

    For the few refusals that must leave a trace (a failed attempt counted, a
    link's use recorded); everything else an erroring view wrote is dropped.
    """
    g.keep_changes = True


def is_transactional(view: object) -> bool:
    return bool(getattr(view, "transactional", False))
