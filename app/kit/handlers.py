"""One place that turns errors into a page, a partial or JSON, with the right status."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from app.db import database_unavailable
from app.kit.errors import KizunaError, ServiceUnavailable
from app.kit.forms import field_name, message_for
from app.kit.i18n import gettext as _
from app.kit.i18n import lazy_gettext
from app.kit.templating import render
from app.models.base import INT64_RANGE
from app.pipeline import wants_json

logger = logging.getLogger(__name__)
RETRY_AFTER = "5"

_HTTP_MESSAGES = {
    404: lazy_gettext("This page does not exist, or you cannot see it."),
    405: lazy_gettext("This address does not accept that kind of request."),
}


def error_response(
    request: Request,
    status: int,
    message: str,
    *,
    field: str | None = None,
    fields: list[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    if wants_json(request.scope):
        payload: dict[str, Any] = {"status": status, "message": message}
        if field:
            payload["field"] = field
        if fields:
            payload["fields"] = fields
        return JSONResponse({"error": payload}, status_code=status, headers=headers)
    if status == 401:
        target = request.url.path
        if request.url.query:
            target += f"?{request.url.query}"
        return RedirectResponse(f"/signin?next={target}", status_code=303)
    template = (
        "errors/_error.html" if request.headers.get("HX-Request") == "true" else "errors/error.html"
    )
    return render(
        request,
        template,
        {"status": status, "message": message},
        status_code=status,
        headers=headers,
    )


async def kizuna_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, KizunaError)
    return error_response(
        request, exc.status_code, str(exc.message), field=exc.field, headers=exc.headers
    )


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = str(
        _HTTP_MESSAGES.get(exc.status_code, lazy_gettext("This request could not be handled."))
    )
    return error_response(request, exc.status_code, message, headers=exc.headers)


async def validation_error(request: Request, exc: Exception) -> Response:
    """Bad request data, whether FastAPI found it or a route validated a model itself."""
    assert isinstance(exc, RequestValidationError | ValidationError)
    fields = [
        {"field": field_name(error), "message": message_for(error)}  # type: ignore[arg-type]
        for error in exc.errors()
    ]
    first = fields[0] if fields else {"field": "body", "message": _("This value is not valid.")}
    return error_response(
        request,
        422,
        first["message"],
        field=first["field"],
        fields=fields,
    )


def unavailable_response(request: Request, exc: BaseException) -> Response:
    logger.error("database unavailable: %s", exc)
    message = str(ServiceUnavailable().message)
    return error_response(request, 503, message, headers={"Retry-After": RETRY_AFTER})


async def number_out_of_range(request: Request, exc: Exception) -> Response:
    """An integer its column cannot hold: in the path (ids, 64 bits) it names nothing (404);
    anywhere else it is bad input (422). Never a 500."""
    if any(
        isinstance(value, int) and value not in INT64_RANGE
        for value in request.path_params.values()
    ):
        return error_response(request, 404, str(_HTTP_MESSAGES[404]))
    return error_response(request, 422, _("A number in this request is too large."))


# asyncpg refuses a number too wide for its column's type while binding it ("value out of
# int32 range"), and PostgreSQL reports one that overflows in the statement as SQLSTATE 22003.
_BIND_OUT_OF_RANGE = re.compile(r"out of int(16|32|64) range")
_NUMERIC_VALUE_OUT_OF_RANGE = "22003"


def _out_of_range(exc: DBAPIError) -> bool:
    # SQLAlchemy does not always class the bind refusal as a DataError: ask the error itself.
    if getattr(exc.orig, "sqlstate", None) == _NUMERIC_VALUE_OUT_OF_RANGE:
        return True
    return _BIND_OUT_OF_RANGE.search(str(exc.orig)) is not None


async def database_error(request: Request, exc: Exception) -> Response:
    """Database errors inside a route: an outage is answered here (503, no traceback); any
    other database error is a bug and goes on to ``server_error``."""
    if database_unavailable(exc):
        return unavailable_response(request, exc)
    if isinstance(exc, DBAPIError) and _out_of_range(exc):
        return await number_out_of_range(request, exc)
    raise exc


async def server_error(request: Request, exc: Exception) -> Response:
    if database_unavailable(exc) or isinstance(exc, OSError):
        return unavailable_response(request, exc)
    logger.exception("unhandled error", exc_info=exc)
    return error_response(
        request,
        500,
        _("Something went wrong on our side. The team has been told; please try again."),
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(KizunaError, kizuna_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(ValidationError, validation_error)
    app.add_exception_handler(DBAPIError, database_error)
    app.add_exception_handler(OverflowError, number_out_of_range)  # SQLite binding a huge int
    app.add_exception_handler(Exception, server_error)
