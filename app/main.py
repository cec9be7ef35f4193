"""create_app(): settings, lifespan (database, broker), middleware, routers, static files."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse

from app import __version__
from app.accounts.policy import role_label
from app.analytics import service as analytics_service
from app.config import Settings, get_settings
from app.db import Database, get_database, set_database
from app.integrations.ratelimit import TokenRateLimit
from app.kit import handlers, heap
from app.kit.headers import SecurityHeaders
from app.kit.paths import STATIC_DIR
from app.kit.templating import environment
from app.live.lifespan import live_services
from app.pipeline import RequestPipeline
from app.points.middleware import RankContext
from app.scheduler import Ticker
from app.uploads.avatars import avatar_url
from app.wiring import install_listeners


def create_server_app() -> FastAPI:
    """The app as ``kizuna serve`` runs it in each worker process: :func:`create_app`, with
    the process's garbage collector settled once the app has started (app.kit.heap)."""
    return create_app(settle_heap=True)


def create_app(settings: Settings | None = None, *, settle_heap: bool = False) -> FastAPI:
    settings = settings or get_settings()
    settings.check_safe()
    logging.basicConfig(level=settings.log_level.upper())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(settings, create=False)  # a missing SQLite file is an outage
        set_database(database)
        app.state.database = database
        ticker = Ticker(database, settings.scheduler_seconds)
        try:
            async with live_services(settings):
                ticker.start()
                if settle_heap:
                    heap.settle()
                try:
                    yield
                finally:
                    if settle_heap:
                        heap.release()
                    await ticker.stop()
                    await analytics_service.settle()
        finally:
            await database.dispose()
            set_database(None)

    app = FastAPI(
        title="Kizuna API",
        version=__version__,
        description="The JSON API of a Kizuna community. Authenticate with the session cookie "
        "(and the X-CSRF-Token header for writes) or with `Authorization: Bearer <token>`.",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    handlers.install(app)
    environment().globals["role_label"] = role_label
    environment().globals["avatar_url"] = avatar_url
    app.add_middleware(RankContext)  # inside the pipeline: uses its session and viewer
    app.add_middleware(TokenRateLimit, settings=settings)
    app.add_middleware(RequestPipeline, database=get_database, settings=settings)
    app.add_middleware(SecurityHeaders, hsts=settings.secure_cookies)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_listeners()  # points, analytics, notifications, webhooks (app/wiring.py)

    from app.accounts import api as accounts_api
    from app.accounts import web as accounts_web
    from app.admin import web as admin_web
    from app.analytics import api as analytics_api
    from app.analytics import web as analytics_web
    from app.campaigns import api as campaigns_api
    from app.campaigns import web as campaigns_web
    from app.forums import admin as forums_admin
    from app.forums import api as forums_api
    from app.forums import web as forums_web
    from app.integrations import api as integrations_api
    from app.integrations import web as integrations_web
    from app.live import ws as live_ws
    from app.moderation import api as moderation_api
    from app.moderation import web as moderation_web
    from app.notifications import api as notifications_api
    from app.notifications import web as notifications_web
    from app.points import api as points_api
    from app.points import web as points_web
    from app.qa import api as qa_api
    from app.qa import web as qa_web
    from app.uploads import api as uploads_api
    from app.uploads import web as uploads_web

    # Routes are tried in order, router by router, so the forum's (the busiest pages, and
    # likes) come first; no path of a later router is one that theirs would take.
    app.include_router(forums_web.router)
    app.include_router(forums_api.router)
    app.include_router(accounts_web.router)
    app.include_router(accounts_api.router)
    app.include_router(admin_web.router)
    app.include_router(analytics_web.router)
    app.include_router(analytics_api.router)
    app.include_router(forums_admin.router)
    app.include_router(qa_web.router)
    app.include_router(qa_api.router)
    app.include_router(points_web.router)
    app.include_router(points_api.router)
    app.include_router(notifications_web.router)
    app.include_router(notifications_api.router)
    app.include_router(integrations_web.router)
    app.include_router(integrations_api.router)
    app.include_router(live_ws.router)
    app.include_router(moderation_web.router)
    app.include_router(moderation_api.router)
    app.include_router(uploads_web.router)
    app.include_router(uploads_api.router)
    app.include_router(campaigns_web.router)
    app.include_router(campaigns_api.router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok", "version": __version__})

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        await request.state.db.execute(text("SELECT 1"))
        return JSONResponse({"status": "ready"})

    return app
