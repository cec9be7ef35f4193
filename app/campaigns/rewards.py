"""Rewards: the catalogue, redemptions and their fulfilment or refusal.

Redeeming takes one unit of stock with ``UPDATE ... WHERE stock > 0`` and the points with the
points service's conditional spend (``WHERE spendable_points >= cost``). Either failing raises,
and the request's transaction rolls back the other, so neither stock nor a balance can go below
zero however many redemptions arrive at once. Lifetime points and rank never change.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.activity import verbs
from app.activity.service import record
from app.campaigns.schemas import RewardIn
from app.campaigns.service import image_upload
from app.kit import clock
from app.kit.errors import Conflict, Invalid, NotFound
from app.kit.i18n import gettext as _
from app.models import AuditLog, Member, Rank, Redemption, RedemptionStatus, Reward
from app.points import service as points

LEDGER_KIND = "reward.redeemed"
PAGE_SIZE = 30


async def _audit(
    session: AsyncSession, operator: Member, action: str, target: tuple[str, int], **data: object
) -> None:
    session.add(
        AuditLog(
            actor_id=operator.id,
            action=action,
            target_type=target[0],
            target_id=target[1],
            data=dict(data),
            created_at=clock.now(),
        )
    )
    await session.flush()


async def _check(session: AsyncSession, operator: Member, data: RewardIn) -> None:
    if data.min_rank_id is not None and await session.get(Rank, data.min_rank_id) is None:
        raise Invalid(_("This rank does not exist."), field="min_rank_id")
    if data.image_upload_id is not None:
        await image_upload(session, data.image_upload_id, operator, field="image_upload_id")


async def create_reward(session: AsyncSession, operator: Member, data: RewardIn) -> Reward:
    await _check(session, operator, data)
    reward = Reward(**data.model_dump(), created_at=clock.now())
    session.add(reward)
    await session.flush()
    await _audit(session, operator, "rewards.create", ("reward", reward.id), name=data.name_en)
    return reward


async def update_reward(
    session: AsyncSession, operator: Member, reward_id: int, data: RewardIn
) -> Reward:
    await _check(session, operator, data)
    reward = (
        await session.execute(select(Reward).where(Reward.id == reward_id).with_for_update())
    ).scalar_one_or_none()
    if reward is None:
        raise NotFound()
    for key, value in data.model_dump().items():
        setattr(reward, key, value)
    await session.flush()
    await _audit(session, operator, "rewards.update", ("reward", reward.id), stock=data.stock)
    return reward


def _source(redemption_id: int) -> str:
    return f"redemption:{redemption_id}"


async def redeem(session: AsyncSession, member: Member, reward_id: int) -> Redemption:
    """Spend points on one unit of a reward; the redemption waits for an operator."""
    reward = await session.get(Reward, reward_id)
    if reward is None or not reward.active:
        raise NotFound()
    if reward.min_rank_id is not None:
        threshold = await session.scalar(
            select(Rank.threshold).where(Rank.id == reward.min_rank_id)
        )
        points_now = await session.scalar(
            select(Member.lifetime_points).where(Member.id == member.id)
        )
        if threshold is None or int(points_now or 0) < int(threshold):
            raise Conflict(_("Your rank is not high enough for this reward yet."))
    taken = (
        await session.execute(
            update(Reward)
            .where(Reward.id == reward.id, Reward.active.is_(True), Reward.stock > 0)
            .values(stock=Reward.stock - 1)
            .returning(Reward.cost)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if taken is None:
        raise Conflict(_("Sorry, this reward is out of stock."))
    cost = int(taken)
    redemption = Redemption(
        reward_id=reward.id,
        member_id=member.id,
        cost=cost,
        status=RedemptionStatus.pending.value,
        created_at=clock.now(),
    )
    session.add(redemption)
    await session.flush()
    spent = await points.spend_points(
        session,
        member.id,
        cost,
        kind=LEDGER_KIND,
        source=_source(redemption.id),
        subject=("redemption", redemption.id),
        actor_id=member.id,
        note=reward.name_en,
    )
    if spent is None:
        # Raising rolls back the whole request: the stock taken above comes back with it.
        raise Conflict(_("You do not have enough points for this reward."))
    await record(
        session,
        verbs.REWARD_REDEEMED,
        actor_id=member.id,
        subject=("redemption", redemption.id),
        data={"reward_id": reward.id, "redemption_id": redemption.id, "cost": cost},
    )
    return redemption


async def _pending(session: AsyncSession, redemption_id: int) -> Redemption:
    redemption = (
        await session.execute(
            select(Redemption).where(Redemption.id == redemption_id).with_for_update()
        )
    ).scalar_one_or_none()
    if redemption is None:
        raise NotFound()
    if redemption.status != RedemptionStatus.pending:
        raise Conflict(_("This redemption was already decided."))
    return redemption


async def _decide(
    session: AsyncSession, operator: Member, redemption_id: int, status: RedemptionStatus, note: str
) -> Redemption | None:
    """Move a pending redemption to ``status`` with one conditional UPDATE: of two operators
    deciding at once, exactly one wins. Returns None for the loser."""
    decided = (
        await session.execute(
            update(Redemption)
            .where(
                Redemption.id == redemption_id,
                Redemption.status == RedemptionStatus.pending.value,
            )
            .values(
                status=status.value,
                note=note,
                decided_by_id=operator.id,
                decided_at=clock.now(),
            )
            .returning(Redemption.id)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if decided is None:
        await _pending(session, redemption_id)  # raises NotFound or Conflict
        return None
    redemption = await session.get(Redemption, redemption_id, populate_existing=True)
    return redemption


async def fulfil(
    session: AsyncSession, operator: Member, redemption_id: int, note: str = ""
) -> Redemption:
    redemption = await _decide(session, operator, redemption_id, RedemptionStatus.fulfilled, note)
    if redemption is None:
        raise Conflict(_("This redemption was already decided."))
    await record(
        session,
        verbs.REWARD_FULFILLED,
        actor_id=operator.id,
        recipient_id=redemption.member_id,
        subject=("redemption", redemption.id),
        data={"reward_id": redemption.reward_id, "redemption_id": redemption.id},
    )
    await _audit(session, operator, "rewards.fulfil", ("redemption", redemption.id))
    return redemption


async def refuse(
    session: AsyncSession, operator: Member, redemption_id: int, note: str = ""
) -> Redemption:
    """Refuse a redemption: the points come back (a ledger reversal) and so does the stock."""
    redemption = await _decide(session, operator, redemption_id, RedemptionStatus.refused, note)
    if redemption is None:
        raise Conflict(_("This redemption was already decided."))
    await points.refund_points(
        session,
        redemption.member_id,
        redemption.cost,
        kind=LEDGER_KIND,
        source=_source(redemption.id),
        subject=("redemption", redemption.id),
        actor_id=operator.id,
        note=note,
    )
    await session.execute(
        update(Reward)
        .where(Reward.id == redemption.reward_id)
        .values(stock=Reward.stock + 1)
        .execution_options(synchronize_session=False)
    )
    await record(
        session,
        verbs.REWARD_REFUSED,
        actor_id=operator.id,
        recipient_id=redemption.member_id,
        subject=("redemption", redemption.id),
        data={"reward_id": redemption.reward_id, "redemption_id": redemption.id, "note": note},
    )
    await _audit(session, operator, "rewards.refuse", ("redemption", redemption.id), note=note)
    return redemption


# --- reads ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogueItem:
    reward: Reward
    rank: Rank | None
    image_url: str | None
    rank_ok: bool
    affordable: bool


async def catalogue(
    session: AsyncSession, viewer: Member | None, *, include_inactive: bool = False
) -> list[CatalogueItem]:
    from app.campaigns.queries import upload_urls

    stmt = select(Reward, Rank).outerjoin(Rank, Rank.id == Reward.min_rank_id)
    if not include_inactive:
        stmt = stmt.where(Reward.active.is_(True))
    rows = (await session.execute(stmt.order_by(Reward.cost, Reward.id))).all()
    images = await upload_urls(session, [reward.image_upload_id for reward, _rank in rows])
    lifetime = viewer.lifetime_points if viewer else 0
    spendable = viewer.spendable_points if viewer else 0
    return [
        CatalogueItem(
            reward=reward,
            rank=rank,
            image_url=images.get(reward.image_upload_id or 0),
            rank_ok=rank is None or lifetime >= rank.threshold,
            affordable=spendable >= reward.cost,
        )
        for reward, rank in rows
    ]


async def redemptions(
    session: AsyncSession,
    *,
    member_id: int | None = None,
    status: str | None = None,
    cursor: int | None = None,
    limit: int = PAGE_SIZE,
) -> tuple[list[tuple[Redemption, Reward, Member]], int | None]:
    stmt = (
        select(Redemption, Reward, Member)
        .join(Reward, Reward.id == Redemption.reward_id)
        .join(Member, Member.id == Redemption.member_id)
        .order_by(Redemption.id.desc())
        .limit(limit + 1)
    )
    if member_id is not None:
        stmt = stmt.where(Redemption.member_id == member_id)
    if status:
        stmt = stmt.where(Redemption.status == status)
    if cursor is not None:
        stmt = stmt.where(Redemption.id < cursor)
    rows: list[tuple[Redemption, Reward, Member]] = [
        (redemption, reward, member)
        for redemption, reward, member in (await session.execute(stmt)).all()
    ]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1][0].id if more and rows else None)


async def spendable(session: AsyncSession, member_id: int) -> int:
    value = await session.scalar(select(Member.spendable_points).where(Member.id == member_id))
    return int(value or 0)
