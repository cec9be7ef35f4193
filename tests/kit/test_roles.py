from __future__ import annotations

import pytest

from app.models import Role


@pytest.mark.parametrize(
    ("role", "expected"),
    [(Role.member, 403), (Role.moderator, 403), (Role.operator, 403), (Role.admin, 200)],
)
async def test_admin_pages_only_for_admins(client, member_factory, login, role, expected):
    await login(client, await member_factory(role=role))
    assert (await client.get("/admin")).status_code == expected
    assert (await client.get("/admin/outbox")).status_code == expected


async def test_anonymous_is_sent_to_sign_in_and_api_says_401(client):
    page = await client.get("/admin/outbox")
    assert page.status_code == 303
    assert page.headers["location"] == "/signin?next=/admin/outbox"
    api = await client.get("/api/v1/me")
    assert api.status_code == 401
    assert api.json()["error"]["message"] == "Please sign in to continue."


async def test_member_cannot_raise_their_own_role(client, member_factory, login):
    member = await member_factory()
    await login(client, member)
    response = await client.send_json("PATCH", "/api/v1/me", {"role": "admin"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "body.role"
    assert (await client.get("/api/v1/me")).json()["role"] == "member"
    form = await client.submit(
        "/settings", {"display_name": "Still me", "handle": member.handle, "role": "admin"}
    )
    assert form.status_code == 303
    assert (await client.get("/api/v1/me")).json()["role"] == "member"


async def test_admin_reads_the_outbox(client, member_factory, login, make_client):
    await make_client().submit(
        "/signup",
        {
            "email": "newbie@example.com",
            "display_name": "Newbie",
            "password": "a long enough passphrase",
        },
    )
    await login(client, await member_factory(role=Role.admin))
    page = await client.get("/admin/outbox")
    assert "newbie@example.com" in page.text
    assert "/activate/" in page.text
