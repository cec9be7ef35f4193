"""The ``kizuna`` command: serve, migrate, demo, create-admin, backup, restore, ..."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Sequence

from alembic import command
from alembic.config import Config

from app.config import get_settings
from app.kit.paths import MIGRATIONS_DIR
from app.wiring import install_listeners


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url or get_settings().resolved_database_url)
    return config


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = get_settings()
    settings.check_safe()
    uvicorn.run(
        "app.main:create_server_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
        log_level=settings.log_level,
        ws="websockets-sansio",
    )
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    config = alembic_config()
    if args.action == "upgrade":
        command.upgrade(config, args.revision or "head")
    elif args.action == "downgrade":
        if not args.revision:
            print("downgrade needs a revision, e.g. `kizuna migrate downgrade -1` or `base`")
            return 2
        command.downgrade(config, args.revision)
    elif args.action == "current":
        command.current(config, verbose=True)
    else:
        command.history(config)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from app.demo import seed_demo

    created = asyncio.run(seed_demo(only_if_empty=args.if_empty))
    if created is None:
        print("The database already has members; no demo data added.")
    return 0


def cmd_create_admin(args: argparse.Namespace) -> int:
    from app.demo import create_admin

    password = args.password
    if not password:
        password = getpass.getpass("Password (10+ characters): ")
    try:
        asyncio.run(create_admin(args.email, args.name, password))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Admin {args.email} is ready to sign in.")
    return 0


def cmd_points(args: argparse.Namespace) -> int:
    from app.points.cli import check

    return asyncio.run(check(rebuild=args.rebuild))


def cmd_analytics(args: argparse.Namespace) -> int:
    from app.analytics.cli import recompute

    return asyncio.run(recompute(rebuild_rollups=args.rebuild_rollups))


def cmd_bench_data(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from app.benchdata import Scale, run

    scale = Scale().scaled(args.scale)
    overrides = {
        name: getattr(args, name)
        for name in ("members", "topics", "posts", "likes", "activities", "nps", "seed")
        if getattr(args, name) is not None
    }
    try:
        summary = run(replace(scale, **overrides))
    except (RuntimeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for table, count in summary.counts.items():
        print(f"{table:>22}: {count:,}")
    for note in summary.skipped:
        print(f"skipped: {note}")
    print(f"deep topic: /t/{summary.deep_topic_id}  question: /t/{summary.question_topic_id}")
    print(f"questions not answered yet: {summary.unanswered:,}")
    print(f"finished in {summary.seconds:.0f} s")
    return 0


def cmd_notifications(args: argparse.Namespace) -> int:
    from app.db import Database, set_database
    from app.notifications.digest import send_digests

    async def run() -> int:
        database = Database(get_settings())
        set_database(database)  # mail is marked sent in its own transaction after delivery
        try:
            return await send_digests(database, args.period)
        finally:
            set_database(None)
            await database.dispose()

    sent = asyncio.run(run())
    print(f"{sent} {args.period} digest(s) sent")
    return 0


def cmd_webhooks(args: argparse.Namespace) -> int:
    from app.db import Database, set_database
    from app.integrations.webhooks import retry_due

    async def run() -> tuple[int, int]:
        database = Database(get_settings())
        set_database(database)
        try:
            return await retry_due(database)
        finally:
            set_database(None)
            await database.dispose()

    attempted, delivered = asyncio.run(run())
    print(f"{attempted} delivery attempt(s), {delivered} delivered")
    return 0


def cmd_tick(args: argparse.Namespace) -> int:
    from app.db import Database, set_database
    from app.scheduler import TickResult, tick

    async def run() -> TickResult:
        database = Database(get_settings())
        set_database(database)  # notices and mail of an opened campaign go after the commit
        try:
            return await tick(database)
        finally:
            set_database(None)
            await database.dispose()

    result = asyncio.run(run())
    print(
        f"{result.campaigns_moved} campaign(s) opened or closed, "
        f"{result.surveys_announced} survey(s) announced"
    )
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from pathlib import Path

    from app.maintenance.backup import BackupError, backup, describe

    try:
        manifest = backup(get_settings(), Path(args.path))
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Backup written to {args.path}: {describe(manifest)}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from pathlib import Path

    from app.maintenance.backup import BackupError, describe, restore

    try:
        manifest = restore(get_settings(), Path(args.path))
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Restored {describe(manifest)}")
    print("Run `kizuna migrate upgrade` before serving if this Kizuna is newer than the backup.")
    return 0


def cmd_uploads(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from app.maintenance.sweep import sweep

    removed = asyncio.run(sweep(get_settings(), grace=timedelta(minutes=args.grace_minutes)))
    print(f"{removed} orphaned upload file(s) removed")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kizuna", description="Run and manage a Kizuna community."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser(
        "serve", help="serve the web app", description="Serve the web app with uvicorn."
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser(
        "migrate",
        help="apply or undo database migrations",
        description="Apply or undo database migrations (alembic).",
    )
    migrate.add_argument("action", choices=["upgrade", "downgrade", "current", "history"])
    migrate.add_argument(
        "revision",
        nargs="?",
        help="target revision (upgrade: default head; downgrade: e.g. -1 or base)",
    )
    migrate.set_defaults(func=cmd_migrate)

    demo = sub.add_parser(
        "demo",
        help="seed a bilingual demo community",
        description="Seed a bilingual demo community and print its sign-in details.",
    )
    demo.add_argument(
        "--if-empty", action="store_true", help="do nothing when the database already has members"
    )
    demo.set_defaults(func=cmd_demo)

    admin = sub.add_parser(
        "create-admin",
        help="create an admin (or promote a member)",
        description="Create an admin account, or make an existing member an admin.",
    )
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", default="Admin", help="display name (default Admin)")
    admin.add_argument("--password", help="password; asked for when omitted")
    admin.set_defaults(func=cmd_create_admin)

    points = sub.add_parser(
        "points",
        help="check points totals against the ledger",
        description="Verify every cached points total (balances, ranks, leaderboard periods) "
        "against the ledger.",
    )
    points.add_argument("action", choices=["check"])
    points.add_argument(
        "--rebuild", action="store_true", help="rewrite the cached totals from the ledger"
    )
    points.set_defaults(func=cmd_points)

    analytics = sub.add_parser(
        "analytics",
        help="recompute engagement, RFM, deciles and ambassador detection",
        description="Recompute every member's analytics scores from the daily rollups "
        "(run it daily, e.g. from cron, so time-based criteria stay current).",
    )
    analytics.add_argument("action", choices=["recompute"])
    analytics.add_argument(
        "--rebuild-rollups",
        action="store_true",
        help="first rebuild the daily rollups from the whole activity log",
    )
    analytics.set_defaults(func=cmd_analytics)

    bench = sub.add_parser(
        "bench-data",
        help="fill an empty database with a large benchmark community",
        description="Fill an empty, migrated database with a realistic community for the "
        "benchmark (bench/run.py). Defaults are the full scale; --scale shrinks them all.",
    )
    bench.add_argument("--scale", type=float, default=1.0, help="multiply every default count")
    for name, default in (
        ("members", "100,000"),
        ("topics", "20,000"),
        ("posts", "1,000,000"),
        ("likes", "2,000,000"),
        ("activities", "5,000,000"),
        ("nps", "50,000"),
    ):
        bench.add_argument(f"--{name}", type=int, help=f"how many {name} (default {default})")
    bench.add_argument("--seed", type=int, help="random seed (default 9)")
    bench.set_defaults(func=cmd_bench_data)

    notifications = sub.add_parser(
        "notifications",
        help="send notification digests",
        description="Mail each member who chose a daily or weekly digest their unread "
        "notifications (run it from cron once a day, and once a week for weekly).",
    )
    notifications.add_argument("action", choices=["digest"])
    notifications.add_argument("--period", choices=["daily", "weekly"], default="daily")
    notifications.set_defaults(func=cmd_notifications)

    hooks = sub.add_parser(
        "webhooks",
        help="retry webhook deliveries that are due",
        description="Send every webhook delivery whose retry time has come (run it from cron; "
        "servers also retry on their own while they run).",
    )
    hooks.add_argument("action", choices=["retry"])
    hooks.set_defaults(func=cmd_webhooks)

    tick_parser = sub.add_parser(
        "tick",
        help="open and close scheduled campaigns, announce surveys whose day has come",
        description="Do once what every serving process does every KIZUNA_SCHEDULER_SECONDS: "
        "open scheduled campaigns whose start has come, close those past their end, and "
        "announce surveys made ahead of their opening day (for cron, or with no server running).",
    )
    tick_parser.set_defaults(func=cmd_tick)

    backup_parser = sub.add_parser(
        "backup",
        help="write a backup archive (database and uploads)",
        description="Write one archive with a consistent copy of the database (SQLite online "
        "backup, or pg_dump on PostgreSQL), the upload files and a manifest. Safe while the "
        "community is running.",
    )
    backup_parser.add_argument("path", help="where to write the archive, e.g. kizuna.tar.gz")
    backup_parser.set_defaults(func=cmd_backup)

    restore_parser = sub.add_parser(
        "restore",
        help="restore a backup archive into an empty instance",
        description="Restore an archive made by `kizuna backup` into the configured database, "
        "which must be empty (a fresh data directory or a new PostgreSQL database), and its "
        "upload directory; the restored row counts are checked against the manifest.",
    )
    restore_parser.add_argument("path", help="the archive to restore")
    restore_parser.set_defaults(func=cmd_restore)

    uploads_parser = sub.add_parser(
        "uploads",
        help="remove orphaned upload files",
        description="Delete upload files that have no database row (a crash between writing "
        "a file and committing its row can leave one).",
    )
    uploads_parser.add_argument("action", choices=["sweep"])
    uploads_parser.add_argument(
        "--grace-minutes",
        type=int,
        default=60,
        help="keep files younger than this, which may belong to requests in flight (default 60)",
    )
    uploads_parser.set_defaults(func=cmd_uploads)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    install_listeners()  # CLI-made activity pays points and reaches the rollups like the web's
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
