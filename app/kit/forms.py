"""Turning pydantic validation errors into clear, translated messages that name the field."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from starlette.requests import Request

from app.kit.i18n import gettext as _

ModelT = TypeVar("ModelT", bound=BaseModel)


def message_for(error: ErrorDetails) -> str:
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    if kind == "missing":
        return _("This field is required.")
    if kind == "string_too_short":
        if ctx.get("min_length") == 1:
            return _("This field is required.")
        return _("Must be at least %(min)s characters.", min=ctx.get("min_length"))
    if kind == "string_too_long":
        return _("Must be at most %(max)s characters.", max=ctx.get("max_length"))
    if kind in ("too_long", "too_short"):
        return _("Too many or too few items.")
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return _("Enter a whole number.")
    if kind in ("greater_than_equal", "greater_than"):
        return _("Must be at least %(min)s.", min=ctx.get("ge", ctx.get("gt")))
    if kind in ("less_than_equal", "less_than"):
        return _("Must be at most %(max)s.", max=ctx.get("le", ctx.get("lt")))
    if kind in ("literal_error", "enum"):
        return _("Choose one of the offered values.")
    if kind == "value_error":
        if "reason" in ctx:
            return _("Enter a valid email address.")
        return str(ctx.get("error", error["msg"]))
    if kind in ("json_invalid", "model_attributes_type", "model_type", "dict_type"):
        return _("The request body is not valid JSON of the expected shape.")
    if kind in ("string_type", "bool_parsing", "bool_type", "datetime_parsing", "date_parsing"):
        return _("This value has the wrong type.")
    if kind == "extra_forbidden":
        return _("This field is not accepted.")
    return _("This value is not valid.")


def field_name(error: ErrorDetails, *, skip: int = 0) -> str:
    parts = [str(part) for part in error["loc"][skip:]]
    return ".".join(parts) or "body"


def field_errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors():
        errors.setdefault(field_name(error), message_for(error))
    return errors


async def read_form(request: Request) -> dict[str, str]:
    """The text fields of a submitted form (uploads are handled by their own routes)."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def validate(model: type[ModelT], data: dict[str, Any]) -> tuple[ModelT | None, dict[str, str]]:
    try:
        return model.model_validate(data), {}
    except ValidationError as exc:
        return None, field_errors(exc)
