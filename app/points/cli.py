"""`kizuna points check [--rebuild]`: cached totals against the ledger."""

from __future__ import annotations

from app.config import get_settings
from app.db import Database

SHOWN = 50


async def check(*, rebuild: bool) -> int:
    """Print every mismatch; exit status 1 when some were found and not rebuilt."""
    from app.points import service

    database = Database(get_settings())
    try:
        async with database.transaction(write=rebuild) as session:
            mismatches = await service.check_totals(session, rebuild=rebuild)
    finally:
        await database.dispose()
    for mismatch in mismatches[:SHOWN]:
        print(mismatch)
    if len(mismatches) > SHOWN:
        print(f"... and {len(mismatches) - SHOWN} more")
    if not mismatches:
        print("Points are consistent: every cached total equals the ledger.")
        return 0
    if rebuild:
        print(f"Rebuilt the cached totals from the ledger ({len(mismatches)} differences fixed).")
        return 0
    print(f"{len(mismatches)} cached totals differ from the ledger. Run with --rebuild to fix.")
    return 1
