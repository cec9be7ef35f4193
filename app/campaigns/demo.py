"""Demo campaigns, rewards and a product: something to enter, redeem and review."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.campaigns import reviews, rewards, service
from app.campaigns.schemas import CampaignIn, ProductIn, QuestionIn, ReviewIn, RewardIn
from app.kit import clock
from app.models import Campaign, Member, Rank


async def seed_campaigns(session: AsyncSession, members: list[Member]) -> None:
    """Once: an open application for everyone, a members-of-rank event shown as a teaser to
    others, two rewards and a reviewed product."""
    if await session.scalar(select(func.count()).select_from(Campaign)):
        return
    operator = next((member for member in members if member.can_operate), None)
    if operator is None:
        return
    now = clock.now()
    monitor = await service.create_campaign(
        session,
        operator,
        CampaignIn(
            title_en="Be a monitor for the new kettle",
            title_ja="新しいケトルのモニター募集",
            description_en="Ten members try the **new kettle** at home for two weeks "
            "and tell us what they think.",
            description_ja="10 名のメンバーに**新しいケトル**を 2 週間ご自宅で試していただき、"
            "感想をお聞かせいただきます。",
            kind="application",
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(days=14),
            selection="lottery",
            capacity=10,
            questions=[
                QuestionIn(
                    kind="text",
                    prompt_en="How do you make tea today?",
                    prompt_ja="普段どのようにお茶を淹れていますか？",
                ),
                QuestionIn(
                    kind="choice",
                    prompt_en="Which colour would you like?",
                    prompt_ja="ご希望の色は？",
                    choices=["White", "Black"],
                ),
                QuestionIn(
                    kind="yes_no",
                    prompt_en="Can you share photos in the community?",
                    prompt_ja="コミュニティで写真を共有できますか？",
                    required=False,
                ),
            ],
        ),
    )
    await service.open_campaign(session, monitor, operator)
    supporter = (
        (await session.execute(select(Rank).where(Rank.threshold >= 200).order_by(Rank.threshold)))
        .scalars()
        .first()
    )
    if supporter is not None:
        meetup = await service.create_campaign(
            session,
            operator,
            CampaignIn(
                title_en="Members' tasting evening",
                title_ja="会員限定 試飲会",
                description_en="An evening with the tea team. Twenty places, first come.",
                description_ja="ティーチームと過ごす夕べ。先着 20 名様。",
                kind="event",
                starts_at=now - timedelta(hours=1),
                ends_at=now + timedelta(days=21),
                audience="rank",
                audience_rank_id=supporter.id,
                teaser=True,
                capacity=20,
            ),
        )
        await service.open_campaign(session, meetup, operator)
    await rewards.create_reward(
        session,
        operator,
        RewardIn(
            name_en="Community tote bag",
            name_ja="コミュニティ トートバッグ",
            description_en="Canvas, with the community logo.",
            description_ja="コミュニティのロゴ入りキャンバス地です。",
            cost=50,
            stock=30,
        ),
    )
    await rewards.create_reward(
        session,
        operator,
        RewardIn(
            name_en="Limited tea set",
            name_ja="限定ティーセット",
            description_en="Three seasonal blends, for members of rank and standing.",
            description_ja="季節のブレンド 3 種。上位ランクの方限定です。",
            cost=200,
            stock=5,
            min_rank_id=supporter.id if supporter else None,
        ),
    )
    product = await reviews.create_product(
        session,
        operator,
        ProductIn(
            name_en="Kettle K1",
            name_ja="ケトル K1",
            description_en="Our 1.2 l electric kettle.",
            description_ja="1.2 リットルの電気ケトルです。",
        ),
    )
    ratings = {"hana@example.com": (5, "毎朝使っています。お湯がすぐ沸きます！")}
    ratings["alex@example.com"] = (4, "Quick and quiet. The lid could open wider.")
    for member in members:
        if member.email in ratings:
            rating, body = ratings[member.email]
            await reviews.save_review(session, member, product, ReviewIn(rating=rating, body=body))
