"""Image uploads through the page form, htmx and the JSON API."""

from __future__ import annotations

import os
import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from app.config import get_settings
from app.kit import clock
from app.kit.security import sha256_hex
from app.models import ApiToken, Member, Upload, UploadPurpose
from app.uploads import service
from tests.uploads.images import (
    animated_gif,
    api_upload,
    image_bytes,
    opened,
    png_declaring,
    post_upload,
    stored_files,
)

URL = re.compile(r"^/uploads/[A-Za-z0-9_-]{24}\.(jpg|png|gif|webp)$")
FORMATS = [
    ("JPEG", "image/jpeg", "jpg"),
    ("PNG", "image/png", "png"),
    ("GIF", "image/gif", "gif"),
    ("WEBP", "image/webp", "webp"),
]


async def _uploads(database) -> list[Upload]:
    async with database.transaction(write=False) as session:
        return list((await session.execute(select(Upload).order_by(Upload.id))).scalars())


@pytest.fixture
async def member(client, member_factory, login):
    fan = await member_factory(name="Photo Fan")
    await login(client, fan)
    return fan


@pytest.mark.parametrize(("fmt", "content_type", "extension"), FORMATS)
async def test_each_format_is_stored_re_encoded_without_metadata(
    client, database, member, fmt, content_type, extension
):
    original = image_bytes(fmt, (64, 48))
    if fmt != "GIF":
        assert opened(original).getexif().get_ifd(0x8825), "the test image carries GPS data"

    response = await api_upload(client, original, f"holiday.{extension}", content_type)

    assert response.status_code == 201, response.text
    body = response.json()
    assert URL.match(body["url"])
    assert body["url"].endswith(f".{extension}")
    assert body["markdown"] == f"![holiday]({body['url']})"
    assert body["content_type"] == content_type
    served = await client.get(body["url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == content_type
    image = opened(served.content)
    assert image.format == fmt
    exif = image.getexif()
    assert not exif.get_ifd(0x8825), "GPS position is gone"
    assert 0x010F not in exif, "camera make is gone"
    assert b"KizunaCam" not in served.content
    if fmt != "GIF":
        # EXIF said "rotate 90°": the stored image is upright, so its sides swapped.
        assert image.size == (48, 64)
        assert (body["width"], body["height"]) == (48, 64)
    [row] = await _uploads(database)
    assert row.uploader_member_id == member.id
    assert row.purpose == UploadPurpose.post
    assert row.byte_size == len(served.content)


async def test_animated_gif_keeps_its_first_frame(client, member):
    response = await api_upload(client, animated_gif(), "dance.gif", "image/gif")
    assert response.status_code == 201
    image = opened((await client.get(response.json()["url"])).content)
    assert getattr(image, "n_frames", 1) == 1


async def test_page_form_and_htmx_answer_with_the_markdown(client, member):
    page = await client.get("/uploads/new")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.text

    plain = await post_upload(client, image_bytes("PNG"), "cat.png", alt="Our cat")
    assert plain.status_code == 201
    assert "<html" in plain.text
    assert re.search(r"!\[Our cat\]\(/uploads/[A-Za-z0-9_-]{24}\.png\)", plain.text)

    partial = await post_upload(client, image_bytes("JPEG"), "dog.jpg", "image/jpeg", htmx=True)
    assert partial.status_code == 201
    assert "<html" not in partial.text
    assert re.search(r"!\[dog\]\(/uploads/[A-Za-z0-9_-]{24}\.jpg\)", partial.text)
    assert 'name="file"' in partial.text, "a fresh form for the next image"


HOSTILE = [
    ("page.png", b"<!doctype html><html><script>alert(document.cookie)</script></html>", "not"),
    (
        "logo.png",
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
        b"<script>alert(2)</script></svg>",
        "SVG",
    ),
    ("plain.png", b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>', "SVG"),
    ("notes.jpg", b"just some text that is not an image at all", "not"),
    ("bitmap.png", b"BM" + b"\x00" * 200, "BMP"),
    ("broken.png", image_bytes("PNG", (300, 200), exif=False)[:-40], "damaged"),
    ("header.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "damaged"),
]


@pytest.mark.parametrize(("filename", "content", "expected"), HOSTILE)
async def test_non_images_and_broken_images_are_refused_and_nothing_is_kept(
    client, database, member, filename, content, expected
):
    before = stored_files()
    response = await api_upload(client, content, filename, "image/png")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == "file"
    assert expected in error["message"]
    assert await _uploads(database) == []
    assert stored_files() == before


async def test_page_form_shows_the_error_beside_the_file_field(client, database, member):
    response = await post_upload(client, b"<html><body>hi</body></html>", "x.png")
    assert response.status_code == 422
    assert "This file is not an image" in response.text
    assert 'aria-invalid="true"' in response.text
    assert await _uploads(database) == []


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("size", [(20000, 20000), (8000, 6000)])
async def test_decompression_bombs_are_refused(client, database, member, size):
    bomb = png_declaring(*size)
    assert len(bomb) < 1000
    before = stored_files()
    response = await api_upload(client, bomb, "small.png")
    assert response.status_code == 422
    assert response.json()["error"] == {
        "status": 422,
        "field": "file",
        "message": "The image has too many pixels: at most 40 megapixels.",
    }
    assert await _uploads(database) == []
    assert stored_files() == before


async def test_files_over_8_mb_are_refused(client, database, member):
    big = image_bytes("PNG", exif=False) + b"\x00" * (8 * 1024 * 1024)
    before = stored_files()
    response = await api_upload(client, big, "huge.png")
    assert response.status_code == 413
    assert response.json()["error"]["field"] == "file"
    assert "at most 8 MB" in response.json()["error"]["message"]

    page = await post_upload(client, big, "huge.png")
    assert page.status_code == 413
    assert "at most 8 MB" in page.text
    assert await _uploads(database) == []
    assert stored_files() == before


async def test_missing_file_names_the_field(client, member):
    token = await client.csrf_token()
    response = await client.post(
        "/api/v1/uploads", data={"alt": "x"}, headers={"X-CSRF-Token": token}
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "file"
    empty = await post_upload(client, b"", "")
    assert empty.status_code == 422
    assert "Choose an image file" in empty.text


@pytest.mark.parametrize(
    "filename",
    [
        "../../../../outside.png",
        "..\\..\\..\\outside.png",
        "/etc/outside.png",
        "%2e%2e%2f%2e%2e%2foutside.png",
        "<img src=x onerror=alert(1)>](javascript:alert(1)).png",
    ],
)
async def test_path_tricks_in_file_names_are_harmless(client, database, member, filename):
    root = get_settings().data_dir
    response = await api_upload(client, image_bytes("PNG"), filename)
    assert response.status_code == 201, response.text
    body = response.json()
    assert URL.match(body["url"])
    assert not any(root.parent.rglob("outside.png"))
    markdown = body["markdown"]
    assert markdown.endswith(f"]({body['url']})")
    alt = markdown[2 : markdown.index("](")]
    assert not set(alt) & set("[]<>\\")
    [row] = await _uploads(database)
    assert service.file_path(row.storage_name).is_file()
    assert service.file_path(row.storage_name).parent.parent == get_settings().upload_dir


@pytest.mark.parametrize(
    "path",
    [
        "/uploads/..%2f..%2fkizuna.db",
        "/uploads/%2e%2e",
        "/uploads/test.db",
        "/uploads/AAAAAAAAAAAAAAAAAAAAAAAA.png",
        "/uploads/AAAAAAAAAAAAAAAAAAAAAAAA.svg",
        "/uploads/AAAAAAAAAAAAAAAAAAAAAAAA.png%00.html",
    ],
)
async def test_serving_refuses_unknown_and_crafted_names(client, path):
    response = await client.get(path)
    assert response.status_code == 404


async def test_served_images_carry_protective_headers(client, member):
    url = (await api_upload(client, image_bytes("PNG"), "a.png")).json()["url"]
    response = await client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"] == "inline"
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "sandbox" in policy
    assert "immutable" in response.headers["cache-control"]

    again = await client.get(url, headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    head = await client.head(url)
    assert head.status_code == 200
    assert head.headers["content-type"] == "image/png"
    # Public by URL, like Discourse: a visitor without a session sees it too.
    client.cookies.clear()
    assert (await client.get(url)).status_code == 200


async def test_anonymous_visitors_cannot_upload(client, database):
    before = stored_files()
    page = await post_upload(client, image_bytes("PNG"), "a.png")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/signin")
    api = await api_upload(client, image_bytes("PNG"), "a.png")
    assert api.status_code == 401
    assert (await client.get("/uploads/new")).status_code == 303
    assert await _uploads(database) == []
    assert stored_files() == before


async def test_uploads_need_the_csrf_token(client, database, member):
    response = await client.post(
        "/uploads", files={"file": ("a.png", image_bytes("PNG"), "image/png")}
    )
    assert response.status_code == 403
    assert await _uploads(database) == []


async def _make_token(database, member, scopes: str) -> str:
    token = f"kz_test_{scopes.replace(' ', '_')}_{member.id}_0123456789abcdef"
    async with database.transaction() as session:
        session.add(
            ApiToken(
                member_id=member.id,
                name="test",
                token_hash=sha256_hex(token),
                prefix=token[:8],
                scopes=scopes,
            )
        )
    return token


async def test_bearer_tokens_with_write_scope_can_upload(make_client, database, member_factory):
    fan = await member_factory()
    http = make_client()
    writer = await _make_token(database, fan, "read write")
    reader = await _make_token(database, fan, "read")

    ok = await api_upload(http, image_bytes("WEBP"), "a.webp", "image/webp", token=writer)
    assert ok.status_code == 201
    denied = await api_upload(http, image_bytes("WEBP"), "a.webp", "image/webp", token=reader)
    assert denied.status_code == 403
    assert len(await _uploads(database)) == 1


async def test_members_are_limited_to_30_uploads_an_hour(client, database, member):
    small = image_bytes("PNG", (8, 8), exif=False)
    for _ in range(service.UPLOADS_PER_HOUR - 1):
        assert (await api_upload(client, small, "a.png")).status_code == 201
    # Rejected files count too: decoding them is the expensive part.
    assert (await api_upload(client, b"not an image", "a.png")).status_code == 422

    limited = await api_upload(client, small, "a.png")
    assert limited.status_code == 429
    assert 0 < int(limited.headers["retry-after"]) <= 3600
    assert "Try again in" in limited.json()["error"]["message"]
    page = await post_upload(client, small, "a.png")
    assert page.status_code == 429
    assert len(await _uploads(database)) == service.UPLOADS_PER_HOUR - 1


async def test_a_rolled_back_transaction_leaves_no_file(database, member_factory):
    fan = await member_factory()
    before = stored_files()

    written: list[Path] = []

    class Abort(Exception):
        pass

    async def store_then_fail() -> None:
        async with database.transaction() as session:
            upload = await service.store_image(
                session, fan, image_bytes("PNG"), purpose=UploadPurpose.post
            )
            written.append(service.file_path(upload.storage_name))
            assert written[0].is_file()
            raise Abort

    with pytest.raises(Abort):
        await store_then_fail()
    assert not written[0].exists()
    assert stored_files() == before

    async with database.transaction() as session:
        kept = await service.store_image(
            session, fan, image_bytes("PNG"), purpose=UploadPurpose.post
        )
    assert service.file_path(kept.storage_name).is_file()
    async with database.transaction(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(Upload)) == 1


async def test_sweep_removes_files_without_a_row(database, member_factory):
    fan = await member_factory()
    async with database.transaction() as session:
        kept = await service.store_image(
            session, fan, image_bytes("PNG"), purpose=UploadPurpose.post
        )
    kept_path = service.file_path(kept.storage_name)
    orphan = service.file_path("Zz" + "x" * 22 + ".png")
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"left by a crash")
    temporary = kept_path.parent / f"{service.TEMP_PREFIX}abc"
    temporary.write_bytes(b"half written")
    fresh_orphan = service.file_path("Zy" + "x" * 22 + ".png")
    fresh_orphan.parent.mkdir(parents=True, exist_ok=True)
    fresh_orphan.write_bytes(b"a request still in flight")
    old = time.time() - 2 * 3600
    for path in (kept_path, orphan, temporary):
        os.utime(path, (old, old))

    async with database.transaction(write=False) as session:
        removed = await service.sweep_orphans(session, grace=timedelta(hours=1))

    assert removed == 2
    assert kept_path.exists()
    assert fresh_orphan.exists()
    assert not orphan.exists()
    assert not temporary.exists()
    fresh_orphan.unlink()


async def test_silenced_members_cannot_upload(client, database, member):
    async with database.transaction() as session:
        await session.execute(
            update(Member)
            .where(Member.id == member.id)
            .values({"silenced_until": clock.now() + timedelta(days=1)})
        )
    response = await api_upload(client, image_bytes("PNG"), "a.png")
    assert response.status_code == 403
    assert "silenced" in response.json()["error"]["message"]
    assert await _uploads(database) == []


async def test_savepoints_keep_or_drop_exactly_their_own_files(database, member_factory):
    fan = await member_factory()

    async def store(session):
        upload = await service.store_image(
            session, fan, image_bytes("PNG"), purpose=UploadPurpose.post
        )
        return service.file_path(upload.storage_name)

    class Abort(Exception):
        pass

    async with database.transaction() as session:
        before_savepoint = await store(session)
        inside: list[Path] = []

        async def store_in_failing_savepoint() -> None:
            async with session.begin_nested():
                inside.append(await store(session))
                raise Abort

        with pytest.raises(Abort):
            await store_in_failing_savepoint()
        async with session.begin_nested():
            released = await store(session)
    assert before_savepoint.is_file(), "an unrelated savepoint rollback keeps earlier files"
    assert not inside[0].exists(), "the rolled-back savepoint's file is gone"
    assert released.is_file()
    async with database.transaction(write=False) as session:
        names = set((await session.execute(select(Upload.storage_name))).scalars())
    assert names == {before_savepoint.name, released.name}

    async def release_then_fail() -> list[Path]:
        async with database.transaction() as session:
            async with session.begin_nested():
                inside.append(await store(session))
            raise Abort

    with pytest.raises(Abort):
        await release_then_fail()
    assert not inside[1].exists(), "a released savepoint's file goes with the whole transaction"
