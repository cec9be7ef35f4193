"""Admins assign and remove the moderator, operator and admin roles. The community always
keeps at least one admin."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.policy import role_label
from app.kit.errors import Conflict, Invalid
from app.kit.i18n import gettext as _
from app.models import Member, Role
from app.moderation import audit, notices


async def set_role(
    session: AsyncSession, admin: Member, member: Member, role: str, reason: str = ""
) -> None:
    if role not in {item.value for item in Role}:
        raise Invalid(_("Choose one of the offered values."), field="role")
    if member.role == role:
        raise Conflict(_("This member already has that role."))
    if member.role == Role.admin:
        # Lock the admin rows (PostgreSQL; SQLite writers are serialised already) so two
        # admins cannot demote each other at the same moment and leave none.
        admins = (
            await session.execute(
                select(Member.id).where(Member.role == Role.admin).with_for_update()
            )
        ).all()
        if len(admins) <= 1:
            raise Conflict(
                _("The community needs at least one admin. Make someone else admin first."),
                field="role",
            )
    before = {"role": member.role}
    member.role = role
    await session.flush()
    await notices.tell(
        session,
        member.id,
        lambda: _("An admin changed your role to %(role)s.", role=role_label(role)),
        subject=("member", member.id),
    )
    await audit.log(
        session,
        actor=admin,
        action="member.role_changed",
        target=("member", member.id),
        reason=reason,
        before=before,
        after={"role": role},
        concerns=member.id,
    )
