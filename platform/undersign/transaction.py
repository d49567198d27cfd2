"""The one place that commits: a request's transaction and a job's or command's unit of work.

Every view declared with an audience (`web.access`) runs inside `transactional`:
the session is committed when the view answers below 400 and rolled back when
it answers 400 or above or raises. A view never commits; a form shown again
after a domain error rolls back through `web.forms.field_errors`. Jobs, CLI
commands and the background work of services use `unit_of_work`, which ends
the same way. Both go through `_end`, the only commit in the package.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Callable, TypeVar, cast

from flask import current_app, g
from flask.typing import ResponseReturnValue

from undersign.db import db, writing

F = TypeVar("F", bound=Callable[..., Any])


def transactional(view: F) -> F:
    @functools.wraps(view)
    def run(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except BaseException:
            _end(keep=False)
            raise
        _end(keep=response.status_code < 400 or g.pop("keep_changes", False))
        return response

    run.transactional = True  # type: ignore[attr-defined]
    return cast(F, run)


@contextmanager
def unit_of_work(*, keep: bool = True) -> Iterator[None]:
    """A job's or a command's transaction: committed if the block ends normally, else rolled back.

    ``keep=False`` rolls back even then: a dry run that does everything and keeps nothing.

    Transactions begun inside take SQLite's write lock at once (`undersign.db.writing`).
    """
    with writing():
        try:
            yield
        except BaseException:
            _end(keep=False)
            raise
        _end(keep=keep)


def _end(*, keep: bool) -> None:
    if keep:
        db.session.commit()
    else:
        db.session.rollback()


def keep_changes() -> None:
    """Commit this request's changes even though it answers 400 or above.

    For the few refusals that must leave a trace (a failed attempt counted, a
    link's use recorded); everything else an erroring view wrote is dropped.
    """
    g.keep_changes = True


def is_transactional(view: object) -> bool:
    return bool(getattr(view, "transactional", False))
