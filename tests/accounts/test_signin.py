from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from app.kit import clock
from app.models import AuthSession
from app.pipeline import SESSION_COOKIE
from tests.factories import PASSWORD


async def _sessions(database, member_id: int) -> int:
    async with database.transaction(write=False) as session:
        return await session.scalar(
            select(func.count()).select_from(AuthSession).where(AuthSession.member_id == member_id)
        )


async def test_sign_in_and_out(client, database, member_factory):
    member = await member_factory(name="Hana", email="hana@example.com")
    response = await client.submit("/signin", {"email": "HANA@example.com ", "password": PASSWORD})
    assert response.status_code == 303
    assert "hana" in (await client.get("/")).text.lower()
    assert (await client.get("/api/v1/me")).json()["display_name"] == "Hana"

    token = client.cookies.get(SESSION_COOKIE)
    out = await client.submit("/signout")
    assert out.status_code == 303
    assert (await client.get("/api/v1/me")).status_code == 401
    # the old cookie is dead on the server, not just forgotten by the browser
    client.cookies.set(SESSION_COOKIE, token, domain="testserver.local")
    assert (await client.get("/api/v1/me")).status_code == 401
    assert await _sessions(database, member.id) == 0


async def test_wrong_password_and_unknown_email_look_the_same(client, member_factory):
    await member_factory(email="known@example.com")
    wrong = await client.submit(
        "/signin", {"email": "known@example.com", "password": "not the password"}
    )
    unknown = await client.submit(
        "/signin", {"email": "nobody@example.com", "password": "not the password"}
    )
    assert wrong.status_code == unknown.status_code == 400
    assert "The email or password is not correct." in wrong.text
    assert "The email or password is not correct." in unknown.text


async def test_sign_in_rotates_a_planted_session_id(client, member_factory):
    await member_factory(email="victim@example.com")
    client.cookies.set(SESSION_COOKIE, "attacker-chosen-session-id", domain="testserver.local")
    await client.submit("/signin", {"email": "victim@example.com", "password": PASSWORD})
    assert client.cookies.get(SESSION_COOKIE) != "attacker-chosen-session-id"
    assert (await client.get("/api/v1/me")).status_code == 200


async def test_session_cookie_flags(client, member_factory):
    await member_factory(email="flags@example.com")
    response = await client.submit("/signin", {"email": "flags@example.com", "password": PASSWORD})
    cookie = next(
        v
        for k, v in response.headers.multi_items()
        if k == "set-cookie" and v.startswith(SESSION_COOKIE)
    )
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()


async def test_revoking_another_session_signs_it_out(make_client, database, member_factory, login):
    member = await member_factory()
    laptop, phone = make_client(), make_client()
    await login(laptop, member)
    await login(phone, member)
    page = await laptop.get("/settings")
    assert page.text.count("pytest") == 2  # both sessions listed
    async with database.transaction(write=False) as session:
        hashes = (await session.execute(select(AuthSession.token_hash))).scalars().all()
    current = laptop.cookies.get(SESSION_COOKIE)
    from app.kit.security import sha256_hex

    other = next(h for h in hashes if h != sha256_hex(current))
    response = await laptop.submit("/settings/sessions/revoke", {"session": other[:16]})
    assert response.status_code == 303
    assert (await phone.get("/api/v1/me")).status_code == 401
    assert (await laptop.get("/api/v1/me")).status_code == 200


async def test_password_change_needs_current_password_and_ends_other_sessions(
    make_client, database, member_factory, login
):
    member = await member_factory(email="pw@example.com")
    laptop, phone = make_client(), make_client()
    await login(laptop, member)
    await login(phone, member)
    refused = await laptop.submit(
        "/settings/password",
        {"current_password": "wrong wrong wrong", "new_password": "a brand new passphrase"},
    )
    assert refused.status_code == 422
    assert "current password is not correct" in refused.text
    assert (await phone.get("/api/v1/me")).status_code == 200

    changed = await laptop.submit(
        "/settings/password",
        {"current_password": PASSWORD, "new_password": "a brand new passphrase"},
    )
    assert changed.status_code == 303
    assert (await phone.get("/api/v1/me")).status_code == 401
    assert (await laptop.get("/api/v1/me")).status_code == 200
    fresh = make_client()
    ok = await fresh.submit(
        "/signin", {"email": "pw@example.com", "password": "a brand new passphrase"}
    )
    assert ok.status_code == 303


async def test_a_session_slides_on_successful_requests_only(
    client, database, member_factory, login, settings
):
    member = await member_factory(locale="en")
    await login(client, member)
    csrf = {"X-CSRF-Token": await client.csrf_token()}
    long_ago = clock.now() - timedelta(hours=1)

    async def expires_at():
        async with database.transaction(write=False) as session:
            return await session.scalar(
                select(AuthSession.expires_at).where(AuthSession.member_id == member.id)
            )

    async with database.transaction() as session:
        await session.execute(
            update(AuthSession)
            .where(AuthSession.member_id == member.id)
            .values(last_seen_at=long_ago, expires_at=long_ago + timedelta(days=1))
        )
    refused = await client.patch("/api/v1/me", json={"bio": "x" * 10001}, headers=csrf)
    assert refused.status_code == 422
    assert await expires_at() < clock.now() + timedelta(days=1)

    done = await client.patch("/api/v1/me", json={"bio": "hello"}, headers=csrf)
    assert done.status_code == 200
    assert await expires_at() > clock.now() + timedelta(days=settings.session_days - 1)
    assert (await client.get("/api/v1/me")).json()["bio"] == "hello"
