"""Start and stop what runs beside the web app: the live broker and the webhook sender."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from app.config import Settings
from app.live.broker import create_broker, set_broker


@asynccontextmanager
async def live_services(settings: Settings) -> AsyncIterator[None]:
    from app.integrations import webhooks
    from app.live import events

    events.install()
    broker = create_broker(settings)
    await broker.start()
    set_broker(broker)
    webhooks.start_worker()
    try:
        yield
    finally:
        await webhooks.stop_worker()
        set_broker(None)
        await broker.stop()
