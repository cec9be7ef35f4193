"""`kizuna backup` while a member keeps writing, `kizuna restore` into a fresh instance (new
data directory, new PostgreSQL database), and a smoke test of the restored community."""

from __future__ import annotations

import io
import json
import tarfile
import threading
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from app.uploads.service import UPLOADS_PER_HOUR
from tests.faults.instance import Browser, Instance, fresh_database


def png(colour: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (24, 16), colour).save(buffer, "PNG")
    return buffer.getvalue()


def upload(member: Browser, colour: str) -> dict[str, Any]:
    answer = member.post(
        "/api/v1/uploads",
        files={"file": (f"{colour}.png", png(colour), "image/png")},
        headers={"X-CSRF-Token": member.csrf()},
    )
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json()
    return result


class Writer(threading.Thread):
    """A member replying, editing their profile and uploading images until told to stop."""

    def __init__(self, member: Browser, topic_id: int) -> None:
        super().__init__(daemon=True)
        self.member = member
        self.topic_id = topic_id
        self.replies: list[tuple[int, str]] = []
        self.uploads: list[str] = []
        self.stop = threading.Event()
        self.failures: list[str] = []

    def run(self) -> None:
        number = 0
        while not self.stop.is_set():
            number += 1
            body = f"Reply {number} written while the backup runs."
            answer = self.member.api("POST", f"/topics/{self.topic_id}/posts", {"body": body})
            if answer.status_code != 201:
                self.failures.append(answer.text)
                return
            self.replies.append((answer.json()["id"], body))
            if number % 3 == 0:
                self.member.api("PATCH", "/me", {"bio": f"Edited {number} times"})
            # Within the member's hourly allowance (the test's first image used one of it):
            # the replies come fast enough to go past it during a backup.
            if number % 4 == 0 and len(self.uploads) < UPLOADS_PER_HOUR - 1:
                try:
                    self.uploads.append(upload(self.member, "navy")["url"])
                except AssertionError as refused:
                    self.failures.append(str(refused))
                    return


def test_backup_during_writes_restores_into_a_fresh_instance(tmp_path: Path) -> None:
    archive = tmp_path / "kizuna-backup.tar.gz"
    with fresh_database(tmp_path / "source") as url:
        source = Instance(tmp_path / "source", url)
        source.seed("admin:admin@example.com", "member:fan@example.com")
        source.start()
        try:
            admin = source.browser()
            admin.sign_in("admin@example.com")
            category = admin.api("POST", "/categories", {"slug": "talk", "name_en": "Talk"})
            assert category.status_code == 201, category.text
            fan = source.browser()
            fan.sign_in("fan@example.com")
            topic = fan.api(
                "POST",
                "/topics",
                {
                    "category_id": category.json()["id"],
                    "title": "Backups keep everything",
                    "body": "The first post, written before the backup.",
                },
            )
            assert topic.status_code == 201, topic.text
            topic_id = topic.json()["topic"]["id"]
            photo = upload(fan, "teal")
            photo_bytes = httpx.get(source.url(photo["url"])).content

            writer = Writer(fan, topic_id)
            writer.start()
            while len(writer.replies) < 3 and writer.is_alive():
                writer.stop.wait(0.02)
            before = len(writer.replies)
            made = source.kizuna("backup", str(archive))
            during = len(writer.replies)
            writer.stop.set()
            writer.join(timeout=30)
            assert writer.failures == []
            assert during > before, "the member kept writing while the backup ran"
            assert "Backup written to" in made.stdout
        finally:
            source.stop()

    with tarfile.open(archive) as packed:
        names = packed.getnames()
        handle = packed.extractfile("manifest.json")
        assert handle is not None
        manifest = json.loads(handle.read())
    kind = "sqlite" if source.is_sqlite else "postgresql"
    assert manifest["format"] == "kizuna-backup"
    assert manifest["format_version"] == 1
    assert manifest["database"] == kind
    assert manifest["alembic_revision"]
    assert manifest["created_at"]
    assert manifest["counts"]["members"] == 2
    # One consistent moment: every reply answered before the backup began is in it.
    assert 1 + before <= manifest["counts"]["posts"] <= 1 + len(writer.replies)
    assert manifest["upload_files"] == manifest["counts"]["uploads"] >= 1
    assert ("database.sqlite3" if source.is_sqlite else "database.pgdump") in names
    assert f"uploads/{photo['url'].rsplit('/', 1)[1][:2]}/{photo['url'].rsplit('/', 1)[1]}" in names

    with fresh_database(tmp_path / "target") as url:
        target = Instance(tmp_path / "target", url)
        # A doctored archive (a path that climbs out of the upload directory) is refused
        # before anything is written.
        evil = tmp_path / "evil.tar.gz"
        with tarfile.open(archive) as packed, tarfile.open(evil, "w:gz") as doctored:
            for member in packed.getmembers():
                doctored.addfile(member, packed.extractfile(member))
            trick = tarfile.TarInfo("uploads/../../escaped.png")
            trick.size = 4
            doctored.addfile(trick, io.BytesIO(b"evil"))
        refused = target.kizuna("restore", str(evil), check=False)
        assert refused.returncode == 2
        assert "unexpected entry" in refused.stderr
        assert not (tmp_path / "escaped.png").exists()
        assert not list(target.data_dir.rglob("*.png"))

        restored = target.kizuna("restore", str(archive))
        assert "Restored" in restored.stdout
        for table in ("members", "topics", "posts", "uploads", "activities"):
            if table in manifest["counts"]:
                assert target.query(f"SELECT count(*) FROM {table}") == [
                    (manifest["counts"][table],)
                ], table
        again = target.kizuna("restore", str(archive), check=False)
        assert again.returncode == 2
        assert "not empty" in again.stderr or "already holds" in again.stderr

        target.start()
        try:
            fan = target.browser()
            fan.sign_in("fan@example.com")
            home = fan.get("/", headers={"Accept": "text/html"})
            assert home.status_code == 200
            assert "Backups keep everything" in home.text
            page = fan.get(f"/t/{topic_id}", headers={"Accept": "text/html"})
            assert page.status_code == 200
            assert "The first post, written before the backup." in page.text
            for reply_id, body in writer.replies[:before]:
                post = fan.get(f"/api/v1/posts/{reply_id}")
                assert post.status_code == 200
                assert body in post.json()["cooked"]
            assert httpx.get(target.url(photo["url"])).content == photo_bytes
            assert httpx.get(target.url("/readyz")).status_code == 200
            # The restored community takes new writes.
            reply = fan.api("POST", f"/topics/{topic_id}/posts", {"body": "Back after restore."})
            assert reply.status_code == 201, reply.text
        finally:
            target.stop()
