"""Activity made by the `kizuna` command reaches the same listeners as the web's: the demo's
members earn points for what they did and the operator dashboard shows it at once."""

from __future__ import annotations

import re
from pathlib import Path

from app.activity.service import _listeners
from app.analytics import rollups
from app.integrations import webhooks
from app.notifications import service as notifications
from app.points import service as points
from app.wiring import install_listeners
from tests.faults.instance import Instance, fresh_database


def test_listeners_are_installed_once_in_the_documented_order() -> None:
    install_listeners()
    install_listeners()
    order = [points.on_activity, rollups.on_activity, notifications.on_activity]
    order.append(webhooks.on_activity)
    positions = [_listeners.index(listener) for listener in order]
    assert positions == sorted(positions)
    assert all(_listeners.count(listener) == 1 for listener in order)


def test_demo_members_have_points_and_the_dashboard_shows_the_demo(tmp_path: Path) -> None:
    with fresh_database(tmp_path) as url:
        instance = Instance(tmp_path, url)
        instance.kizuna("migrate", "upgrade")
        demo = instance.kizuna("demo")
        assert "Password for all demo accounts" in demo.stdout
        password = re.search(r"Password for all demo accounts: (\S+)", demo.stdout)
        assert password is not None
        # Points paid by rules for demo activity, not only the demo's manual adjustments.
        earned = dict(
            instance.query(
                "SELECT m.email, SUM(l.lifetime_delta) FROM point_ledger l "
                "JOIN members m ON m.id = l.member_id WHERE l.kind = 'topic.created' "
                "GROUP BY m.email"
            )
        )
        assert earned
        assert all(total > 0 for total in earned.values())
        welcome = instance.query(
            "SELECT COUNT(*) FROM point_ledger WHERE kind = 'member.signed_up'"
        )[0][0]
        members = instance.query("SELECT COUNT(*) FROM members")[0][0]
        assert welcome == members
        assert instance.kizuna("points", "check").returncode == 0
        rolled = dict(instance.query("SELECT verb, SUM(count) FROM analytics_daily GROUP BY verb"))
        logged = dict(instance.query("SELECT verb, COUNT(*) FROM activities GROUP BY verb"))
        assert rolled == logged  # every activity, once, with no rebuild

        instance.start()
        try:
            browser = instance.browser()
            browser.sign_in("ops@example.com", password.group(1))
            dashboard = browser.get("/ops")
            assert dashboard.status_code == 200
            # The operator reads Japanese (the demo's ops account); likes: いいね.
            likes = re.search(
                r'figure-label">(?:Likes|いいね)</p>\s*<p class="figure-value">(\d+)',
                dashboard.text,
            )
            assert likes is not None, dashboard.text[:3000]
            assert int(likes.group(1)) > 0
            ranking = browser.get("/leaderboard")
            assert "花子 Hana" in ranking.text
            browser.close()
        finally:
            instance.stop()
