"""An authorization matrix over the application's route table.

RULES names, for every route (method and path template), the least role that may use it;
anyone signed in with a higher role may too (admins may do everything operators and moderators
may). A route missing from RULES fails the test, so a new route cannot ship without a rule.

Each route is called as anonymous, member, moderator, operator and admin. Reads get the ids of
real objects made here; writes get ids that do not exist (999999) and an empty body, so the
matrix never changes what it then reads. Refused: anonymous is sent to sign in (303 for pages,
401 for the API); anyone else gets 403 or 404 (or 422 where the body is checked before an
object-level rule). Allowed: never 401 or 403. Nobody ever gets a 5xx.

Routes whose rule is enforced per object (a moderator restores a post, the asker accepts an
answer) are listed at the role the object rule requires; rank-gated content has its own test
below (a member of another rank).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.models import Role
from tests.security.conftest import UNSAFE, http_routes

ANYONE, MEMBER, MODERATOR, OPERATOR, ADMIN = "anyone", "member", "moderator", "operator", "admin"
ROLES = ["anonymous", "member", "moderator", "operator", "admin"]
ALLOWED = {
    ANYONE: set(ROLES),
    MEMBER: {"member", "moderator", "operator", "admin"},
    MODERATOR: {"moderator", "admin"},
    OPERATOR: {"operator", "admin"},
    ADMIN: {"admin"},
}
# Requests after which the browser's session is gone (sign out, revoke all, new password).
SESSION_ENDING = {"/signout", "/settings/sessions/revoke", "/settings/password"}
MISSING = 999999

RULES: dict[tuple[str, str], str] = {
    ("GET", "/"): ANYONE,
    ("GET", "/activate/{token}"): ANYONE,
    ("GET", "/admin"): ADMIN,
    ("GET", "/claim/{token}"): ANYONE,
    ("POST", "/claim/{token}"): ANYONE,
    ("GET", "/admin/categories"): ADMIN,
    ("GET", "/admin/categories/new"): ADMIN,
    ("POST", "/admin/categories/new"): ADMIN,
    ("GET", "/admin/categories/{category_id}"): ADMIN,
    ("POST", "/admin/categories/{category_id}"): ADMIN,
    ("POST", "/admin/categories/{category_id}/delete"): ADMIN,
    ("POST", "/admin/members/{member_id}/role"): ADMIN,
    ("GET", "/admin/moderation"): ADMIN,
    ("POST", "/admin/moderation"): ADMIN,
    ("GET", "/admin/outbox"): ADMIN,
    ("GET", "/admin/points"): ADMIN,
    ("GET", "/admin/points/adjust"): ADMIN,
    ("POST", "/admin/points/adjust"): ADMIN,
    ("POST", "/admin/points/rules"): ADMIN,
    ("GET", "/admin/ranks"): ADMIN,
    ("POST", "/admin/ranks"): ADMIN,
    ("POST", "/admin/ranks/{rank_id}"): ADMIN,
    ("POST", "/admin/ranks/{rank_id}/delete"): ADMIN,
    ("POST", "/admin/words"): ADMIN,
    ("POST", "/admin/words/{word_id}/delete"): ADMIN,
    ("PUT", "/api/v1/admin/members/{member_id}/role"): ADMIN,
    ("GET", "/api/v1/admin/moderation/settings"): ADMIN,
    ("PATCH", "/api/v1/admin/moderation/settings"): ADMIN,
    ("GET", "/api/v1/admin/words"): ADMIN,
    ("POST", "/api/v1/admin/words"): ADMIN,
    ("DELETE", "/api/v1/admin/words/{word_id}"): ADMIN,
    ("GET", "/api/v1/campaigns"): ANYONE,
    ("POST", "/api/v1/campaigns"): OPERATOR,
    ("GET", "/api/v1/campaigns/{campaign_id}"): ANYONE,
    ("PUT", "/api/v1/campaigns/{campaign_id}"): OPERATOR,
    ("POST", "/api/v1/campaigns/{campaign_id}/announce"): OPERATOR,
    ("POST", "/api/v1/campaigns/{campaign_id}/attendance"): OPERATOR,
    ("POST", "/api/v1/campaigns/{campaign_id}/close"): OPERATOR,
    ("POST", "/api/v1/campaigns/{campaign_id}/draw"): OPERATOR,
    ("GET", "/api/v1/campaigns/{campaign_id}/entries"): OPERATOR,
    ("POST", "/api/v1/campaigns/{campaign_id}/entries"): MEMBER,
    ("GET", "/api/v1/campaigns/{campaign_id}/entries/me"): MEMBER,
    ("POST", "/api/v1/campaigns/{campaign_id}/invites"): OPERATOR,
    ("POST", "/api/v1/campaigns/{campaign_id}/open"): OPERATOR,
    ("GET", "/api/v1/campaigns/{campaign_id}/report"): OPERATOR,
    ("POST", "/api/v1/campaigns/{campaign_id}/schedule"): OPERATOR,
    ("GET", "/api/v1/categories"): ANYONE,
    ("POST", "/api/v1/categories"): ADMIN,
    ("DELETE", "/api/v1/categories/{category_id}"): ADMIN,
    ("PUT", "/api/v1/categories/{category_id}"): ADMIN,
    ("GET", "/api/v1/categories/{slug}"): ANYONE,
    ("GET", "/api/v1/leaderboards/{period}"): ANYONE,
    ("GET", "/api/v1/me"): MEMBER,
    ("PATCH", "/api/v1/me"): MEMBER,
    ("DELETE", "/api/v1/me/avatar"): MEMBER,
    ("PUT", "/api/v1/me/avatar"): MEMBER,
    ("GET", "/api/v1/me/redemptions"): MEMBER,
    ("GET", "/api/v1/members/{handle}/points"): ANYONE,
    ("GET", "/api/v1/mod/audit"): MODERATOR,
    ("GET", "/api/v1/mod/audit.csv"): MODERATOR,
    ("GET", "/api/v1/mod/members/{member_id}"): MODERATOR,
    ("POST", "/api/v1/mod/members/{member_id}/{action}"): MODERATOR,
    ("POST", "/api/v1/mod/posts/{post_id}/actions"): MODERATOR,
    ("GET", "/api/v1/mod/queue"): MODERATOR,
    ("POST", "/api/v1/mod/topics/{topic_id}/actions"): MODERATOR,
    ("GET", "/api/v1/my/moderation"): MEMBER,
    ("GET", "/api/v1/notifications"): MEMBER,
    ("GET", "/api/v1/notifications/preferences"): MEMBER,
    ("PATCH", "/api/v1/notifications/preferences"): MEMBER,
    ("POST", "/api/v1/notifications/read-all"): MEMBER,
    ("POST", "/api/v1/notifications/{notification_id}/read"): MEMBER,
    ("GET", "/api/v1/ops/ambassadors"): OPERATOR,
    ("GET", "/api/v1/ops/charts/{name}"): OPERATOR,
    ("GET", "/api/v1/ops/dashboard"): OPERATOR,
    ("GET", "/api/v1/ops/members"): OPERATOR,
    ("GET", "/api/v1/ops/members/{member_id}"): OPERATOR,
    ("POST", "/api/v1/ops/members/{member_id}/ambassador"): OPERATOR,
    ("GET", "/api/v1/ops/segments"): OPERATOR,
    ("POST", "/api/v1/ops/segments"): OPERATOR,
    ("GET", "/api/v1/ops/surveys"): OPERATOR,
    ("POST", "/api/v1/ops/surveys"): OPERATOR,
    ("GET", "/api/v1/ops/surveys/{survey_id}/results"): OPERATOR,
    ("GET", "/api/v1/points"): MEMBER,
    ("POST", "/api/v1/points/adjustments"): ADMIN,
    ("POST", "/api/v1/points/awards"): OPERATOR,
    ("GET", "/api/v1/points/ledger"): MEMBER,
    ("GET", "/api/v1/points/rules"): ANYONE,
    ("PUT", "/api/v1/points/rules/{verb}"): ADMIN,
    ("DELETE", "/api/v1/posts/{post_id}"): MEMBER,
    ("GET", "/api/v1/posts/{post_id}"): ANYONE,
    ("PATCH", "/api/v1/posts/{post_id}"): MEMBER,
    ("DELETE", "/api/v1/posts/{post_id}/accept"): MEMBER,
    ("PUT", "/api/v1/posts/{post_id}/accept"): MEMBER,
    ("POST", "/api/v1/posts/{post_id}/flags"): MEMBER,
    ("DELETE", "/api/v1/posts/{post_id}/like"): MEMBER,
    ("PUT", "/api/v1/posts/{post_id}/like"): MEMBER,
    ("POST", "/api/v1/posts/{post_id}/restore"): MODERATOR,
    ("GET", "/api/v1/posts/{post_id}/revisions"): MEMBER,
    ("PUT", "/api/v1/posts/{post_id}/vote"): MEMBER,
    ("GET", "/api/v1/products"): ANYONE,
    ("POST", "/api/v1/products"): OPERATOR,
    ("GET", "/api/v1/products/{product_id}"): ANYONE,
    ("PUT", "/api/v1/products/{product_id}"): OPERATOR,
    ("PUT", "/api/v1/products/{product_id}/review"): MEMBER,
    ("GET", "/api/v1/products/{product_id}/reviews"): ANYONE,
    ("GET", "/api/v1/ranks"): ANYONE,
    ("POST", "/api/v1/ranks"): ADMIN,
    ("DELETE", "/api/v1/ranks/{rank_id}"): ADMIN,
    ("PUT", "/api/v1/ranks/{rank_id}"): ADMIN,
    ("GET", "/api/v1/redemptions"): OPERATOR,
    ("POST", "/api/v1/redemptions/{redemption_id}/fulfil"): OPERATOR,
    ("POST", "/api/v1/redemptions/{redemption_id}/refuse"): OPERATOR,
    ("GET", "/api/v1/rewards"): ANYONE,
    ("POST", "/api/v1/rewards"): OPERATOR,
    ("PUT", "/api/v1/rewards/{reward_id}"): OPERATOR,
    ("POST", "/api/v1/rewards/{reward_id}/redemptions"): MEMBER,
    ("GET", "/api/v1/search"): ANYONE,
    ("POST", "/api/v1/surveys/{survey_id}/responses"): MEMBER,
    ("GET", "/api/v1/tokens"): MEMBER,
    ("POST", "/api/v1/tokens"): MEMBER,
    ("DELETE", "/api/v1/tokens/{token_id}"): MEMBER,
    ("GET", "/api/v1/topics"): ANYONE,
    ("POST", "/api/v1/topics"): MEMBER,
    ("GET", "/api/v1/topics/{topic_id}"): ANYONE,
    ("PATCH", "/api/v1/topics/{topic_id}"): MODERATOR,
    ("POST", "/api/v1/topics/{topic_id}/flags"): MEMBER,
    ("GET", "/api/v1/topics/{topic_id}/posts"): ANYONE,
    ("POST", "/api/v1/topics/{topic_id}/posts"): MEMBER,
    ("POST", "/api/v1/uploads"): MEMBER,
    ("GET", "/api/v1/webhooks"): OPERATOR,
    ("POST", "/api/v1/webhooks"): OPERATOR,
    ("DELETE", "/api/v1/webhooks/{webhook_id}"): OPERATOR,
    ("GET", "/api/v1/webhooks/{webhook_id}/deliveries"): OPERATOR,
    ("GET", "/c/{slug}"): ANYONE,
    ("GET", "/campaigns"): ANYONE,
    ("GET", "/campaigns/{campaign_id}"): ANYONE,
    ("POST", "/campaigns/{campaign_id}/enter"): MEMBER,
    ("GET", "/campaigns/{campaign_id}/gallery"): ANYONE,
    ("GET", "/categories"): ANYONE,
    ("GET", "/docs"): ANYONE,
    ("GET", "/docs/oauth2-redirect"): ANYONE,
    ("GET", "/healthz"): ANYONE,
    ("GET", "/integrations/webhooks"): OPERATOR,
    ("POST", "/integrations/webhooks"): OPERATOR,
    ("GET", "/integrations/webhooks/{webhook_id}"): OPERATOR,
    ("POST", "/integrations/webhooks/{webhook_id}/active"): OPERATOR,
    ("POST", "/integrations/webhooks/{webhook_id}/delete"): OPERATOR,
    ("POST", "/integrations/webhooks/{webhook_id}/deliveries/{delivery_id}/retry"): OPERATOR,
    ("GET", "/leaderboard"): ANYONE,
    ("POST", "/locale"): ANYONE,
    ("GET", "/mod"): MODERATOR,
    ("GET", "/mod/audit"): MODERATOR,
    ("GET", "/mod/audit.csv"): MODERATOR,
    ("GET", "/mod/members/{member_id}"): MODERATOR,
    ("POST", "/mod/members/{member_id}/{action}"): MODERATOR,
    ("POST", "/mod/posts/{post_id}"): MODERATOR,
    ("GET", "/mod/topics/{topic_id}"): MODERATOR,
    ("POST", "/mod/topics/{topic_id}"): MODERATOR,
    ("GET", "/my/moderation"): MEMBER,
    ("GET", "/notifications"): MEMBER,
    ("POST", "/notifications/read-all"): MEMBER,
    ("GET", "/notifications/{notification_id}/open"): MEMBER,
    ("POST", "/notifications/{notification_id}/read"): MEMBER,
    ("GET", "/openapi.json"): ANYONE,
    ("GET", "/ops"): OPERATOR,
    ("GET", "/ops/ambassadors"): OPERATOR,
    ("GET", "/ops/campaigns"): OPERATOR,
    ("GET", "/ops/campaigns/new"): OPERATOR,
    ("POST", "/ops/campaigns/new"): OPERATOR,
    ("GET", "/ops/campaigns/{campaign_id}"): OPERATOR,
    ("POST", "/ops/campaigns/{campaign_id}"): OPERATOR,
    ("POST", "/ops/campaigns/{campaign_id}/attendance"): OPERATOR,
    ("GET", "/ops/campaigns/{campaign_id}/audience"): OPERATOR,
    ("GET", "/ops/campaigns/{campaign_id}/entries"): OPERATOR,
    ("GET", "/ops/campaigns/{campaign_id}/entries.csv"): OPERATOR,
    ("POST", "/ops/campaigns/{campaign_id}/invites"): OPERATOR,
    ("GET", "/ops/campaigns/{campaign_id}/report"): OPERATOR,
    ("POST", "/ops/campaigns/{campaign_id}/state/{action}"): OPERATOR,
    ("GET", "/ops/export/{name}.csv"): OPERATOR,
    ("GET", "/ops/import"): OPERATOR,
    ("POST", "/ops/import"): OPERATOR,
    ("GET", "/ops/members"): OPERATOR,
    ("GET", "/ops/members.csv"): OPERATOR,
    ("GET", "/ops/members/{member_id}"): OPERATOR,
    ("POST", "/ops/members/{member_id}/ambassador"): OPERATOR,
    ("GET", "/ops/products"): OPERATOR,
    ("POST", "/ops/products"): OPERATOR,
    ("POST", "/ops/products/{product_id}"): OPERATOR,
    ("POST", "/ops/recompute"): OPERATOR,
    ("POST", "/ops/redemptions/{redemption_id}/{decision}"): OPERATOR,
    ("GET", "/ops/retention"): OPERATOR,
    ("GET", "/ops/rewards"): OPERATOR,
    ("POST", "/ops/rewards"): OPERATOR,
    ("POST", "/ops/rewards/{reward_id}"): OPERATOR,
    ("GET", "/ops/scores"): OPERATOR,
    ("POST", "/ops/segments"): OPERATOR,
    ("POST", "/ops/segments/{segment_id}/delete"): OPERATOR,
    ("GET", "/ops/settings"): OPERATOR,
    ("POST", "/ops/settings"): ADMIN,  # operators read the settings; admins change them
    ("GET", "/ops/surveys"): OPERATOR,
    ("POST", "/ops/surveys"): OPERATOR,
    ("GET", "/ops/surveys/{survey_id}"): OPERATOR,
    ("POST", "/ops/surveys/{survey_id}/close"): OPERATOR,
    ("GET", "/ops/surveys/{survey_id}/responses.csv"): OPERATOR,
    ("GET", "/p/{post_id}"): ANYONE,
    ("POST", "/p/{post_id}/accept"): MEMBER,
    ("POST", "/p/{post_id}/delete"): MEMBER,
    ("GET", "/p/{post_id}/edit"): MEMBER,
    ("POST", "/p/{post_id}/edit"): MEMBER,
    ("POST", "/p/{post_id}/like"): MEMBER,
    ("POST", "/p/{post_id}/restore"): MODERATOR,
    ("GET", "/p/{post_id}/revisions"): MEMBER,
    ("POST", "/p/{post_id}/unaccept"): MEMBER,
    ("POST", "/p/{post_id}/unlike"): MEMBER,
    ("POST", "/p/{post_id}/vote"): MEMBER,
    ("GET", "/points"): MEMBER,
    ("POST", "/points/celebrated"): MEMBER,
    ("GET", "/points/guide"): ANYONE,
    ("GET", "/posts/{post_id}/flag"): MEMBER,
    ("POST", "/posts/{post_id}/flag"): MEMBER,
    ("GET", "/products"): ANYONE,
    ("GET", "/products/{product_id}"): ANYONE,
    ("POST", "/products/{product_id}/review"): MEMBER,
    ("GET", "/readyz"): ANYONE,
    ("GET", "/rewards"): ANYONE,
    ("POST", "/rewards/{reward_id}/redeem"): MEMBER,
    ("GET", "/search"): ANYONE,
    ("GET", "/settings"): MEMBER,
    ("POST", "/settings"): MEMBER,
    ("POST", "/settings/avatar"): MEMBER,
    ("POST", "/settings/avatar/remove"): MEMBER,
    ("GET", "/settings/notifications"): MEMBER,
    ("POST", "/settings/notifications"): MEMBER,
    ("POST", "/settings/password"): MEMBER,
    ("POST", "/settings/sessions/revoke"): MEMBER,
    ("GET", "/settings/tokens"): MEMBER,
    ("POST", "/settings/tokens"): MEMBER,
    ("POST", "/settings/tokens/{token_id}/revoke"): MEMBER,
    ("GET", "/signin"): ANYONE,
    ("POST", "/signin"): ANYONE,
    ("POST", "/signout"): ANYONE,
    ("GET", "/signup"): ANYONE,
    ("POST", "/signup"): ANYONE,
    ("GET", "/surveys"): MEMBER,
    ("GET", "/surveys/{survey_id}"): MEMBER,
    ("POST", "/surveys/{survey_id}"): MEMBER,
    ("GET", "/t/new"): MEMBER,
    ("POST", "/t/new"): MEMBER,
    ("GET", "/t/{topic_id}"): ANYONE,
    ("POST", "/t/{topic_id}/moderate"): MODERATOR,
    ("GET", "/t/{topic_id}/posts/{post_id}"): ANYONE,
    ("POST", "/t/{topic_id}/reply"): MEMBER,
    ("GET", "/tags/{name}"): ANYONE,
    ("GET", "/u/{handle}"): ANYONE,
    ("GET", "/unsubscribe/{token}"): ANYONE,
    ("POST", "/unsubscribe/{token}"): ANYONE,
    ("POST", "/uploads"): MEMBER,
    ("GET", "/uploads/new"): MEMBER,
    ("GET", "/uploads/{name}"): ANYONE,
}

_PARAM = re.compile(r"\{([^}:]+)(?::[^}]+)?\}")


def test_every_route_has_a_rule(app):
    routes = set(http_routes(app))
    missing = sorted(routes - RULES.keys())
    assert missing == [], f"add these routes to RULES: {missing}"
    stale = sorted(RULES.keys() - routes)
    assert stale == [], f"these routes are gone; remove them from RULES: {stale}"


async def _objects(people: dict[str, Any]) -> dict[str, str]:
    admin, member = people["admin"], people["member"]
    category = await admin.send_json(
        "POST", "/api/v1/categories", {"slug": "matrix", "name_en": "Matrix"}
    )
    assert category.status_code == 201, category.text
    topic = await member.send_json(
        "POST",
        "/api/v1/topics",
        {"category_id": category.json()["id"], "title": "Matrix topic", "body": "Hello."},
    )
    assert topic.status_code == 201, topic.text
    me = (await member.get("/api/v1/me")).json()
    return {
        "topic_id": str(topic.json()["topic"]["id"]),
        "post_id": str(topic.json()["posts"][0]["id"]),
        "category_id": str(category.json()["id"]),
        "slug": "matrix",
        "handle": me["handle"],
        "member_id": str(me["id"]),
        "name": "matrix",
        "period": "week",
        "token": "not-a-real-token-0123456789",
        "action": "suspend",
    }


def _url(template: str, method: str, objects: dict[str, str]) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if method in UNSAFE and name.endswith("_id"):
            return str(MISSING)
        return objects.get(name, str(MISSING))

    return _PARAM.sub(fill, template)


async def test_each_role_gets_what_the_matrix_says(app, make_client, member_factory, login):
    people: dict[str, Any] = {"anonymous": make_client()}
    accounts: dict[str, Any] = {}
    for role in ROLES[1:]:
        people[role] = make_client()
        accounts[role] = await member_factory(role=Role(role))
        await login(people[role], accounts[role])
    objects = await _objects(people)
    tokens: dict[str, str] = {}
    wrong: list[str] = []
    for method, template in http_routes(app):
        rule = RULES[(method, template)]
        url = _url(template, method, objects)
        for role in ROLES:
            client = people[role]
            kwargs: dict[str, Any] = {}
            if method in UNSAFE:
                if role not in tokens:
                    tokens[role] = await client.csrf_token()
                kwargs["headers"] = {"X-CSRF-Token": tokens[role]}
                if template.startswith("/api/"):
                    kwargs["json"] = {}
                else:
                    kwargs["data"] = {"csrf_token": tokens[role]}
            answer = await client.request(method, url, **kwargs)
            status = answer.status_code
            if role != "anonymous" and method in UNSAFE and template in SESSION_ENDING:
                await login(client, accounts[role])
                tokens.pop(role, None)
            allowed = role in ALLOWED[rule]
            if status >= 500:
                ok = False
            elif allowed:
                ok = status not in (401, 403) and not (
                    status == 303 and answer.headers.get("location", "").startswith("/signin")
                )
            elif role == "anonymous":
                ok = status == 401 or (
                    status == 303 and answer.headers.get("location", "").startswith("/signin")
                )
            else:
                ok = status in (403, 404, 422)
            if not ok:
                wrong.append(f"{method} {template} as {role} ({rule}): {status}")
    assert wrong == [], "\n".join(wrong)


@pytest.mark.parametrize("surface", ["page", "api"])
async def test_a_member_of_another_rank_cannot_find_a_rank_gated_category(surface, signed_in):
    admin, _ = await signed_in("admin")
    gold, gold_member = await signed_in("member")
    plain, _ = await signed_in("member")
    adjusted = await admin.send_json(
        "POST",
        "/api/v1/points/adjustments",
        {"member_id": gold_member.id, "amount": 500, "reason": "Gold for the matrix"},
    )
    assert adjusted.status_code == 201, adjusted.text
    made = await admin.send_json(
        "POST",
        "/api/v1/categories",
        {
            "slug": "gold-lounge",
            "name_en": "Gold lounge",
            "visibility": "min_rank",
            "min_rank_threshold": 400,
        },
    )
    assert made.status_code == 201, made.text
    if surface == "page":
        assert (await gold.get("/c/gold-lounge")).status_code == 200
        assert (await plain.get("/c/gold-lounge")).status_code == 404
        assert "Gold lounge" in (await gold.get("/categories")).text
        assert "Gold lounge" not in (await plain.get("/categories")).text
    else:
        assert (await gold.get("/api/v1/categories/gold-lounge")).status_code == 200
        assert (await plain.get("/api/v1/categories/gold-lounge")).status_code == 404
        slugs = [c["slug"] for c in (await plain.get("/api/v1/categories")).json()]
        assert "gold-lounge" not in slugs
