"""The one place that connects the activity log to the features that follow it.

Every recorded activity is handed to these listeners, in this order, inside the action's
transaction (app.activity.service.record):

1. points (app.points.service.on_activity): pays or reverses per the rules, moves the cached
   totals and the rank, and may record ``rank.reached`` (which passes through every listener);
2. analytics rollups (app.analytics.rollups.on_activity): daily counters and the scores of the
   members concerned; after points, so contribution (RFM "monetary") reads the new totals;
3. notifications (app.notifications.service.on_activity): in-app notifications, mail queued
   for after the commit; after points and analytics, so a notice sees the new rank and status;
4. webhooks (app.integrations.webhooks.on_activity): deliveries for subscribed events, sent
   after the commit.

The community-wide rollup rows the analytics listener counts are written just before each
commit (app.analytics.community), in one order, so crossing transactions cannot deadlock.

Live pushes (app.live.events) are installed by the web app's lifespan instead: they need the
broker, which only a serving process starts. ``create_app()`` and the ``kizuna`` command both
call :func:`install_listeners`, so activity made by the CLI (the demo, imports, admin tools)
earns points and reaches the dashboards exactly as activity made through the web does.
Installing twice is harmless: ``subscribe`` ignores a listener it already has.
"""

from __future__ import annotations

from app.activity.service import subscribe


def install_listeners() -> None:
    from app.analytics import community, rollups
    from app.forums import counters
    from app.integrations import webhooks
    from app.notifications import service as notifications
    from app.points import service as points

    counters.install()  # category rows before community rows at every commit
    community.install()
    subscribe(points.on_activity)
    subscribe(rollups.on_activity)
    subscribe(notifications.on_activity)
    subscribe(webhooks.on_activity)
