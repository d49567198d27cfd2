"""Domain errors: services raise them, views translate them to form errors or status codes."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a service raises on purpose. The message is safe to show."""

    status_code = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    """The object does not exist, or the actor may not know that it does."""

    status_code = 404


class PermissionDenied(DomainError):
    status_code = 403


class Conflict(DomainError):
    """The request is well-formed but clashes with the current state (a taken slug, the last owner)."""

    status_code = 409


class InvalidInput(DomainError):
    """Input that passed the form's shape checks but breaks a domain rule."""

    status_code = 400


class InvalidFields(InvalidInput):
    """Several broken rules at once, each naming its field, so that a form shows them all together."""

    def __init__(self, problems: list[DomainError]) -> None:
        super().__init__(problems[0].message, field=problems[0].field)
        self.problems = problems


class Unprocessable(DomainError):
    """Well-formed, but not something that can be acted on (HTTP 422): a body of the wrong shape, an
    idempotency key sent again with another request."""

    status_code = 422
