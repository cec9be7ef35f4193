"""Demo points: the default rules and ladder, and a few members already on their way up."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Member
from app.points import service

# email -> (points, reason): a populated leaderboard and ranks to look at.
DEMO_AWARDS = {
    "hana@example.com": (240, "Demo: early supporter since the first launch"),
    "alex@example.com": (75, "Demo: helped at the spring meetup"),
    "yuki@example.com": (30, "Demo: photo contest entry"),
}


async def seed_points(session: AsyncSession, members: list[Member]) -> None:
    await service.seed_defaults(session)
    admin = next((member for member in members if member.is_admin), None)
    if admin is None:
        return
    for member in members:
        award = DEMO_AWARDS.get(member.email)
        if award is not None:
            # A fixed request id: running the demo twice does not pay twice.
            await service.adjust_points(
                session, admin, member, award[0], award[1], request_id=f"demo-{member.id}"
            )
