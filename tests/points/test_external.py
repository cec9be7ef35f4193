from __future__ import annotations

from app.models import AuditLog, PointExternalAward, PointLedgerEntry
from tests.points.conftest import api_token, ledger_count, totals


def _headers(token: str, key: str | None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


async def test_same_key_and_body_replays_without_paying_twice(member_factory, database, client):
    operator = await member_factory(role="operator", locale="en")
    token = await api_token(database, operator)
    fan = await member_factory(locale="en")
    body = {"member_id": fan.id, "amount": 30, "reason": "Attended the spring meetup"}

    first = await client.post("/api/v1/points/awards", json=body, headers=_headers(token, "evt-1"))
    assert first.status_code == 201, first.text
    assert first.json()["lifetime_points"] == 40
    again = await client.post("/api/v1/points/awards", json=body, headers=_headers(token, "evt-1"))
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert await totals(database, fan) == (40, 40)
    assert await ledger_count(database, PointLedgerEntry.kind == "external") == 1

    different = await client.post(
        "/api/v1/points/awards",
        json={**body, "amount": 300},
        headers=_headers(token, "evt-1"),
    )
    assert different.status_code == 422
    assert different.json()["error"]["field"] == "Idempotency-Key"
    assert "different request" in different.json()["error"]["message"]
    assert await totals(database, fan) == (40, 40)

    deduct = await client.post(
        "/api/v1/points/awards",
        json={**body, "amount": -15, "reason": "Returned purchase"},
        headers=_headers(token, "evt-2"),
    )
    assert deduct.status_code == 201
    assert await totals(database, fan) == (25, 25)


async def test_external_awards_refuse_bad_calls(member_factory, database, client):
    operator = await member_factory(role="operator", locale="en")
    member = await member_factory(locale="en")
    token = await api_token(database, operator)
    member_token = await api_token(database, member)
    read_only = await api_token(database, operator, scopes="read")
    body = {"member_id": member.id, "amount": 5, "reason": "Purchase"}

    missing = await client.post("/api/v1/points/awards", json=body, headers=_headers(token, None))
    assert missing.status_code == 400
    assert missing.json()["error"]["field"] == "Idempotency-Key"
    zero = await client.post(
        "/api/v1/points/awards", json={**body, "amount": 0}, headers=_headers(token, "z")
    )
    assert zero.status_code == 422
    unknown = await client.post(
        "/api/v1/points/awards", json={**body, "member_id": 999999}, headers=_headers(token, "u")
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"]["field"] == "member_id"
    not_operator = await client.post(
        "/api/v1/points/awards", json=body, headers=_headers(member_token, "m")
    )
    assert not_operator.status_code == 403
    reading = await client.post(
        "/api/v1/points/awards", json=body, headers=_headers(read_only, "r")
    )
    assert reading.status_code == 403
    assert await ledger_count(database, PointLedgerEntry.kind == "external") == 0
    async with database.transaction(write=False) as session:
        from sqlalchemy import func, select

        assert await session.scalar(select(func.count()).select_from(PointExternalAward)) == 0


async def test_admin_adjusts_points_with_a_reason_once(member_factory, database, client, login):
    admin = await member_factory(role="admin", locale="en")
    fan = await member_factory(name="Adjusted Fan", locale="en")
    await login(client, admin)
    page = await client.get(f"/admin/points/adjust?handle={fan.handle}")
    assert page.status_code == 200
    import re

    request_id = re.search(r'name="request_id" value="([^"]+)"', page.text).group(1)
    form = {
        "handle": fan.handle,
        "amount": "25",
        "reason": "Helped at the booth",
        "request_id": request_id,
    }
    done = await client.submit("/admin/points/adjust", form)
    assert done.status_code == 303
    twice = await client.submit("/admin/points/adjust", form)
    assert twice.status_code == 303
    assert await totals(database, fan) == (35, 35)

    bad = await client.submit(
        "/admin/points/adjust",
        {"handle": "nobody_here", "amount": "0", "reason": "", "request_id": "x" * 12},
    )
    assert bad.status_code == 422
    assert "No member has this handle." in bad.text
    assert "Enter a number of points other than zero." in bad.text

    api = await client.send_json(
        "POST", "/api/v1/points/adjustments", {"member_id": fan.id, "amount": -5, "reason": "Typo"}
    )
    assert api.status_code == 201
    assert api.json()["lifetime_points"] == 30

    async with database.transaction(write=False) as session:
        from sqlalchemy import select

        audits = (
            (
                await session.execute(
                    select(AuditLog).where(AuditLog.action == "points.adjust").order_by(AuditLog.id)
                )
            )
            .scalars()
            .all()
        )
    assert [(a.actor_id, a.target_id, a.reason, a.data["amount"]) for a in audits] == [
        (admin.id, fan.id, "Helped at the booth", 25),
        (admin.id, fan.id, "Typo", -5),
    ]

    await login(client, fan)
    mine = await client.get("/points")
    assert "Adjustment by an admin — Helped at the booth" in mine.text
    member_try = await client.send_json(
        "POST", "/api/v1/points/adjustments", {"member_id": fan.id, "amount": 500, "reason": "me"}
    )
    assert member_try.status_code == 403
