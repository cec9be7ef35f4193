"""`kizuna backup PATH` and `kizuna restore PATH`: the database and the uploads in one archive.

An archive is a gzip'd tar with three kinds of member:

- ``manifest.json``: format and version, the database kind, the alembic revision, when it was
  taken, the row count of every table and the number of upload files;
- ``database.sqlite3`` (SQLite, made with SQLite's online backup API) or ``database.pgdump``
  (PostgreSQL, ``pg_dump -Fc``);
- ``uploads/<xx>/<name>``: the upload files whose rows are in that database copy.

Both kinds take a consistent snapshot while the community keeps writing: SQLite's backup API
copies the database inside one read transaction (WAL readers never block the writer), and on
PostgreSQL the counts, the list of upload files and ``pg_dump`` all read one exported snapshot.
The manifest's counts are taken from that same snapshot, so a restore can prove it is complete.

A restore goes only into an empty database (a fresh data directory, or a freshly created
PostgreSQL database): it never merges into or overwrites a community's live data.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from app import __version__
from app.config import Settings
from app.db import create_engine_unpooled
from app.kit import clock
from app.models import Base
from app.uploads.service import is_storage_name

FORMAT = "kizuna-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
POSTGRES_MEMBER = "database.pgdump"
UPLOADS = "uploads"
COPY_CHUNK = 1024 * 1024


class BackupError(RuntimeError):
    """A backup or restore that cannot go ahead; the message tells the operator why."""


@dataclass
class Manifest:
    database: str
    alembic_revision: str
    created_at: str
    counts: dict[str, int]
    upload_files: int
    missing_upload_files: list[str] = field(default_factory=list)
    app_version: str = __version__
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        try:
            data = json.loads(raw)
            manifest = cls(
                database=str(data["database"]),
                alembic_revision=str(data["alembic_revision"]),
                created_at=str(data["created_at"]),
                counts={str(k): int(v) for k, v in data["counts"].items()},
                upload_files=int(data["upload_files"]),
                missing_upload_files=[str(n) for n in data.get("missing_upload_files", [])],
                app_version=str(data.get("app_version", "")),
                format=str(data["format"]),
                format_version=int(data["format_version"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BackupError(f"the archive's manifest is not readable: {exc}") from exc
        if manifest.format != FORMAT:
            raise BackupError("this file is not a Kizuna backup")
        if manifest.format_version > FORMAT_VERSION:
            raise BackupError(
                f"this backup has format version {manifest.format_version}; this Kizuna reads "
                f"up to version {FORMAT_VERSION}: restore it with a newer Kizuna"
            )
        if manifest.database not in ("sqlite", "postgresql"):
            raise BackupError(f"unknown database kind {manifest.database!r} in the manifest")
        return manifest


@dataclass
class Snapshot:
    revision: str
    counts: dict[str, int]
    upload_names: list[str]


# --- shared ------------------------------------------------------------------------------


def _known_tables(existing: Iterable[str]) -> list[str]:
    """The application's tables present in the copy (not FTS shadow tables or extensions)."""
    present = set(existing)
    return [table.name for table in Base.metadata.sorted_tables if table.name in present]


def _upload_path(upload_dir: Path, name: str) -> Path:
    return upload_dir / name[:2] / name


def _upload_member(name: str) -> str:
    return f"{UPLOADS}/{name[:2]}/{name}"


def _kind(settings: Settings) -> str:
    return "sqlite" if settings.is_sqlite else "postgresql"


def _sqlite_path(settings: Settings) -> Path:
    database = make_url(settings.resolved_database_url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError("backup and restore need a SQLite database file")
    return Path(database)


def _libpq(settings: Settings) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password (it goes in PGPASSWORD, not on a command line)."""
    url: URL = make_url(settings.resolved_database_url)
    plain = URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
    )
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return found


# --- backup ------------------------------------------------------------------------------


def backup(settings: Settings, target: Path) -> Manifest:
    """Write a backup archive of the configured database and its uploads to ``target``."""
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kizuna-backup-", dir=target.parent) as work:
        workdir = Path(work)
        if settings.is_sqlite:
            member = SQLITE_MEMBER
            snapshot = _snapshot_sqlite(_sqlite_path(settings), workdir / member)
        else:
            member = POSTGRES_MEMBER
            snapshot = asyncio.run(_snapshot_postgres(settings, workdir / member))
        # Files are written before their rows commit and deleted after, so every row in the
        # snapshot has its file unless the upload was removed since: those are listed.
        upload_dir = settings.upload_dir
        present = [n for n in snapshot.upload_names if _upload_path(upload_dir, n).is_file()]
        missing = sorted(set(snapshot.upload_names) - set(present))
        manifest = Manifest(
            database=_kind(settings),
            alembic_revision=snapshot.revision,
            created_at=clock.now().isoformat(),
            counts=snapshot.counts,
            upload_files=len(present),
            missing_upload_files=missing,
        )
        partial = workdir / "archive.tar.gz"
        with tarfile.open(partial, "w:gz", compresslevel=6) as archive:
            _add_bytes(archive, MANIFEST, manifest.to_json())
            archive.add(workdir / member, arcname=member, recursive=False)
            for name in present:
                try:
                    archive.add(
                        _upload_path(upload_dir, name),
                        arcname=_upload_member(name),
                        recursive=False,
                    )
                except FileNotFoundError:
                    manifest.missing_upload_files.append(name)
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, target)
    return manifest


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(clock.now().timestamp())
    info.mode = 0o644
    archive.addfile(info, io.BytesIO(data))


def _snapshot_sqlite(database: Path, copy: Path) -> Snapshot:
    if not database.is_file():
        raise BackupError(f"there is no database at {database}")
    source = sqlite3.connect(database, timeout=30)
    try:
        destination = sqlite3.connect(copy)
        try:
            # pages=-1: the whole database in one step, i.e. inside one read transaction, so
            # the copy is one consistent moment even while the server keeps committing.
            source.backup(destination, pages=-1)
            destination.execute("PRAGMA journal_mode=DELETE")
            snapshot = _inspect_sqlite(destination)
        finally:
            destination.close()
    finally:
        source.close()
    return snapshot


def _inspect_sqlite(connection: sqlite3.Connection) -> Snapshot:
    existing = [
        row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
    ]
    tables = _known_tables(existing)
    counts = {
        name: int(connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])
        for name in tables
    }
    revision = ""
    if "alembic_version" in existing:
        revision = ",".join(
            sorted(row[0] for row in connection.execute("SELECT version_num FROM alembic_version"))
        )
    names: list[str] = []
    if "uploads" in existing:
        names = [row[0] for row in connection.execute("SELECT storage_name FROM uploads")]
    return Snapshot(revision, counts, [n for n in names if is_storage_name(n)])


async def _inspect_postgres(connection: AsyncConnection) -> Snapshot:
    existing = (
        await connection.execute(
            text(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
            )
        )
    ).scalars()
    present = set(existing)
    tables = _known_tables(present)
    counts: dict[str, int] = {}
    for name in tables:
        counts[name] = int(
            (await connection.execute(text(f'SELECT count(*) FROM "{name}"'))).scalar_one()
        )
    revision = ""
    if "alembic_version" in present:
        rows = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars()
        revision = ",".join(sorted(rows))
    names: list[str] = []
    if "uploads" in present:
        names = list((await connection.execute(text("SELECT storage_name FROM uploads"))).scalars())
    return Snapshot(revision, counts, [n for n in names if is_storage_name(n)])


async def _snapshot_postgres(settings: Settings, dump: Path) -> Snapshot:
    pg_dump = _tool("pg_dump")
    dsn, env = _libpq(settings)
    engine = create_engine_unpooled(settings.resolved_database_url)
    try:
        async with engine.connect() as plain:
            connection = await plain.execution_options(isolation_level="REPEATABLE READ")
            async with connection.begin():
                # pg_dump reads the very snapshot the counts and the upload list came from.
                exported = (
                    await connection.execute(text("SELECT pg_export_snapshot()"))
                ).scalar_one()
                snapshot = await _inspect_postgres(connection)
                process = await asyncio.create_subprocess_exec(
                    pg_dump,
                    "--format=custom",
                    f"--snapshot={exported}",
                    f"--file={dump}",
                    f"--dbname={dsn}",
                    env=env,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.PIPE,
                )
                _out, errors = await process.communicate()
                if process.returncode != 0:
                    raise BackupError(f"pg_dump failed: {errors.decode(errors='replace').strip()}")
    finally:
        await engine.dispose()
    return snapshot


# --- restore -----------------------------------------------------------------------------


def read_manifest(source: Path) -> Manifest:
    with tarfile.open(source, "r:*") as archive:
        return _manifest_of(archive)


def _manifest_of(archive: tarfile.TarFile) -> Manifest:
    try:
        member = archive.getmember(MANIFEST)
    except KeyError as exc:
        raise BackupError("this file is not a Kizuna backup (it has no manifest.json)") from exc
    handle = archive.extractfile(member)
    if handle is None:
        raise BackupError("the archive's manifest is not a file")
    return Manifest.from_json(handle.read())


def restore(settings: Settings, source: Path) -> Manifest:
    """Restore ``source`` into the configured (empty) database and upload directory."""
    if not source.is_file():
        raise BackupError(f"there is no backup at {source}")
    try:
        archive = tarfile.open(source, "r:*")  # noqa: SIM115  (closed by the with below)
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"{source} is not a readable backup archive: {exc}") from exc
    with archive:
        manifest = _manifest_of(archive)
        if manifest.database != _kind(settings):
            raise BackupError(
                f"this is a {manifest.database} backup but the configured database is "
                f"{_kind(settings)}: configure a {manifest.database} database to restore it"
            )
        member_name = SQLITE_MEMBER if manifest.database == "sqlite" else POSTGRES_MEMBER
        uploads: list[tuple[tarfile.TarInfo, str]] = []
        database_member: tarfile.TarInfo | None = None
        for member in archive.getmembers():
            if member.name == MANIFEST:
                continue
            if member.name == member_name and member.isfile():
                database_member = member
                continue
            # Only names this format writes; anything else (links, "..", absolute paths,
            # devices) is refused rather than extracted.
            parts = member.name.split("/")
            if (
                member.isfile()
                and len(parts) == 3
                and parts[0] == UPLOADS
                and is_storage_name(parts[2])
                and parts[1] == parts[2][:2]
            ):
                uploads.append((member, parts[2]))
                continue
            raise BackupError(f"unexpected entry {member.name!r} in the archive")
        if database_member is None:
            raise BackupError(f"the archive has no {member_name}")
        if len(uploads) != manifest.upload_files:
            raise BackupError(
                f"the archive holds {len(uploads)} upload files; its manifest says "
                f"{manifest.upload_files}: the file is damaged"
            )
        if manifest.database == "sqlite":
            _require_empty_sqlite(settings)
        else:
            asyncio.run(_require_empty_postgres(settings))
        # Files first: a database whose files are missing is worse than files without rows
        # (which `kizuna uploads sweep` removes) if the database step then fails.
        upload_dir = settings.upload_dir
        for member, name in uploads:
            _extract(archive, member, _upload_path(upload_dir, name))
        if manifest.database == "sqlite":
            _restore_sqlite(settings, archive, database_member, manifest)
        else:
            asyncio.run(_restore_postgres(settings, archive, database_member, manifest))
    return manifest


def _extract(archive: tarfile.TarFile, member: tarfile.TarInfo, path: Path) -> None:
    handle = archive.extractfile(member)
    if handle is None:
        raise BackupError(f"cannot read {member.name} from the archive")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".restore-{path.name}")
    with temporary.open("wb") as out:
        shutil.copyfileobj(handle, out, COPY_CHUNK)
        out.flush()
        os.fsync(out.fileno())
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)


def _check_counts(manifest: Manifest, restored: Snapshot) -> None:
    if restored.revision != manifest.alembic_revision:
        raise BackupError(
            f"the restored database is at revision {restored.revision!r}, "
            f"the manifest says {manifest.alembic_revision!r}"
        )
    differences = [
        f"{table}: {restored.counts.get(table)} rows, manifest {count}"
        for table, count in manifest.counts.items()
        if restored.counts.get(table) != count
    ]
    if differences:
        raise BackupError(
            "the restored database differs from the manifest: " + "; ".join(differences)
        )


def _require_empty_sqlite(settings: Settings) -> None:
    database = _sqlite_path(settings)
    if database.exists() and database.stat().st_size > 0:
        connection = sqlite3.connect(database)
        try:
            tables = connection.execute(
                "SELECT count(*) FROM sqlite_master WHERE type='table'"
            ).fetchone()[0]
        finally:
            connection.close()
        if tables:
            raise BackupError(
                f"{database} already holds a database; restore into a fresh data directory "
                "(KIZUNA_DATA_DIR) or move that file away first"
            )


def _restore_sqlite(
    settings: Settings, archive: tarfile.TarFile, member: tarfile.TarInfo, manifest: Manifest
) -> None:
    database = _sqlite_path(settings)
    database.parent.mkdir(parents=True, exist_ok=True)
    incoming = database.with_name(f".restore-{database.name}")
    _extract(archive, member, incoming)
    try:
        connection = sqlite3.connect(incoming)
        try:
            verdict = connection.execute("PRAGMA integrity_check").fetchone()[0]
            if verdict != "ok":
                raise BackupError(f"the database in the archive is damaged: {verdict}")
            _check_counts(manifest, _inspect_sqlite(connection))
        finally:
            connection.close()
        for suffix in ("-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        os.replace(incoming, database)
    finally:
        incoming.unlink(missing_ok=True)


async def _require_empty_postgres(settings: Settings) -> None:
    engine = create_engine_unpooled(settings.resolved_database_url)
    try:
        async with engine.connect() as connection:
            tables = (
                await connection.execute(
                    text(
                        "SELECT count(*) FROM information_schema.tables "
                        "WHERE table_schema = 'public'"
                    )
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    if tables:
        raise BackupError(
            "the configured PostgreSQL database is not empty; create a new database "
            "(createdb NAME), point KIZUNA_DATABASE_URL at it and restore again"
        )


async def _restore_postgres(
    settings: Settings, archive: tarfile.TarFile, member: tarfile.TarInfo, manifest: Manifest
) -> None:
    pg_restore = _tool("pg_restore")
    dsn, env = _libpq(settings)
    with tempfile.TemporaryDirectory(prefix="kizuna-restore-") as work:
        dump = Path(work) / POSTGRES_MEMBER
        _extract(archive, member, dump)
        process = await asyncio.create_subprocess_exec(
            pg_restore,
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={dsn}",
            str(dump),
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _out, errors = await process.communicate()
        if process.returncode != 0:
            raise BackupError(f"pg_restore failed: {errors.decode(errors='replace').strip()}")
    engine = create_engine_unpooled(settings.resolved_database_url)
    try:
        async with engine.connect() as connection:
            _check_counts(manifest, await _inspect_postgres(connection))
    finally:
        await engine.dispose()


def describe(manifest: Manifest) -> str:
    rows = sum(manifest.counts.values())
    members = manifest.counts.get("members", 0)
    text = (
        f"{manifest.database} database at revision {manifest.alembic_revision or '(none)'}, "
        f"{rows:,} rows in {len(manifest.counts)} tables ({members:,} members), "
        f"{manifest.upload_files:,} upload files, taken {manifest.created_at}"
    )
    if manifest.missing_upload_files:
        text += (
            f"; {len(manifest.missing_upload_files)} upload files were removed while the "
            "backup ran and are not in it"
        )
    return text
