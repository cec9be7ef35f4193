"""Only operators and admins reach the analytics pages and API."""

from __future__ import annotations

import pytest

from app.models import Role

PAGES = [
    "/ops",
    "/ops/retention",
    "/ops/scores",
    "/ops/members",
    "/ops/members.csv",
    "/ops/ambassadors",
    "/ops/surveys",
    "/ops/import",
    "/ops/settings",
    "/ops/export/active.csv",
]
API = [
    "/api/v1/ops/dashboard",
    "/api/v1/ops/charts/deciles",
    "/api/v1/ops/members",
    "/api/v1/ops/ambassadors",
    "/api/v1/ops/segments",
    "/api/v1/ops/surveys",
]
POSTS = ["/ops/recompute", "/ops/segments", "/ops/surveys", "/ops/import", "/ops/settings"]


@pytest.mark.parametrize("role", [Role.member, Role.moderator])
async def test_members_and_moderators_are_refused(client, member_factory, login, role):
    target = await member_factory()
    await login(client, await member_factory(role=role))
    for url in [*PAGES, f"/ops/members/{target.id}"]:
        assert (await client.get(url)).status_code == 403, url
    for url in API:
        response = await client.get(url)
        assert response.status_code == 403, url
        assert response.json()["error"]["status"] == 403
    for url in POSTS:
        assert (await client.submit(url, {"name": "x"})).status_code == 403, url
    refused = await client.send_json(
        "POST", f"/api/v1/ops/members/{target.id}/ambassador", {"decision": "confirmed"}
    )
    assert refused.status_code == 403


async def test_anonymous_is_sent_to_sign_in(client):
    page = await client.get("/ops/members")
    assert page.status_code == 303
    assert page.headers["location"] == "/signin?next=/ops/members"
    assert (await client.get("/api/v1/ops/dashboard")).status_code == 401
    assert (await client.get("/surveys")).status_code == 303


@pytest.mark.parametrize("role", [Role.operator, Role.admin])
async def test_operators_and_admins_see_every_page(client, member_factory, login, role):
    target = await member_factory()
    await login(client, await member_factory(role=role))
    for url in [*PAGES, f"/ops/members/{target.id}", *API]:
        response = await client.get(url)
        assert response.status_code == 200, url
        assert "style=" not in response.text
    staff = await member_factory(role=Role.moderator)
    assert (await client.get(f"/ops/members/{staff.id}")).status_code == 404
    assert (await client.get("/ops/export/nothing.csv")).status_code == 404


async def test_pages_speak_japanese(client, member_factory, login):
    await login(client, await member_factory(role=Role.operator, locale="ja"))
    for url, text in [
        ("/ops", "コミュニティの健康状態"),
        ("/ops/surveys", "新しいアンケート"),
        ("/ops/settings", "30日あたりの熱量の減衰率（%）"),
        ("/ops/scores", "熱量によるデシル分析"),
    ]:
        page = await client.get(url)
        assert page.status_code == 200, url
        assert text in page.text, url
