"""Points endpoints of the JSON API: balances, ledger, ranks, leaderboards, rules, awards."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Header, Query
from starlette.responses import JSONResponse, Response

from app.accounts.deps import (
    CurrentAdmin,
    CurrentMember,
    CurrentOperator,
    OptionalMember,
    SessionDep,
)
from app.kit.errors import BadRequest, NotFound
from app.kit.i18n import gettext as _
from app.kit.routing import Router
from app.kit.security import new_token
from app.models import Member
from app.points import policy, queries, service
from app.points.ladder import Ladder, RankView
from app.points.schemas import (
    AdjustmentIn,
    AdjustmentOut,
    ExternalAwardIn,
    LeaderboardOut,
    LeaderboardRow,
    LedgerEntryOut,
    LedgerPage,
    Period,
    PointsOut,
    RankBrief,
    RankIn,
    RankOut,
    RuleIn,
    RuleOut,
)

router = Router(prefix="/api/v1", tags=["points"])
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")


def _brief(rank: RankView | None) -> RankBrief | None:
    if rank is None:
        return None
    return RankBrief(
        id=rank.id, name=rank.name, badge=rank.badge, colour=rank.colour, threshold=rank.threshold
    )


def _points(member: Member, ladder: Ladder, *, private: bool) -> PointsOut:
    standing = queries.standing(member, ladder)
    return PointsOut(
        member_id=member.id,
        handle=member.handle,
        lifetime_points=standing.lifetime,
        spendable_points=standing.spendable if private else None,
        rank=_brief(standing.rank),
        next_rank=_brief(standing.next_rank),
        points_to_next_rank=standing.to_next,
    )


@router.get("/points", response_model=PointsOut, summary="My points and rank")
async def my_points(viewer: CurrentMember, session: SessionDep) -> PointsOut:
    return _points(viewer, await queries.ladder(session), private=True)


@router.get(
    "/members/{handle}/points", response_model=PointsOut, summary="A member's points and rank"
)
async def member_points(handle: str, viewer: OptionalMember, session: SessionDep) -> PointsOut:
    member = await queries.visible_member(session, handle)
    private = viewer is not None and policy.may_see_ledger(viewer, member.id)
    return _points(member, await queries.ladder(session), private=private)


@router.get("/points/ledger", response_model=LedgerPage, summary="My points history, newest first")
async def ledger(
    viewer: CurrentMember,
    session: SessionDep,
    before: Annotated[int | None, Query(ge=1, description="Entries older than this id")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = queries.LEDGER_PAGE,
    member: Annotated[str | None, Query(description="A member's handle (staff only)")] = None,
) -> LedgerPage:
    target = viewer
    if member is not None:
        target = await queries.visible_member(session, member)
        if not policy.may_see_ledger(viewer, target.id):
            raise NotFound()
    rows, next_before = await queries.ledger_page(session, target.id, before=before, limit=limit)
    return LedgerPage(
        items=[
            LedgerEntryOut(
                id=row.entry.id,
                lifetime_delta=row.entry.lifetime_delta,
                spendable_delta=row.entry.spendable_delta,
                kind=row.entry.kind,
                reason=row.reason,
                reversal=row.entry.reversal,
                subject_type=row.entry.subject_type,
                subject_id=row.entry.subject_id,
                created_at=row.entry.created_at,
            )
            for row in rows
        ],
        next_before=next_before,
    )


@router.get(
    "/leaderboards/{period}", response_model=LeaderboardOut, summary="Leaderboard for a period"
)
async def leaderboard(
    period: Period,
    viewer: OptionalMember,
    session: SessionDep,
    exclude_staff: bool = False,
    after: Annotated[str | None, Query(description="Cursor from next_after")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = queries.BOARD_PAGE,
) -> LeaderboardOut:
    board = await queries.leaderboard(
        session, period, exclude_staff=exclude_staff, after=after, viewer=viewer, limit=limit
    )
    ladder = await queries.ladder(session)

    def row_out(row: queries.BoardRow) -> LeaderboardRow:
        return LeaderboardRow(
            position=row.position,
            member_id=row.member.id,
            handle=row.member.handle,
            display_name=row.member.display_name,
            points=row.points,
            rank=_brief(ladder.of_member(row.member)),
        )

    return LeaderboardOut(
        period=period,
        start=None if period == "all" else board.start.isoformat(),
        items=[row_out(row) for row in board.rows],
        next_after=board.next_after,
        me=row_out(board.me) if board.me else None,
    )


@router.get("/points/rules", response_model=list[RuleOut], summary="How activities pay")
async def list_rules(session: SessionDep) -> list[RuleOut]:
    return [
        RuleOut(
            verb=rule.verb,
            label=policy.kind_label(rule.verb),
            actor_points=rule.actor_points,
            recipient_points=rule.recipient_points,
            daily_cap=rule.daily_cap,
            enabled=rule.enabled,
            updated_at=rule.updated_at,
        )
        for rule in await queries.rules(session)
    ]


@router.put(
    "/points/rules/{verb}", response_model=RuleOut, summary="Create or change a rule (admin)"
)
async def put_rule(verb: str, data: RuleIn, viewer: CurrentAdmin, session: SessionDep) -> RuleOut:
    rule = await service.save_rule(session, viewer, verb, data)
    return RuleOut(
        verb=rule.verb,
        label=policy.kind_label(rule.verb),
        actor_points=rule.actor_points,
        recipient_points=rule.recipient_points,
        daily_cap=rule.daily_cap,
        enabled=rule.enabled,
        updated_at=rule.updated_at,
    )


@router.get("/ranks", response_model=list[RankOut], summary="The rank ladder")
async def list_ranks(session: SessionDep) -> list[RankOut]:
    ladder = await queries.ladder(session)
    return [RankOut.model_validate(rank, from_attributes=True) for rank in ladder.ranks]


@router.post("/ranks", response_model=RankOut, status_code=201, summary="Add a rank (admin)")
async def create_rank(data: RankIn, viewer: CurrentAdmin, session: SessionDep) -> RankOut:
    rank = await service.create_rank(session, viewer, data)
    return RankOut.model_validate(rank, from_attributes=True)


@router.put("/ranks/{rank_id}", response_model=RankOut, summary="Change a rank (admin)")
async def update_rank(
    rank_id: int, data: RankIn, viewer: CurrentAdmin, session: SessionDep
) -> RankOut:
    rank = await service.update_rank(session, viewer, rank_id, data)
    return RankOut.model_validate(rank, from_attributes=True)


@router.delete("/ranks/{rank_id}", status_code=204, summary="Delete a rank (admin)")
async def delete_rank(rank_id: int, viewer: CurrentAdmin, session: SessionDep) -> Response:
    await service.delete_rank(session, viewer, rank_id)
    return Response(status_code=204)


@router.post(
    "/points/awards",
    status_code=201,
    summary="Award or deduct points for something outside the community (operator)",
    description="Send an `Idempotency-Key` header (any printable text up to 200 characters, "
    "e.g. a UUID). Retrying with the same key and body replays the first answer without "
    "paying again (header `Idempotent-Replayed: true`); the same key with a different body "
    "is refused with 422.",
)
async def external_award(
    data: ExternalAwardIn,
    viewer: CurrentOperator,
    session: SessionDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    if idempotency_key is None or not _KEY.match(idempotency_key):
        raise BadRequest(
            _("Send an Idempotency-Key header of 1 to 200 printable characters."),
            field="Idempotency-Key",
        )
    result = await service.award_external(session, viewer, idempotency_key, data)
    headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
    return JSONResponse(result.body, status_code=result.status, headers=headers)


@router.post(
    "/points/adjustments",
    response_model=AdjustmentOut,
    status_code=201,
    summary="Adjust a member's points with a reason (admin; audited)",
)
async def adjust(
    data: AdjustmentIn,
    viewer: CurrentAdmin,
    session: SessionDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> AdjustmentOut:
    member = await session.get(Member, data.member_id)
    if member is None or member.email_verified_at is None:
        raise NotFound(_("No member has this id."), field="member_id")
    request_id = idempotency_key if idempotency_key and _KEY.match(idempotency_key) else None
    entry_id = await service.adjust_points(
        session, viewer, member, data.amount, data.reason, request_id=request_id or new_token(12)
    )
    await session.refresh(member, ["lifetime_points", "spendable_points"])
    return AdjustmentOut(
        ledger_id=entry_id,
        member_id=member.id,
        amount=data.amount,
        lifetime_points=member.lifetime_points,
        spendable_points=member.spendable_points,
    )
