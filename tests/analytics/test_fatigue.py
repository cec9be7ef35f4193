"""Ask-fatigue on the operator's member page and member table: how many campaigns asked a
member and how many they entered recently, in a fixed number of queries."""

from __future__ import annotations

import re
from typing import Any

from app.models import Role
from tests.campaigns.helpers import create_campaign
from tests.statements import counting


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_member_page_and_table_show_invited_and_entered(
    client: Any, make_client: Any, member_factory: Any, login: Any, database: Any
) -> None:
    operator = await member_factory(role=Role.operator, locale="en")
    fan, quiet = await member_factory(name="Fan Fumi"), await member_factory(name="Quiet Kei")
    await login(client, operator)
    first = await create_campaign(client)
    await create_campaign(client, title_en="Second ask")
    fan_client = make_client()
    await login(fan_client, fan)
    entered = await fan_client.send_json("POST", f"/api/v1/campaigns/{first}/entries", {})
    assert entered.status_code == 201

    page = await client.get(f"/ops/members/{fan.id}")
    assert page.status_code == 200
    assert "Invited to 2 / entered 1 campaigns in the last 30 days" in _text(page.text)
    quiet_page = await client.get(f"/ops/members/{quiet.id}?fatigue_days=7")
    assert "Invited to 2 / entered 0 campaigns in the last 7 days" in _text(quiet_page.text)
    for bad, message in (
        ("0", "Choose between 1 and 365 days."),
        ("400", "Choose between 1 and 365 days."),
        ("soon", "Enter a whole number."),
    ):
        refused = await client.get(f"/ops/members/{fan.id}?fatigue_days={bad}")
        assert refused.status_code == 422, bad
        assert message in refused.text

    japanese = await client.get(f"/ops/members/{fan.id}", headers={"Accept-Language": "ja"})
    assert japanese.status_code == 200

    table = await client.get("/ops/members?sort=joined")
    cells = r'(Fan Fumi|Quiet Kei).*?<td class="num fatigue">([^<]+)</td>'
    rows = dict(re.findall(cells, table.text, re.S))
    assert rows == {"Fan Fumi": "2 / 1", "Quiet Kei": "2 / 0"}
    assert "Invited / entered (30 days)" in table.text

    denied = await fan_client.get(f"/ops/members/{fan.id}")
    assert denied.status_code in (403, 404)


async def test_member_table_reads_fatigue_in_a_fixed_number_of_queries(
    client: Any, member_factory: Any, login: Any, database: Any
) -> None:
    operator = await member_factory(role=Role.operator, locale="en")
    await login(client, operator)
    await client.get("/")  # the day's first visit writes; count only the page itself
    await member_factory()
    with counting(database) as few:
        assert (await client.get("/ops/members")).status_code == 200
    for _ in range(6):
        await member_factory()
    with counting(database) as many:
        assert (await client.get("/ops/members")).status_code == 200
    assert len(many) == len(few)
