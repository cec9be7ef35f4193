from __future__ import annotations

from starlette.requests import Request


def safe_next(value: str | None, default: str = "/") -> str:
    """Only same-site paths may be redirected to after a form (no open redirects)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(ord(char) < 32 for char in value):
        return default
    return value


def client_ip(request: Request) -> str:
    # uvicorn rewrites the client from X-Forwarded-For only for KIZUNA_TRUSTED_PROXIES.
    return request.client.host if request.client else "unknown"
