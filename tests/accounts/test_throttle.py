from __future__ import annotations

from tests.factories import PASSWORD


async def test_sign_in_is_throttled_per_account(make_client, member_factory, settings):
    await member_factory(email="target@example.com")
    for attempt in range(settings.signin_attempts_per_account):
        # every attempt from a different address: the per-account limit still applies
        response = await make_client(f"10.0.0.{attempt + 1}").submit(
            "/signin", {"email": "target@example.com", "password": "guess number one"}
        )
        assert response.status_code == 400
    blocked = await make_client("10.0.1.1").submit(
        "/signin", {"email": "target@example.com", "password": PASSWORD}
    )
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert "Too many attempts. Try again in" in blocked.text
    # other accounts are unaffected
    await member_factory(email="other@example.com")
    other = await make_client("10.0.1.2").submit(
        "/signin", {"email": "other@example.com", "password": PASSWORD}
    )
    assert other.status_code == 303


async def test_sign_in_is_throttled_per_address(make_client, settings):
    client = make_client("192.0.2.7")
    for number in range(settings.signin_attempts_per_ip):
        response = await client.submit(
            "/signin", {"email": f"spray{number}@example.com", "password": "guess number one"}
        )
        assert response.status_code == 400
    blocked = await client.submit(
        "/signin", {"email": "another@example.com", "password": "guess number one"}
    )
    assert blocked.status_code == 429
    elsewhere = await make_client("192.0.2.8").submit(
        "/signin", {"email": "another@example.com", "password": "guess number one"}
    )
    assert elsewhere.status_code == 400
