"""The audit log (filters, keyset pages, CSV) and that members never reach moderator routes."""

from __future__ import annotations

import csv
import io

import pytest

from app.models import Role


async def _warn(http, member_id, reason):
    response = await http.send_json(
        "POST", f"/api/v1/mod/members/{member_id}/warn", {"reason": reason}
    )
    assert response.status_code == 200


async def test_audit_filters_pages_and_exports_safely(member_factory, staff):
    mod, mod_member = await staff(Role.moderator)
    other_mod, other_member = await staff(Role.moderator)
    fan = await member_factory(name="Fan")
    await _warn(mod, fan.id, '=HYPERLINK("http://evil")')
    await _warn(other_mod, fan.id, "Plain reason")
    for n in range(3):
        await _warn(mod, fan.id, f"Reason {n}")

    everything = (await mod.get("/api/v1/mod/audit")).json()["items"]
    assert len(everything) == 5
    assert everything[0]["reason"] == "Reason 2"  # newest first
    by_actor = (await mod.get(f"/api/v1/mod/audit?actor_id={other_member.id}")).json()["items"]
    assert [e["reason"] for e in by_actor] == ["Plain reason"]
    by_target = (
        await mod.get(
            f"/api/v1/mod/audit?target_type=member&target_id={fan.id}&action=member.warned"
        )
    ).json()["items"]
    assert len(by_target) == 5
    assert by_target[0]["before"] == {}
    assert by_target[0]["actor"]["id"] == mod_member.id

    page = await mod.get("/mod/audit")
    assert page.status_code == 200
    assert "Member warned" in page.text

    exported = await mod.get(f"/mod/audit.csv?actor_id={mod_member.id}")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert len(rows) == 4
    assert rows[-1]["reason"] == '\'=HYPERLINK("http://evil")'
    api_csv = await mod.get("/api/v1/mod/audit.csv")
    assert api_csv.text.count("\n") == 6


async def test_audit_pages_with_a_keyset_cursor(app, member_factory, staff, monkeypatch):
    from app.moderation import queries

    monkeypatch.setattr(queries, "AUDIT_PAGE", 2)
    mod, _ = await staff(Role.moderator)
    fan = await member_factory()
    for n in range(5):
        await _warn(mod, fan.id, f"Reason {n}")
    seen: list[str] = []
    url = "/api/v1/mod/audit"
    while True:
        page = (await mod.get(url)).json()
        seen.extend(entry["reason"] for entry in page["items"])
        if page["next_before"] is None:
            break
        url = f"/api/v1/mod/audit?before={page['next_before']}"
    assert seen == [f"Reason {n}" for n in (4, 3, 2, 1, 0)]


async def test_members_see_outcomes_that_concern_them_only(member_factory, staff, login, client):
    mod, _ = await staff(Role.moderator)
    fan = await member_factory()
    bystander = await member_factory()
    await _warn(mod, fan.id, "Mind your language")
    await login(client, fan)
    page = await client.get("/my/moderation")
    assert page.status_code == 200
    assert "Mind your language" in page.text
    assert "Member warned" in page.text
    other = (await mod.get("/api/v1/my/moderation")).json()
    assert other["outcomes"] == []
    await login(client, bystander)
    assert "Mind your language" not in (await client.get("/my/moderation")).text


MODERATOR_ROUTES = [
    ("GET", "/mod"),
    ("GET", "/mod/audit"),
    ("GET", "/mod/audit.csv"),
    ("GET", "/mod/topics/1"),
    ("GET", "/mod/members/1"),
    ("POST", "/mod/posts/1"),
    ("POST", "/mod/topics/1"),
    ("POST", "/mod/members/1/silence"),
    ("GET", "/api/v1/mod/queue"),
    ("GET", "/api/v1/mod/audit"),
    ("GET", "/api/v1/mod/audit.csv"),
    ("GET", "/api/v1/mod/members/1"),
    ("POST", "/api/v1/mod/posts/1/actions"),
    ("POST", "/api/v1/mod/topics/1/actions"),
    ("POST", "/api/v1/mod/members/1/suspend"),
]
ADMIN_ROUTES = [
    ("GET", "/admin/moderation"),
    ("POST", "/admin/moderation"),
    ("POST", "/admin/words"),
    ("POST", "/admin/words/1/delete"),
    ("POST", "/admin/members/1/role"),
    ("GET", "/api/v1/admin/moderation/settings"),
    ("PATCH", "/api/v1/admin/moderation/settings"),
    ("GET", "/api/v1/admin/words"),
    ("POST", "/api/v1/admin/words"),
    ("DELETE", "/api/v1/admin/words/1"),
    ("PUT", "/api/v1/admin/members/1/role"),
]


async def _call(http, method, url):
    if method == "GET":
        return await http.get(url)
    if url.startswith("/api/"):
        return await http.send_json(method, url, {"action": "hide", "reason": "x", "role": "admin"})
    return await http.submit(url, {"action": "hide", "reason": "x", "role": "admin"})


@pytest.mark.parametrize(("method", "url"), MODERATOR_ROUTES + ADMIN_ROUTES)
async def test_members_never_reach_moderator_or_admin_routes(staff, method, url, client):
    member_client, _ = await staff(Role.member)
    response = await _call(member_client, method, url)
    assert response.status_code == 403
    anonymous = await _call(client, method, url)
    assert anonymous.status_code in (401, 303)


@pytest.mark.parametrize(("method", "url"), ADMIN_ROUTES)
async def test_moderators_never_reach_admin_routes(staff, method, url):
    mod, _ = await staff(Role.moderator)
    assert (await _call(mod, method, url)).status_code == 403
