"""Demo data for analytics: a closed NPS survey with a few answers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.activity import verbs
from app.activity.service import record
from app.analytics import metrics
from app.kit import clock
from app.models import Member, NpsResponse, NpsSurvey

ANSWERS = {
    "hana@example.com": (10, "新商品の情報がいち早く手に入るので、友人にも勧めています。"),
    "alex@example.com": (8, "Helpful people, though I would like more English posts."),
    "yuki@example.com": (6, "写真の投稿がもう少ししやすいと嬉しいです。"),
}


async def seed_nps(session: AsyncSession, members: list[Member]) -> None:
    if await session.scalar(select(func.count()).select_from(NpsSurvey)):
        return
    now = clock.now()
    survey = NpsSurvey(
        title="2026 spring community survey / 2026年春 コミュニティアンケート",
        subject="Kizuna",
        reason_question="What is the main reason for your score? / そのスコアの一番の理由は？",
        extra_questions=["What would you like to see next? / 次に期待することは？"],
        audience="everyone",
        opens_at=now - timedelta(days=30),
        closes_at=now - timedelta(days=16),
        created_at=now - timedelta(days=31),
    )
    session.add(survey)
    await session.flush()
    for offset, member in enumerate(m for m in members if m.email in ANSWERS):
        score, reason = ANSWERS[member.email]
        answered_at = now - timedelta(days=25 - offset)
        session.add(
            NpsResponse(
                survey_id=survey.id,
                member_id=member.id,
                score=score,
                category=metrics.nps_category(score),
                reason=reason,
                extra_answers=[""],
                created_at=answered_at,
            )
        )
        await session.flush()
        await record(
            session,
            verbs.SURVEY_ANSWERED,
            actor_id=member.id,
            subject=("survey", survey.id),
            data={"score": score, "category": metrics.nps_category(score), "survey_id": survey.id},
            dedupe_key=f"survey:{survey.id}:{member.id}",
            occurred_at=answered_at,
        )
    # The rollups followed every demo activity as it was recorded (app.wiring); deciles and
    # ambassador detection compare members with each other, so score everyone once now.
    from app.analytics import service

    await service.recompute_all(session)
