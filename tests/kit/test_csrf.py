from __future__ import annotations

from sqlalchemy import func, select

from app.models import Member
from tests.factories import PASSWORD

SIGNUP = {"email": "csrf@example.com", "display_name": "C", "password": "a long enough passphrase"}


async def _members(database) -> int:
    async with database.transaction(write=False) as session:
        return await session.scalar(select(func.count()).select_from(Member))


async def test_form_without_token_is_refused_and_nothing_is_stored(client, database):
    response = await client.post("/signup", data=SIGNUP)
    assert response.status_code == 403
    assert "Reload the page" in response.text
    assert await _members(database) == 0


async def test_forged_or_foreign_tokens_are_refused(make_client, database):
    victim, attacker = make_client(), make_client()
    attacker_token = await attacker.csrf_token()
    await victim.get("/")
    forged = await victim.post("/signup", data={**SIGNUP, "csrf_token": attacker_token})
    assert forged.status_code == 403
    garbage = await victim.post(
        "/signup", data={**SIGNUP, "csrf_token": "0123456789abcdef.deadbeef"}
    )
    assert garbage.status_code == 403
    assert await _members(database) == 0


async def test_cross_origin_post_is_refused_even_with_a_token(client, database):
    token = await client.csrf_token()
    response = await client.post(
        "/signup", data={**SIGNUP, "csrf_token": token}, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403
    assert await _members(database) == 0


async def test_token_from_before_sign_in_stops_working_after(client, member_factory):
    await member_factory(email="rot@example.com")
    before = await client.csrf_token()
    await client.submit("/signin", {"email": "rot@example.com", "password": PASSWORD})
    response = await client.post("/settings", data={"display_name": "X", "csrf_token": before})
    assert response.status_code == 403


async def test_json_api_write_needs_the_header(client, member_factory, login):
    member = await member_factory()
    await login(client, member)
    refused = await client.patch("/api/v1/me", json={"display_name": "Nope"})
    assert refused.status_code == 403
    assert refused.json()["error"]["field"] == "csrf_token"
    accepted = await client.send_json("PATCH", "/api/v1/me", {"display_name": "Yes"})
    assert accepted.status_code == 200
    assert accepted.json()["display_name"] == "Yes"


async def test_htmx_header_token_is_accepted(client, member_factory, login):
    member = await member_factory()
    await login(client, member)
    token = await client.csrf_token()
    response = await client.post(
        "/settings",
        data={"display_name": "Via htmx", "handle": member.handle},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert response.status_code == 303
