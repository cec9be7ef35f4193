"""A bilingual demo community, and admin creation, for the CLI."""

from __future__ import annotations

from sqlalchemy import func, select

from app.accounts import service
from app.accounts.policy import check_password
from app.accounts.schemas import SignUpIn
from app.config import get_settings
from app.db import Database
from app.models import Member, Role

DEMO_PASSWORD = "kizuna-demo-2026"
DEMO_MEMBERS = [
    ("admin@example.com", "管理者 Aiko", Role.admin, "ja"),
    ("mod@example.com", "Moderator Ken", Role.moderator, "en"),
    ("ops@example.com", "運営 Sato", Role.operator, "ja"),
    ("hana@example.com", "花子 Hana", Role.member, "ja"),
    ("alex@example.com", "Alex", Role.member, "en"),
    ("yuki@example.com", "雪 Yuki", Role.member, "ja"),
]


async def seed_demo(*, only_if_empty: bool) -> list[Member] | None:
    from app.demo_content import seed_content

    database = Database(get_settings())
    try:
        async with database.transaction() as session:
            count = await session.scalar(select(func.count()).select_from(Member))
            if only_if_empty and count:
                return None
            members: list[Member] = []
            for email, name, role, locale in DEMO_MEMBERS:
                existing = await service.find_by_email(session, email)
                if existing is not None:
                    members.append(existing)
                    continue
                data = SignUpIn(email=email, display_name=name, password=DEMO_PASSWORD)
                members.append(
                    await service.create_member(
                        session, data, role=role, verified=True, locale=locale
                    )
                )
            await seed_content(session, members)
    finally:
        await database.dispose()
    print("Demo community ready. Sign in at http://127.0.0.1:8000/signin with any of:")
    for email, name, role, _locale in DEMO_MEMBERS:
        print(f"  {email:<22} {role.value:<10} {name}")
    print(f"Password for all demo accounts: {DEMO_PASSWORD}")
    return members


async def create_admin(email: str, name: str, password: str) -> Member:
    check_password(password, email=email, display_name=name)
    database = Database(get_settings())
    try:
        async with database.transaction() as session:
            member = await service.find_by_email(session, email)
            if member is None:
                data = SignUpIn(email=email, display_name=name, password=password)
                member = await service.create_member(session, data, role=Role.admin, verified=True)
            else:
                await service.set_role(session, member, Role.admin)
                await service.verify_email(session, member)
            return member
    finally:
        await database.dispose()
