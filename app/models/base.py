"""Declarative base: one naming convention so alembic names every constraint the same way."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, DateTime, Index, Integer, MetaData, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on PostgreSQL; INTEGER on SQLite so the column stays the rowid alias.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")
# What PostgreSQL's integer columns hold: Integer (counts, points, post numbers) and BigIntId.
INT32_RANGE = range(-(2**31), 2**31)
INT64_RANGE = range(-(2**63), 2**63)

# Table options for a table keyed by its composite primary key, on SQLite: the rows are
# stored in the primary key's own B-tree (``WITHOUT ROWID``, a clustered index) rather than
# in a rowid table beside a separate index of the key. An upsert of a counter row then finds
# and rewrites it in one B-tree instead of two, and a range of the key reads the rows' columns
# where it finds them: on the full benchmark community a like writes 5-7% fewer WAL frames
# and the database is 7% smaller, though the rate of likes did not move beyond the noise
# (bench/ANALYSIS.md, session 40). No effect on PostgreSQL.
CLUSTERED: dict[str, Any] = {"sqlite_with_rowid": False}

# Indexes that only PostgreSQL gets (:func:`postgresql_only`), by name: alembic's comparison
# leaves them to their migrations (app.models.search_index.include_in_comparison).
POSTGRESQL_ONLY_INDEXES: set[str] = set()


def postgresql_only(index: Index) -> Index:
    """``index`` created on PostgreSQL only: a trigram index, or a covering index that
    SQLite's clustered table (:data:`CLUSTERED`) already is."""
    POSTGRESQL_ONLY_INDEXES.add(str(index.name))
    return index.ddl_if(dialect="postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the offset otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


class IdMixin:
    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
