"""The full-text search index, which plain ``create_all`` cannot describe as a table.

SQLite: an FTS5 virtual table with the trigram tokenizer (works for Japanese, which has no
spaces between words; rowid = post id, the title is filled for opening posts only).
PostgreSQL: the ``pg_trgm`` extension, whose GIN indexes are declared on the models.
Both are created here for ``create_all`` (tests) and by migration 0003 for real databases.
"""

from __future__ import annotations

from sqlalchemy import DDL, event

from app.models.base import POSTGRESQL_ONLY_INDEXES, Base

SEARCH_TABLE = "search_index"
CREATE_SEARCH_TABLE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {SEARCH_TABLE} USING fts5(title, body, tokenize='trigram')"
)
DROP_SEARCH_TABLE = f"DROP TABLE IF EXISTS {SEARCH_TABLE}"
CREATE_TRGM = "CREATE EXTENSION IF NOT EXISTS pg_trgm"


def _ddl(statement: str, dialect: str) -> DDL:
    ddl = DDL(statement)  # type: ignore[no-untyped-call]
    return ddl.execute_if(dialect=dialect)


event.listen(Base.metadata, "before_create", _ddl(CREATE_TRGM, "postgresql"))
event.listen(Base.metadata, "after_create", _ddl(CREATE_SEARCH_TABLE, "sqlite"))
event.listen(Base.metadata, "before_drop", _ddl(DROP_SEARCH_TABLE, "sqlite"))


def include_in_comparison(
    object_: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """An alembic ``include_object`` hook: the FTS5 table (and the shadow tables SQLite keeps
    for it) and the PostgreSQL-only indexes (trigram, covering) are managed by hand, not by
    autogenerate."""
    if type_ == "table" and name is not None and name.startswith(SEARCH_TABLE):
        return False
    return not (type_ == "index" and name in POSTGRESQL_ONLY_INDEXES)
