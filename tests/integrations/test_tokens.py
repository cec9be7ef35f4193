"""API tokens: made by members for themselves (admins may add the admin scope), shown once,
stored hashed, scoped, revocable, last use shown, and rate limited per token."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select, update

from app.kit import clock
from app.kit.security import sha256_hex
from app.models import ApiToken, RateLimit
from tests.integrations.helpers import TOKEN, bearer, make_token


async def test_create_use_and_revoke(client, make_client, database, member_factory, login):
    member = await member_factory(locale="en")
    await login(client, member)
    token = await make_token(client, "my dashboard", "read")

    listing = await client.get("/settings/tokens")
    assert "my dashboard" in listing.text
    assert token not in listing.text  # shown once only
    assert "Never" in listing.text
    async with database.transaction(write=False) as session:
        row = (await session.execute(select(ApiToken))).scalar_one()
    assert row.token_hash == sha256_hex(token)
    assert row.scopes == "read"

    program = make_client()
    me = await program.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.json()["id"] == member.id
    write = await program.patch("/api/v1/me", json={"bio": "hi"}, headers=bearer(token))
    assert write.status_code == 403
    assert "may only read" in write.json()["error"]["message"]
    listing = await client.get("/settings/tokens")
    assert "Never" not in listing.text  # last use is shown

    revoked = await client.submit(f"/settings/tokens/{row.id}/revoke")
    assert revoked.status_code == 303
    after = await program.get("/api/v1/me", headers=bearer(token))
    assert after.status_code == 401


async def test_write_tokens_write_and_cannot_mint_tokens(
    client, make_client, member_factory, login
):
    member = await member_factory(locale="en")
    await login(client, member)
    token = await make_token(client, "bot", "write")
    program = make_client()
    changed = await program.patch("/api/v1/me", json={"bio": "from a bot"}, headers=bearer(token))
    assert changed.status_code == 200
    assert changed.json()["bio"] == "from a bot"
    # A program keeps no cookies and needs no CSRF token: it is not handed a browser cookie.
    assert "set-cookie" not in changed.headers
    assert not program.cookies
    minted = await program.post(
        "/api/v1/tokens", json={"name": "child", "scope": "write"}, headers=bearer(token)
    )
    assert minted.status_code == 403


async def test_admin_scope_is_for_admins(client, make_client, member_factory, login):
    member = await member_factory(locale="en")
    await login(client, member)
    page = await client.get("/settings/tokens")
    assert 'value="admin"' not in page.text
    refused = await client.send_json("POST", "/api/v1/tokens", {"name": "x", "scope": "admin"})
    assert refused.status_code == 403
    assert refused.json()["error"]["field"] == "scope"

    admin = await member_factory(role="admin", locale="en")
    admin_client = make_client()
    await login(admin_client, admin)
    created = await admin_client.send_json(
        "POST", "/api/v1/tokens", {"name": "CRM sync", "scope": "admin"}
    )
    assert created.status_code == 201
    body = created.json()
    assert body["scopes"] == ["read", "write", "admin"]
    read_only = await make_token(admin_client, "reader", "read")

    program = make_client()
    assert (await program.get("/admin", headers=bearer(body["token"]))).status_code == 200
    assert (await program.get("/admin", headers=bearer(read_only))).status_code == 403
    listed = (await admin_client.get("/api/v1/tokens")).json()
    assert {item["name"] for item in listed} == {"CRM sync", "reader"}
    assert all("token" not in item for item in listed)

    gone = await admin_client.send_json("DELETE", f"/api/v1/tokens/{body['id']}")
    assert gone.status_code == 204
    assert (await program.get("/admin", headers=bearer(body["token"]))).status_code == 401
    # Someone else's token is not found.
    assert (await client.send_json("DELETE", f"/api/v1/tokens/{body['id']}")).status_code == 404


async def test_bad_token_names_are_explained(client, member_factory, login):
    member = await member_factory(locale="en")
    await login(client, member)
    page = await client.submit("/settings/tokens", {"name": "   ", "scope": "read"})
    assert page.status_code == 422
    assert "This field is required." in page.text
    assert TOKEN.search(page.text) is None


async def test_each_token_has_a_request_budget(
    client, make_client, member_factory, login, settings, monkeypatch
):
    monkeypatch.setattr(settings, "api_token_requests_per_minute", 3)
    member = await member_factory(locale="en")
    await login(client, member)
    first = await make_token(client, "one", "write")
    second = await make_token(client, "two", "read")
    program = make_client()
    for _ in range(3):
        assert (await program.get("/api/v1/me", headers=bearer(first))).status_code == 200
    limited = await program.get("/api/v1/me", headers=bearer(first))
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.json()["error"]["field"] == "token"
    writes = await program.patch("/api/v1/me", json={"bio": "x"}, headers=bearer(first))
    assert writes.status_code == 429
    # Another token, and the signed-in browser, have their own budgets.
    assert (await program.get("/api/v1/me", headers=bearer(second))).status_code == 200
    assert (await client.get("/api/v1/me")).status_code == 200


async def test_concurrent_writes_cannot_overdraw_a_budget(
    client, make_client, database, member_factory, login, settings, monkeypatch
):
    """Writes sent at once with one token are each counted in their own transaction: as many
    succeed as the budget allows, the others are answered 429 and keep nothing they did."""
    monkeypatch.setattr(settings, "api_token_requests_per_minute", 3)
    member = await member_factory(locale="en")
    await login(client, member)
    token = await make_token(client, "bot", "write")
    program = make_client()
    bios = [f"bio {n}" for n in range(6)]
    answers = await asyncio.gather(
        *(program.patch("/api/v1/me", json={"bio": bio}, headers=bearer(token)) for bio in bios)
    )
    done = [bio for bio, answer in zip(bios, answers, strict=True) if answer.status_code == 200]
    refused = [answer for answer in answers if answer.status_code == 429]
    assert len(done) == 3
    assert len(refused) == 3
    assert all(int(answer.headers["Retry-After"]) >= 1 for answer in refused)
    assert (await client.get("/api/v1/me")).json()["bio"] in done
    async with database.transaction(write=False) as session:
        counted = await session.scalar(
            select(RateLimit.count).where(RateLimit.key.startswith("api-token:"))
        )
    assert counted == 3


async def test_last_use_follows_successful_requests_only(
    client, make_client, database, member_factory, login
):
    member = await member_factory(locale="en")
    await login(client, member)
    token = await make_token(client, "bot", "write")
    program = make_client()

    async def last_used():
        async with database.transaction(write=False) as session:
            return await session.scalar(select(ApiToken.last_used_at))

    refused = await program.patch("/api/v1/me", json={"bio": "x" * 10001}, headers=bearer(token))
    assert refused.status_code == 422
    assert await last_used() is None
    assert "Never" in (await client.get("/settings/tokens")).text

    done = await program.patch("/api/v1/me", json={"bio": "from a bot"}, headers=bearer(token))
    assert done.status_code == 200
    assert await last_used() is not None
    assert "Never" not in (await client.get("/settings/tokens")).text

    # Last used a while ago: the next successful write moves it to now.
    async with database.transaction() as session:
        await session.execute(
            update(ApiToken).values(last_used_at=clock.now() - timedelta(minutes=10))
        )
    before = clock.now()
    again = await program.patch("/api/v1/me", json={"bio": "again"}, headers=bearer(token))
    assert again.status_code == 200
    assert await last_used() >= before - timedelta(seconds=1)
