"""Session fixation and mass assignment."""

from __future__ import annotations

from app.pipeline import SESSION_COOKIE
from tests.factories import PASSWORD


async def _sign_in(client, email: str) -> None:
    answer = await client.submit("/signin", {"email": email, "password": PASSWORD})
    assert answer.status_code == 303, answer.text


async def test_a_planted_session_id_is_never_adopted(make_client, member_factory):
    await member_factory(email="victim@example.com")
    victim = make_client()
    # The attacker plants a session id of their choosing in the victim's browser.
    victim.cookies.set(
        SESSION_COOKIE, "attacker-chosen-session-id-0123456789", domain="testserver.local"
    )
    await _sign_in(victim, "victim@example.com")
    issued = victim.cookies.get(SESSION_COOKIE)
    assert issued
    assert issued != "attacker-chosen-session-id-0123456789"
    attacker = make_client()
    attacker.cookies.set(
        SESSION_COOKIE, "attacker-chosen-session-id-0123456789", domain="testserver.local"
    )
    assert (await attacker.get("/api/v1/me")).status_code == 401


async def test_an_attackers_own_session_is_replaced_at_sign_in(make_client, member_factory):
    await member_factory(email="attacker@example.com")
    await member_factory(email="victim2@example.com")
    attacker = make_client()
    await _sign_in(attacker, "attacker@example.com")
    planted = attacker.cookies.get(SESSION_COOKIE)
    victim = make_client()
    victim.cookies.set(SESSION_COOKIE, planted, domain="testserver.local")
    await _sign_in(victim, "victim2@example.com")
    assert victim.cookies.get(SESSION_COOKIE) != planted
    assert (await victim.get("/api/v1/me")).json()["email"] == "victim2@example.com"
    # The planted id was ended, so it never becomes a key to the victim's account.
    reuse = make_client()
    reuse.cookies.set(SESSION_COOKIE, planted, domain="testserver.local")
    assert (await reuse.get("/api/v1/me")).status_code == 401


async def test_sign_out_ends_the_session_on_the_server(make_client, member_factory):
    await member_factory(email="leaver@example.com")
    browser = make_client()
    await _sign_in(browser, "leaver@example.com")
    token = browser.cookies.get(SESSION_COOKIE)
    assert (await browser.submit("/signout")).status_code == 303
    copy = make_client()
    copy.cookies.set(SESSION_COOKIE, token, domain="testserver.local")
    assert (await copy.get("/api/v1/me")).status_code == 401


async def test_a_member_cannot_set_their_own_role_points_or_identity(signed_in):
    client, member = await signed_in("member")
    for field, value in [
        ("role", "admin"),
        ("lifetime_points", 100000),
        ("spendable_points", 100000),
        ("email_verified_at", "2020-01-01T00:00:00Z"),
        ("id", 1),
        ("email", "someone-else@example.com"),
        ("ambassador_badge", True),
        ("suspended_until", None),
    ]:
        answer = await client.send_json("PATCH", "/api/v1/me", {field: value})
        assert answer.status_code == 422, (field, answer.text)
    me = (await client.get("/api/v1/me")).json()
    assert me["role"] == "member"
    assert me["id"] == member.id
    assert me["email"] == member.email
    points = (await client.get("/api/v1/points")).json()
    assert all(value in (0, None) for key, value in points.items() if "points" in key)
    form = await client.submit(
        "/settings",
        {
            "display_name": "Same",
            "handle": member.handle,
            "role": "admin",
            "lifetime_points": "999",
        },
    )
    assert form.status_code == 303
    assert (await client.get("/api/v1/me")).json()["role"] == "member"


async def test_authorship_and_counters_of_a_new_topic_come_from_the_server(signed_in):
    admin, _ = await signed_in("admin")
    category = await admin.send_json(
        "POST", "/api/v1/categories", {"slug": "open", "name_en": "Open"}
    )
    assert category.status_code == 201
    client, member = await signed_in("member")
    _, other = await signed_in("member")
    answer = await client.send_json(
        "POST",
        "/api/v1/topics",
        {
            "category_id": category.json()["id"],
            "title": "Who wrote this?",
            "body": "Me, and nobody else.",
            "author_id": other.id,
            "like_count": 500,
            "pinned": True,
            "score": 99,
            "view_count": 10**6,
        },
    )
    assert answer.status_code in (201, 422), answer.text
    if answer.status_code == 201:
        topic = answer.json()["topic"]
        first = answer.json()["posts"][0]
        assert first["author"]["id"] == member.id
        assert first["like_count"] == 0
        assert topic.get("pinned") in (False, None)
        assert topic.get("like_count", 0) == 0
