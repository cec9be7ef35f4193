from __future__ import annotations

import re

from sqlalchemy import func, select

from app.activity import verbs
from app.models import Activity, Member, OutboxMail


async def _count(database, model, *where):
    async with database.transaction(write=False) as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


async def _activation_link(database, email: str) -> str:
    async with database.transaction(write=False) as session:
        mail = (
            (
                await session.execute(
                    select(OutboxMail)
                    .where(OutboxMail.to_address == email)
                    .order_by(OutboxMail.id.desc())
                )
            )
            .scalars()
            .first()
        )
    assert mail is not None, "an activation mail was written"
    match = re.search(r"http://testserver(/activate/\S+)", mail.body_text)
    assert match
    return match.group(1)


async def test_sign_up_confirm_and_land_signed_in(client, database):
    response = await client.submit(
        "/signup",
        {
            "email": "Fan@Example.com",
            "display_name": "ファン太郎",
            "password": "a long enough passphrase",
        },
    )
    assert response.status_code == 200
    assert "fan@example.com" in response.text
    assert await _count(database, Member, Member.email == "fan@example.com") == 1

    link = await _activation_link(database, "fan@example.com")
    done = await client.get(link)
    assert done.status_code == 303
    home = await client.get("/")
    assert "ファン太郎" in home.text
    assert "Sign out" in home.text or "ログアウト" in home.text

    me = await client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["email"] == "fan@example.com"
    assert await _count(database, Activity, Activity.verb == verbs.SIGNED_UP) == 1


async def test_unconfirmed_member_cannot_sign_in(client, database):
    await client.submit(
        "/signup",
        {"email": "new@example.com", "display_name": "New", "password": "a long enough passphrase"},
    )
    response = await client.submit(
        "/signin", {"email": "new@example.com", "password": "a long enough passphrase"}
    )
    assert response.status_code == 403
    assert "confirm your email" in response.text
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_existing_email_gets_the_same_answer_and_no_second_account(
    client, database, member_factory
):
    await member_factory(email="taken@example.com")
    fresh = await client.submit(
        "/signup",
        {"email": "free@example.com", "display_name": "A", "password": "a long enough passphrase"},
    )
    taken = await client.submit(
        "/signup",
        {"email": "taken@example.com", "display_name": "B", "password": "a long enough passphrase"},
    )
    assert fresh.status_code == taken.status_code == 200

    def page(text: str, email: str) -> str:
        # the page embeds a per-request CSRF token; everything else must be identical
        return re.sub(
            r'(content|value)="[0-9a-f]{16}\.[0-9a-f]+"', "TOKEN", text.replace(email, "X")
        )

    assert page(fresh.text, "free@example.com") == page(taken.text, "taken@example.com")
    assert await _count(database, Member, Member.email == "taken@example.com") == 1
    async with database.transaction(write=False) as session:
        subjects = (
            (
                await session.execute(
                    select(OutboxMail.subject).where(OutboxMail.to_address == "taken@example.com")
                )
            )
            .scalars()
            .all()
        )
    assert any("already have an account" in subject for subject in subjects)
