"""Errors that carry their HTTP status. One handler renders them as a page, a partial or JSON."""

from __future__ import annotations

from typing import Any

from app.kit.i18n import LazyString, lazy_gettext


class KizunaError(Exception):
    status_code = 400
    default_message: LazyString | str = lazy_gettext("Something went wrong with this request.")

    def __init__(
        self,
        message: LazyString | str | None = None,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        **details: Any,
    ) -> None:
        self.message = message if message is not None else self.default_message
        self.field = field
        self.headers = headers or {}
        self.details = details
        super().__init__(str(self.message))


class BadRequest(KizunaError):
    status_code = 400


class Unauthorized(KizunaError):
    status_code = 401
    default_message = lazy_gettext("Please sign in to continue.")


class Forbidden(KizunaError):
    status_code = 403
    default_message = lazy_gettext("You are not allowed to do that.")


class NotFound(KizunaError):
    status_code = 404
    default_message = lazy_gettext("This page does not exist, or you cannot see it.")


class Conflict(KizunaError):
    status_code = 409


class Invalid(KizunaError):
    """Bad input: a field-level message; 422 like FastAPI's own validation errors."""

    status_code = 422


class TooManyRequests(KizunaError):
    status_code = 429
    default_message = lazy_gettext("Too many attempts. Please try again later.")

    def __init__(self, retry_after: int, message: LazyString | str | None = None) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(message, headers={"Retry-After": str(self.retry_after)})


class ServiceUnavailable(KizunaError):
    status_code = 503
    default_message = lazy_gettext(
        "The community is temporarily unavailable. Please try again in a moment."
    )
