"""Silence, suspend (sessions end at once, sign-in refused), warnings, and roles."""

from __future__ import annotations

from sqlalchemy import func, select

from app.models import AuthSession, Notification, Role
from tests.factories import PASSWORD
from tests.moderation.conftest import activities, audit_actions, fresh


async def _member_action(http, member_id, action, **payload):
    return await http.send_json("POST", f"/api/v1/mod/members/{member_id}/{action}", payload)


async def test_silenced_member_reads_but_cannot_flag_and_hears_why(
    database, member_factory, staff, forum
):
    author = await member_factory()
    topic = await forum.topic(author, await forum.category())
    member_client, member = await staff(Role.member)
    mod, _ = await staff(Role.moderator)
    response = await _member_action(mod, member.id, "silence", hours=48, reason="Cool down")
    assert response.status_code == 200
    assert response.json()["silenced_until"] is not None
    assert (await member_client.get(f"/api/v1/topics/{topic.id}")).status_code == 200
    refused = await member_client.send_json(
        "POST", f"/api/v1/topics/{topic.id}/flags", {"reason": "spam"}
    )
    assert refused.status_code == 403
    message = refused.json()["error"]["message"]
    assert message.startswith("You are silenced until ")
    assert "Cool down" in message
    mine = (await member_client.get("/api/v1/my/moderation")).json()
    assert mine["silenced_until"] is not None
    assert [o["action"] for o in mine["outcomes"]] == ["member.silenced"]
    assert [a.recipient_id for a in await activities(database, "member.silenced")] == [member.id]
    lifted = await _member_action(mod, member.id, "unsilence", reason="")
    assert lifted.json()["silenced_until"] is None
    flagged = await member_client.send_json(
        "POST", f"/api/v1/topics/{topic.id}/flags", {"reason": "spam"}
    )
    assert flagged.status_code == 201
    assert await audit_actions(database) == ["member.silenced", "member.unsilenced"]


async def test_suspension_ends_open_sessions_and_refuses_sign_in(
    database, member_factory, staff, make_client
):
    member_client, member = await staff(Role.member, email="fan@example.com")
    assert (await member_client.get("/api/v1/me")).status_code == 200
    mod, _ = await staff(Role.moderator)
    response = await _member_action(mod, member.id, "suspend", hours=72, reason="Harassment")
    assert response.status_code == 200
    async with database.transaction(write=False) as session:
        left = await session.scalar(
            select(func.count()).select_from(AuthSession).where(AuthSession.member_id == member.id)
        )
    assert left == 0
    assert (await member_client.get("/api/v1/me")).status_code == 401
    browser = make_client()
    signin = await browser.submit(
        "/signin", {"email": "fan@example.com", "password": PASSWORD, "next": "/"}
    )
    assert signin.status_code == 403
    assert "Your account is suspended until" in signin.text
    assert "Harassment" in signin.text
    wrong = await browser.submit(
        "/signin", {"email": "fan@example.com", "password": "not the password", "next": "/"}
    )
    assert "suspended" not in wrong.text
    async with database.transaction(write=False) as session:
        kinds = list(
            (
                await session.execute(
                    select(Notification.kind).where(Notification.member_id == member.id)
                )
            ).scalars()
        )
    assert kinds == ["warning"]
    lifted = await _member_action(mod, member.id, "unsuspend", reason="Appeal accepted")
    assert lifted.json()["suspended_until"] is None
    again = await browser.submit(
        "/signin", {"email": "fan@example.com", "password": PASSWORD, "next": "/"}
    )
    assert again.status_code == 303
    assert await audit_actions(database) == ["member.suspended", "member.unsuspended"]


async def test_warning_reaches_the_member_privately(database, member_factory, staff):
    member = await member_factory()
    mod, _ = await staff(Role.moderator)
    response = await _member_action(mod, member.id, "warn", reason="Please stay on topic")
    assert response.status_code == 200
    warned = await activities(database, "member.warned")
    assert [(a.recipient_id, a.data["reason"]) for a in warned] == [
        (member.id, "Please stay on topic")
    ]
    async with database.transaction(write=False) as session:
        rows = (
            await session.execute(select(Notification).where(Notification.member_id == member.id))
        ).scalars()
        assert [(n.kind, n.data["reason"]) for n in rows] == [("warning", "Please stay on topic")]
    blank = await _member_action(mod, member.id, "warn", reason="")
    assert blank.status_code == 422


async def test_moderators_cannot_act_on_staff_or_themselves(member_factory, staff):
    mod, me = await staff(Role.moderator)
    other_mod = await member_factory(role=Role.moderator)
    admin = await member_factory(role=Role.admin)
    for target in (me, other_mod, admin):
        response = await _member_action(mod, target.id, "silence", hours=1, reason="x")
        assert response.status_code == 403
    unknown = await _member_action(mod, 999999, "silence", hours=1, reason="x")
    assert unknown.status_code == 404
    too_long = await _member_action(mod, other_mod.id, "silence", hours=10**9, reason="x")
    assert too_long.status_code == 422


async def test_admins_change_roles_but_never_leave_the_community_without_one(
    database, member_factory, staff
):
    admin_client, admin = await staff(Role.admin)
    member = await member_factory()
    promoted = await admin_client.send_json(
        "PUT", f"/api/v1/admin/members/{member.id}/role", {"role": "moderator"}
    )
    assert promoted.status_code == 200
    assert promoted.json()["role"] == "moderator"
    assert (await fresh(database, member)).role == "moderator"
    alone = await admin_client.send_json(
        "PUT", f"/api/v1/admin/members/{admin.id}/role", {"role": "member"}
    )
    assert alone.status_code == 409
    assert "at least one admin" in alone.json()["error"]["message"]
    await admin_client.send_json(
        "PUT", f"/api/v1/admin/members/{member.id}/role", {"role": "admin"}
    )
    stepped_down = await admin_client.send_json(
        "PUT", f"/api/v1/admin/members/{admin.id}/role", {"role": "operator"}
    )
    assert stepped_down.status_code == 200
    # Now an operator: no longer allowed to change roles.
    refused = await admin_client.send_json(
        "PUT", f"/api/v1/admin/members/{member.id}/role", {"role": "member"}
    )
    assert refused.status_code == 403
    assert await audit_actions(database) == ["member.role_changed"] * 3
    bad = await staff(Role.admin)
    wrong = await bad[0].send_json(
        "PUT", f"/api/v1/admin/members/{member.id}/role", {"role": "king"}
    )
    assert wrong.status_code == 422
