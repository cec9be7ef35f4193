"""The audit log as CSV. Cells that a spreadsheet would run as a formula are neutralised."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession

from app.moderation import audit, queries

HEADER = [
    "id",
    "created_at",
    "actor_id",
    "actor",
    "action",
    "action_label",
    "target_type",
    "target_id",
    "concerns_member_id",
    "reason",
    "before",
    "after",
]
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def _line(values: list[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([safe_cell(value) for value in values])
    return buffer.getvalue()


async def audit_csv(session: AsyncSession, filters: queries.AuditFilter) -> AsyncIterator[str]:
    yield "\ufeff" + _line(list(HEADER))  # the BOM lets spreadsheet apps read UTF-8 (Japanese)
    async for row in queries.audit_batches(session, filters):
        entry = row.entry
        yield _line(
            [
                entry.id,
                entry.created_at.isoformat(),
                entry.actor_id,
                row.actor.handle if row.actor else "",
                entry.action,
                audit.action_label(entry.action),
                entry.target_type,
                entry.target_id,
                entry.subject_member_id,
                entry.reason,
                json.dumps(entry.before, ensure_ascii=False, sort_keys=True),
                json.dumps(entry.after, ensure_ascii=False, sort_keys=True),
            ]
        )
