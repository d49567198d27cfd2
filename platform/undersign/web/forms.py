"""The base form of every domain, the shared text validators, and the glue between domain errors and WTForms."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from wtforms import Field
from wtforms.fields import FileField
from wtforms.validators import ValidationError

from undersign.db import db
from undersign.errors import DomainError
from undersign.text import LINE_BREAKS_AND_TABS, has_control_characters, starts_like_formula, unreadable_name


def attach_error(form: FlaskForm, exc: DomainError, default_field: str | None = None) -> None:
    """Show a service's error next to the field it names (or the default field, or the form);
    each of an `InvalidFields`' problems next to its own field. A field that shows an error
    already keeps it alone (the form's own check and the service's often say the same)."""
    for problem in getattr(exc, "problems", None) or [exc]:
        name = problem.field or default_field
        field = form._fields.get(name) if name else None
        if field is not None:
            if not field.errors or problem is exc:
                field.errors = list(field.errors) + [problem.message]
        else:
            form.form_errors.append(problem.message)


@dataclasses.dataclass
class Outcome:
    """What happened inside `field_errors`: nothing (``ok``), or the domain error now shown on the form."""

    error: DomainError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def status(self) -> int:
        """The status to answer with when the form is shown again."""
        return self.error.status_code if self.error is not None else 200


@contextmanager
def field_errors(form: FlaskForm, default_field: str | None = None) -> Iterator[Outcome]:
    """Run a service call for a form: a domain error rolls back what it wrote and shows up on the form.

    ::

        with field_errors(form) as outcome:
            service.update_profile(...)
        if outcome.ok:
            return redirect(...)
        return render_template(..., form=form), outcome.status
    """
    outcome = Outcome()
    try:
        yield outcome
    except DomainError as exc:
        db.session.rollback()
        attach_error(form, exc, default_field)
        outcome.error = exc


class Form(FlaskForm):
    """The base of every form: it reads only what an HTML form sends, the url-encoded or
    multipart fields, and uploaded files only for its file fields.

    Flask-WTF mixes every uploaded file into the form data and also reads JSON
    bodies, so a file posted as ``name`` (or ``{"name": 1}``, or a JSON array or
    number, as the body) reaches a text field's validators as a non-string and
    raises: a 500 instead of the form back with a message. A GET (or HEAD) fills
    nothing from the request, like Flask-WTF; ``formdata=`` given by the caller is used as it is.
    """

    class Meta:
        bound_form: "Form | None" = None

        def render_field(self, field: Field, render_kw: dict[str, Any]) -> Any:
            """Every control as WTForms renders it, plus ``autofocus`` on the one `Form.first_error_field` names.

            A form sent back with errors then opens on its first problem: the
            browser focuses that control and scrolls it into view, on a phone
            too, with no script. (A ``#fragment`` in the address would stop
            the browser from honouring ``autofocus``, so forms do not add one.)
            """
            form = self.bound_form
            if form is not None and "autofocus" not in render_kw and field is form.first_error_field:
                render_kw = {**render_kw, "autofocus": True}
            # WTForms joins this Meta with FlaskForm's into one class, whose bases have render_field.
            return super().render_field(field, render_kw)  # type: ignore[misc]

        def wrap_formdata(self, form: FlaskForm, formdata: Any) -> Any:
            if formdata is not _Auto:
                return formdata
            if request.method not in {"POST", "PUT", "PATCH", "DELETE"}:
                return None
            file_fields = {field.name for field in form if isinstance(field, FileField)}
            files = [(name, upload) for name, upload in request.files.items(multi=True) if name in file_fields]
            if files:
                return CombinedMultiDict((MultiDict(files), request.form))
            return request.form

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.meta.bound_form = self

    @property
    def first_error_field(self) -> Field | None:
        """The first visible control with an error, in the form's order; with only form-wide errors
        (an expired form), the first visible control, so the person lands on the form either way."""
        visible = [field for field in self if getattr(field.widget, "input_type", None) != "hidden"]
        for field in visible:
            if field.errors:
                return field
        if self.form_errors and visible:
            return visible[0]
        return None


class EmptyForm(Form):
    """Only the CSRF token: the forms behind plain POST buttons (publish, accept, confirm, withdraw, ...)."""


# ---------------------------------------------------------------- text validators (see `undersign.text`)


class SingleLine:
    """One line of printable text: no control characters (NUL, line breaks, tabs, escapes), no bidi overrides."""

    def __init__(self, message: object = _l("Remove the control characters (such as line breaks) from this field.")) -> None:
        self.message = message

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if isinstance(field.data, str) and has_control_characters(field.data):
            raise ValidationError(str(self.message))


class MultiLine:
    """Text that may span lines: line breaks and tabs are fine, other control characters and bidi overrides are not."""

    def __init__(self, message: object = _l("Remove the invisible control characters from this text.")) -> None:
        self.message = message

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if isinstance(field.data, str) and has_control_characters(field.data, allow=LINE_BREAKS_AND_TABS):
            raise ValidationError(str(self.message))


class NotFormula:
    """A name may not start with ``= + - @``: spreadsheets would run it as a formula (DESIGN §9)."""

    def __init__(self, message: object = _l("A name cannot start with =, +, - or @.")) -> None:
        self.message = message

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if isinstance(field.data, str) and starts_like_formula(field.data):
            raise ValidationError(str(self.message))


class Readable:
    """A name people can read: not blank once its invisible characters are removed, and holding
    none it does not need (zero-width spaces, fillers; `undersign.text.unreadable_name`)."""

    def __init__(self, label: object = _l("The name")) -> None:
        self.label = label

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if isinstance(field.data, str) and field.data:
            problem = unreadable_name(field.data, str(self.label))
            if problem:
                raise ValidationError(problem)
