"""``kizuna bench-data``: fill an empty database with a realistic community at scale.

The numbers default to the performance issue's full scale (100k members, 20k topics, 1M posts,
2M likes, 5M activities, 50k NPS answers). Everything is generated in memory and written with
the bulk paths (``COPY`` on PostgreSQL, ``executemany`` in large transactions on SQLite), with
the big tables' secondary indexes dropped during the load and rebuilt after it.

The data is what the app itself would have written for the same history: activities in time
order with their ledger rows (rules, daily caps and rank-ups as configured in the database),
cached point balances, period totals, counters on topics and categories, topic views, and the
SQLite search index. Activity is skewed like a real community: a few very active members
(Zipf-like weights) and a long tail that mostly reads.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import random
import sqlite3
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table
from sqlalchemy.engine import make_url

from app.analytics.metrics import nps_category
from app.analytics.rollups import TOUCHED_BY_ACTOR
from app.config import Settings, get_settings
from app.models import Base
from app.notifications import kinds as notification_kinds
from app.notifications.service import GROUP_NAMES_KEPT
from app.uploads.images import AVATAR_SIZE

Row = tuple[Any, ...]
Progress = Callable[[str], None]
# Members whose id leaves one of these remainders by 5 have an avatar: two in five.
AVATAR_RESIDUES = (1, 3)

# Tables whose secondary indexes are dropped while loading and rebuilt afterwards.
BIG_TABLES = (
    "members",
    "topics",
    "posts",
    "post_likes",
    "activities",
    "point_ledger",
    "point_period_totals",
    "topic_views",
    "analytics_member_daily",
    "analytics_touches",
    "nps_responses",
    "notifications",
)
NOTIFICATION_COLUMNS = (
    "id",
    "member_id",
    "kind",
    "actor_id",
    "actor_count",
    "subject_type",
    "subject_id",
    "topic_id",
    "group_key",
    "data",
    "created_at",
    "updated_at",
    "read_at",
    "emailed_at",
    "digested_at",
)
SPAN_DAYS = 730
# The questions with no reply yet: this share of the last week's, this share of older ones.
UNANSWERED_RECENT_DAYS = 7
UNANSWERED_RECENT = 0.4
UNANSWERED_OLDER = 0.03
ALL_TIME = date(1970, 1, 1)  # the "all" period's start, as app.points keeps it
BENCH_EMAIL_DOMAIN = "bench.kizuna.test"


@dataclass(frozen=True)
class Scale:
    members: int = 100_000
    topics: int = 20_000
    posts: int = 1_000_000
    likes: int = 2_000_000
    activities: int = 5_000_000
    nps: int = 50_000
    seed: int = 9

    def scaled(self, factor: float) -> Scale:
        def part(value: int, floor: int) -> int:
            return max(floor, round(value * factor))

        return Scale(
            members=part(self.members, 20),
            topics=part(self.topics, 8),
            posts=part(self.posts, 40),
            likes=part(self.likes, 40),
            activities=part(self.activities, 200),
            nps=part(self.nps, 0),
            seed=self.seed,
        )


@dataclass
class Summary:
    """What was written, for the command's last lines and the harness's report."""

    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    deep_topic_id: int = 0
    question_topic_id: int = 0
    unanswered: int = 0
    skipped: list[str] = field(default_factory=list)


# --- text ---------------------------------------------------------------------------------

EN_SENTENCES = (
    "I picked up the new limited edition at the weekend and the colour is even better in person.",
    "Does anyone know whether the spring collection will be sold in stores or only online?",
    "The community event in Osaka was great fun, thank you to everyone who came.",
    "My first order arrived in two days and the packaging was lovely.",
    "I have been a fan for ten years and this is my favourite release so far.",
    "The battery lasts about a week with daily use, which is more than I expected.",
    "Customer support answered my question within an hour, very helpful.",
    "Here is a photo of my setup after the firmware update.",
    "I would love a darker colour option for the next model.",
    "Has anyone tried pairing it with the older accessories? Mine works fine.",
    "The members-only campaign last month was a nice surprise.",
    "Tip: clean the lens with a soft cloth and it stays clear for months.",
    "I recommended it to three friends and all of them bought one.",
    "The new app update fixed the sync problem for me.",
    "What size do you use? I am between medium and large.",
    "The review event gave me a chance to talk with the product team directly.",
    "Shipping to Hokkaido took a little longer but everything arrived safely.",
    "I keep coming back to this forum because people here are so kind.",
    "The seasonal flavour sold out in my area within a day.",
    "Thanks for the detailed answer, that solved my problem.",
    "I think the price is fair for the quality you get.",
    "Is there a way to transfer points to a family member?",
    "The coffee blend tastes best with slightly cooler water.",
    "I reached the Supporter rank today, thank you all for the likes!",
    "Please add an English manual to the download page.",
    "The repair service replaced the strap for free.",
    "My kids love the character goods from the anniversary series.",
    "I tested the waterproofing in heavy rain and it held up.",
    "Looking forward to the next product feedback session.",
    "Could the team share the roadmap for the accessories?",
)
JA_SENTENCES = (
    "週末に新商品の限定カラーを買いました。実物のほうがずっときれいです。",
    "春の新作は店舗でも販売されますか、それともオンラインだけでしょうか。",
    "大阪のコミュニティイベント、とても楽しかったです。参加された皆さんありがとうございました。",
    "初めての注文が二日で届きました。梱包も丁寧でうれしかったです。",
    "十年来のファンですが、今回の新商品がいちばん好きです。",
    "毎日使ってもバッテリーが一週間ほど持つので驚きました。",
    "サポートに問い合わせたら一時間ほどで回答があり、とても助かりました。",
    "アップデート後の使い方を写真で紹介します。",
    "次のモデルではもう少し暗い色も出してほしいです。",
    "古いアクセサリーと組み合わせて使っている方はいますか？私は問題なく使えています。",
    "先月の会員限定キャンペーンはうれしいサプライズでした。",
    "レンズは柔らかい布で拭くと何か月もきれいなままです。",
    "友人三人にすすめたところ、全員が購入しました。",
    "アプリの新しいバージョンで同期の不具合が直りました。",
    "サイズはどれを使っていますか？MとLで迷っています。",
    "座談会で商品開発チームの方と直接お話しできたのが貴重な体験でした。",
    "北海道への配送は少し時間がかかりましたが、無事に届きました。",
    "このコミュニティの皆さんが優しいので、つい毎日見に来てしまいます。",
    "季節限定の味は、私の地域では一日で売り切れました。",
    "詳しい回答ありがとうございます。おかげで解決しました。",
    "品質を考えると価格は妥当だと思います。",
    "ポイントを家族に移すことはできますか？",
    "このブレンドは少しぬるめのお湯で淹れるとおいしいです。",
    "今日サポーターランクになりました。いいねをくださった皆さんに感謝です！",
    "ダウンロードページに英語のマニュアルも置いてほしいです。",
    "修理サービスでストラップを無料で交換してもらえました。",
    "周年記念シリーズのキャラクターグッズを子どもたちが気に入っています。",
    "大雨の中で防水性能を試しましたが、まったく問題ありませんでした。",
    "次の新商品イベントも楽しみにしています。",
    "アクセサリーの今後の予定を教えていただけますか。",
)
EN_TITLES = (
    "First impressions of the limited edition",
    "Where can I buy the spring collection?",
    "Photos from the community event",
    "Battery life after a month",
    "Favourite release so far",
    "Tips for cleaning and care",
    "Firmware update: what changed",
    "Sizing advice",
    "Feedback on the members-only campaign",
    "Pairing with older accessories",
    "Shipping times this season",
    "Ideas for the next model",
    "How do points and ranks work?",
    "Seasonal flavour review",
    "Repair service experience",
)
JA_TITLES = (
    "限定カラーの第一印象",
    "春の新作はどこで買えますか？",
    "コミュニティイベントの写真",
    "一か月使ったバッテリーの持ち",
    "いちばん好きな新商品",
    "お手入れのコツ",
    "アップデートで変わったこと",
    "サイズの選び方",
    "会員限定キャンペーンの感想",
    "古いアクセサリーとの組み合わせ",
    "今シーズンの配送について",
    "次のモデルへの要望",
    "ポイントとランクの仕組み",
    "季節限定の味レビュー",
    "修理サービスの体験談",
)
CATEGORIES = (
    ("announcements", "Announcements", "お知らせ", "discussion"),
    ("general", "General", "雑談", "discussion"),
    ("new-products", "New products", "新商品", "discussion"),
    ("events", "Events", "イベント", "discussion"),
    ("photos", "Photos", "写真", "discussion"),
    ("feedback", "Feedback", "ご意見・ご要望", "discussion"),
    ("campaigns", "Campaigns", "キャンペーン", "discussion"),
    ("tips", "Tips", "使いこなし", "discussion"),
    ("questions", "Questions", "質問", "question"),
    ("support", "Support", "サポート", "question"),
)
# Tag names, most used first (word characters and hyphens, as the forum's own).
TAGS = (
    "new-release",
    "初心者",
    "limited-edition",
    "イベント",
    "review",
    "firmware",
    "限定",
    "setup",
    "photo",
    "購入報告",
    "shipping",
    "osaka",
    "tokyo",
    "カスタマイズ",
    "battery",
    "accessories",
    "コラボ",
    "troubleshooting",
    "spring",
    "おすすめ",
)
JA_NAMES = (
    "さくら",
    "はると",
    "ゆい",
    "そうた",
    "あおい",
    "れん",
    "ひなた",
    "みお",
    "ゆうと",
    "りこ",
)
EN_NAMES = (
    "Alex",
    "Sam",
    "Jamie",
    "Taylor",
    "Morgan",
    "Casey",
    "Riley",
    "Jordan",
    "Avery",
    "Quinn",
)
NPS_REASONS_EN = (
    "Great products and a friendly community.",
    "Support was quick and kind.",
    "Prices went up recently.",
    "Shipping took too long.",
    "I love the members-only events.",
)
NPS_REASONS_JA = (
    "商品が良く、コミュニティも親切だから。",
    "サポートの対応が早くて丁寧でした。",
    "最近値上がりしたので。",
    "配送に時間がかかりました。",
    "会員限定イベントが大好きです。",
)


def _cooked_pool(rng: random.Random, size: int) -> list[tuple[str, str, str]]:
    """(source, cooked, plain) bodies rendered by the app's own Markdown pipeline."""
    from app.forums.markdown import cook

    pool: list[tuple[str, str, str]] = []
    for index in range(size):
        sentences = JA_SENTENCES if index % 2 == 0 else EN_SENTENCES
        paragraphs = [
            (" " if sentences is EN_SENTENCES else "").join(
                rng.sample(sentences, rng.randint(1, 3))
            )
            for _ in range(rng.randint(1, 3))
        ]
        source = "\n\n".join(paragraphs)
        cooked = cook(source)
        pool.append((source, cooked.html, cooked.plain))
    return pool


# --- time and skew ---------------------------------------------------------------------------


class Calendar:
    """Epoch seconds to the stored forms, and to the community's calendar day (cached per
    hour: a zone's offset never changes inside an hour)."""

    def __init__(self, zone: ZoneInfo, sqlite: bool) -> None:
        self.zone = zone
        self.sqlite = sqlite
        self._days: dict[int, date] = {}

    def day(self, moment: float) -> date:
        hour = int(moment // 3600)
        found = self._days.get(hour)
        if found is None:
            found = datetime.fromtimestamp(hour * 3600, self.zone).date()
            self._days[hour] = found
        return found

    def stamp(self, moment: float) -> Any:
        value = datetime.fromtimestamp(moment, UTC)
        if self.sqlite:
            return value.replace(tzinfo=None).isoformat(" ", "microseconds")
        return value

    def day_value(self, day: date) -> Any:
        return day.isoformat() if self.sqlite else day

    def flag(self, value: bool) -> Any:
        return int(value) if self.sqlite else value


def zipf_cumulative(count: int, exponent: float, offset: float, rng: random.Random) -> list[float]:
    """Cumulative weights over ``count`` members in a random order: weight 1/(rank+offset)^s,
    so a few members do much and most do little."""
    ranks = list(range(count))
    rng.shuffle(ranks)
    return list(accumulate(1.0 / (rank + offset) ** exponent for rank in ranks))


def pick(rng: random.Random, cumulative: Sequence[float]) -> int:
    return bisect.bisect(cumulative, rng.random() * cumulative[-1])


# --- sinks -----------------------------------------------------------------------------------


def _completion(table: Table, given: Sequence[str], now: datetime, cal: Calendar) -> list[Any]:
    """Constant values for the table's columns the generator does not fill, so a column added
    to a model later does not break the load (nullable: NULL; otherwise its default)."""
    extra: list[Any] = []
    for column in table.columns:
        if column.name in given:
            continue
        default = column.default
        if default is not None and getattr(default, "is_scalar", False):
            value = default.arg  # type: ignore[attr-defined]
            extra.append((column.name, cal.flag(value) if isinstance(value, bool) else value))
        elif default is not None and getattr(default, "is_callable", False):
            extra.append((column.name, cal.stamp(now.timestamp())))
        elif column.server_default is not None or column.nullable or column.primary_key:
            continue
        else:
            raise RuntimeError(f"bench-data does not know how to fill {table.name}.{column.name}")
    return extra


class Sink:
    """Where rows go. Both implementations take the same rows in the same column order."""

    sqlite: bool

    async def open(self) -> None:
        raise NotImplementedError

    async def scalar(self, sql: str) -> Any:
        raise NotImplementedError

    async def fetch(self, sql: str) -> list[Row]:
        raise NotImplementedError

    async def execute(self, sql: str) -> None:
        raise NotImplementedError

    async def write(self, table: str, columns: Sequence[str], rows: Iterable[Row]) -> int:
        raise NotImplementedError

    async def drop_indexes(self, tables: Sequence[str]) -> list[str]:
        raise NotImplementedError

    async def finish(self, rebuild: Sequence[str]) -> None:
        raise NotImplementedError


def _chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class SqliteSink(Sink):
    sqlite = True

    def __init__(self, path: str) -> None:
        self.path = path
        self.db: sqlite3.Connection | None = None

    @property
    def conn(self) -> sqlite3.Connection:
        assert self.db is not None
        return self.db

    async def open(self) -> None:
        self.db = sqlite3.connect(self.path, isolation_level=None)
        for pragma in (
            "journal_mode=MEMORY",
            "synchronous=OFF",
            "foreign_keys=OFF",
            "temp_store=MEMORY",
            "cache_size=-500000",
        ):
            self.conn.execute(f"PRAGMA {pragma}")

    async def scalar(self, sql: str) -> Any:
        row = self.conn.execute(sql).fetchone()
        return row[0] if row else None

    async def fetch(self, sql: str) -> list[Row]:
        return [tuple(row) for row in self.conn.execute(sql).fetchall()]

    async def execute(self, sql: str) -> None:
        self.conn.execute(sql)

    async def write(self, table: str, columns: Sequence[str], rows: Iterable[Row]) -> int:
        names = ", ".join(f'"{name}"' for name in columns)
        marks = ", ".join("?" for _ in columns)
        sql = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'
        written = 0
        self.conn.execute("BEGIN")
        for chunk in _chunks(rows, 100_000):
            self.conn.executemany(sql, chunk)
            written += len(chunk)
        self.conn.execute("COMMIT")
        return written

    async def drop_indexes(self, tables: Sequence[str]) -> list[str]:
        found = self.conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({', '.join('?' for _ in tables)})",
            list(tables),
        ).fetchall()
        for name, _sql in found:
            self.conn.execute(f'DROP INDEX "{name}"')
        return [sql for _name, sql in found]

    async def finish(self, rebuild: Sequence[str]) -> None:
        for sql in rebuild:
            self.conn.execute(sql)
        self.conn.execute("ANALYZE")
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.close()


class PostgresSink(Sink):
    sqlite = False

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.db: Any = None

    async def open(self) -> None:
        import asyncpg  # type: ignore[import-untyped]

        self.db = await asyncpg.connect(self.dsn)
        # Foreign keys are satisfied by construction; skip their per-row triggers while loading.
        await self.db.execute("SET session_replication_role = replica")
        await self.db.execute("SET maintenance_work_mem = '512MB'")
        await self.db.execute("SET synchronous_commit = off")

    async def scalar(self, sql: str) -> Any:
        return await self.db.fetchval(sql)

    async def fetch(self, sql: str) -> list[Row]:
        return [tuple(row) for row in await self.db.fetch(sql)]

    async def execute(self, sql: str) -> None:
        await self.db.execute(sql)

    async def write(self, table: str, columns: Sequence[str], rows: Iterable[Row]) -> int:
        written = 0
        for chunk in _chunks(rows, 100_000):
            await self.db.copy_records_to_table(table, records=chunk, columns=list(columns))
            written += len(chunk)
        return written

    async def drop_indexes(self, tables: Sequence[str]) -> list[str]:
        rebuild: list[str] = []
        constraints = await self.db.fetch(
            "SELECT c.conrelid::regclass::text AS tbl, c.conname, "
            "pg_get_constraintdef(c.oid) AS def "
            "FROM pg_constraint c WHERE c.contype = 'u' AND c.conrelid::regclass::text = ANY($1)",
            list(tables),
        )
        for row in constraints:
            await self.db.execute(f'ALTER TABLE "{row["tbl"]}" DROP CONSTRAINT "{row["conname"]}"')
            rebuild.append(
                f'ALTER TABLE "{row["tbl"]}" ADD CONSTRAINT "{row["conname"]}" {row["def"]}'
            )
        indexes = await self.db.fetch(
            "SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def "
            "FROM pg_index i WHERE i.indrelid::regclass::text = ANY($1) AND NOT i.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
            list(tables),
        )
        for row in indexes:
            await self.db.execute(f"DROP INDEX {row['name']}")
            rebuild.append(row["def"])
        return rebuild

    async def finish(self, rebuild: Sequence[str]) -> None:
        await self.db.execute("SET max_parallel_maintenance_workers = 2")
        for sql in rebuild:
            await self.db.execute(sql)
        # Sequences behind the id columns continue after the generated ids.
        sequences = await self.db.fetch(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND column_default LIKE 'nextval%'"
        )
        identities = await self.db.fetch(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND is_identity = 'YES'"
        )
        for row in [*sequences, *identities]:
            table, column = row["table_name"], row["column_name"]
            await self.db.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{column}'), "
                f'COALESCE((SELECT MAX("{column}") FROM "{table}"), 0) + 1, false)'
            )
        await self.db.execute("SET session_replication_role = origin")
        # VACUUM as well as ANALYZE: rows loaded by COPY are not yet marked all-visible, so
        # until autovacuum passes every covering index is read with a heap visit per row
        # (the profile's ledger sums took 331 ms instead of 12 at full scale).
        await self.db.execute("VACUUM (ANALYZE)")
        await self.db.close()


def open_sink(url: str) -> Sink:
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        if not parsed.database or parsed.database == ":memory:":
            raise ValueError("bench-data needs a SQLite file, not an in-memory database")
        return SqliteSink(parsed.database)
    dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    return PostgresSink(dsn)


# --- the generator ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleSpec:
    actor: int
    recipient: int
    cap: int | None


class Generator:
    """Builds the community in memory, in the order the app would have written it."""

    def __init__(self, scale: Scale, settings: Settings, sink: Sink, progress: Progress) -> None:
        self.scale = scale
        self.sink = sink
        self.say = progress
        self.rng = random.Random(scale.seed)
        self.cal = Calendar(ZoneInfo(settings.community_timezone), sink.sqlite)
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.end = self.now.timestamp() - 60
        self.start = self.end - SPAN_DAYS * 86400
        self.summary = Summary()
        self.started = time.monotonic()

    def log(self, message: str) -> None:
        self.say(f"[{time.monotonic() - self.started:7.1f}s] {message}")

    async def put(self, table: str, columns: Sequence[str], rows: Iterable[Row]) -> None:
        meta = Base.metadata.tables[table]
        extra = _completion(meta, columns, self.now, self.cal)
        if extra:
            names = [*columns, *(name for name, _ in extra)]
            tail = tuple(value for _, value in extra)
            rows = (row + tail for row in rows)
        else:
            names = list(columns)
        written = await self.sink.write(table, names, rows)
        self.summary.counts[table] = self.summary.counts.get(table, 0) + written
        self.log(f"{table}: {written:,} rows")

    # -- members ------------------------------------------------------------------------------

    async def run(self) -> Summary:
        scale, rng, cal = self.scale, self.rng, self.cal
        rules, ranks = await self._rules_and_ranks()
        rebuild = await self.sink.drop_indexes(
            [name for name in BIG_TABLES if name in Base.metadata.tables]
        )

        from app.kit.security import hash_password

        self.log(f"generating {scale}")
        password_hash = hash_password("kizuna-bench-2026")
        n_members = scale.members
        joined = sorted(
            self.start + rng.random() * (self.end - self.start) for _ in range(n_members)
        )
        joined[0] = self.start
        locales = ["ja" if rng.random() < 0.6 else "en" for _ in range(n_members)]
        # Writing and visiting share one skew (the same members); liking is spread wider.
        post_weights = zipf_cumulative(n_members, 1.05, 8.0, rng)
        like_weights = zipf_cumulative(n_members, 0.85, 20.0, rng)
        self._joined = joined

        # -- categories --
        cat_rows: list[Row] = []
        for position, (slug, name_en, name_ja, kind) in enumerate(CATEGORIES, start=1):
            cat_rows.append((position, slug, name_en, name_ja, kind, position))
        question_cats = [row[0] for row in cat_rows if row[4] == "question"]
        discussion_cats = [row[0] for row in cat_rows if row[4] == "discussion"]

        # -- topics --
        n_topics = scale.topics
        topic_time = sorted(
            self.start + rng.random() * (self.end - self.start - 3600) for _ in range(n_topics)
        )
        topic_author = [self._author(post_weights, moment) for moment in topic_time]
        topic_kind = ["question" if rng.random() < 0.25 else "discussion" for _ in range(n_topics)]
        topic_cat = [
            rng.choice(question_cats if kind == "question" else discussion_cats)
            for kind in topic_kind
        ]
        titles = [self._title(locales[topic_author[index] - 1], index) for index in range(n_topics)]

        # -- posts: replies spread over topics with a heavy tail; one topic is very deep --
        n_replies = max(0, scale.posts - n_topics)
        popularity = [rng.paretovariate(1.1) for _ in range(n_topics)]
        deep = max(range(n_topics), key=lambda index: popularity[index])
        cumulative_topics = list(accumulate(popularity))
        replies_per_topic = [0] * n_topics
        for _ in range(n_replies):
            replies_per_topic[pick(rng, cumulative_topics)] += 1
        # The deep topic holds at least 2% of the replies (a long thread to page through).
        want = min(n_replies, max(replies_per_topic[deep], n_replies // 50))
        while replies_per_topic[deep] < want:
            donor = rng.randrange(n_topics)
            if donor != deep and replies_per_topic[donor] > 0:
                replies_per_topic[donor] -= 1
                replies_per_topic[deep] += 1
        unanswered = self._unanswered(topic_time, topic_kind, deep)
        self._move_replies(replies_per_topic, cumulative_topics, unanswered)
        self.summary.unanswered = sum(
            1
            for kind, replies in zip(topic_kind, replies_per_topic, strict=True)
            if kind == "question" and not replies
        )
        self.log(
            f"planned {n_topics:,} topics ({self.summary.unanswered:,} questions not answered "
            f"yet) and {n_replies:,} replies"
        )

        events: list[tuple[float, int, int]] = []  # (time, topic index, author); number 1 first
        for index in range(n_topics):
            start = topic_time[index]
            events.append((start, index, topic_author[index]))
            room = self.end - start
            for _ in range(replies_per_topic[index]):
                moment = start + 1 + room * rng.random() ** 2.5
                events.append((min(moment, self.end), index, self._author(post_weights, moment)))
        events.sort()
        n_posts = len(events)
        post_topic = [0] * n_posts
        post_author = [0] * n_posts
        post_time = [0.0] * n_posts
        post_number = [0] * n_posts
        next_number = [0] * n_topics
        first_post = [0] * n_topics
        for post_index, (moment, topic_index, author) in enumerate(events):
            post_topic[post_index] = topic_index
            post_author[post_index] = author
            post_time[post_index] = moment
            next_number[topic_index] += 1
            post_number[post_index] = next_number[topic_index]
            if next_number[topic_index] == 1:
                first_post[topic_index] = post_index
        del events
        # A topic's author wrote its first post (the opening post is the earliest one).
        for topic_index in range(n_topics):
            post_author[first_post[topic_index]] = topic_author[topic_index]
        self.log(f"arranged {n_posts:,} posts")

        # -- likes --
        post_popularity = list(
            accumulate(
                rng.paretovariate(1.3) * (3.0 if post_number[index] == 1 else 1.0)
                for index in range(n_posts)
            )
        )
        liked: set[int] = set()
        like_rows_raw: list[tuple[float, int, int]] = []  # (time, post index, liker)
        attempts = 0
        while len(like_rows_raw) < scale.likes and attempts < scale.likes * 4:
            attempts += 1
            post_index = pick(rng, post_popularity)
            liker = pick(rng, like_weights) + 1
            if liker == post_author[post_index]:
                continue
            key = post_index * (n_members + 1) + liker
            if key in liked:
                continue
            earliest = max(post_time[post_index], joined[liker - 1]) + 1
            if earliest >= self.end:
                continue
            liked.add(key)
            moment = earliest + (self.end - earliest) * rng.random() ** 4
            like_rows_raw.append((moment, post_index, liker))
        del liked
        like_rows_raw.sort()
        self.log(f"chose {len(like_rows_raw):,} likes")

        # -- accepted answers: most answered questions have one (never the asker's own) --
        accepted: dict[int, int] = {}
        answers_by_topic: dict[int, list[int]] = defaultdict(list)
        for post_index in range(n_posts):
            topic_index = post_topic[post_index]
            if (
                topic_kind[topic_index] == "question"
                and post_number[post_index] > 1
                and post_author[post_index] != topic_author[topic_index]
                and len(answers_by_topic[topic_index]) < 5
            ):
                answers_by_topic[topic_index].append(post_index)
        for topic_index, answers in answers_by_topic.items():
            if rng.random() < 0.6:
                accepted[topic_index] = rng.choice(answers)

        # -- ids: posts in time order; topics in time order --
        topic_id = [index + 1 for index in range(n_topics)]
        post_id = [index + 1 for index in range(n_posts)]
        self.summary.deep_topic_id = topic_id[deep]
        answered_questions = sorted(accepted)
        self.summary.question_topic_id = (
            topic_id[answered_questions[len(answered_questions) // 2]]
            if answered_questions
            else topic_id[0]
        )

        # -- the activity log, in time order --
        self.log("building the activity log")
        post_likes = [0] * n_posts
        topic_likes = [0] * n_topics
        for _moment, post_index, _liker in like_rows_raw:
            post_likes[post_index] += 1
            topic_likes[post_topic[post_index]] += 1

        # Activity kinds: 0 signup, 1 visit, 2 topic, 3 reply/answer, 4 like, 5 accept.
        acts: list[tuple[float, int, int, int]] = []
        for member in range(1, n_members + 1):
            acts.append((joined[member - 1], 0, member, 0))
        for topic_index in range(n_topics):
            acts.append((topic_time[topic_index], 2, topic_index, 0))
        for post_index in range(n_posts):
            if post_number[post_index] > 1:
                acts.append((post_time[post_index], 3, post_index, 0))
        for moment, post_index, liker in like_rows_raw:
            acts.append((moment, 4, post_index, liker))
        for topic_index, post_index in accepted.items():
            moment = min(self.end, post_time[post_index] + 600 + rng.random() * 86400)
            acts.append((moment, 5, topic_index, post_index))
        surveys, responses = self._plan_nps(n_members, joined, locales, post_weights)
        for index, response in enumerate(responses):
            acts.append((response[3], 6, index, 0))
        # Daily visits fill the rest, skewed like posting; one per member and day at most.
        expected_rank_ups = n_members // 8
        n_visits = max(0, scale.activities - len(acts) - expected_rank_ups)
        visit_weights = post_weights
        seen: set[tuple[int, date]] = set()
        last_visit: dict[int, float] = {}
        tries = 0
        while len(seen) < n_visits and tries < n_visits * 3:
            tries += 1
            member = pick(rng, visit_weights) + 1
            if tries % 3 == 0:
                member = rng.randint(1, n_members)
            since = joined[member - 1]
            moment = since + (self.end - since) * rng.random() ** 0.7
            day = cal.day(moment)
            if (member, day) in seen:
                continue
            seen.add((member, day))
            acts.append((moment, 1, member, 0))
            if moment > last_visit.get(member, 0.0):
                last_visit[member] = moment
        del seen
        acts.sort()
        self.log(f"sorted {len(acts):,} activities")

        notifications, unread = self._plan_notifications(
            acts,
            last_visit,
            post_author,
            post_topic,
            post_id,
            topic_author,
            topic_kind,
            topic_id,
            titles,
        )
        await self._write_members(n_members, joined, locales, password_hash, last_visit, unread)
        await self._write_avatars(n_members, joined)
        await self.put("notifications", NOTIFICATION_COLUMNS, notifications)
        del notifications, unread

        # Walk the log once: activities, ledger rows, totals and rank-ups, as points would.
        lifetime = [0] * (n_members + 1)
        rank_of = [0] * (n_members + 1)  # index into ranks (0 = the lowest, threshold 0)
        periods: dict[tuple[str, date, int], int] = defaultdict(int)
        kind_totals: dict[tuple[int, str], int] = defaultdict(int)
        capped: dict[tuple[int, str, date], int] = defaultdict(int)
        activity_rows: list[Row] = []
        ledger_rows: list[Row] = []
        views: set[tuple[int, date, int]] = set()
        flag_false = cal.flag(False)
        # Analytics rollups, as app.analytics.rollups keeps them for every activity.
        daily: dict[tuple[date, str], int] = defaultdict(int)
        member_daily: dict[tuple[int, date, str], list[int]] = {}
        touches: dict[tuple[int, int], date] = {}
        questions: dict[int, list[Any]] = {}

        def touch(member: int, other: int, day: date) -> None:
            previous = touches.get((member, other))
            if previous is None or previous < day:
                touches[(member, other)] = day

        def pay(
            act_id: int,
            verb: str,
            side: str,
            member: int,
            actor: int | None,
            source: str,
            subject: tuple[str, int] | None,
            moment: float,
            day: date,
        ) -> None:
            spec = rules.get(verb)
            if spec is None:
                return
            amount = spec.actor if side == "actor" else spec.recipient
            if amount <= 0:
                return
            if spec.cap is not None:
                key = (member, verb, day)
                amount = min(amount, spec.cap - capped[key])
                if amount <= 0:
                    return
                capped[key] += amount
            ledger_rows.append(
                (
                    len(ledger_rows) + 1,
                    member,
                    amount,
                    amount,
                    verb,
                    f"{verb}/{side}",
                    source,
                    0,
                    flag_false,
                    subject[0] if subject else None,
                    subject[1] if subject else None,
                    act_id,
                    actor,
                    "",
                    cal.day_value(day),
                    cal.stamp(moment),
                )
            )
            lifetime[member] += amount
            periods[("all", ALL_TIME, member)] += amount
            kind_totals[(member, verb)] += amount
            periods[("month", day.replace(day=1), member)] += amount
            periods[("week", day - timedelta(days=day.weekday()), member)] += amount
            while (
                rank_of[member] + 1 < len(ranks)
                and ranks[rank_of[member] + 1][1] <= lifetime[member]
            ):
                rank_of[member] += 1
                rank = ranks[rank_of[member]]
                rank_up(member, rank, moment, day)

        def add_activity(
            verb: str,
            actor: int | None,
            recipient: int | None,
            subject: tuple[str, int] | None,
            data: str,
            dedupe: str | None,
            moment: float,
            day: date,
        ) -> int:
            act_id = len(activity_rows) + 1
            daily[(day, verb)] += 1
            if recipient == actor:
                recipient = None
            if actor is not None:
                counts = member_daily.get((actor, day, verb))
                if counts is None:
                    member_daily[(actor, day, verb)] = [1, 0]
                else:
                    counts[0] += 1
            if recipient is not None:
                counts = member_daily.get((recipient, day, verb))
                if counts is None:
                    member_daily[(recipient, day, verb)] = [0, 1]
                else:
                    counts[1] += 1
                if actor is not None:
                    if verb in TOUCHED_BY_ACTOR:
                        touch(recipient, actor, day)
                    if verb == "answer.created":
                        touch(actor, recipient, day)
            activity_rows.append(
                (
                    act_id,
                    verb,
                    actor,
                    recipient,
                    subject[0] if subject else None,
                    subject[1] if subject else None,
                    cal.stamp(moment),
                    cal.day_value(day),
                    data,
                    dedupe,
                )
            )
            return act_id

        def rank_up(
            member: int, rank: tuple[int, int, str, str, str], moment: float, day: date
        ) -> None:
            rank_id, threshold, name_en, name_ja, badge = rank
            data = json.dumps(
                {
                    "rank_id": rank_id,
                    "name_en": name_en,
                    "name_ja": name_ja,
                    "badge": badge,
                    "threshold": threshold,
                    "lifetime_points": lifetime[member],
                }
            )
            add_activity(
                "rank.reached",
                member,
                None,
                ("rank", rank_id),
                data,
                f"rank.reached:{member}:{rank_id}",
                moment,
                day,
            )

        for moment, what, a, b in acts:
            day = cal.day(moment)
            if what == 0:
                act = add_activity(
                    "member.signed_up", a, None, ("member", a), "{}", f"signup:{a}", moment, day
                )
                pay(
                    act,
                    "member.signed_up",
                    "actor",
                    a,
                    a,
                    f"signup:{a}",
                    ("member", a),
                    moment,
                    day,
                )
            elif what == 1:
                dedupe = f"visit:{a}:{day.isoformat()}"
                act = add_activity(
                    "member.visited", a, None, ("member", a), "{}", dedupe, moment, day
                )
                pay(act, "member.visited", "actor", a, a, dedupe, ("member", a), moment, day)
            elif what == 2:
                author, tid = topic_author[a], topic_id[a]
                data = (
                    f'{{"category_id": {topic_cat[a]}, "topic_id": {tid}, '
                    f'"kind": "{topic_kind[a]}", "post_id": {post_id[first_post[a]]}, '
                    '"mentions": []}'
                )
                act = add_activity(
                    "topic.created", author, None, ("topic", tid), data, None, moment, day
                )
                if topic_kind[a] == "question":
                    questions[a] = [author, moment, day, None, None]
                pay(
                    act,
                    "topic.created",
                    "actor",
                    author,
                    author,
                    f"topic:{tid}/by:{author}",
                    ("topic", tid),
                    moment,
                    day,
                )
                views.add((a, day, author))
            elif what == 3:
                topic_index = post_topic[a]
                author, pid = post_author[a], post_id[a]
                asker = topic_author[topic_index]
                verb = "answer.created" if topic_kind[topic_index] == "question" else "post.created"
                data = (
                    f'{{"topic_id": {topic_id[topic_index]}, '
                    f'"category_id": {topic_cat[topic_index]}, '
                    '"mentions": [], "quoted": [], "reply_to_member_id": null}'
                )
                act = add_activity(
                    verb,
                    author,
                    asker if asker != author else None,
                    ("post", pid),
                    data,
                    None,
                    moment,
                    day,
                )
                pay(
                    act,
                    verb,
                    "actor",
                    author,
                    author,
                    f"post:{pid}/by:{author}",
                    ("post", pid),
                    moment,
                    day,
                )
                question = questions.get(topic_index)
                if question is not None and question[3] is None and author != asker:
                    question[3], question[4] = moment, day
                views.add((topic_index, day, author))
            elif what == 4:
                liker, pid = b, post_id[a]
                topic_index = post_topic[a]
                author = post_author[a]
                data = (
                    f'{{"topic_id": {topic_id[topic_index]}, '
                    f'"category_id": {topic_cat[topic_index]}}}'
                )
                act = add_activity(
                    "like.given", liker, author, ("post", pid), data, None, moment, day
                )
                pay(
                    act,
                    "like.given",
                    "recipient",
                    author,
                    liker,
                    f"post:{pid}/by:{liker}",
                    ("post", pid),
                    moment,
                    day,
                )
                views.add((topic_index, day, liker))
            elif what == 6:
                survey_id, member, score, _when, _reason = responses[a]
                dedupe = f"survey:{survey_id}:{member}"
                data = (
                    f'{{"score": {score}, "category": "{nps_category(score)}", '
                    f'"survey_id": {survey_id}}}'
                )
                act = add_activity(
                    "survey.answered",
                    member,
                    None,
                    ("survey", survey_id),
                    data,
                    dedupe,
                    moment,
                    day,
                )
                pay(
                    act,
                    "survey.answered",
                    "actor",
                    member,
                    member,
                    dedupe,
                    ("survey", survey_id),
                    moment,
                    day,
                )
            else:
                asker, answer = topic_author[a], b
                answerer, pid = post_author[answer], post_id[answer]
                data = f'{{"topic_id": {topic_id[a]}, "asker_id": {asker}}}'
                act = add_activity(
                    "answer.accepted", asker, answerer, ("post", pid), data, None, moment, day
                )
                source = f"post:{pid}/by:{asker}"
                for member, side in sorted(((asker, "actor"), (answerer, "recipient"))):
                    pay(
                        act,
                        "answer.accepted",
                        side,
                        member,
                        asker,
                        source,
                        ("post", pid),
                        moment,
                        day,
                    )
        del acts
        self.log(
            f"walked the log: {len(activity_rows):,} activities, {len(ledger_rows):,} ledger rows"
        )

        await self.put(
            "activities",
            (
                "id",
                "verb",
                "actor_id",
                "recipient_id",
                "subject_type",
                "subject_id",
                "occurred_at",
                "day",
                "data",
                "dedupe_key",
            ),
            activity_rows,
        )
        activity_rows.clear()
        await self.put(
            "point_ledger",
            (
                "id",
                "member_id",
                "lifetime_delta",
                "spendable_delta",
                "kind",
                "rule",
                "source",
                "seq",
                "reversal",
                "subject_type",
                "subject_id",
                "activity_id",
                "actor_id",
                "note",
                "day",
                "created_at",
            ),
            ledger_rows,
        )
        ledger_rows.clear()
        await self.put(
            "point_period_totals",
            ("period", "start", "member_id", "points"),
            (
                (period, cal.day_value(start), member, points)
                for (period, start, member), points in periods.items()
            ),
        )
        periods.clear()
        await self.put(
            "point_kind_totals",
            ("member_id", "kind", "points"),
            ((member, kind, points) for (member, kind), points in kind_totals.items()),
        )
        kind_totals.clear()
        await self._write_rollups(daily, member_daily, touches, questions, topic_id)
        await self._write_content_rollup(like_rows_raw, views, post_topic, topic_id)
        for rollup in (daily, member_daily, touches):
            rollup.clear()
        rank_ids = [rank[0] for rank in ranks]
        await self._update_member_points(lifetime, rank_of, rank_ids)

        # -- topics, posts, likes, views, search --
        pool = _cooked_pool(rng, 3000)
        ja_pool = [body for index, body in enumerate(pool) if index % 2 == 0]
        en_pool = [body for index, body in enumerate(pool) if index % 2 == 1]
        last_post = list(first_post)
        replies = [0] * n_topics
        for post_index in range(n_posts):
            topic_index = post_topic[post_index]
            if post_number[post_index] > 1:
                replies[topic_index] += 1
                last_post[topic_index] = post_index  # posts are in time order
        view_count = [0] * n_topics
        for topic_index, _day, _member in views:
            view_count[topic_index] += 1
        cat_topics: dict[int, int] = defaultdict(int)
        cat_posts: dict[int, int] = defaultdict(int)
        for topic_index in range(n_topics):
            cat_topics[topic_cat[topic_index]] += 1
            cat_posts[topic_cat[topic_index]] += replies[topic_index] + 1

        await self.put(
            "categories",
            (
                "id",
                "slug",
                "name_en",
                "name_ja",
                "description_en",
                "description_ja",
                "kind",
                "visibility",
                "posting",
                "position",
                "topic_count",
                "post_count",
                "created_at",
            ),
            [
                (
                    cid,
                    slug,
                    name_en,
                    name_ja,
                    f"Talk about {name_en.lower()}.",
                    f"{name_ja}について話しましょう。",
                    kind,
                    "everyone",
                    "members",
                    position,
                    cat_topics[cid],
                    cat_posts[cid],
                    cal.stamp(self.start),
                )
                for cid, slug, name_en, name_ja, kind, position in cat_rows
            ],
        )
        await self.put(
            "topics",
            (
                "id",
                "category_id",
                "author_id",
                "title",
                "kind",
                "pinned",
                "locked",
                "created_at",
                "last_posted_at",
                "last_poster_id",
                "post_count",
                "reply_count",
                "like_count",
                "view_count",
                "score",
                "accepted_post_id",
            ),
            (
                (
                    topic_id[t],
                    topic_cat[t],
                    topic_author[t],
                    titles[t],
                    topic_kind[t],
                    cal.flag(t < 3),
                    flag_false,
                    cal.stamp(topic_time[t]),
                    cal.stamp(post_time[last_post[t]]),
                    post_author[last_post[t]],
                    replies[t] + 1,
                    replies[t],
                    topic_likes[t],
                    view_count[t],
                    0,
                    post_id[accepted[t]] if t in accepted else None,
                )
                for t in range(n_topics)
            ),
        )

        await self._write_tags(n_topics, topic_id)

        def body(post_index: int) -> tuple[str, str, str]:
            author = post_author[post_index]
            source = ja_pool if locales[author - 1] == "ja" else en_pool
            return source[(post_index * 7919) % len(source)]

        await self.put(
            "posts",
            (
                "id",
                "topic_id",
                "author_id",
                "number",
                "source",
                "cooked",
                "plain",
                "created_at",
                "revision_count",
                "like_count",
                "score",
                "delete_reason",
            ),
            (
                (
                    post_id[p],
                    topic_id[post_topic[p]],
                    post_author[p],
                    post_number[p],
                    *body(p),
                    cal.stamp(post_time[p]),
                    0,
                    post_likes[p],
                    0,
                    "",
                )
                for p in range(n_posts)
            ),
        )
        await self.put(
            "post_likes",
            ("post_id", "member_id", "created_at"),
            ((post_id[p], liker, cal.stamp(moment)) for moment, p, liker in like_rows_raw),
        )
        del like_rows_raw
        if "topic_views" in Base.metadata.tables:
            await self.put(
                "topic_views",
                ("topic_id", "day", "visitor_key", "member_id", "created_at"),
                (
                    (
                        topic_id[t],
                        cal.day_value(day),
                        f"m:{member}",
                        member,
                        cal.stamp(datetime.combine(day, datetime.min.time(), cal.zone).timestamp()),
                    )
                    for t, day, member in views
                ),
            )
        views.clear()
        if self.sink.sqlite:
            from app.models import SEARCH_TABLE

            await self.sink.write(
                SEARCH_TABLE,
                ("rowid", "title", "body"),
                (
                    (post_id[p], titles[post_topic[p]] if post_number[p] == 1 else "", body(p)[2])
                    for p in range(n_posts)
                ),
            )
            self.log("search index filled")

        await self._write_nps(surveys, responses)
        self.log("rebuilding indexes and statistics")
        await self.sink.finish(rebuild)
        self.summary.seconds = time.monotonic() - self.started
        self.log("done")
        return self.summary

    async def _write_tags(self, n_topics: int, topic_id: Sequence[int]) -> None:
        """Tags as a community uses them: a few on most topics, some tags far more common than
        others (the first is on about a third of all topics), English and Japanese names. A
        random stream of their own, so the rest of the data is the same with or without them."""
        rng = random.Random(self.scale.seed + 1)
        cumulative = list(accumulate(1 / (rank + 1) for rank in range(len(TAGS))))
        topic_tags: list[Row] = []
        counts = [0] * len(TAGS)
        for index in range(n_topics):
            chosen = {pick(rng, cumulative) for _ in range(rng.choice((0, 1, 1, 2, 2, 3)))}
            for tag in sorted(chosen):
                counts[tag] += 1
                topic_tags.append((topic_id[index], tag + 1))
        await self.put(
            "tags",
            ("id", "name", "topic_count"),
            [(tag + 1, name, counts[tag]) for tag, name in enumerate(TAGS)],
        )
        await self.put("topic_tags", ("topic_id", "tag_id"), topic_tags)

    def _unanswered(
        self, topic_time: Sequence[float], topic_kind: Sequence[str], deep: int
    ) -> set[int]:
        """The questions nobody has answered yet, as a community has them: the newest
        question, some :data:`UNANSWERED_RECENT` of a recent week's (not answered *yet*) and
        :data:`UNANSWERED_OLDER` of the older ones (never answered). A random stream of their
        own (the seed + 2), as the tags'."""
        rng = random.Random(self.scale.seed + 2)
        recent = self.end - UNANSWERED_RECENT_DAYS * 86400
        questions = [index for index, kind in enumerate(topic_kind) if kind == "question"]
        chosen = {
            index
            for index in questions
            if rng.random()
            < (UNANSWERED_RECENT if topic_time[index] >= recent else UNANSWERED_OLDER)
        }
        if questions:
            chosen.add(questions[-1])
        chosen.discard(deep)
        return chosen

    def _move_replies(
        self, replies_per_topic: list[int], cumulative: Sequence[float], unanswered: set[int]
    ) -> None:
        """Give the replies planned for ``unanswered`` topics to others, chosen as the rest
        were (by popularity), so that the number of posts stays the scale's."""
        rng = random.Random(self.scale.seed + 2)
        moved = 0
        for index in unanswered:
            moved += replies_per_topic[index]
            replies_per_topic[index] = 0
        if len(unanswered) >= len(replies_per_topic):
            return
        while moved:
            target = pick(rng, cumulative)
            if target not in unanswered:
                replies_per_topic[target] += 1
                moved -= 1

    def _author(self, weights: Sequence[float], moment: float) -> int:
        """A skewed pick among members who had joined by ``moment``."""
        joined = self._joined
        for _ in range(6):
            member = pick(self.rng, weights) + 1
            if joined[member - 1] <= moment:
                return member
        return self.rng.randint(1, max(1, bisect.bisect(joined, moment)))

    def _title(self, locale: str, index: int) -> str:
        titles = JA_TITLES if locale == "ja" else EN_TITLES
        base = titles[index % len(titles)]
        return f"{base} #{index + 1}" if locale == "en" else f"{base}（その{index + 1}）"

    async def _rules_and_ranks(
        self,
    ) -> tuple[dict[str, RuleSpec], list[tuple[int, int, str, str, str]]]:
        rules = {
            str(verb): RuleSpec(int(actor), int(recipient), None if cap is None else int(cap))
            for verb, actor, recipient, cap in await self.sink.fetch(
                "SELECT verb, actor_points, recipient_points, daily_cap FROM point_rules "
                "WHERE enabled = " + ("1" if self.sink.sqlite else "true")
            )
        }
        ranks = [
            (int(rid), int(threshold), str(name_en), str(name_ja), str(badge))
            for rid, threshold, name_en, name_ja, badge in await self.sink.fetch(
                "SELECT id, threshold, name_en, name_ja, badge FROM ranks ORDER BY threshold"
            )
        ]
        if not ranks or ranks[0][1] > 0:
            raise RuntimeError("the rank ladder needs a rank at 0 points")
        return rules, ranks

    async def _write_members(
        self,
        n_members: int,
        joined: list[float],
        locales: list[str],
        password_hash: str,
        last_visit: dict[int, float],
        unread: Counter[int],
    ) -> None:
        cal = self.cal
        roles = {1: "admin", 2: "operator", 3: "moderator"}

        def display(member: int) -> str:
            if locales[member - 1] == "ja":
                return f"{JA_NAMES[member % len(JA_NAMES)]} {member}"
            return f"{EN_NAMES[member % len(EN_NAMES)]} {member}"

        rows = []
        for member in range(1, n_members + 1):
            seen = last_visit.get(member, joined[member - 1])
            rows.append(
                (
                    member,
                    f"fan{member}@{BENCH_EMAIL_DOMAIN}",
                    f"fan{member}",
                    display(member),
                    password_hash,
                    roles.get(member, "member"),
                    locales[member - 1],
                    "",
                    cal.stamp(joined[member - 1]),
                    cal.stamp(seen),
                    cal.day_value(cal.day(seen)),
                    cal.stamp(joined[member - 1]),
                    unread[member],
                    0,
                    0,
                )
            )
        await self.put(
            "members",
            (
                "id",
                "email",
                "handle",
                "display_name",
                "password_hash",
                "role",
                "locale",
                "bio",
                "created_at",
                "last_seen_at",
                "last_visit_day",
                "email_verified_at",
                "unread_notifications",
                "lifetime_points",
                "spendable_points",
            ),
            rows,
        )

    async def _write_avatars(self, n_members: int, joined: list[float]) -> None:
        """Two members in five have an avatar, as pages then show them: an upload row each
        (no file: the harness never fetches images) that their member row points at."""
        cal = self.cal
        owners = [m for m in range(1, n_members + 1) if m % 5 in AVATAR_RESIDUES]
        await self.put(
            "uploads",
            (
                "id",
                "storage_name",
                "uploader_member_id",
                "purpose",
                "content_type",
                "width",
                "height",
                "byte_size",
                "sha256",
                "created_at",
            ),
            (
                (
                    member,
                    f"bench-avatar-{member}.webp",
                    member,
                    "avatar",
                    "image/webp",
                    AVATAR_SIZE,
                    AVATAR_SIZE,
                    9_000,
                    f"{member:064x}",
                    cal.stamp(joined[member - 1]),
                )
                for member in owners
            ),
        )
        residues = ", ".join(str(residue) for residue in AVATAR_RESIDUES)
        await self.sink.execute(
            f"UPDATE members SET avatar_upload_id = id WHERE id % 5 IN ({residues})"
        )

    def _plan_notifications(
        self,
        acts: Sequence[tuple[float, int, int, int]],
        last_visit: dict[int, float],
        post_author: Sequence[int],
        post_topic: Sequence[int],
        post_id: Sequence[int],
        topic_author: Sequence[int],
        topic_kind: Sequence[str],
        topic_id: Sequence[int],
        titles: Sequence[str],
    ) -> tuple[list[Row], Counter[int]]:
        """The notifications app.notifications would have left for the log's replies, likes
        and accepted answers, and each member's unread count.

        A reply tells the topic's author, an accepted answer its author (both by mail too, as
        those kinds' defaults are). A post's likes share one row while it is unread ("A and 4
        others liked your post"). Each member is taken to have read, at their last visit,
        everything that came before it: a post's likes from before that visit are one read
        row, later ones its unread row. Rank and survey notifications are left out (the
        scheduler's tick announces the open surveys afterwards, as a server would)."""
        cal = self.cal
        never = float("-inf")
        singles: list[tuple[float, str, int, int, int, int]] = []
        # (post index, after the author's last visit) -> its likes' times and likers, in order
        groups: dict[tuple[int, bool], tuple[list[float], list[int]]] = {}
        for moment, kind, first, second in acts:
            if kind == 3:  # a reply: its topic's author
                post_index, topic_index = first, post_topic[first]
                author, replier = topic_author[topic_index], post_author[post_index]
                if author != replier:
                    singles.append(
                        (moment, notification_kinds.REPLY, author, replier, post_index, topic_index)
                    )
            elif kind == 4:  # a like: its post's author
                post_index, liker = first, second
                key = (post_index, moment > last_visit.get(post_author[post_index], never))
                times, likers = groups.setdefault(key, ([], []))
                times.append(moment)
                likers.append(liker)
            elif kind == 5:  # an accepted answer: its author, told by the asker
                topic_index, post_index = first, second
                singles.append(
                    (
                        moment,
                        notification_kinds.ANSWER_ACCEPTED,
                        post_author[post_index],
                        topic_author[topic_index],
                        post_index,
                        topic_index,
                    )
                )
        planned: list[tuple[float, float, str, int, int, int, int, int, dict[str, Any]]] = []
        for moment, what, member, actor, post_index, topic_index in singles:
            data: dict[str, Any] = {"topic_title": titles[topic_index]}
            if what == notification_kinds.REPLY:
                data = {"question": topic_kind[topic_index] == "question", **data}
            planned.append((moment, moment, what, member, actor, 1, post_index, topic_index, data))
        del singles
        for (post_index, _unread), (times, likers) in groups.items():
            topic_index = post_topic[post_index]
            names = likers[::-1][:GROUP_NAMES_KEPT]
            data = {"actor_ids": names, "topic_title": titles[topic_index]}
            planned.append(
                (
                    times[0],
                    times[-1],
                    notification_kinds.LIKE,
                    post_author[post_index],
                    names[0],
                    len(likers),
                    post_index,
                    topic_index,
                    data,
                )
            )
        del groups
        planned.sort(key=lambda item: item[0])
        unread: Counter[int] = Counter()
        rows: list[Row] = []
        for number, (created, updated, what, member, actor, count, post, topic, data) in enumerate(
            planned, start=1
        ):
            seen = last_visit.get(member, never)
            read_at = cal.stamp(seen) if updated <= seen else None
            if read_at is None:
                unread[member] += 1
            mailed = what != notification_kinds.LIKE
            rows.append(
                (
                    number,
                    member,
                    what,
                    actor,
                    count,
                    "post",
                    post_id[post],
                    topic_id[topic],
                    None if mailed else f"like:{post_id[post]}",
                    json.dumps(data),
                    cal.stamp(created),
                    cal.stamp(updated),
                    read_at,
                    cal.stamp(created) if mailed else None,
                    None,
                )
            )
        self.log(f"planned {len(rows):,} notifications, {sum(unread.values()):,} unread")
        return rows, unread

    async def _update_member_points(
        self, lifetime: list[int], rank_of: list[int], rank_ids: list[int]
    ) -> None:
        """Balances and ranks go in through a staging table and one UPDATE (fast on both)."""
        rows = [
            (member, lifetime[member], rank_ids[rank_of[member]])
            for member in range(1, len(lifetime))
        ]
        sink = self.sink
        await sink.execute(
            "CREATE TEMPORARY TABLE bench_points "
            "(id BIGINT PRIMARY KEY, points BIGINT, rank_id BIGINT)"
        )
        await sink.write("bench_points", ("id", "points", "rank_id"), rows)
        await sink.execute(
            "UPDATE members SET lifetime_points = b.points, spendable_points = b.points, "
            "rank_id = b.rank_id FROM bench_points AS b WHERE b.id = members.id"
        )
        await sink.execute("DROP TABLE bench_points")
        self.log("member balances and ranks set")

    def _plan_nps(
        self,
        n_members: int,
        joined: list[float],
        locales: list[str],
        weights: Sequence[float],
    ) -> tuple[list[Row], list[tuple[int, int, int, float, str]]]:
        """Quarterly surveys over the last year; active members answer more often."""
        total = self.scale.nps
        if total <= 0 or "nps_responses" not in Base.metadata.tables:
            return [], []
        rng = self.rng
        count = 4
        surveys: list[Row] = []
        windows: list[tuple[float, float]] = []
        for index in range(count):
            opens = self.end - (count - index) * 90 * 86400
            closes = min(self.end + 30 * 86400, opens + 30 * 86400)
            if index == count - 1:
                opens, closes = self.end - 20 * 86400, self.end + 10 * 86400
            windows.append((opens, min(closes, self.end)))
            surveys.append((index + 1, opens, closes))
        responses: list[tuple[int, int, int, float, str]] = []
        taken: set[tuple[int, int]] = set()
        tries = 0
        while len(responses) < total and tries < total * 5:
            tries += 1
            survey = rng.randrange(count)
            opens, closes = windows[survey]
            member = pick(rng, weights) + 1 if tries % 2 else rng.randint(1, n_members)
            start = max(opens, joined[member - 1])
            if start >= closes or (survey, member) in taken:
                continue
            taken.add((survey, member))
            score = min(10, max(0, round(rng.gauss(7.6, 2.2))))
            reasons = NPS_REASONS_JA if locales[member - 1] == "ja" else NPS_REASONS_EN
            reason = reasons[(score + member) % len(reasons)]
            responses.append(
                (survey + 1, member, score, start + (closes - start) * rng.random(), reason)
            )
        responses.sort(key=lambda response: response[3])
        return surveys, responses

    async def _write_nps(
        self, surveys: list[Row], responses: list[tuple[int, int, int, float, str]]
    ) -> None:
        if not surveys:
            if self.scale.nps > 0:
                self.summary.skipped.append("nps: no NPS tables in this schema")
            return
        cal = self.cal
        await self.put(
            "nps_surveys",
            (
                "id",
                "title",
                "subject",
                "reason_question",
                "extra_questions",
                "audience",
                "opens_at",
                "closes_at",
                "created_by_id",
                "created_at",
            ),
            [
                (
                    sid,
                    f"NPS {datetime.fromtimestamp(opens, cal.zone):%Y-%m}",
                    "Kizuna",
                    "What is the main reason for your score?",
                    "[]",
                    "everyone",
                    cal.stamp(opens),
                    cal.stamp(closes),
                    2,
                    cal.stamp(opens - 86400),
                )
                for sid, opens, closes in surveys
            ],
        )
        await self.put(
            "nps_responses",
            (
                "id",
                "survey_id",
                "member_id",
                "score",
                "category",
                "reason",
                "extra_answers",
                "created_at",
            ),
            (
                (index + 1, sid, member, score, nps_category(score), reason, "[]", cal.stamp(when))
                for index, (sid, member, score, when, reason) in enumerate(responses)
            ),
        )

    async def _write_rollups(
        self,
        daily: dict[tuple[date, str], int],
        member_daily: dict[tuple[int, date, str], list[int]],
        touches: dict[tuple[int, int], date],
        questions: dict[int, list[Any]],
        topic_id: list[int],
    ) -> None:
        if "analytics_daily" not in Base.metadata.tables:
            self.summary.skipped.append("analytics rollups: no analytics tables in this schema")
            return
        cal = self.cal
        await self.put(
            "analytics_daily",
            ("day", "verb", "count"),
            ((cal.day_value(day), verb, count) for (day, verb), count in daily.items()),
        )
        await self.put(
            "analytics_member_daily",
            ("member_id", "day", "verb", "done", "received"),
            (
                (member, cal.day_value(day), verb, counts[0], counts[1])
                for (member, day, verb), counts in member_daily.items()
            ),
        )
        if "analytics_active" in Base.metadata.tables:
            await self._write_active_rollups(member_daily)
        await self.put(
            "analytics_touches",
            ("member_id", "other_id", "last_day"),
            ((member, other, cal.day_value(day)) for (member, other), day in touches.items()),
        )
        await self.put(
            "analytics_questions",
            (
                "topic_id",
                "asker_id",
                "asked_at",
                "asked_day",
                "answered_at",
                "answered_day",
                "first_answer_seconds",
            ),
            (
                (
                    topic_id[index],
                    asker,
                    cal.stamp(asked),
                    cal.day_value(asked_day),
                    None if answered is None else cal.stamp(answered),
                    None if answered_day is None else cal.day_value(answered_day),
                    None if answered is None else max(0, int(answered - asked)),
                )
                for index, (asker, asked, asked_day, answered, answered_day) in questions.items()
            ),
        )

    async def _write_active_rollups(
        self, member_daily: dict[tuple[int, date, str], list[int]]
    ) -> None:
        """analytics_active and analytics_active_returns, as app.analytics.active keeps them."""
        from app.analytics.active import fold

        cal = self.cal
        # (member, day) packed in one int, so that millions of them sort cheaply.
        packed = sorted(
            {
                member * 10_000_000 + day.toordinal()
                for (member, day, _verb), counts in member_daily.items()
                if counts[0] > 0
            }
        )
        folded = fold(
            (value // 10_000_000, date.fromordinal(value % 10_000_000)) for value in packed
        )
        del packed
        await self.put(
            "analytics_active",
            ("day", "members", "week_ends", "month_ends"),
            (
                (cal.day_value(day), *counts)
                for day, counts in sorted(folded.active.items())
                if any(counts)
            ),
        )
        await self.put(
            "analytics_active_returns",
            ("day", "previous_day", "members"),
            (
                (cal.day_value(day), cal.day_value(previous), n)
                for (day, previous), n in sorted(folded.returns.items())
            ),
        )

    async def _write_content_rollup(
        self,
        likes: list[tuple[float, int, int]],
        views: set[tuple[int, date, int]],
        post_topic: list[int],
        topic_id: list[int],
    ) -> None:
        """analytics_topic_daily: likes per topic and day (the like's day) and visitors."""
        if "analytics_topic_daily" not in Base.metadata.tables:
            return
        cal = self.cal
        per_day: dict[tuple[date, int], list[int]] = defaultdict(lambda: [0, 0])
        for moment, post_index, _liker in likes:
            per_day[(cal.day(moment), topic_id[post_topic[post_index]])][0] += 1
        for topic_index, day, _member in views:
            per_day[(day, topic_id[topic_index])][1] += 1
        await self.put(
            "analytics_topic_daily",
            ("day", "topic_id", "likes", "views"),
            (
                (cal.day_value(day), topic, counts[0], counts[1])
                for (day, topic), counts in per_day.items()
            ),
        )


async def _prepare(url: str) -> None:
    """The default point rules and rank ladder, written by the points feature itself."""
    from sqlalchemy import func, select

    from app.db import create_engine_unpooled
    from app.models import Member

    engine = create_engine_unpooled(url)
    try:
        from sqlalchemy.ext.asyncio import AsyncSession

        async with AsyncSession(engine) as session:
            members = await session.scalar(select(func.count()).select_from(Member))
            if members:
                raise RuntimeError(
                    "bench-data fills an empty database: this one already has members"
                )
            from app.points.service import seed_defaults

            await seed_defaults(session)
            await session.commit()
    finally:
        await engine.dispose()


async def generate(
    scale: Scale, *, settings: Settings | None = None, progress: Progress = print
) -> Summary:
    settings = settings or get_settings()
    url = settings.resolved_database_url
    await _prepare(url)
    sink = open_sink(url)
    await sink.open()
    return await Generator(scale, settings, sink, progress).run()


def run(scale: Scale, progress: Progress = print) -> Summary:
    return asyncio.run(generate(scale, progress=progress))
