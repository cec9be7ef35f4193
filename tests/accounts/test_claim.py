"""Claiming an unconfirmed account (imported by the brand, or a sign-up never confirmed): the
mailbox gets a link to choose name and password; the sign-up page answers the same in every
case; and whoever created the account first keeps no way in."""

from __future__ import annotations

import re
import time
from typing import Any

from sqlalchemy import func, select, update

from app.activity import verbs
from app.config import get_settings
from app.kit.security import sign_value
from app.models import Activity, Member, OutboxMail, Role

PASSWORD = "the owner's own passphrase"


async def _mails(database: Any, email: str) -> list[OutboxMail]:
    async with database.transaction(write=False) as session:
        rows = await session.execute(
            select(OutboxMail).where(OutboxMail.to_address == email).order_by(OutboxMail.id)
        )
        return list(rows.scalars())


async def _claim_path(database: Any, email: str) -> str:
    mails = await _mails(database, email)
    assert mails, "a mail went to the address"
    match = re.search(r"http://testserver(/claim/\S+)", mails[-1].body_text)
    assert match, mails[-1].body_text
    return match.group(1)


async def _member(database: Any, email: str) -> Member:
    async with database.transaction(write=False) as session:
        member = (await session.execute(select(Member).where(Member.email == email))).scalar_one()
        return member


def _same_page(text: str, email: str) -> str:
    return re.sub(r'(content|value)="[0-9a-f]{16}\.[0-9a-f]+"', "TOKEN", text.replace(email, "X"))


async def _sign_up(client: Any, email: str, name: str = "Someone", password: str = PASSWORD) -> Any:
    return await client.submit(
        "/signup", {"email": email, "display_name": name, "password": password}
    )


async def test_imported_member_claims_the_account_from_the_sign_up_page(
    client: Any, make_client: Any, member_factory: Any, login: Any, database: Any
) -> None:
    operator = await member_factory(role=Role.operator)
    ops = make_client()
    await login(ops, operator)
    imported = await ops.submit(
        "/ops/import", {"csv_text": "email,name,external_id\nmika@example.com,Mika Brand,C-9\n"}
    )
    assert "1 created" in imported.text

    fresh = await _sign_up(client, "free@example.com")
    claim_answer = await _sign_up(client, "Mika@Example.com", name="Mika", password=PASSWORD)
    assert claim_answer.status_code == fresh.status_code == 200
    assert _same_page(claim_answer.text, "mika@example.com") == _same_page(
        fresh.text, "free@example.com"
    )
    async with database.transaction(write=False) as session:
        count = await session.scalar(
            select(func.count()).select_from(Member).where(Member.email == "mika@example.com")
        )
    assert count == 1
    mails = await _mails(database, "mika@example.com")
    assert [mail.subject for mail in mails] == ["Finish setting up your account at Kizuna"]
    assert "already have an account" not in mails[0].body_text
    # The password typed on the sign-up form was not applied: nobody proved the mailbox yet.
    refused = await client.submit("/signin", {"email": "mika@example.com", "password": PASSWORD})
    assert refused.status_code == 400

    path = await _claim_path(database, "mika@example.com")
    page = await client.get(path)
    assert page.status_code == 200
    assert 'value="Mika Brand"' in page.text  # the brand's name, for the owner to keep or change
    weak = await client.submit(path, {"display_name": "Mika", "password": "short"})
    assert weak.status_code == 422
    assert "10 characters" in weak.text
    assert (await client.get("/api/v1/me")).status_code == 401
    done = await client.submit(path, {"display_name": "Mika Fan", "password": PASSWORD})
    assert done.status_code == 303
    home = await client.get("/")
    assert "Welcome, Mika Fan! Your account is ready." in home.text
    me = (await client.get("/api/v1/me")).json()
    assert (me["email"], me["display_name"]) == ("mika@example.com", "Mika Fan")
    member = await _member(database, "mika@example.com")
    assert member.email_verified_at is not None
    async with database.transaction(write=False) as session:
        joined = await session.scalar(
            select(func.count())
            .select_from(Activity)
            .where(Activity.verb == verbs.SIGNED_UP, Activity.actor_id == member.id)
        )
    assert joined == 1  # an imported member joins the community when they claim

    # The link is spent: it named the old password, which is gone.
    assert (await make_client().get(path)).status_code == 400
    again = make_client()
    assert (
        await again.submit(path, {"display_name": "X", "password": PASSWORD})
    ).status_code == 400
    signed_in = await again.submit("/signin", {"email": "mika@example.com", "password": PASSWORD})
    assert signed_in.status_code == 303
    # Once confirmed, signing up again gets the ordinary "you already have an account" mail.
    await _sign_up(make_client(), "mika@example.com")
    latest = (await _mails(database, "mika@example.com"))[-1]
    assert "already have an account" in latest.subject


async def test_a_stranger_who_signed_up_first_loses_the_account_to_the_mailbox_owner(
    make_client: Any, database: Any
) -> None:
    stranger, owner = make_client(ip="10.0.0.1"), make_client(ip="10.0.0.2")
    await _sign_up(stranger, "aoi@example.com", name="Not Aoi", password="the stranger's secret")
    await _sign_up(owner, "aoi@example.com", name="Aoi", password=PASSWORD)
    mails = await _mails(database, "aoi@example.com")
    assert [mail.subject for mail in mails] == [
        "Confirm your email for Kizuna",
        "Finish setting up your account at Kizuna",
    ]
    # A second attempt within ten minutes mails nothing more (and answers the same).
    repeat = await _sign_up(owner, "aoi@example.com", name="Aoi", password=PASSWORD)
    assert repeat.status_code == 200
    assert len(await _mails(database, "aoi@example.com")) == 2

    path = await _claim_path(database, "aoi@example.com")
    done = await owner.submit(path, {"display_name": "Aoi", "password": PASSWORD})
    assert done.status_code == 303
    assert (await owner.get("/api/v1/me")).json()["display_name"] == "Aoi"
    locked_out = await stranger.submit(
        "/signin", {"email": "aoi@example.com", "password": "the stranger's secret"}
    )
    assert locked_out.status_code == 400


async def test_claim_links_that_are_forged_expired_or_outdated_do_nothing(
    client: Any, make_client: Any, database: Any
) -> None:
    await _sign_up(make_client(ip="10.0.0.3"), "ren@example.com", name="Ren")
    await _sign_up(make_client(ip="10.0.0.4"), "ren@example.com", name="Ren")
    path = await _claim_path(database, "ren@example.com")
    member = await _member(database, "ren@example.com")
    forged = path[:-3] + ("abc" if not path.endswith("abc") else "abd")
    assert (await client.get(forged)).status_code == 400
    assert (await client.get("/claim/not-a-token")).status_code == 400
    settings = get_settings()
    old = sign_value(
        settings.secret_key,
        "claim",
        {"m": member.id, "e": member.email, "p": "x", "t": int(time.time()) - 4 * 86400},
    )
    assert (await client.get(f"/claim/{old}")).status_code == 400
    activation = sign_value(
        settings.secret_key, "activate", {"m": member.id, "e": member.email, "t": int(time.time())}
    )
    assert (await client.get(f"/claim/{activation}")).status_code == 400  # another purpose
    async with database.transaction() as session:
        await session.execute(
            update(Member).where(Member.id == member.id).values(email="ren2@example.com")
        )
    expired = await client.submit(path, {"display_name": "Ren", "password": PASSWORD})
    assert expired.status_code == 400
    assert "invalid or has expired" in expired.text
    assert (await _member(database, "ren2@example.com")).email_verified_at is None


async def test_claim_page_in_japanese(client: Any, make_client: Any, database: Any) -> None:
    await _sign_up(make_client(ip="10.0.0.5"), "sora@example.com", name="Sora")
    await _sign_up(make_client(ip="10.0.0.6"), "sora@example.com", name="Sora")
    path = await _claim_path(database, "sora@example.com")
    page = await client.get(path, headers={"Accept-Language": "ja"})
    assert page.status_code == 200
    assert "アカウントの設定を完了" in page.text
    assert "保存してログイン" in page.text
