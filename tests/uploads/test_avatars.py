"""Avatars: set and remove on the settings page or through the API; shown with the member."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.kit.templating import environment
from app.models import Member, Upload, UploadPurpose
from app.uploads import service
from tests.integrations.helpers import bearer, make_token
from tests.statements import counting
from tests.uploads.images import image_bytes, opened, post_upload, stored_files

AVATAR = re.compile(r'<img class="avatar avatar-large" src="(/uploads/[A-Za-z0-9_-]{24}\.\w+)"')


async def _avatar_rows(database) -> list[Upload]:
    async with database.transaction(write=False) as session:
        rows = await session.execute(select(Upload).where(Upload.purpose == UploadPurpose.avatar))
        return list(rows.scalars())


@pytest.fixture
async def fan(client, member_factory, login):
    member = await member_factory(name="Avatar Fan")
    await login(client, member)
    return member


async def test_set_replace_and_remove_an_avatar_on_the_settings_page(client, database, fan):
    profile = f"/u/{fan.handle}"
    assert not AVATAR.search((await client.get(profile)).text)
    assert "You have no avatar yet." in (await client.get("/settings")).text

    response = await post_upload(
        client, image_bytes("JPEG", (600, 400)), "me.jpg", "image/jpeg", url="/settings/avatar"
    )
    assert response.status_code == 303
    settings_page = await client.get("/settings")
    assert "Your avatar was updated." in settings_page.text
    first = AVATAR.search((await client.get(profile)).text)
    assert first, "the profile shows the avatar"
    served = await client.get(first.group(1))
    assert served.status_code == 200
    assert opened(served.content).size == (256, 256), "cropped to a 256px square"
    assert not opened(served.content).getexif().get_ifd(0x8825)

    await post_upload(client, image_bytes("PNG", (100, 80)), "new.png", url="/settings/avatar")
    second = AVATAR.search((await client.get(profile)).text)
    assert second
    assert second.group(1) != first.group(1)
    assert opened((await client.get(second.group(1))).content).size == (80, 80)
    assert (await client.get(first.group(1))).status_code == 404, "the old avatar is gone"
    assert len(await _avatar_rows(database)) == 1

    removed = await client.submit("/settings/avatar/remove")
    assert removed.status_code == 303
    assert "Your avatar was removed." in (await client.get("/settings")).text
    assert not AVATAR.search((await client.get(profile)).text)
    assert (await client.get(second.group(1))).status_code == 404
    assert await _avatar_rows(database) == []


async def test_a_bad_avatar_shows_a_form_error_and_changes_nothing(client, database, fan):
    before = stored_files()
    response = await post_upload(
        client, b"<svg onload=alert(1)></svg>", "me.png", url="/settings/avatar"
    )
    assert response.status_code == 422
    assert "SVG images are not supported" in response.text
    assert 'id="e-avatar"' in response.text
    assert await _avatar_rows(database) == []
    assert stored_files() == before
    assert not AVATAR.search((await client.get(f"/u/{fan.handle}")).text)


async def test_avatar_through_the_api(client, database, fan):
    token = await client.csrf_token()
    put = await client.put(
        "/api/v1/me/avatar",
        files={"file": ("me.webp", image_bytes("WEBP", (300, 300)), "image/webp")},
        headers={"X-CSRF-Token": token},
    )
    assert put.status_code == 200
    url = put.json()["avatar_url"]
    assert url.endswith(".webp")
    assert (await client.get(url)).status_code == 200

    bad = await client.put(
        "/api/v1/me/avatar",
        files={"file": ("me.webp", b"GIF89a nonsense", "image/webp")},
        headers={"X-CSRF-Token": token},
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "file"
    assert (await client.get(url)).status_code == 200, "a failed change keeps the avatar"

    gone = await client.delete("/api/v1/me/avatar", headers={"X-CSRF-Token": token})
    assert gone.status_code == 200
    assert gone.json() == {"avatar_url": None}
    assert (await client.get(url)).status_code == 404


async def test_member_link_shows_a_small_avatar(client, database, fan):
    await post_upload(client, image_bytes("PNG", (64, 64)), "me.png", url="/settings/avatar")
    [upload] = await _avatar_rows(database)
    macro = environment().from_string(
        '{% from "macros/members.html" import member_link %}{{ member_link(m) }}'
    )
    async with database.transaction(write=False) as session:
        members = list((await session.execute(select(Member).order_by(Member.id))).scalars())
    html = macro.render(m=members[0])
    assert f'<img class="avatar avatar-small" src="{upload.url}"' in html
    assert ">Avatar Fan</a>" in html


async def test_anonymous_visitors_cannot_set_an_avatar(client, database):
    response = await post_upload(client, image_bytes("PNG"), "a.png", url="/settings/avatar")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/signin")
    assert await _avatar_rows(database) == []


async def test_remove_avatar_says_whether_there_was_one(database, fan):
    async with database.transaction() as session:
        member = await session.get(Member, fan.id)
        assert member is not None
        upload = await service.set_avatar(session, member, image_bytes("PNG"))
    async with database.transaction() as session:
        member = await session.get(Member, fan.id)
        assert member is not None
        assert member.avatar is not None
        assert member.avatar.id == upload.id
        assert await service.remove_avatar(session, member)
        assert not await service.remove_avatar(session, member)


async def test_the_viewers_avatar_comes_with_their_own_lookup(client, make_client, database, fan):
    """A signed-in member is looked up on every request, with their avatar in the same
    statement: having one costs no query of its own, by cookie or by API token."""
    token = await make_token(client, "avatar check", "read")
    program = make_client()

    async def statements_of_requests() -> tuple[int, int, str]:
        # Uncounted: the day's first visit and the token's first use write rows of their own.
        await client.get("/settings")
        await program.get("/api/v1/me", headers=bearer(token))
        with counting(database) as by_cookie:
            page = await client.get("/settings")
        with counting(database) as by_token:
            me = await program.get("/api/v1/me", headers=bearer(token))
        assert page.status_code == me.status_code == 200
        return len(by_cookie), len(by_token), page.text

    cookie_before, token_before, page = await statements_of_requests()
    assert "You have no avatar yet." in page
    await post_upload(client, image_bytes("PNG", (64, 64)), "me.png", url="/settings/avatar")
    [upload] = await _avatar_rows(database)
    cookie_after, token_after, page = await statements_of_requests()
    assert f'src="{upload.url}" alt="Your avatar"' in page
    assert (cookie_after, token_after) == (cookie_before, token_before)


async def test_a_write_request_changes_its_viewer_as_stored(client, make_client, database, fan):
    """The viewer read as columns is the member as stored, avatar and all: a write request
    by token changes them, the change is kept, and nothing else of theirs moves."""
    await post_upload(client, image_bytes("PNG", (64, 64)), "me.png", url="/settings/avatar")
    [upload] = await _avatar_rows(database)
    token = await make_token(client, "profile bot", "write")
    program = make_client()

    changed = await program.patch("/api/v1/me", json={"bio": "Latte art"}, headers=bearer(token))
    assert changed.status_code == 200
    assert changed.json()["bio"] == "Latte art"
    assert changed.json()["display_name"] == "Avatar Fan"

    again = await program.get("/api/v1/me", headers=bearer(token))
    assert again.json() == changed.json()
    page = await client.get("/settings")
    assert f'src="{upload.url}" alt="Your avatar"' in page.text
    assert "Latte art" in page.text
    async with database.transaction(write=False) as session:
        stored = await session.get(Member, fan.id)
        assert stored is not None
        assert (stored.bio, stored.avatar_upload_id, stored.email) == (
            "Latte art",
            upload.id,
            fan.email,
        )
