"""Demo content beyond members. Each feature adds its own sample data here."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Member


async def seed_content(session: AsyncSession, members: list[Member]) -> None:
    """Bios in both languages; forums, points and campaigns add their demo data here."""
    bios = {
        "hana@example.com": "新商品が出るたびに試しています。よろしくお願いします！",
        "alex@example.com": "Long-time fan. Happy to help with setup questions.",
        "yuki@example.com": "写真を撮るのが好きです。",
    }
    for member in members:
        if member.email in bios and not member.bio:
            member.bio = bios[member.email]
    await session.flush()

    from app.forums.demo import seed_forums

    await seed_forums(session, members)

    from app.points.demo import seed_points

    await seed_points(session, members)

    from app.analytics.demo import seed_nps

    await seed_nps(session, members)

    from app.campaigns.demo import seed_campaigns

    await seed_campaigns(session, members)
