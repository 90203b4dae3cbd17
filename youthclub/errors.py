"""Domain errors: services raise them with a machine code, views and the API translate."""
from __future__ import annotations


class DomainError(Exception):
    """A rule refused an action. ``code`` is stable and machine-readable."""

    #: the HTTP status the API answers with for this kind of error
    status = 422

    def __init__(self, message: str, code: str, *, status: int | None = None, **details):
        super().__init__(message)
        self.message = message
        self.code = code
        if status is not None:
            self.status = status
        self.details = details

    def to_dict(self) -> dict:
        data = {"code": self.code, "message": self.message}
        data.update(self.details)
        return data


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409
