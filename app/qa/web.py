"""Q&A actions from the topic page: vote on a post, accept or unaccept an answer."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app.accounts.deps import CurrentMember, SessionDep
from app.forums import queries
from app.forums.schemas import VoteIn
from app.forums.web import post_location
from app.kit.errors import Invalid
from app.kit.forms import read_form, validate
from app.kit.routing import Router
from app.kit.templating import is_htmx, render
from app.qa import service

router = Router(include_in_schema=False)


@router.post("/p/{post_id}/vote")
async def vote(
    request: Request, post_id: int, session: SessionDep, viewer: CurrentMember
) -> Response:
    form = await read_form(request)
    raw = form.get("value", "").strip()
    value: int | str = int(raw) if raw.lstrip("-").isdigit() else raw
    data, errors = validate(VoteIn, {"value": value})
    if data is None:
        raise Invalid(errors.get("value"), field="value")
    await service.vote(session, viewer, post_id, data.value)
    post, context = await queries.get_post(session, viewer, post_id)
    if is_htmx(request):
        view = await queries.post_view(session, viewer, post, context.topic)
        return render(request, "qa/_vote.html", {"post": view})
    return RedirectResponse(post_location(context.topic, post), status_code=303)


@router.post("/p/{post_id}/accept")
async def accept(post_id: int, session: SessionDep, viewer: CurrentMember) -> Response:
    await service.accept(session, viewer, post_id)
    return RedirectResponse(f"/p/{post_id}", status_code=303)


@router.post("/p/{post_id}/unaccept")
async def unaccept(post_id: int, session: SessionDep, viewer: CurrentMember) -> Response:
    await service.unaccept(session, viewer, post_id)
    return RedirectResponse(f"/p/{post_id}", status_code=303)
