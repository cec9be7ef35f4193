"""Typed dependencies: route signatures read like sentences (``viewer: CurrentMember``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from app.kit.errors import Forbidden, NotFound, Unauthorized
from app.kit.i18n import lazy_gettext
from app.models import Member

# The dependencies are coroutines: FastAPI runs a plain ``def`` dependency in a worker thread,
# which would cost every request two thread hand-offs just to read request.state.


def _viewer(request: Request) -> Member | None:
    viewer: Member | None = getattr(request.state, "viewer", None)
    return viewer


def _member(request: Request) -> Member:
    viewer = _viewer(request)
    if viewer is None:
        raise Unauthorized()
    return viewer


async def get_db(request: Request) -> AsyncSession:
    session: AsyncSession = request.state.db
    return session


async def get_viewer(request: Request) -> Member | None:
    return _viewer(request)


async def require_member(request: Request) -> Member:
    return _member(request)


async def require_moderator(request: Request) -> Member:
    viewer = _member(request)
    if not viewer.can_moderate:
        raise Forbidden()
    return viewer


async def require_operator(request: Request) -> Member:
    viewer = _member(request)
    if not viewer.can_operate:
        raise Forbidden()
    return viewer


async def require_admin(request: Request) -> Member:
    viewer = _member(request)
    if not viewer.is_admin:
        raise Forbidden()
    scopes = getattr(request.state, "token_scopes", None)
    if scopes is not None and "admin" not in scopes:
        raise Forbidden(lazy_gettext("This API token lacks the admin scope."))
    return viewer


def page_request(request: Request) -> tuple[AsyncSession, Member | None]:
    """The request's session and viewer, for the busiest pages (home, a category, a topic),
    which declare no dependencies: FastAPI solving these two trivial ones, and checking an
    id parameter, cost 3% of a topic page's instructions (in-process)."""
    return request.state.db, _viewer(request)


def path_id(request: Request, name: str) -> int:
    """A numeric id from the path, for routes that do not declare it: anything else is a
    page that does not exist."""
    value = request.path_params[name]
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise NotFound()
    return int(value)


SessionDep = Annotated[AsyncSession, Depends(get_db)]
OptionalMember = Annotated[Member | None, Depends(get_viewer)]
CurrentMember = Annotated[Member, Depends(require_member)]
CurrentModerator = Annotated[Member, Depends(require_moderator)]
CurrentOperator = Annotated[Member, Depends(require_operator)]
CurrentAdmin = Annotated[Member, Depends(require_admin)]
