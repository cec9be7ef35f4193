"""Passwords, random tokens, CSRF tokens and signed cookies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from functools import lru_cache
from typing import Any

from passlib.context import CryptContext

from app.config import get_settings


@lru_cache
def password_context() -> CryptContext:
    """argon2id, memory-hard; "deprecated=auto" rehashes weaker hashes at the next sign-in.

    The test suite (KIZUNA_ENV=test) uses the same algorithm with a small memory cost so that
    hundreds of sign-ups stay fast; every other environment uses passlib's strong defaults.
    """
    if get_settings().env == "test":
        return CryptContext(
            schemes=["argon2"], argon2__memory_cost=1024, argon2__time_cost=1, argon2__parallelism=1
        )
    return CryptContext(schemes=["argon2"], deprecated="auto")


def hash_password(password: str) -> str:
    return str(password_context().hash(password))


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return bool(password_context().verify(password, password_hash))
    except (ValueError, TypeError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return bool(password_context().needs_update(password_hash))


@lru_cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def burn_password_check(password: str) -> None:
    """Spend the time of a real check, so an unknown email answers as slowly as a wrong
    password and sign-in timing does not reveal which accounts exist."""
    verify_password(password, _dummy_hash())


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _mac(secret: str, purpose: str, message: str) -> str:
    key = hashlib.sha256(f"{purpose}:{secret}".encode()).digest()
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def csrf_token_for(secret: str, binding: str, nonce: str | None = None) -> str:
    """A CSRF token tied to the browser's session (or its anonymous cookie) and our secret."""
    nonce = nonce or secrets.token_hex(8)
    return f"{nonce}.{_mac(secret, 'csrf', f'{binding}:{nonce}')}"


def csrf_token_valid(secret: str, binding: str, token: str | None) -> bool:
    if not token or "." not in token:
        return False
    nonce, _sep, mac = token.partition(".")
    expected = _mac(secret, "csrf", f"{binding}:{nonce}")
    return hmac.compare_digest(mac, expected)


def sign_value(secret: str, purpose: str, value: Any) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).decode()
    return f"{payload}.{_mac(secret, purpose, payload)}"


def unsign_value(secret: str, purpose: str, signed: str | None) -> Any:
    if not signed or "." not in signed:
        return None
    payload, _sep, mac = signed.rpartition(".")
    if not hmac.compare_digest(mac, _mac(secret, purpose, payload)):
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(payload.encode()))
    except ValueError:
        return None
