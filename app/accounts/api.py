"""Account endpoints of the JSON API."""

from __future__ import annotations

from app.accounts import service
from app.accounts.deps import CurrentMember, SessionDep
from app.accounts.schemas import MeOut, ProfileIn
from app.kit.routing import Router

router = Router(prefix="/api/v1", tags=["accounts"])


@router.get("/me", response_model=MeOut, summary="The signed-in member")
async def me(viewer: CurrentMember) -> MeOut:
    return MeOut.model_validate(viewer)


@router.patch("/me", response_model=MeOut, summary="Change my profile and preferences")
async def update_me(data: ProfileIn, viewer: CurrentMember, session: SessionDep) -> MeOut:
    await service.update_profile(session, viewer, data)
    return MeOut.model_validate(viewer)
