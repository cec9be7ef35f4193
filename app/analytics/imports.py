"""Member import from CSV, validated row by row.

Columns: ``email`` and ``name`` (required), ``external_id``, ``purchase_count``,
``purchase_total`` (optional); any other column becomes a free-form attribute. A row matches an
existing member by external id first, then by email, and updates it; otherwise a member is
created, unverified and without a usable password, so nobody can sign in as them until the
owner of the address claims the account. Each rejected line is reported with its reason; the
accepted ones are kept.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import EmailStr, TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import policy as account_policy
from app.accounts import service as accounts
from app.activity import verbs
from app.activity.service import record
from app.kit import clock
from app.kit.errors import Invalid
from app.kit.i18n import gettext as _
from app.kit.security import new_token
from app.models import Member, MemberExternal, Role

MAX_ROWS = 5000
MAX_ATTRIBUTES = 30
KNOWN_COLUMNS = ("email", "name", "external_id", "purchase_count", "purchase_total")
# Never a valid hash for any scheme: verification fails until the owner sets a password.
UNUSABLE_PASSWORD_PREFIX = "!imported:"
_EMAIL = TypeAdapter(EmailStr)
_ATTRIBUTE_NAME = re.compile(r"^[\w .-]{1,40}$")


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


class RowError(Exception):
    pass


@dataclass
class Row:
    email: str
    name: str
    external_id: str | None
    purchase_count: int | None
    purchase_total_minor: int | None
    attributes: dict[str, str]


def _parse_row(values: dict[str, str], extra_columns: list[str]) -> Row:
    try:
        email = str(_EMAIL.validate_python(values.get("email", "").strip())).lower()
    except ValidationError as exc:
        raise RowError(_("Enter a valid email address.")) from exc
    try:
        name = account_policy.check_single_line(values.get("name", ""), max_length=60)
    except ValueError as exc:
        raise RowError(_("name: %(problem)s", problem=str(exc))) from exc
    if not name:
        raise RowError(_("name: %(problem)s", problem=_("This field is required.")))
    external_id = values.get("external_id", "").strip() or None
    if external_id is not None and len(external_id) > 100:
        raise RowError(
            _("external_id: %(problem)s", problem=_("Must be at most %(max)s characters.", max=100))
        )
    count_text = values.get("purchase_count", "").strip()
    purchase_count = None
    if count_text:
        if not count_text.isdigit() or len(count_text) > 9:
            raise RowError(_("purchase_count: enter a whole number of 0 or more."))
        purchase_count = int(count_text)
    total_text = values.get("purchase_total", "").strip().replace(",", "")
    purchase_total = None
    if total_text:
        try:
            amount = Decimal(total_text)
        except InvalidOperation as exc:
            raise RowError(_("purchase_total: enter an amount such as 1200 or 19.99.")) from exc
        if not amount.is_finite() or amount < 0 or amount > Decimal("1e12"):
            raise RowError(_("purchase_total: enter an amount such as 1200 or 19.99."))
        if amount != amount.quantize(Decimal("0.01")):
            raise RowError(_("purchase_total: use at most two decimal places."))
        purchase_total = int(amount * 100)
    attributes: dict[str, str] = {}
    for column in extra_columns:
        value = values.get(column, "").strip()
        if value:
            if len(value) > 200:
                raise RowError(
                    _(
                        "%(column)s: %(problem)s",
                        column=column,
                        problem=_("Must be at most %(max)s characters.", max=200),
                    )
                )
            attributes[column] = value
    return Row(email, name, external_id, purchase_count, purchase_total, attributes)


def _read(text: str) -> tuple[csv.DictReader[str], list[str]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames:
        raise Invalid(_("The file is empty."), field="file")
    header = [name.strip().lower() for name in reader.fieldnames]
    reader.fieldnames = header
    missing = [column for column in ("email", "name") if column not in header]
    if missing:
        raise Invalid(
            _(
                "The first line must name the columns; missing: %(columns)s",
                columns=", ".join(missing),
            ),
            field="file",
        )
    extra = [name for name in header if name and name not in KNOWN_COLUMNS]
    if len(extra) > MAX_ATTRIBUTES:
        raise Invalid(
            _("Too many columns (at most %(max)s attributes).", max=MAX_ATTRIBUTES), field="file"
        )
    bad = [name for name in extra if not _ATTRIBUTE_NAME.match(name)]
    if bad:
        raise Invalid(
            _(
                "Column names may use letters, digits, spaces, dots, dashes and "
                "underscores (up to 40): %(columns)s",
                columns=", ".join(bad),
            ),
            field="file",
        )
    if len(set(header)) != len(header):
        raise Invalid(_("A column name appears twice."), field="file")
    return reader, extra


async def _apply(session: AsyncSession, operator: Member, row: Row) -> bool:
    """Create or update one member; True when created."""
    by_external = None
    if row.external_id is not None:
        by_external = (
            await session.execute(
                select(MemberExternal).where(MemberExternal.external_id == row.external_id)
            )
        ).scalar_one_or_none()
    by_email = await accounts.find_by_email(session, row.email)
    member: Member | None = by_email
    if by_external is not None:
        if by_email is not None and by_email.id != by_external.member_id:
            raise RowError(_("external_id belongs to another member than this email."))
        member = await session.get(Member, by_external.member_id)
    created = member is None
    if member is None:
        member = Member(
            email=row.email,
            handle=await accounts.unique_handle(session, row.name, row.email),
            display_name=row.name,
            password_hash=UNUSABLE_PASSWORD_PREFIX + new_token(16),
            role=Role.member.value,
            created_at=clock.now(),
        )
        session.add(member)
        await session.flush()
    elif member.email_verified_at is None:
        # Until the owner claims the account, the brand's data decides its name and email.
        member.display_name = row.name
        member.email = row.email
    external = await session.get(MemberExternal, member.id)
    if external is None:
        external = MemberExternal(member_id=member.id, attributes={})
        session.add(external)
    if row.external_id is not None:
        external.external_id = row.external_id
    if row.purchase_count is not None:
        external.purchase_count = row.purchase_count
    if row.purchase_total_minor is not None:
        external.purchase_total_minor = row.purchase_total_minor
    attributes: dict[str, Any] = dict(external.attributes or {})
    attributes.update(row.attributes)
    external.attributes = attributes
    external.updated_at = clock.now()
    await session.flush()
    if created:
        await record(
            session,
            verbs.MEMBER_IMPORTED,
            actor_id=operator.id,
            subject=("member", member.id),
            data={"external_id": row.external_id},
        )
    return created


async def import_members(session: AsyncSession, operator: Member, text: str) -> ImportReport:
    reader, extra = _read(text)
    report = ImportReport()
    seen_emails: set[str] = set()
    seen_ids: set[str] = set()
    for number, values in enumerate(reader, start=2):
        if number - 1 > MAX_ROWS:
            report.rejected.append(
                (number, _("Only %(max)s rows are read per file.", max=MAX_ROWS))
            )
            break
        line = reader.line_num
        clean = {key: (value or "") for key, value in values.items() if isinstance(key, str)}
        if None in values:
            report.rejected.append((line, _("This line has more cells than the header.")))
            continue
        try:
            row = _parse_row(clean, extra)
            if row.email in seen_emails or (row.external_id and row.external_id in seen_ids):
                raise RowError(_("This member already appears on an earlier line."))
            async with session.begin_nested():
                created = await _apply(session, operator, row)
        except RowError as exc:
            report.rejected.append((line, str(exc)))
            continue
        seen_emails.add(row.email)
        if row.external_id:
            seen_ids.add(row.external_id)
        if created:
            report.created += 1
        else:
            report.updated += 1
    return report
