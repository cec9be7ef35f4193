"""API tokens for tests: made on the settings page, as a member makes them, and sent."""

from __future__ import annotations

import re

TOKEN = re.compile(r'<code id="new-token">(kz_[A-Za-z0-9_-]+)</code>')


async def make_token(client, name: str, scope: str) -> str:
    page = await client.submit("/settings/tokens", {"name": name, "scope": scope})
    assert page.status_code == 200
    match = TOKEN.search(page.text)
    assert match, "the new token is shown once"
    return match.group(1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
