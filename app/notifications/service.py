"""Notifications: who is told about an activity, grouping, reading, preferences and email.

The only code that writes notifications. :func:`on_activity` listens to every recorded activity
(same transaction) and turns the agreed verbs into notifications; the header bell's count is a
counter on the member, kept in the same statements, and pushed live after commit.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import Integer, Table, bindparam, case, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, make_transient_to_detached

from app.activity import verbs
from app.activity.service import subscribe
from app.config import get_settings
from app.db import after_commit
from app.kit import clock, i18n
from app.kit.errors import Invalid, NotFound
from app.kit.security import sign_value, unsign_value
from app.kit.sql import (
    in_ids,
    insert,
    loaded,
    prebuilt,
    read_prebuilt,
    run_prebuilt,
    sync_loaded,
)
from app.kit.templating import render_string
from app.live.broker import may_reach, member_channel, publish
from app.models import Activity, Member, Notification, NotificationPreference
from app.models.member import RoleChecks
from app.notifications import kinds
from app.notifications.mail import queue_mail
from app.notifications.policy import TopicFacts, can_see, topic_facts
from app.notifications.text import detail, headline, target_url

UNSUBSCRIBE_PURPOSE = "unsubscribe"
# Names kept on a grouped row, newest first: enough to say who, and to take back an unlike.
GROUP_NAMES_KEPT = 50
MAX_RECIPIENTS = 50
AUDIENCE_SLICE = 500


# --- the locale of the person being told -------------------------------------------------------


@contextlib.contextmanager
def in_locale(member: Reader) -> Iterator[None]:
    """Render text (mail, live pushes) in the recipient's language, then restore the reader's."""
    previous_locale, previous_zone = i18n.get_locale(), i18n.get_timezone()
    locale = member.locale if member.locale in i18n.LOCALES else get_settings().default_locale
    i18n.set_locale(locale)
    i18n.set_timezone(member.timezone or i18n.DEFAULT_TIMEZONES.get(locale, "UTC"))
    try:
        yield
    finally:
        i18n.set_locale(previous_locale)
        i18n.set_timezone(previous_zone)


class Reader(Protocol):
    """Whom text is rendered for: a member, or the columns of one that say how."""

    @property
    def locale(self) -> str | None: ...

    @property
    def timezone(self) -> str | None: ...


# --- preferences -------------------------------------------------------------------------------


async def preferences(
    session: AsyncSession, member_ids: Sequence[int]
) -> dict[int, dict[str, str]]:
    """Each member's channel per kind (defaults filled in) and digest choice."""
    result = {member_id: {**kinds.DEFAULTS, kinds.DIGEST: "off"} for member_id in member_ids}
    if not member_ids:
        return result
    rows = await read_prebuilt(
        session, "notifications.preferences", _preferences_query, {"p_ids": list(member_ids)}
    )
    for member_id, kind, channel in rows:
        result[member_id][kind] = channel
    return result


# The members a notification goes to (:func:`_recipients`) and their choices, in statements
# built once with the ids as one parameter (app.kit.sql.in_ids): through the ORM with IN lists,
# these made a like that starts a post's "liked your post" row cost a third more than one that
# adds to it.
def _preferences_query(_insert: Any) -> Any:
    return select(
        NotificationPreference.member_id,
        NotificationPreference.kind,
        NotificationPreference.channel,
    ).where(in_ids(NotificationPreference.member_id, "p_ids"))


def _members_query(_insert: Any) -> Any:
    return select(Member).where(in_ids(Member.id, "p_ids")).options(joinedload(Member.avatar))


async def set_preference(session: AsyncSession, member_id: int, kind: str, channel: str) -> None:
    if kind == kinds.DIGEST:
        if channel not in kinds.DIGEST_CHOICES:
            raise Invalid(i18n.gettext("Choose one of the offered values."), field=kind)
    elif kind not in kinds.KIND_NAMES:
        raise Invalid(i18n.gettext("There is no such kind of notification."), field=kind)
    elif channel not in kinds.CHANNELS:
        raise Invalid(i18n.gettext("Choose one of the offered values."), field=kind)
    stmt = insert(session, NotificationPreference).values(
        member_id=member_id, kind=kind, channel=channel
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[NotificationPreference.member_id, NotificationPreference.kind],
            set_={"channel": channel},
        )
    )


async def set_preferences(session: AsyncSession, member: Member, choices: dict[str, str]) -> None:
    """Validate every choice first, so a bad one changes nothing."""
    for kind, channel in choices.items():
        if kind == kinds.DIGEST:
            valid = channel in kinds.DIGEST_CHOICES
        else:
            valid = kind in kinds.KIND_NAMES and channel in kinds.CHANNELS
        if kind != kinds.DIGEST and kind not in kinds.KIND_NAMES:
            raise Invalid(i18n.gettext("There is no such kind of notification."), field=kind)
        if not valid:
            raise Invalid(i18n.gettext("Choose one of the offered values."), field=kind)
    for kind, channel in choices.items():
        await set_preference(session, member.id, kind, channel)


def unsubscribe_token(member_id: int, kind: str) -> str:
    return sign_value(get_settings().secret_key, UNSUBSCRIBE_PURPOSE, {"m": member_id, "k": kind})


def unsubscribe_url(member_id: int, kind: str) -> str:
    return f"{get_settings().base_url}/unsubscribe/{unsubscribe_token(member_id, kind)}"


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    value = unsign_value(get_settings().secret_key, UNSUBSCRIBE_PURPOSE, token)
    if not isinstance(value, dict):
        return None
    member_id, kind = value.get("m"), value.get("k")
    if not isinstance(member_id, int) or not isinstance(kind, str):
        return None
    if kind != kinds.DIGEST and kind not in kinds.KIND_NAMES:
        return None
    return member_id, kind


async def unsubscribe(session: AsyncSession, token: str) -> tuple[Member, str]:
    """Stop the emails a signed link names; in-app notifications stay on."""
    parsed = read_unsubscribe_token(token)
    member = await session.get(Member, parsed[0]) if parsed else None
    if parsed is None or member is None:
        raise NotFound(i18n.gettext("This unsubscribe link is not valid."))
    kind = parsed[1]
    await set_preference(session, member.id, kind, "off" if kind == kinds.DIGEST else kinds.APP)
    return member, kind


# --- creating notifications --------------------------------------------------------------------


@dataclass
class Target:
    member_id: int
    kind: str


def _unread_value() -> Any:
    """A member's unread count moved by the parameter ``p_delta``, never below 0."""
    value = cast(Table, Member.__table__).c.unread_notifications + bindparam(
        "p_delta", type_=Integer
    )
    return case((value > 0, value), else_=0)


def _unread_update(_insert: Any) -> Any:
    members = cast(Table, Member.__table__)
    return (
        update(members)
        .where(members.c.id == bindparam("p_member"))
        .values(unread_notifications=_unread_value())
        .returning(members.c.unread_notifications)
    )


def _unread_update_many(_insert: Any) -> Any:
    members = cast(Table, Member.__table__)
    return (
        update(members)
        .where(in_ids(members.c.id, "p_ids"))
        .values(unread_notifications=_unread_value())
        .returning(members.c.id, members.c.unread_notifications)
    )


async def _bump_unread(session: AsyncSession, member_id: int, delta: int) -> int:
    """:func:`_bump_unread_many` for one member."""
    count = (
        await run_prebuilt(
            session,
            "notifications.unread",
            _unread_update,
            {"p_member": member_id, "p_delta": delta},
        )
    ).scalar_one_or_none()
    if count is None:
        return 0
    sync_loaded(session, Member, member_id, {"unread_notifications": count})
    return int(count)


async def _bump_unread_many(session: AsyncSession, deltas: Counter[int]) -> dict[int, int]:
    """Add to members' unread counts (never below 0; ``deltas``: member id -> change), one
    statement per distinct change, built once; returns each member's new count.

    The member objects already in the session get their new count by key. Letting SQLAlchemy
    synchronise them ("evaluate") would test every object in the session against the WHERE
    clause; telling a whole audience loads all of its members, which made announcing a survey
    quadratic in the audience (still running after 7 minutes for 100,000 members)."""
    by_delta: dict[int, list[int]] = {}
    for member_id, delta in deltas.items():
        by_delta.setdefault(delta, []).append(member_id)
    counts: dict[int, int] = {}
    for delta, member_ids in by_delta.items():
        member_ids.sort()  # rows are locked in id order on PostgreSQL
        rows = await run_prebuilt(
            session,
            "notifications.unread_many",
            _unread_update_many,
            {"p_ids": member_ids, "p_delta": delta},
        )
        counts.update({int(member_id): int(count) for member_id, count in rows.all()})
    for member_id, count in counts.items():
        sync_loaded(session, Member, member_id, {"unread_notifications": count})
    return counts


def push_after_commit(
    session: AsyncSession, member_id: int, unread: int, item: dict[str, Any] | None = None
) -> None:
    """Queue the bell's new count (and the new notification) for the member's sockets.
    Several changes in one transaction send one event per member with the final count."""
    state: tuple[Any, dict[int, dict[str, Any]]] | None = session.info.get("notification_pushes")
    if state is None or state[0] not in session.info.get("after_commit", []):
        pending: dict[int, dict[str, Any]] = {}

        async def send() -> None:
            for target, payload in pending.items():
                channel = member_channel(target)
                if may_reach(channel):
                    await publish(channel, payload)

        after_commit(session, send)
        state = (send, pending)
        session.info["notification_pushes"] = state
    event = state[1].setdefault(member_id, {"type": "notifications", "items": []})
    event["unread"] = unread
    if item is not None:
        event["items"].append(item)


async def _members(session: AsyncSession, ids: Sequence[int]) -> dict[int, Member]:
    """Members loaded whole (the actor, named in the text, and those told by mail, whose
    template names them); those already in the session (the actor, mostly) cost no query."""
    found: dict[int, Member] = {}
    missing: list[int] = []
    for member_id in ids:
        member = loaded(session, Member, member_id)
        if member is not None:
            found[member_id] = member
        else:
            missing.append(member_id)
    if missing:
        rows = await session.execute(
            prebuilt(session, "notifications.members", _members_query), {"p_ids": missing}
        )
        found.update({member.id: member for member in rows.scalars()})
    return found


@dataclass(frozen=True, slots=True)
class Recipient(RoleChecks):
    """What telling a member reads of them, as columns: whether they may be told (a
    verified address, and for a topic the forums' visibility rules, which take these as a
    viewer) and the language their text is rendered in. Loading the member through the ORM
    cost a tenth of a like that starts a "liked your post" row; the full member is loaded
    only for a mail (:func:`_email`)."""

    id: int
    role: str
    lifetime_points: int
    email_verified_at: datetime | None
    locale: str | None
    timezone: str | None


_RECIPIENT_COLUMNS = tuple(field.name for field in fields(Recipient))


def _recipients_query(_insert: Any) -> Any:
    members = cast(Table, Member.__table__)
    return select(*(members.c[name] for name in _RECIPIENT_COLUMNS)).where(
        in_ids(members.c.id, "p_ids")
    )


async def _recipients(session: AsyncSession, ids: Sequence[int]) -> dict[int, Recipient]:
    rows = await read_prebuilt(
        session, "notifications.recipients", _recipients_query, {"p_ids": list(ids)}
    )
    return {int(row[0]): Recipient(*row) for row in rows}


def _may_receive(member: Recipient | None, facts: TopicFacts | None, needs_topic: bool) -> bool:
    if member is None or member.email_verified_at is None:
        return False
    if needs_topic:
        return facts is not None and can_see(member, facts)
    return True


_GROUPED_COLUMNS = tuple(
    column for column in cast(Table, Notification.__table__).c if column.name != "id"
)


def _grouped_insert(insert_: Any) -> Any:
    table = cast(Table, Notification.__table__)
    stmt = insert_(table).values(
        {
            column.name: bindparam(f"p_{column.name}", type_=column.type)
            for column in _GROUPED_COLUMNS
        }
    )
    return stmt.on_conflict_do_nothing(
        index_elements=[table.c.member_id, table.c.group_key],
        index_where=text("read_at IS NULL AND group_key IS NOT NULL"),
    ).returning(table.c.id)


async def _add_grouped(session: AsyncSession, notification: Notification) -> bool:
    """Insert a grouped notification unless its group already has an unread row (then False).
    ``ON CONFLICT DO NOTHING`` on the one-unread-row-per-group index instead of a savepoint
    around a flush; the object then joins the session as the stored row."""
    now = clock.now()
    notification.created_at = notification.updated_at = now
    notification.actor_count = 1
    notification.read_at = notification.emailed_at = notification.digested_at = None
    params = {f"p_{column.name}": getattr(notification, column.name) for column in _GROUPED_COLUMNS}
    new_id = (
        await run_prebuilt(session, "notifications.grouped", _grouped_insert, params)
    ).scalar_one_or_none()
    if new_id is None:
        return False
    notification.id = int(new_id)
    make_transient_to_detached(notification)
    session.add(notification)
    return True


async def notify(
    session: AsyncSession,
    targets: Sequence[Target],
    *,
    actor_id: int | None,
    subject: tuple[str, int] | None = None,
    topic_id: int | None = None,
    data: dict[str, Any] | None = None,
    group_key: str | None = None,
    limit: int | None = MAX_RECIPIENTS,
) -> list[Notification]:
    """Tell each target, if their preferences and the topic's visibility allow it. ``limit``
    caps how many people one post may notify (mentions); a campaign's audience has none."""
    targets = [t for t in targets if t.member_id != actor_id][:limit]
    if not targets:
        return []
    facts = await topic_facts(session, topic_id) if topic_id is not None else None
    members = await _recipients(session, [t.member_id for t in targets])
    choices = await preferences(session, [t.member_id for t in targets])
    told: list[tuple[Target, Recipient, str]] = []
    for target in targets:
        member = members.get(target.member_id)
        if not _may_receive(member, facts, topic_id is not None) or member is None:
            continue
        channel = choices[member.id].get(target.kind, kinds.DEFAULTS.get(target.kind, kinds.APP))
        if channel != kinds.OFF:
            told.append((target, member, channel))
    whole = await _members(
        session,
        [
            *([actor_id] if actor_id is not None else []),
            *(member.id for _target, member, channel in told if channel == kinds.EMAIL),
        ],
    )
    actor = whole.get(actor_id) if actor_id is not None else None
    created: list[Notification] = []
    ready: list[tuple[Recipient, Notification, str]] = []
    for target, member, channel in told:
        row_data = dict(data or {})
        if facts is not None:
            row_data["topic_title"] = facts.title
        notification = Notification(
            member_id=member.id,
            kind=target.kind,
            actor_id=actor_id,
            subject_type=subject[0] if subject else None,
            subject_id=subject[1] if subject else None,
            topic_id=topic_id,
            group_key=group_key,
            data=row_data,
        )
        if group_key is None:
            ready.append((member, notification, channel))
            continue
        if not await _add_grouped(session, notification):
            # A concurrent transaction created the group's unread row first: join it.
            existing = await _unread_group(session, member.id, group_key)
            if existing is not None and actor_id is not None:
                _add_actor(existing, actor_id)
            continue
        unread = await _bump_unread(session, member.id, 1)
        await _deliver(session, member, notification, channel, actor, unread, whole)
        created.append(notification)
    if ready:
        # One flush and a few statements for all of them: a campaign's or survey's audience
        # is told in slices of AUDIENCE_SLICE, not one round trip per member.
        session.add_all([notification for _member, notification, _channel in ready])
        await session.flush()
        unread_counts = await _bump_unread_many(
            session, Counter(member.id for member, _n, _c in ready)
        )
        for member, notification, channel in ready:
            unread = unread_counts[member.id]
            await _deliver(session, member, notification, channel, actor, unread, whole)
            created.append(notification)
    return created


async def _deliver(
    session: AsyncSession,
    member: Recipient,
    notification: Notification,
    channel: str,
    actor: Member | None,
    unread: int,
    whole: dict[int, Member],
) -> None:
    """The stored notification reaches the member: the bell (live), and the mail if chosen
    (``whole``: the members told by mail, loaded whole)."""
    item = None
    if may_reach(member_channel(member.id)):
        with in_locale(member):
            item = _live_item(notification, actor)
    push_after_commit(session, member.id, unread, item)
    addressee = whole.get(member.id) if channel == kinds.EMAIL else None
    if addressee is not None:
        await _email(session, addressee, notification, actor)


def _live_item(notification: Notification, actor: Member | None) -> dict[str, Any]:
    return {
        "id": notification.id,
        "kind": notification.kind,
        "text": headline(notification, actor, html=False),
        "url": f"/notifications/{notification.id}/open",
    }


async def _email(
    session: AsyncSession, member: Member, notification: Notification, actor: Member | None
) -> None:
    settings = get_settings()
    unsubscribe = unsubscribe_url(member.id, notification.kind)
    with in_locale(member):
        text = headline(notification, actor, html=False)
        context = {
            "member": member,
            "text": text,
            "html_text": headline(notification, actor, html=True, absolute=True),
            "detail": detail(notification),
            "link": f"{settings.base_url}{target_url(notification)}",
            "preferences_link": f"{settings.base_url}/settings/notifications",
            "unsubscribe_link": unsubscribe,
            "kind_label": kinds.label(notification.kind),
            "site_name": settings.site_name,
        }
        body = render_string("notifications/mail/notification.txt", **context)
        html = render_string("notifications/mail/notification.html", **context)
        subject = f"[{settings.site_name}] {text}"
    await queue_mail(
        session,
        member.email,
        subject,
        body,
        html=html,
        unsubscribe_url=unsubscribe,
    )
    notification.emailed_at = clock.now()


async def _group_like(session: AsyncSession, activity: Activity) -> None:
    """ "A and 4 others liked your post": one unread row per post, updated by each like."""
    recipient, actor_id, post_id = activity.recipient_id, activity.actor_id, activity.subject_id
    if recipient is None or actor_id is None or post_id is None or recipient == actor_id:
        return
    group_key = f"like:{post_id}"
    found = (
        await run_prebuilt(
            session,
            "notifications.like_group",
            _like_group_query,
            {"p_member": recipient, "p_key": group_key},
        )
    ).one_or_none()
    if found is None:
        await notify(
            session,
            [Target(recipient, kinds.LIKE)],
            actor_id=actor_id,
            subject=("post", post_id),
            topic_id=_int(activity.data.get("topic_id")),
            data={"actor_ids": [actor_id]},
            group_key=group_key,
        )
        return
    # Grown with Core rather than through the ORM's unit of work: a like does this for the
    # author of nearly every post it lands on.
    group_id, data = found
    grown = _grown(data, actor_id)
    if grown is None:
        return
    now = clock.now()
    count = (
        await run_prebuilt(
            session,
            "notifications.like_group_add",
            _like_group_add,
            {"p_id": group_id, "p_data": grown, "p_actor": actor_id, "p_now": now},
        )
    ).scalar_one()
    values = {"data": grown, "actor_id": actor_id, "actor_count": count, "updated_at": now}
    sync_loaded(session, Notification, group_id, values)
    if not may_reach(member_channel(recipient)):
        return  # the unread count stays as it was: only a socket would want the new line
    reader = (
        await run_prebuilt(session, "notifications.reader", _reader_query, {"p_member": recipient})
    ).one_or_none()
    row = await session.get(Notification, group_id)
    if reader is not None and row is not None:
        # The actor is the request's viewer: already in the session, so no query.
        actor = await session.get(Member, actor_id)
        with in_locale(reader):
            push_after_commit(
                session, recipient, reader.unread_notifications, _live_item(row, actor)
            )


def _like_group_query(_insert: Any) -> Any:
    return _in_unread_group(select(Notification.id, Notification.data))


def _like_group_add(_insert: Any) -> Any:
    table = cast(Table, Notification.__table__)
    return (
        update(table)
        .where(table.c.id == bindparam("p_id"))
        .values(
            data=bindparam("p_data", type_=table.c.data.type),
            actor_count=table.c.actor_count + 1,
            actor_id=bindparam("p_actor", type_=table.c.actor_id.type),
            updated_at=bindparam("p_now", type_=table.c.updated_at.type),
        )
        .returning(table.c.actor_count)
    )


def _reader_query(_insert: Any) -> Any:
    # What pushing to a member takes: their unread count, language and time zone (the whole
    # member row, loaded through the ORM, cost more than the rest of the grouping).
    members = Member.__table__
    return select(members.c.unread_notifications, members.c.locale, members.c.timezone).where(
        members.c.id == bindparam("p_member")
    )


def _grown(data: dict[str, Any] | None, actor_id: int) -> dict[str, Any] | None:
    """A group's data with ``actor_id`` named first; None if they are named already."""
    data = data or {}
    names = [int(i) for i in data.get("actor_ids", [])]
    if actor_id in names:
        return None
    return {**data, "actor_ids": [actor_id, *names][:GROUP_NAMES_KEPT]}


def _add_actor(row: Notification, actor_id: int) -> None:
    grown = _grown(row.data, actor_id)
    if grown is None:
        return
    row.data = grown
    row.actor_count += 1
    row.actor_id = actor_id
    row.updated_at = clock.now()


def _in_unread_group(query: Any) -> Any:
    """``query`` limited to the member's unread row of a group (parameters ``p_member`` and
    ``p_key``), locked for the change that follows."""
    return query.where(
        Notification.member_id == bindparam("p_member"),
        Notification.group_key == bindparam("p_key"),
        Notification.read_at.is_(None),
    ).with_for_update()


def _unread_group_query(_insert: Any) -> Any:
    return _in_unread_group(select(Notification))


async def _unread_group(
    session: AsyncSession, member_id: int, group_key: str
) -> Notification | None:
    query = prebuilt(session, "notifications.unread_group", _unread_group_query)
    params = {"p_member": member_id, "p_key": group_key}
    return (await session.execute(query, params)).scalar_one_or_none()


async def _ungroup_like(session: AsyncSession, activity: Activity) -> None:
    """An unlike takes the name back from the unread group (never from what was read)."""
    recipient, actor_id, post_id = activity.recipient_id, activity.actor_id, activity.subject_id
    if recipient is None or actor_id is None or post_id is None:
        return
    row = await _unread_group(session, recipient, f"like:{post_id}")
    if row is None:
        return
    names = [int(i) for i in row.data.get("actor_ids", [])]
    if actor_id not in names:
        return
    names.remove(actor_id)
    if row.actor_count <= 1:
        await session.delete(row)
        await session.flush()
        unread = await _bump_unread(session, recipient, -1)
        push_after_commit(session, recipient, unread)
        return
    row.actor_count -= 1
    row.data = {**row.data, "actor_ids": names}
    if names:
        row.actor_id = names[0]


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _ids(value: Any) -> list[int]:
    if not isinstance(value, list):
        return []
    return [item for item in value if _int(item) is not None]


async def _on_post(session: AsyncSession, activity: Activity) -> None:
    """One notification per person per post, the most specific kind winning:
    a direct reply, then a quote, then a mention, then a reply in my topic."""
    data = activity.data
    chosen: dict[int, str] = {}

    def offer(member_id: int | None, kind: str) -> None:
        if member_id is not None and member_id != activity.actor_id:
            chosen.setdefault(member_id, kind)

    offer(_int(data.get("reply_to_member_id")), kinds.REPLY)
    for member_id in _ids(data.get("quoted")):
        offer(member_id, kinds.QUOTE)
    for member_id in _ids(data.get("mentions")):
        offer(member_id, kinds.MENTION)
    offer(activity.recipient_id, kinds.REPLY)
    if not chosen or activity.subject_id is None:
        return
    await notify(
        session,
        [Target(member_id, kind) for member_id, kind in chosen.items()],
        actor_id=activity.actor_id,
        subject=("post", activity.subject_id),
        topic_id=_int(data.get("topic_id")),
        data={"question": activity.verb == verbs.ANSWER_CREATED},
    )


async def _on_accepted(session: AsyncSession, activity: Activity) -> None:
    if activity.recipient_id is None or activity.subject_id is None:
        return
    await notify(
        session,
        [Target(activity.recipient_id, kinds.ANSWER_ACCEPTED)],
        actor_id=activity.actor_id,
        subject=("post", activity.subject_id),
        topic_id=_int(activity.data.get("topic_id")),
    )


async def _on_rank(session: AsyncSession, activity: Activity) -> None:
    member_id = activity.recipient_id or activity.actor_id
    if member_id is None:
        return
    data = {
        key: str(activity.data.get(key, "")) for key in ("rank_id", "rank_name_en", "rank_name_ja")
    }
    # The member reached it themselves: there is no one else to name as the actor.
    await notify(
        session,
        [Target(member_id, kinds.RANK_REACHED)],
        actor_id=None,
        subject=("rank", _int(activity.data.get("rank_id")) or 0),
        data=data,
    )


async def _on_staff_notice(session: AsyncSession, activity: Activity) -> None:
    recipient_id = activity.recipient_id
    if recipient_id is None:
        return
    kind = kinds.WARNING if activity.verb == verbs.MEMBER_WARNED else kinds.FLAG_RESOLVED
    data = {
        key: str(activity.data[key])[:500]
        for key in ("reason", "outcome")
        if activity.data.get(key) is not None
    }
    # Link the post only if the member may still see it (a removed post's topic may be gone).
    topic_id = _int(activity.data.get("topic_id"))
    facts = await topic_facts(session, topic_id)
    recipient = await session.get(Member, recipient_id)
    visible = facts is not None and recipient is not None and can_see(recipient, facts)
    await notify(
        session,
        [Target(recipient_id, kind)],
        # Moderators act for the community: the notice does not name them.
        actor_id=None,
        subject=("post", activity.subject_id)
        if visible and activity.subject_type == "post" and activity.subject_id
        else None,
        topic_id=topic_id if visible else None,
        data=data,
    )


async def _on_campaign(session: AsyncSession, activity: Activity) -> None:
    """An opened campaign tells its whole audience; a selection tells the member chosen."""
    from app.campaigns.policy import audience_member_ids
    from app.models import Campaign

    campaign_id = _int(activity.data.get("campaign_id"))
    campaign = await session.get(Campaign, campaign_id) if campaign_id else None
    if campaign is None:
        return
    data: dict[str, Any] = {
        "campaign_title_en": campaign.title_en,
        "campaign_title_ja": campaign.title_ja,
    }
    if activity.verb in (verbs.CAMPAIGN_SELECTED, verbs.CAMPAIGN_NOT_SELECTED):
        if activity.actor_id is None:
            return
        recipients = [activity.actor_id]
        data["selected"] = activity.verb == verbs.CAMPAIGN_SELECTED
        data["not_selected"] = activity.verb == verbs.CAMPAIGN_NOT_SELECTED
    else:
        recipients = await audience_member_ids(session, campaign)
    await _notify_audience(
        session, recipients, kinds.CAMPAIGN, subject=("campaign", campaign.id), data=data
    )


async def _notify_audience(
    session: AsyncSession,
    member_ids: Sequence[int],
    kind: str,
    *,
    subject: tuple[str, int],
    data: dict[str, Any],
) -> None:
    # In slices, so one statement never carries more ids than a driver accepts.
    for start in range(0, len(member_ids), AUDIENCE_SLICE):
        await notify(
            session,
            [Target(member_id, kind) for member_id in member_ids[start : start + AUDIENCE_SLICE]],
            actor_id=None,
            subject=subject,
            data=data,
            limit=None,
        )


async def _on_survey(session: AsyncSession, activity: Activity) -> None:
    """A survey opened: tell everyone in its audience (who may then answer it)."""
    from app.analytics import nps
    from app.models import NpsSurvey

    survey_id = _int(activity.data.get("survey_id"))
    survey = await session.get(NpsSurvey, survey_id) if survey_id else None
    if survey is None or not nps.is_open(survey):
        return
    await _notify_audience(
        session,
        await nps.audience_member_ids(session, survey),
        kinds.SURVEY,
        subject=("survey", survey.id),
        data={"survey_title": survey.title},
    )


def _announce_surveys_after_commit(session: AsyncSession) -> None:
    """Besides the scheduler's tick (app.scheduler), the first visits of a day announce the
    surveys whose opening day has come (made ahead of time). Checked once per transaction,
    after it commits, in a transaction of its own; a read finds there is usually nothing to do."""
    pending = session.info.get("survey_announcement")
    if pending is not None and pending in session.info.get("after_commit", []):
        return

    async def announce() -> None:
        from app.analytics import nps
        from app.db import get_database

        try:
            database = get_database()
        except RuntimeError:
            return  # a command-line job without the app's database: a later visit announces
        # A read session, as a request's: no transaction for the one read.
        async with database.session(write=False) as reading:
            if not await nps.has_unannounced(reading):
                return
        async with database.transaction() as writing:
            await nps.announce_due(writing)

    after_commit(session, announce)
    session.info["survey_announcement"] = announce


async def _on_visit(session: AsyncSession, activity: Activity) -> None:
    _announce_surveys_after_commit(session)


async def _on_reward(session: AsyncSession, activity: Activity) -> None:
    """An operator decided a redemption: tell the member who redeemed it."""
    from app.models import Reward

    reward_id = _int(activity.data.get("reward_id"))
    reward = await session.get(Reward, reward_id) if reward_id else None
    if activity.recipient_id is None or reward is None or activity.subject_id is None:
        return
    data: dict[str, Any] = {
        "reward_name_en": reward.name_en,
        "reward_name_ja": reward.name_ja,
        "fulfilled": activity.verb == verbs.REWARD_FULFILLED,
    }
    note = str(activity.data.get("note") or "").strip()
    if note and activity.verb == verbs.REWARD_REFUSED:
        data["reason"] = note[:500]
    await notify(
        session,
        [Target(activity.recipient_id, kinds.REWARD)],
        # The brand decides, not a person the member should chase.
        actor_id=None,
        subject=("redemption", activity.subject_id),
        data=data,
    )


HANDLERS = {
    verbs.POST_CREATED: _on_post,
    verbs.ANSWER_CREATED: _on_post,
    verbs.LIKE_GIVEN: _group_like,
    verbs.LIKE_UNDONE: _ungroup_like,
    verbs.ANSWER_ACCEPTED: _on_accepted,
    verbs.RANK_REACHED: _on_rank,
    verbs.MEMBER_WARNED: _on_staff_notice,
    verbs.FLAG_RESOLVED: _on_staff_notice,
    verbs.CAMPAIGN_OPENED: _on_campaign,
    verbs.CAMPAIGN_SELECTED: _on_campaign,
    verbs.CAMPAIGN_NOT_SELECTED: _on_campaign,
    verbs.SURVEY_OPENED: _on_survey,
    verbs.REWARD_FULFILLED: _on_reward,
    verbs.REWARD_REFUSED: _on_reward,
    verbs.VISITED: _on_visit,
}


async def on_activity(session: AsyncSession, activity: Activity) -> None:
    handler = HANDLERS.get(activity.verb)
    if handler is not None:
        await handler(session, activity)


def install() -> None:
    subscribe(on_activity)


# --- reading -----------------------------------------------------------------------------------


async def mark_read(session: AsyncSession, member: Member, notification_id: int) -> Notification:
    notification = await session.get(Notification, notification_id)
    if notification is None or notification.member_id != member.id:
        raise NotFound()
    if notification.read_at is None:
        result = await session.execute(
            update(Notification)
            .where(Notification.id == notification_id, Notification.read_at.is_(None))
            .values(read_at=clock.now())
        )
        if getattr(result, "rowcount", 0):
            unread = await _bump_unread(session, member.id, -1)
            push_after_commit(session, member.id, unread)
    return notification


async def mark_all_read(session: AsyncSession, member: Member) -> int:
    result = await session.execute(
        update(Notification)
        .where(Notification.member_id == member.id, Notification.read_at.is_(None))
        .values(read_at=clock.now())
    )
    await session.execute(
        update(Member).where(Member.id == member.id).values(unread_notifications=0)
    )
    push_after_commit(session, member.id, 0)
    return int(getattr(result, "rowcount", 0) or 0)
