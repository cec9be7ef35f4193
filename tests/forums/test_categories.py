"""Admins manage categories in pages and the API; nobody else may."""

from __future__ import annotations

from app.models import Category


async def test_admin_creates_and_edits_categories_in_pages(client, member_factory, login, forum):
    await login(client, await member_factory(role="admin"))
    created = await client.submit(
        "/admin/categories/new",
        {
            "name_en": "Help desk",
            "name_ja": "ヘルプ",
            "slug": "help-desk",
            "colour": "#1e6b34",
            "position": "2",
            "kind": "question",
            "visibility": "members",
            "posting": "members",
            "min_rank_threshold": "",
        },
    )
    assert created.status_code == 303
    listing = await client.get("/admin/categories")
    assert "Help desk" in listing.text
    assert "ヘルプ" in listing.text
    (category,) = (await client.get("/api/v1/categories")).json()
    assert category["kind"] == "question"
    assert category["visibility"] == "members"

    duplicate = await client.submit(
        "/admin/categories/new", {"name_en": "Again", "slug": "help-desk", "colour": "#000000"}
    )
    assert duplicate.status_code == 409
    bad = await client.submit(
        "/admin/categories/new", {"name_en": "Bad", "slug": "Bad Slug!", "colour": "red"}
    )
    assert bad.status_code == 422
    assert 'id="e-slug"' in bad.text
    assert 'id="e-colour"' in bad.text
    assert await forum.count(Category) == 1

    gated = {
        "name_en": "Help centre",
        "slug": "help",
        "colour": "#1e6b34",
        "kind": "question",
        "visibility": "min_rank",
        "posting": "min_rank",
    }
    edit = await client.submit(
        f"/admin/categories/{category['id']}", {**gated, "min_rank_threshold": "50"}
    )
    assert edit.status_code == 303
    stored = await forum.get(Category, category["id"])
    assert (stored.name_en, stored.slug, stored.min_rank_threshold) == ("Help centre", "help", 50)

    # A rank gate no member could reach (and PostgreSQL's column could not hold) is refused
    # beside its field, and the stored gate stays as it was.
    for too_high in ("100000001", "9999999999"):
        refused = await client.submit(
            f"/admin/categories/{category['id']}", {**gated, "min_rank_threshold": too_high}
        )
        assert refused.status_code == 422, too_high
        assert 'id="e-min_rank_threshold"' in refused.text
    assert (await forum.get(Category, category["id"])).min_rank_threshold == 50


async def test_category_api_is_for_admins(client, make_client, member_factory, login, forum):
    payload = {"slug": "news", "name_en": "News", "name_ja": "お知らせ", "posting": "staff"}
    member = make_client()
    await login(member, await member_factory())
    assert (await member.send_json("POST", "/api/v1/categories", payload)).status_code == 403
    assert (await member.get("/admin/categories")).status_code == 403

    await login(client, await member_factory(role="admin"))
    created = await client.send_json("POST", "/api/v1/categories", payload)
    assert created.status_code == 201
    category_id = created.json()["id"]
    ja = await member.get("/api/v1/categories", headers={"Accept-Language": "ja"})
    assert [c["name_en"] for c in ja.json()] == ["News"]

    topic = await forum.topic(
        await member_factory(role="moderator"), await forum.get(Category, category_id)
    )
    refused = await client.send_json("DELETE", f"/api/v1/categories/{category_id}")
    assert refused.status_code == 409
    changed = await client.send_json(
        "PUT", f"/api/v1/categories/{category_id}", {**payload, "kind": "question"}
    )
    assert changed.status_code == 409
    assert changed.json()["error"]["field"] == "kind"
    assert topic.id

    empty = await client.send_json(
        "POST", "/api/v1/categories", {"slug": "empty", "name_en": "Empty"}
    )
    removed = await client.send_json("DELETE", f"/api/v1/categories/{empty.json()['id']}")
    assert removed.status_code == 204
    assert await forum.count(Category) == 1
