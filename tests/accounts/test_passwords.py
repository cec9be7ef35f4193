from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.models import Member


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Tiny9!", "Use at least 10 characters."),
        ("x" * 1025, "Use at most 1024 characters."),
        ("qwertyuiop", "This password is too common."),
        ("Password123", "This password is too common."),
        ("aaaaaaaaaaaa", "This password is too common."),
    ],
)
async def test_weak_passwords_are_refused_and_nothing_is_stored(
    client, database, password, message
):
    response = await client.submit(
        "/signup", {"email": "weak@example.com", "display_name": "Weak", "password": password}
    )
    assert response.status_code == 422
    assert message in response.text
    assert "weak@example.com" in response.text  # the form keeps what was typed...
    assert password not in response.text  # ...but never echoes the password
    async with database.transaction(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(Member)) == 0


async def test_emoji_password_works(client, member_factory):
    password = "🔑🌸🍣🎌🗻🐉🍵🎎🏯🌊"
    await member_factory(email="emoji@example.com", password=password)
    response = await client.submit("/signin", {"email": "emoji@example.com", "password": password})
    assert response.status_code == 303
    assert (await client.get("/api/v1/me")).status_code == 200


async def test_signup_form_errors_name_each_field(client):
    response = await client.submit(
        "/signup", {"email": "not-an-email", "display_name": "", "password": ""}
    )
    assert response.status_code == 422
    assert "Enter a valid email address." in response.text
    assert 'id="e-display_name"' in response.text
    assert 'id="e-password"' in response.text


async def test_passwords_are_stored_as_argon2id(member_factory, database):
    member = await member_factory(password="a long enough passphrase")
    async with database.transaction(write=False) as session:
        stored = await session.scalar(select(Member.password_hash).where(Member.id == member.id))
    assert stored.startswith("$argon2id$")
    assert "a long enough passphrase" not in stored


def test_outside_tests_argon2_uses_strong_parameters(monkeypatch):
    from app.config import Settings
    from app.kit import security

    monkeypatch.setattr(
        security, "get_settings", lambda: Settings(env="production", secret_key="x" * 40)
    )
    security.password_context.cache_clear()
    try:
        stored = security.hash_password("a long enough passphrase")
        assert stored.startswith("$argon2id$")
        memory_cost = int(stored.split("$")[3].split(",")[0].removeprefix("m="))
        assert memory_cost >= 65536
    finally:
        security.password_context.cache_clear()
