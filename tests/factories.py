"""Small factories that build the data a test needs, through the real services."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from app.accounts import service as accounts
from app.accounts.schemas import SignUpIn
from app.db import Database
from app.models import Member, Role
from app.pipeline import SESSION_COOKIE

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


async def make_member(
    database: Database,
    *,
    role: Role | str = Role.member,
    name: str | None = None,
    email: str | None = None,
    password: str = PASSWORD,
    locale: str | None = None,
    verified: bool = True,
) -> Member:
    number = next(_counter)
    data = SignUpIn(
        email=email or f"member{number}@example.com",
        display_name=name or f"Member {number}",
        password=password,
    )
    async with database.transaction() as session:
        return await accounts.create_member(
            session, data, role=Role(role), verified=verified, locale=locale
        )


async def sign_in_as(database: Database, client: Any, member: Member) -> str:
    """Give the client a session for ``member`` without going through the form."""
    async with database.transaction() as session:
        fresh = await session.get(Member, member.id)
        assert fresh is not None
        new = await accounts.start_session(
            session, fresh, previous_token=None, ip="127.0.0.1", user_agent="pytest"
        )
    client.cookies.set(SESSION_COOKIE, new.token, domain="testserver.local")
    return new.token


@pytest.fixture
def member_factory(database: Database) -> Any:
    async def factory(**kwargs: Any) -> Member:
        return await make_member(database, **kwargs)

    return factory


@pytest.fixture
def login(database: Database) -> Any:
    async def do_login(client: Any, member: Member) -> str:
        return await sign_in_as(database, client, member)

    return do_login
