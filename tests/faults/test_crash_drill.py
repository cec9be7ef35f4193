"""Crash drill: a real server under concurrent replies, likes, profile edits, uploads and point
awards is killed with SIGKILL at a random moment, restarted, and checked. Three rounds.

After each crash: the database is intact (SQLite: ``PRAGMA integrity_check`` and
``foreign_key_check``), every request that was answered with a success is there, every cached
total equals what it caches (``kizuna points check`` for the points ledger; like, post and
unread-notification counters), and after ``kizuna uploads sweep`` no upload file lacks its row
and no row lacks its file.
"""

from __future__ import annotations

import functools
import random
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.faults.instance import Browser, Instance, fresh_database
from tests.faults.test_backup_restore import png

ROUNDS = 3
MEMBERS = ("aoi@example.com", "ben@example.com", "chika@example.com")


class Ledger:
    """What the server answered with a success, and what was merely attempted."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.posts: list[tuple[int, str]] = []
        self.likes: list[tuple[str, int]] = []
        self.uploads: list[str] = []
        self.awards: list[tuple[str, dict[str, Any]]] = []
        self.bios: dict[str, list[tuple[str, bool]]] = {}

    def add(self, kind: str, value: Any) -> None:
        with self.lock:
            getattr(self, kind).append(value)


def _member_loop(
    member: Browser, email: str, topic_id: int, ledger: Ledger, stop: threading.Event
) -> None:
    chooser = random.Random(email)
    number = 0
    while not stop.is_set():
        number += 1
        body = f"{email} says hello, message {number} {uuid.uuid4().hex[:8]}"
        answer = member.api("POST", f"/topics/{topic_id}/posts", {"body": body})
        assert answer.status_code == 201, answer.text
        ledger.add("posts", (answer.json()["id"], body))
        with ledger.lock:
            others = [post for post, _ in ledger.posts if not _.startswith(email)]
        if others:
            target = chooser.choice(others)
            liked = member.api("PUT", f"/posts/{target}/like")
            assert liked.status_code == 200, liked.text
            ledger.add("likes", (email, target))
        if number % 3 == 0:
            bio = f"Bio version {number}"
            with ledger.lock:
                ledger.bios.setdefault(email, []).append((bio, False))
            edited = member.api("PATCH", "/me", {"bio": bio})
            assert edited.status_code == 200, edited.text
            with ledger.lock:
                ledger.bios[email][-1] = (bio, True)
        if number % 4 == 0:
            stored = member.post(
                "/api/v1/uploads",
                files={"file": ("photo.png", png("olive"), "image/png")},
                headers={"X-CSRF-Token": member.csrf()},
            )
            assert stored.status_code == 201, stored.text
            ledger.add("uploads", stored.json()["url"])


def _operator_loop(
    operator: Browser, member_ids: list[int], ledger: Ledger, stop: threading.Event
) -> None:
    number = 0
    while not stop.is_set():
        number += 1
        key = uuid.uuid4().hex
        body = {
            "member_id": member_ids[number % len(member_ids)],
            "amount": 7,
            "reason": f"Came to the meet-up, ticket {number}",
        }
        answer = operator.api("POST", "/points/awards", body, headers={"Idempotency-Key": key})
        assert answer.status_code == 201, answer.text
        ledger.add("awards", (key, body))


def _run(work: Callable[[], None], crashed: threading.Event, errors: list[str]) -> None:
    try:
        work()
    except (httpx.TransportError, AssertionError) as failure:
        # After the kill, requests fail or answers are cut off; before it, none may fail.
        if not crashed.is_set():
            errors.append(repr(failure))


def _check_sqlite_intact(instance: Instance) -> None:
    assert instance.query("PRAGMA integrity_check") == [("ok",)]
    assert instance.query("PRAGMA foreign_key_check") == []


def _check_caches(instance: Instance) -> None:
    checked = instance.kizuna("points", "check", check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert (
        instance.query(
            "SELECT p.id FROM posts p WHERE p.like_count <> "
            "(SELECT count(*) FROM post_likes l WHERE l.post_id = p.id)"
        )
        == []
    )
    assert (
        instance.query(
            "SELECT t.id FROM topics t WHERE t.post_count <> "
            "(SELECT count(*) FROM posts p WHERE p.topic_id = t.id)"
        )
        == []
    )
    assert (
        instance.query(
            "SELECT m.id FROM members m WHERE m.unread_notifications <> "
            "(SELECT count(*) FROM notifications n WHERE n.member_id = m.id AND n.read_at IS NULL)"
        )
        == []
    )


def _check_uploads(instance: Instance) -> None:
    swept = instance.kizuna("uploads", "sweep", "--grace-minutes", "0")
    assert "orphaned upload file(s) removed" in swept.stdout
    rows = {name for (name,) in instance.query("SELECT storage_name FROM uploads")}
    files = {path.name for path in instance.upload_dir.rglob("*") if path.is_file()}
    assert files == rows


def _check_successes_present(
    ledger: Ledger, browsers: dict[str, Browser], operator: Browser
) -> None:
    reader = next(iter(browsers.values()))
    for post_id, body in ledger.posts:
        answer = reader.get(f"/api/v1/posts/{post_id}")
        assert answer.status_code == 200, (post_id, answer.text)
        assert body in answer.json()["cooked"]
    for email, post_id in ledger.likes:
        assert browsers[email].get(f"/api/v1/posts/{post_id}").json()["liked"] is True
    for url in ledger.uploads:
        assert httpx.get(reader.base_url.join(url)).status_code == 200, url
    for email, versions in ledger.bios.items():
        confirmed = [index for index, (_, ok) in enumerate(versions) if ok]
        if not confirmed:
            continue
        # The last confirmed edit, or one sent after it whose answer the crash cut off.
        allowed = {bio for bio, _ in versions[confirmed[-1] :]}
        assert browsers[email].get("/api/v1/me").json()["bio"] in allowed
    for key, body in ledger.awards:
        replay = operator.api("POST", "/points/awards", body, headers={"Idempotency-Key": key})
        assert replay.status_code == 201, replay.text
        assert replay.headers.get("idempotent-replayed") == "true", key


def test_sigkill_under_load_loses_nothing_acknowledged(tmp_path: Path) -> None:
    with fresh_database(tmp_path) as url:
        instance = Instance(tmp_path, url)
        instance.seed(
            "admin:admin@example.com", "operator:ops@example.com", *[f"member:{m}" for m in MEMBERS]
        )
        instance.start()
        try:
            admin = instance.browser()
            admin.sign_in("admin@example.com")
            category = admin.api("POST", "/categories", {"slug": "drill", "name_en": "Drill"})
            assert category.status_code == 201, category.text
            topic = admin.api(
                "POST",
                "/topics",
                {
                    "category_id": category.json()["id"],
                    "title": "Crash drill",
                    "body": "Reply here.",
                },
            )
            assert topic.status_code == 201, topic.text
            topic_id = topic.json()["topic"]["id"]
            browsers: dict[str, Browser] = {}
            member_ids: list[int] = []
            for email in MEMBERS:
                browsers[email] = instance.browser()
                browsers[email].sign_in(email)
                browsers[email].csrf()
                member_ids.append(browsers[email].get("/api/v1/me").json()["id"])
            operator = instance.browser()
            operator.sign_in("ops@example.com")
            operator.csrf()
            ledger = Ledger()
            chooser = random.Random()

            for _round in range(ROUNDS):
                stop, crashed = threading.Event(), threading.Event()
                errors: list[str] = []
                work: list[Callable[[], None]] = [
                    functools.partial(_member_loop, browsers[m], m, topic_id, ledger, stop)
                    for m in MEMBERS
                ]
                work.append(functools.partial(_operator_loop, operator, member_ids, ledger, stop))
                threads = [
                    threading.Thread(target=_run, args=(job, crashed, errors), daemon=True)
                    for job in work
                ]
                acknowledged = len(ledger.posts)
                for thread in threads:
                    thread.start()
                while len(ledger.posts) < acknowledged + 2 and any(t.is_alive() for t in threads):
                    stop.wait(0.01)
                stop.wait(chooser.uniform(0.2, 1.2))
                crashed.set()
                instance.kill()
                stop.set()
                for thread in threads:
                    thread.join(timeout=30)
                assert errors == []
                assert len(ledger.posts) > acknowledged

                if instance.is_sqlite:
                    _check_sqlite_intact(instance)
                instance.start()
                _check_successes_present(ledger, browsers, operator)
                _check_caches(instance)
                _check_uploads(instance)
        finally:
            instance.stop()
