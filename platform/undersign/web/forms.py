"""Glue between domain errors and WTForms."""

from __future__ import annotations

from flask_wtf import FlaskForm

from undersign.errors import DomainError


def attach_error(form: FlaskForm, exc: DomainError, default_field: str | None = None) -> None:
    """Show a service's error next to the field it names (or the default field, or the form)."""
    name = exc.field or default_field
    field = form._fields.get(name) if name else None
    if field is not None:
        field.errors = list(field.errors) + [exc.message]
    else:
        form.form_errors.append(exc.message)
