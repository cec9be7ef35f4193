"""One-shot messages shown on the next page ("Your settings were saved")."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from app.config import get_settings
from app.kit.security import sign_value, unsign_value

FLASH_COOKIE = "kizuna_flash"


def flash(response: Response, message: str, level: str = "success") -> None:
    settings = get_settings()
    response.set_cookie(
        FLASH_COOKIE,
        sign_value(settings.secret_key, "flash", [[level, str(message)]]),
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        max_age=120,
    )


def read_flashes(raw: str | None) -> list[dict[str, Any]]:
    value = unsign_value(get_settings().secret_key, "flash", raw)
    if not isinstance(value, list):
        return []
    return [
        {"level": str(item[0]), "message": str(item[1])}
        for item in value
        if isinstance(item, list) and len(item) == 2
    ]
