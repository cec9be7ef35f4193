"""`python -m tests.faults.seed ROLE:EMAIL ...`: prepare a fresh instance for a fault test.

Runs in the instance's own process environment (KIZUNA_DATABASE_URL, KIZUNA_DATA_DIR): creates
the schema from the models, stamps it with the migration heads (so a backup's manifest names a
revision), and creates verified accounts with the given roles and the shared test password.
"""

from __future__ import annotations

import asyncio
import sys

from alembic import command

from app.accounts import service as accounts
from app.accounts.schemas import SignUpIn
from app.cli import alembic_config
from app.config import get_settings
from app.db import Database
from app.models import Base, Role

PASSWORD = "fault drill passphrase"


async def _seed(accounts_wanted: list[tuple[str, str]]) -> None:
    database = Database(get_settings())
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        for number, (role, email) in enumerate(accounts_wanted, start=1):
            async with database.transaction() as session:
                await accounts.create_member(
                    session,
                    SignUpIn(email=email, display_name=f"Drill {role} {number}", password=PASSWORD),
                    role=Role(role),
                    verified=True,
                    locale="en",
                )
    finally:
        await database.dispose()


def main(argv: list[str]) -> None:
    wanted = [tuple(item.split(":", 1)) for item in argv]
    asyncio.run(_seed([(role, email) for role, email in wanted]))
    command.stamp(alembic_config(), "heads")


if __name__ == "__main__":
    main(sys.argv[1:])
