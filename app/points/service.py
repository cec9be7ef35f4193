"""Points: the only code that writes the ledger, the cached totals, rules and ranks.

Every recorded activity reaches :func:`on_activity` (installed by app.wiring) inside the
action's own transaction. It pays per the admin's rules by appending ledger rows whose key
``(rule, source, seq, reversal)`` is unique, with ``INSERT ... ON CONFLICT DO NOTHING``:
however many times the same request arrives at once, one row wins and only the winner moves
the totals. Totals (lifetime,
spendable, period rows) change with atomic ``x = x + n`` updates, never read-modify-write.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    Date,
    Integer,
    String,
    Table,
    and_,
    bindparam,
    delete,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.activity import verbs
from app.activity.service import record
from app.db import after_commit
from app.kit import clock
from app.kit.errors import Conflict, Invalid, NotFound
from app.kit.i18n import gettext as _
from app.kit.sql import dialect_name, insert, run_prebuilt, sync_loaded
from app.live.broker import LEADERBOARD, member_channel, publish
from app.models import (
    Activity,
    Member,
    PointExternalAward,
    PointKindTotal,
    PointLedgerEntry,
    PointPeriodTotal,
    PointRule,
    Rank,
)
from app.notifications.service import in_locale
from app.points import policy
from app.points.ladder import RankView, forget_ladder
from app.points.schemas import ExternalAwardIn, RankIn, RuleIn

ALL_TIME_START = date(1970, 1, 1)
PERIODS = ("all", "month", "week")


def period_start(period: str, day: date) -> date:
    if period == "week":
        return date.fromordinal(day.toordinal() - day.weekday())
    if period == "month":
        return day.replace(day=1)
    return ALL_TIME_START


# --- defaults ----------------------------------------------------------------------------


async def seed_defaults(session: AsyncSession) -> None:
    """Insert the documented default rules and ranks where they are missing (idempotent)."""
    for position, rule in enumerate(policy.DEFAULT_RULES):
        await session.execute(
            insert(session, PointRule)
            .values(
                verb=rule.verb,
                actor_points=rule.actor_points,
                recipient_points=rule.recipient_points,
                daily_cap=rule.daily_cap,
                enabled=True,
                position=position,
                updated_at=clock.now(),
            )
            .on_conflict_do_nothing(index_elements=[PointRule.verb])
        )
    has_ranks = await session.scalar(select(func.count()).select_from(Rank))
    if not has_ranks:
        for rank in policy.DEFAULT_RANKS:
            session.add(
                Rank(
                    name_en=rank.name_en,
                    name_ja=rank.name_ja,
                    threshold=rank.threshold,
                    colour=rank.colour,
                    badge=rank.badge,
                    benefits_en=rank.benefits_en,
                    benefits_ja=rank.benefits_ja,
                )
            )
        await session.flush()
        await refresh_member_ranks(session)


# --- the ledger --------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """A ledger row to append. ``rule``+``source``+``seq``+``reversal`` is its unique key."""

    member_id: int
    lifetime: int
    spendable: int
    kind: str
    rule: str
    source: str
    seq: int = 0
    reversal: bool = False
    subject: tuple[str, int] | None = None
    activity_id: int | None = None
    actor_id: int | None = None
    note: str = ""


_LEDGER_VALUES = (
    "member_id",
    "lifetime_delta",
    "spendable_delta",
    "kind",
    "rule",
    "source",
    "seq",
    "reversal",
    "subject_type",
    "subject_id",
    "activity_id",
    "actor_id",
    "note",
    "day",
    "created_at",
)


def _ledger_insert(insert_: Any) -> Any:
    table = PointLedgerEntry.__table__
    stmt = insert_(table).values({name: bindparam(f"p_{name}") for name in _LEDGER_VALUES})
    return stmt.on_conflict_do_nothing(
        index_elements=[table.c.rule, table.c.source, table.c.seq, table.c.reversal]
    ).returning(table.c.id)


async def _insert_ledger(
    session: AsyncSession, entry: Entry, when: datetime, day: date
) -> int | None:
    """The ledger row alone (no totals): its id, or None when its key is already there."""
    values = {
        "p_member_id": entry.member_id,
        "p_lifetime_delta": entry.lifetime,
        "p_spendable_delta": entry.spendable,
        "p_kind": entry.kind,
        "p_rule": entry.rule,
        "p_source": entry.source[:200],
        "p_seq": entry.seq,
        "p_reversal": entry.reversal,
        "p_subject_type": entry.subject[0] if entry.subject else None,
        "p_subject_id": entry.subject[1] if entry.subject else None,
        "p_activity_id": entry.activity_id,
        "p_actor_id": entry.actor_id,
        "p_note": entry.note[:300],
        "p_day": day,
        "p_created_at": when,
    }
    result = await run_prebuilt(session, "points.ledger", _ledger_insert, values)
    new_id: int | None = result.scalar_one_or_none()
    return new_id


async def append(
    session: AsyncSession, entry: Entry, *, moment: datetime | None = None
) -> int | None:
    """Append one ledger row and move the cached totals with it. Returns the new row's id,
    or None when a row with the same key exists (the action was already paid)."""
    when = moment or clock.now()
    day = clock.community_day(when)
    new_id = await _insert_ledger(session, entry, when, day)
    if new_id is None:
        return None
    await _move_totals(session, entry.member_id, entry.lifetime, entry.spendable, day)
    if entry.lifetime:
        await run_prebuilt(
            session,
            "points.kinds",
            _kind_upsert,
            {"member_id": entry.member_id, "kind": entry.kind, "points": entry.lifetime},
        )
    return new_id


def _totals_update(insert_: Any) -> Any:
    # The rank the new lifetime total gives comes back with the totals (a subquery on the
    # small ranks table), so the ladder is loaded only when the rank actually changes.
    members = cast(Table, Member.__table__)
    deserved_rank = (
        select(Rank.__table__.c.id)
        .where(Rank.__table__.c.threshold <= members.c.lifetime_points)
        .order_by(Rank.__table__.c.threshold.desc())
        .limit(1)
        .correlate(members)
        .scalar_subquery()
    )
    return (
        update(members)
        .where(members.c.id == bindparam("p_member"))
        .values(
            lifetime_points=members.c.lifetime_points + bindparam("p_lifetime", type_=Integer),
            spendable_points=members.c.spendable_points + bindparam("p_spendable", type_=Integer),
        )
        .returning(
            members.c.lifetime_points,
            members.c.spendable_points,
            members.c.rank_id,
            deserved_rank.label("deserved_rank_id"),
        )
    )


def _kind_upsert(insert_: Any) -> Any:
    table = PointKindTotal.__table__
    stmt = insert_(table)
    return stmt.on_conflict_do_update(
        index_elements=[table.c.member_id, table.c.kind],
        set_={"points": table.c.points + stmt.excluded.points},
    )


def _period_upsert(insert_: Any) -> Any:
    table = PointPeriodTotal.__table__
    stmt = insert_(table)
    return stmt.on_conflict_do_update(
        index_elements=[table.c.period, table.c.start, table.c.member_id],
        set_={"points": table.c.points + stmt.excluded.points},
    )


async def _move_totals(
    session: AsyncSession, member_id: int, lifetime: int, spendable: int, day: date
) -> None:
    row = (
        await run_prebuilt(
            session,
            "points.totals",
            _totals_update,
            {"p_member": member_id, "p_lifetime": lifetime, "p_spendable": spendable},
        )
    ).one()
    sync_loaded(
        session,
        Member,
        member_id,
        {"lifetime_points": row.lifetime_points, "spendable_points": row.spendable_points},
    )
    standing_after_commit(
        session,
        member_id,
        lifetime=int(row.lifetime_points),
        spendable=int(row.spendable_points),
        rank_id=row.rank_id,
        leaderboard=bool(lifetime),
    )
    if lifetime:
        # One executemany for the three periods.
        await run_prebuilt(
            session,
            "points.periods",
            _period_upsert,
            [
                {
                    "period": period,
                    "start": period_start(period, day),
                    "member_id": member_id,
                    "points": lifetime,
                }
                for period in PERIODS
            ],
        )
        if row.deserved_rank_id != row.rank_id:
            await follow_rank(session, member_id, int(row.lifetime_points), row.rank_id)


async def follow_rank(
    session: AsyncSession, member_id: int, lifetime: int, current_rank_id: int | None
) -> None:
    """Move the member to the rank their lifetime points give. Climbing to a rank for the
    first time records ``rank.reached`` once (its dedupe key is per member and rank)."""
    ranks = (await session.execute(select(Rank).order_by(Rank.threshold))).scalars().all()
    target: Rank | None = None
    current: Rank | None = None
    for rank in ranks:
        if rank.threshold <= lifetime:
            target = rank
        if rank.id == current_rank_id:
            current = rank
    target_id = target.id if target else None
    if target_id == current_rank_id:
        return
    await session.execute(
        update(Member)
        .where(Member.id == member_id)
        .values(rank_id=target_id)
        .execution_options(synchronize_session="fetch")
    )
    climbed = target is not None and (current is None or target.threshold > current.threshold)
    reached = target if target is not None and climbed and target.threshold > 0 else None
    celebration = None
    member = await session.get(Member, member_id) if reached is not None else None
    if reached is not None and member is not None:
        # Said live to the member's open pages, in the member's language.
        with in_locale(member):
            celebration = _(
                "Congratulations! You reached the rank %(badge)s %(rank)s. See what it brings "
                "on the points guide.",
                badge=reached.badge,
                rank=RankView.of(reached).name,
            )
    rank_after_commit(session, member_id, target_id, celebration)
    if reached is not None:
        await record(
            session,
            verbs.RANK_REACHED,
            actor_id=member_id,
            subject=("rank", reached.id),
            data={
                "rank_id": reached.id,
                "rank_name_en": reached.name_en,
                "rank_name_ja": reached.name_ja,
                "badge": reached.badge,
                "threshold": reached.threshold,
                "lifetime_points": lifetime,
            },
            dedupe_key=f"rank.reached:{member_id}:{reached.id}",
        )


async def refresh_member_ranks(session: AsyncSession) -> None:
    """After the ladder changes, put every member on the rank their points give (silently:
    an admin moving thresholds is not an achievement)."""
    best = (
        select(Rank.id)
        .where(Rank.threshold <= Member.lifetime_points)
        .order_by(Rank.threshold.desc())
        .limit(1)
        .scalar_subquery()
    )
    await session.execute(
        update(Member).values(rank_id=best).execution_options(synchronize_session=False)
    )
    for member in list(session.identity_map.values()):
        if isinstance(member, Member):
            await session.refresh(member, ["rank_id"])
    after_commit(session, _forget_ladder)


async def _forget_ladder() -> None:
    forget_ladder()  # this process's pages show the edited ladder at once


# --- live pushes --------------------------------------------------------------------------------


@dataclass
class _Standing:
    lifetime: int
    spendable: int
    rank_id: int | None
    celebration: str | None = None


@dataclass
class _LivePushes:
    """What one transaction changed, sent once it commits: each member's final figures, and
    one "the leaderboard moved" signal however many members earned points."""

    standings: dict[int, _Standing]
    leaderboard: bool = False


def _pending_pushes(session: AsyncSession) -> _LivePushes:
    state: tuple[Any, _LivePushes] | None = session.info.get("points_pushes")
    if state is not None and state[0] in session.info.get("after_commit", []):
        return state[1]
    pending = _LivePushes(standings={})

    async def send() -> None:
        for member_id, standing in pending.standings.items():
            await publish(
                member_channel(member_id),
                {
                    "type": "points",
                    "member_id": member_id,
                    "lifetime_points": standing.lifetime,
                    "spendable_points": standing.spendable,
                    "rank_id": standing.rank_id,
                    "celebration": standing.celebration,
                },
            )
        if pending.leaderboard:
            # No names or figures: the leaderboard page fetches itself again, as its reader.
            await publish(LEADERBOARD, {"type": "leaderboard.changed"})

    after_commit(session, send)
    session.info["points_pushes"] = (send, pending)
    return pending


def standing_after_commit(
    session: AsyncSession,
    member_id: int,
    *,
    lifetime: int,
    spendable: int,
    rank_id: int | None,
    leaderboard: bool,
) -> None:
    """Queue the member's new balance for their own sockets (header figure, points pages)."""
    pending = _pending_pushes(session)
    known = pending.standings.get(member_id)
    celebration = known.celebration if known is not None else None
    pending.standings[member_id] = _Standing(lifetime, spendable, rank_id, celebration)
    pending.leaderboard = pending.leaderboard or leaderboard


def rank_after_commit(
    session: AsyncSession, member_id: int, rank_id: int | None, celebration: str | None
) -> None:
    standing = _pending_pushes(session).standings.get(member_id)
    if standing is None:
        return
    standing.rank_id = rank_id
    standing.celebration = celebration or standing.celebration


# --- paying activities ---------------------------------------------------------------------


def action_source(activity: Activity) -> str:
    """What identifies "the same action": the activity's dedupe key when it has one (visits,
    sign-up), otherwise its subject and actor (member 3 liking post 5: ``post:5/by:3``)."""
    if activity.dedupe_key:
        return activity.dedupe_key
    if activity.subject_type is not None and activity.subject_id is not None:
        return f"{activity.subject_type}:{activity.subject_id}/by:{activity.actor_id}"
    return f"activity:{activity.id}"


async def _chain_state(session: AsyncSession, rule: str, source: str) -> tuple[int, int]:
    """(awards, reversals) appended so far under one rule and source."""
    rows = (
        await session.execute(
            select(PointLedgerEntry.reversal, func.count())
            .where(PointLedgerEntry.rule == rule, PointLedgerEntry.source == source)
            .group_by(PointLedgerEntry.reversal)
        )
    ).all()
    counts = {bool(reversal): int(count) for reversal, count in rows}
    return counts.get(False, 0), counts.get(True, 0)


def _chain_count(rule: Any, source: Any, *, reversal: bool) -> Any:
    return (
        select(func.count())
        .select_from(PointLedgerEntry)
        .where(
            PointLedgerEntry.rule == rule,
            PointLedgerEntry.source == source,
            PointLedgerEntry.reversal.is_(reversal),
        )
        .scalar_subquery()
    )


def _payee_query(capped: bool) -> Callable[[Any], Any]:
    """The payee's standing and, in the same statement, the chain so far under the rule and
    source (awards, reversals) and, when the rule has a daily cap, what the payee earned under
    it that day. Read once the payee's row is locked (:func:`_lock_payee`)."""

    def build(_insert: Any) -> Any:
        rule, source = bindparam("p_rule", type_=String), bindparam("p_source", type_=String)
        member = bindparam("p_member", type_=Integer)
        earned: Any = literal(0)
        if capped:
            earned = (
                select(func.coalesce(func.sum(PointLedgerEntry.lifetime_delta), 0))
                .where(
                    PointLedgerEntry.member_id == member,
                    PointLedgerEntry.kind == bindparam("p_kind", type_=String),
                    PointLedgerEntry.day == bindparam("p_day", type_=Date),
                    PointLedgerEntry.reversal.is_(False),
                )
                .scalar_subquery()
            )
        return select(
            Member.silenced_until,
            Member.suspended_until,
            _chain_count(rule, source, reversal=False),
            _chain_count(rule, source, reversal=True),
            earned,
        ).where(Member.id == member)

    return build


_PAYEE_QUERIES = {capped: _payee_query(capped) for capped in (False, True)}


def _payee_lock(_insert: Any) -> Any:
    return (
        select(Member.id).where(Member.id == bindparam("p_member")).with_for_update(key_share=True)
    )


async def _lock_payee(session: AsyncSession, member_id: int) -> None:
    """PostgreSQL: lock the payee's row, so concurrent awards for one member queue and the
    daily cap is read and spent by one transaction at a time. A statement of its own: one
    that waits for a row lock still reads the other tables as they were when it began, so
    the chain and the cap read with the lock would miss the award that held it. (SQLite
    writes one transaction at a time.)"""
    if dialect_name(session) == "postgresql":
        await run_prebuilt(session, "points.payee_lock", _payee_lock, {"p_member": member_id})


async def _pay(
    session: AsyncSession, activity: Activity, rule: Any, side: str, member_id: int
) -> None:
    amount = rule.actor_points if side == "actor" else rule.recipient_points
    if amount <= 0:
        return
    rule_key = f"{rule.verb}/{side}"
    source = action_source(activity)
    capped = rule.daily_cap is not None
    params: dict[str, Any] = {"p_member": member_id, "p_rule": rule_key, "p_source": source}
    if capped:
        params.update({"p_kind": rule.verb, "p_day": clock.community_day(activity.occurred_at)})
    await _lock_payee(session, member_id)
    payee = (
        await run_prebuilt(session, ("points.payee", capped), _PAYEE_QUERIES[capped], params)
    ).one_or_none()
    if payee is None or policy.is_restricted(payee):
        return
    awards, reversals, earned = (int(value or 0) for value in payee[2:])
    if awards > reversals:
        return
    if rule.daily_cap is not None:
        amount = min(amount, rule.daily_cap - earned)
        if amount <= 0:
            return
    await append(
        session,
        Entry(
            member_id=member_id,
            lifetime=amount,
            spendable=amount,
            kind=rule.verb,
            rule=rule_key,
            source=source,
            seq=awards,
            subject=_subject(activity),
            activity_id=activity.id,
            actor_id=activity.actor_id,
        ),
        moment=activity.occurred_at,
    )


def _subject(activity: Activity) -> tuple[str, int] | None:
    if activity.subject_type is None or activity.subject_id is None:
        return None
    return (activity.subject_type, activity.subject_id)


def _rule_query(_insert: Any) -> Any:
    rules = PointRule.__table__
    return select(
        rules.c.verb,
        rules.c.actor_points,
        rules.c.recipient_points,
        rules.c.daily_cap,
        rules.c.enabled,
    ).where(rules.c.verb == bindparam("p_verb"))


async def _pay_by_rule(session: AsyncSession, activity: Activity) -> None:
    rule = (
        await run_prebuilt(session, "points.rule", _rule_query, {"p_verb": activity.verb})
    ).one_or_none()
    if rule is None or not rule.enabled:
        return
    actor, recipient = activity.actor_id, activity.recipient_id
    if actor is not None and actor == recipient:
        return  # nobody earns points for acting on their own content
    payees = [(member_id, side) for member_id, side in ((actor, "actor"), (recipient, "recipient"))]
    # One lock order for every transaction (by member id), so two payers never deadlock.
    for member_id, side in sorted((p for p in payees if p[0] is not None), key=lambda p: p[0] or 0):
        assert member_id is not None
        await _pay(session, activity, rule, side, member_id)


async def _open_awards(session: AsyncSession, conditions: Iterable[Any]) -> list[PointLedgerEntry]:
    """The latest award of every chain matching ``conditions`` that no reversal undid yet."""
    rows = (
        (
            await session.execute(
                select(PointLedgerEntry)
                .where(*conditions)
                .order_by(PointLedgerEntry.seq, PointLedgerEntry.id)
            )
        )
        .scalars()
        .all()
    )
    chains: dict[tuple[str, str], list[PointLedgerEntry]] = {}
    for row in rows:
        chains.setdefault((row.rule, row.source), []).append(row)
    open_rows: list[PointLedgerEntry] = []
    for chain in chains.values():
        awards = [row for row in chain if not row.reversal]
        undone = sum(1 for row in chain if row.reversal)
        if awards and len(awards) > undone:
            open_rows.append(awards[-1])
    return sorted(open_rows, key=lambda row: (row.member_id, row.id))


async def _reverse(
    session: AsyncSession, rows: Sequence[PointLedgerEntry], activity: Activity
) -> None:
    for row in rows:
        await append(
            session,
            Entry(
                member_id=row.member_id,
                lifetime=-row.lifetime_delta,
                spendable=-row.spendable_delta,
                kind=row.kind,
                rule=row.rule,
                source=row.source,
                seq=row.seq,
                reversal=True,
                subject=(row.subject_type, row.subject_id)
                if row.subject_type is not None and row.subject_id is not None
                else None,
                activity_id=activity.id,
                actor_id=activity.actor_id,
            ),
            moment=activity.occurred_at,
        )


async def _undo_action(session: AsyncSession, activity: Activity) -> None:
    """``like.undone`` and ``answer.unaccepted``: reverse what the original action paid."""
    original_verb, same_actor = policy.REVERSAL_OF[activity.verb]
    subject = _subject(activity)
    if subject is None:
        return
    conditions: list[Any] = [
        PointLedgerEntry.subject_type == subject[0],
        PointLedgerEntry.subject_id == subject[1],
        PointLedgerEntry.kind == original_verb,
    ]
    if same_actor:
        conditions.append(PointLedgerEntry.actor_id == activity.actor_id)
    await _reverse(session, await _open_awards(session, conditions), activity)


async def _vote(session: AsyncSession, activity: Activity) -> None:
    """``vote.cast`` carries the change (previous -> value): an up-vote pays, taking it back
    (or turning it down) reverses the payment."""
    value = activity.data.get("value")
    previous = activity.data.get("previous", 0)
    subject = _subject(activity)
    if value == 1 and previous != 1:
        await _pay_by_rule(session, activity)
    elif previous == 1 and value != 1 and subject is not None:
        rows = await _open_awards(
            session,
            [
                PointLedgerEntry.subject_type == subject[0],
                PointLedgerEntry.subject_id == subject[1],
                PointLedgerEntry.kind == verbs.VOTE_CAST,
                PointLedgerEntry.actor_id == activity.actor_id,
            ],
        )
        await _reverse(session, rows, activity)


async def _remove_post(session: AsyncSession, activity: Activity) -> None:
    """A removed post takes back everything it earned anyone (writing it, its likes, up-votes,
    being accepted); a restore pays the same amounts again."""
    subject = _subject(activity)
    if subject is None:
        return
    rows = await _open_awards(
        session,
        [
            PointLedgerEntry.subject_type == subject[0],
            PointLedgerEntry.subject_id == subject[1],
        ],
    )
    await _reverse(session, rows, activity)


async def _restore_post(session: AsyncSession, activity: Activity) -> None:
    subject = _subject(activity)
    if subject is None:
        return
    rows = (
        (
            await session.execute(
                select(PointLedgerEntry)
                .join(Activity, Activity.id == PointLedgerEntry.activity_id)
                .where(
                    PointLedgerEntry.subject_type == subject[0],
                    PointLedgerEntry.subject_id == subject[1],
                    PointLedgerEntry.reversal.is_(True),
                    Activity.verb == verbs.POST_REMOVED,
                )
                .order_by(PointLedgerEntry.member_id, PointLedgerEntry.id)
            )
        )
        .scalars()
        .all()
    )
    for row in rows:
        awards, reversals = await _chain_state(session, row.rule, row.source)
        if awards != reversals or row.seq != awards - 1:
            continue  # already paid again, or a later undo (an unlike) closed this chain
        await append(
            session,
            Entry(
                member_id=row.member_id,
                lifetime=-row.lifetime_delta,
                spendable=-row.spendable_delta,
                kind=row.kind,
                rule=row.rule,
                source=row.source,
                seq=awards,
                subject=subject,
                activity_id=activity.id,
                actor_id=activity.actor_id,
            ),
            moment=activity.occurred_at,
        )


async def on_activity(session: AsyncSession, activity: Activity) -> None:
    """The activity listener: pay, reverse or re-pay per the rules, in the same transaction."""
    verb = activity.verb
    if verb in policy.REVERSAL_OF:
        await _undo_action(session, activity)
    elif verb == verbs.POST_REMOVED:
        await _remove_post(session, activity)
    elif verb == verbs.POST_RESTORED:
        await _restore_post(session, activity)
    elif verb == verbs.VOTE_CAST:
        await _vote(session, activity)
    elif verb not in policy.UNPAYABLE:
        await _pay_by_rule(session, activity)


# --- manual and external points ------------------------------------------------------------


async def adjust_points(
    session: AsyncSession,
    admin: Member,
    member: Member,
    amount: int,
    reason: str,
    *,
    request_id: str,
) -> int | None:
    """An admin's correction, with its reason kept in the ledger and the audit log. The form's
    one-time ``request_id`` makes a double-submitted form adjust once."""
    from app.points import audit

    entry_id = await append(
        session,
        Entry(
            member_id=member.id,
            lifetime=amount,
            spendable=amount,
            kind="adjustment",
            rule="adjustment",
            source=f"admin:{admin.id}:{request_id}",
            actor_id=admin.id,
            note=reason,
        ),
    )
    if entry_id is not None:
        await audit.log(
            session,
            actor=admin,
            action="points.adjust",
            target=("member", member.id),
            reason=reason,
            data={"amount": amount, "ledger_id": entry_id},
        )
    return entry_id


async def spend_points(
    session: AsyncSession,
    member_id: int,
    amount: int,
    *,
    kind: str,
    source: str,
    subject: tuple[str, int] | None = None,
    actor_id: int | None = None,
    note: str = "",
) -> int | None:
    """Spend ``amount`` spendable points (rewards); lifetime points and rank are untouched.

    The balance moves with one conditional ``UPDATE ... WHERE spendable_points >= amount``, so
    however many spends run at once the balance never goes below zero. Returns the ledger
    row's id, or None when the balance is short (nothing is written). ``kind``+``source`` is
    the ledger key: a repeated spend raises Conflict, and the caller's transaction rolls back.
    Undo it with :func:`refund_points` and the same kind and source."""
    if amount <= 0:
        raise ValueError("spend a positive amount")
    moved = (
        await session.execute(
            update(Member)
            .where(Member.id == member_id, Member.spendable_points >= amount)
            .values(spendable_points=Member.spendable_points - amount)
            .returning(Member.lifetime_points, Member.spendable_points, Member.rank_id),
            execution_options={"synchronize_session": "fetch"},
        )
    ).one_or_none()
    if moved is None:
        return None
    standing_after_commit(
        session,
        member_id,
        lifetime=int(moved.lifetime_points),
        spendable=int(moved.spendable_points),
        rank_id=moved.rank_id,
        leaderboard=False,
    )
    when = clock.now()
    new_id = await _insert_ledger(
        session,
        Entry(
            member_id=member_id,
            lifetime=0,
            spendable=-amount,
            kind=kind,
            rule=kind,
            source=source,
            subject=subject,
            actor_id=actor_id,
            note=note,
        ),
        when,
        clock.community_day(when),
    )
    if new_id is None:
        raise Conflict(_("These points were already spent."))
    return new_id


async def refund_points(
    session: AsyncSession,
    member_id: int,
    amount: int,
    *,
    kind: str,
    source: str,
    subject: tuple[str, int] | None = None,
    actor_id: int | None = None,
    note: str = "",
) -> int | None:
    """Give back what :func:`spend_points` took under the same kind and source: a reversal
    row, at most once (a repeat returns None)."""
    return await append(
        session,
        Entry(
            member_id=member_id,
            lifetime=0,
            spendable=amount,
            kind=kind,
            rule=kind,
            source=source,
            reversal=True,
            subject=subject,
            actor_id=actor_id,
            note=note,
        ),
    )


@dataclass(frozen=True)
class ExternalResult:
    status: int
    body: dict[str, Any]
    replayed: bool


def request_fingerprint(data: ExternalAwardIn) -> str:
    canonical = json.dumps(data.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def award_external(
    session: AsyncSession, operator: Member, key: str, data: ExternalAwardIn
) -> ExternalResult:
    """An operator's award (positive) or deduction (negative) for something outside the
    community. The (operator, Idempotency-Key) pair is claimed with an insert that does
    nothing on conflict, so of many identical concurrent calls exactly one pays; the rest
    replay its stored answer. Reusing a key for a different request is refused."""
    fingerprint = request_fingerprint(data)
    member = await session.get(Member, data.member_id)
    if member is None or member.email_verified_at is None:
        raise NotFound(_("No member has this id."), field="member_id")
    claimed = (
        await session.execute(
            insert(session, PointExternalAward)
            .values(
                operator_id=operator.id,
                idempotency_key=key,
                request_hash=fingerprint,
                member_id=data.member_id,
                amount=data.amount,
                response_status=201,
                response_body={},
                created_at=clock.now(),
            )
            .on_conflict_do_nothing(
                index_elements=[
                    PointExternalAward.operator_id,
                    PointExternalAward.idempotency_key,
                ]
            )
            .returning(PointExternalAward.id)
        )
    ).scalar_one_or_none()
    if claimed is None:
        earlier = (
            await session.execute(
                select(PointExternalAward).where(
                    PointExternalAward.operator_id == operator.id,
                    PointExternalAward.idempotency_key == key,
                )
            )
        ).scalar_one()
        if earlier.request_hash != fingerprint:
            raise Invalid(
                _(
                    "This Idempotency-Key was already used for a different request. "
                    "Use a new key for a new award."
                ),
                field="Idempotency-Key",
            )
        return ExternalResult(earlier.response_status, dict(earlier.response_body), True)
    entry_id = await append(
        session,
        Entry(
            member_id=member.id,
            lifetime=data.amount,
            spendable=data.amount,
            kind="external",
            rule="external",
            source=f"operator:{operator.id}:{key}",
            actor_id=operator.id,
            note=data.reason,
        ),
    )
    totals = (
        await session.execute(
            select(Member.lifetime_points, Member.spendable_points).where(Member.id == member.id)
        )
    ).one()
    body: dict[str, Any] = {
        "id": claimed,
        "ledger_id": entry_id,
        "member_id": member.id,
        "amount": data.amount,
        "reason": data.reason,
        "lifetime_points": int(totals.lifetime_points),
        "spendable_points": int(totals.spendable_points),
    }
    await session.execute(
        update(PointExternalAward)
        .where(PointExternalAward.id == claimed)
        .values(response_body=body)
        .execution_options(synchronize_session=False)
    )
    return ExternalResult(201, body, False)


# --- rules and ranks (admin) ----------------------------------------------------------------


async def save_rule(session: AsyncSession, admin: Member, verb: str, data: RuleIn) -> PointRule:
    """Create or change the rule for ``verb``. The ledger is untouched: history keeps what was
    paid, and the new amounts apply from the next activity on."""
    from app.points import audit

    if verb not in policy.payable_verbs():
        raise Invalid(_("Points cannot be given for this activity."), field="verb")
    rule = (
        await session.execute(select(PointRule).where(PointRule.verb == verb))
    ).scalar_one_or_none()
    before = None
    if rule is None:
        position = await session.scalar(select(func.coalesce(func.max(PointRule.position), 0)))
        rule = PointRule(verb=verb, position=int(position or 0) + 1)
        session.add(rule)
    else:
        before = _rule_dict(rule)
    rule.actor_points = data.actor_points
    rule.recipient_points = data.recipient_points
    rule.daily_cap = data.daily_cap
    rule.enabled = data.enabled
    rule.updated_at = clock.now()
    rule.updated_by_id = admin.id
    await session.flush()
    await audit.log(
        session,
        actor=admin,
        action="points.rule",
        target=("point_rule", rule.id),
        data={"verb": verb, "before": before, "after": _rule_dict(rule)},
    )
    return rule


def _rule_dict(rule: PointRule) -> dict[str, Any]:
    return {
        "actor_points": rule.actor_points,
        "recipient_points": rule.recipient_points,
        "daily_cap": rule.daily_cap,
        "enabled": rule.enabled,
    }


async def _check_threshold_free(session: AsyncSession, threshold: int, rank_id: int | None) -> None:
    clash = await session.scalar(
        select(Rank.id).where(Rank.threshold == threshold, Rank.id != (rank_id or 0))
    )
    if clash is not None:
        raise Conflict(_("Another rank already starts at this many points."), field="threshold")


async def create_rank(session: AsyncSession, admin: Member, data: RankIn) -> Rank:
    from app.points import audit

    await _check_threshold_free(session, data.threshold, None)
    rank = Rank(**data.model_dump(), updated_at=clock.now())
    session.add(rank)
    await session.flush()
    await refresh_member_ranks(session)
    await audit.log(
        session,
        actor=admin,
        action="ranks.create",
        target=("rank", rank.id),
        data=data.model_dump(),
    )
    return rank


async def update_rank(session: AsyncSession, admin: Member, rank_id: int, data: RankIn) -> Rank:
    from app.points import audit

    rank = await session.get(Rank, rank_id)
    if rank is None:
        raise NotFound()
    await _check_threshold_free(session, data.threshold, rank_id)
    for key, value in data.model_dump().items():
        setattr(rank, key, value)
    rank.updated_at = clock.now()
    await session.flush()
    await refresh_member_ranks(session)
    await audit.log(
        session,
        actor=admin,
        action="ranks.update",
        target=("rank", rank.id),
        data=data.model_dump(),
    )
    return rank


async def delete_rank(session: AsyncSession, admin: Member, rank_id: int) -> None:
    from app.points import audit

    rank = await session.get(Rank, rank_id)
    if rank is None:
        raise NotFound()
    snapshot = {"name_en": rank.name_en, "threshold": rank.threshold}
    await session.execute(
        update(Member)
        .where(Member.rank_id == rank_id)
        .values(rank_id=None)
        .execution_options(synchronize_session=False)
    )
    await session.delete(rank)
    await session.flush()
    await refresh_member_ranks(session)
    await audit.log(
        session, actor=admin, action="ranks.delete", target=("rank", rank_id), data=snapshot
    )


# --- `kizuna points check` --------------------------------------------------------------------


@dataclass(frozen=True)
class Mismatch:
    what: str
    member_id: int
    cached: int | None
    ledger: int | None

    def __str__(self) -> str:
        return f"member {self.member_id}: {self.what} cached={self.cached} ledger={self.ledger}"


async def _lifetime_by(session: AsyncSession, column: Any) -> Sequence[Any]:
    """Lifetime points per member and ``column`` value, from the ledger rows that moved any."""
    return (
        await session.execute(
            select(PointLedgerEntry.member_id, column, func.sum(PointLedgerEntry.lifetime_delta))
            .where(PointLedgerEntry.lifetime_delta != 0)
            .group_by(PointLedgerEntry.member_id, column)
        )
    ).all()


def _differences(
    expected: dict[Any, int],
    cached: dict[Any, int],
    label: Callable[[Any], tuple[str, int]],
) -> list[Mismatch]:
    """Every key whose cached total differs from the ledger's; ``label`` gives its name and
    member."""
    return [
        Mismatch(*label(key), cached.get(key), expected.get(key))
        for key in sorted(set(expected) | set(cached))
        if expected.get(key, 0) != cached.get(key, 0)
    ]


async def check_totals(session: AsyncSession, *, rebuild: bool = False) -> list[Mismatch]:
    """Compare every cached total with the ledger; with ``rebuild`` make the caches agree."""
    ledger_sums = {
        int(member_id): (int(lifetime), int(spendable))
        for member_id, lifetime, spendable in (
            await session.execute(
                select(
                    PointLedgerEntry.member_id,
                    func.sum(PointLedgerEntry.lifetime_delta),
                    func.sum(PointLedgerEntry.spendable_delta),
                ).group_by(PointLedgerEntry.member_id)
            )
        ).all()
    }
    mismatches: list[Mismatch] = []
    members = (
        await session.execute(
            select(Member.id, Member.lifetime_points, Member.spendable_points, Member.rank_id)
        )
    ).all()
    ladder = (await session.execute(select(Rank.id, Rank.threshold).order_by(Rank.threshold))).all()
    for member_id, lifetime, spendable, rank_id in members:
        want_lifetime, want_spendable = ledger_sums.get(int(member_id), (0, 0))
        if lifetime != want_lifetime:
            mismatches.append(Mismatch("lifetime_points", member_id, lifetime, want_lifetime))
        if spendable != want_spendable:
            mismatches.append(Mismatch("spendable_points", member_id, spendable, want_spendable))
        want_rank = None
        for rank in ladder:
            if rank.threshold <= want_lifetime:
                want_rank = rank.id
        if rank_id != want_rank:
            mismatches.append(Mismatch("rank_id", member_id, rank_id, want_rank))

    expected: dict[tuple[str, date, int], int] = {}
    for member_id, day, points in await _lifetime_by(session, PointLedgerEntry.day):
        for period in PERIODS:
            key = (period, period_start(period, day), int(member_id))
            expected[key] = expected.get(key, 0) + int(points)
    cached = {
        (row.period, row.start, int(row.member_id)): int(row.points)
        for row in (await session.execute(select(PointPeriodTotal))).scalars()
    }
    mismatches += _differences(
        expected, cached, lambda key: (f"{key[0]} total from {key[1].isoformat()}", key[2])
    )
    kinds_expected = {
        (int(member_id), kind): int(points)
        for member_id, kind, points in await _lifetime_by(session, PointLedgerEntry.kind)
    }
    kinds_cached = {
        (int(member_id), kind): int(points)
        for member_id, kind, points in (
            await session.execute(
                select(PointKindTotal.member_id, PointKindTotal.kind, PointKindTotal.points)
            )
        ).all()
    }
    mismatches += _differences(
        kinds_expected, kinds_cached, lambda key: (f"{key[1]} total", key[0])
    )
    if rebuild and mismatches:
        await _rebuild(session, ledger_sums, expected, kinds_expected)
    return mismatches


async def _rebuild(
    session: AsyncSession,
    ledger_sums: dict[int, tuple[int, int]],
    expected: dict[tuple[str, date, int], int],
    kinds: dict[tuple[int, str], int],
) -> None:
    await session.execute(
        update(Member)
        .where(and_(Member.id.not_in(list(ledger_sums)) if ledger_sums else True))
        .values(lifetime_points=0, spendable_points=0)
        .execution_options(synchronize_session=False)
    )
    for member_id, (lifetime, spendable) in ledger_sums.items():
        await session.execute(
            update(Member)
            .where(Member.id == member_id)
            .values(lifetime_points=lifetime, spendable_points=spendable)
            .execution_options(synchronize_session=False)
        )
    await session.execute(delete(PointPeriodTotal))
    for (period, start, member_id), points in expected.items():
        session.add(
            PointPeriodTotal(period=period, start=start, member_id=member_id, points=points)
        )
    await session.execute(delete(PointKindTotal))
    for (member_id, kind), points in kinds.items():
        session.add(PointKindTotal(member_id=member_id, kind=kind, points=points))
    await session.flush()
    await refresh_member_ranks(session)
