from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from app.accounts.deps import CurrentAdmin, SessionDep
from app.kit.routing import Router
from app.kit.templating import render
from app.models import OutboxMail

router = Router(prefix="/admin", include_in_schema=False)


@router.get("")
async def admin_home(request: Request, viewer: CurrentAdmin) -> Response:
    return render(request, "admin/index.html")


@router.get("/outbox")
async def outbox(request: Request, session: SessionDep, viewer: CurrentAdmin) -> Response:
    before = request.query_params.get("before", "")
    query = select(OutboxMail).order_by(OutboxMail.id.desc()).limit(50)
    if before.isdigit():
        query = query.where(OutboxMail.id < int(before))
    mails = (await session.execute(query)).scalars().all()
    next_before = mails[-1].id if len(mails) == 50 else None
    return render(request, "admin/outbox.html", {"mails": mails, "next_before": next_before})
