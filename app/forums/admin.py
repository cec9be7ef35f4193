"""Admin pages for categories: list, create, change, delete (empty ones)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app.accounts.deps import CurrentAdmin, SessionDep
from app.forums import service
from app.forums.schemas import CategoryIn
from app.kit.errors import KizunaError, NotFound
from app.kit.flash import flash
from app.kit.forms import read_form, validate
from app.kit.i18n import gettext as _
from app.kit.routing import Router
from app.kit.templating import render
from app.models import Category

router = Router(prefix="/admin/categories", include_in_schema=False)
FIELDS = (
    "slug",
    "name_en",
    "name_ja",
    "description_en",
    "description_ja",
    "colour",
    "position",
    "kind",
    "visibility",
    "posting",
    "min_rank_threshold",
)


def _form_page(
    request: Request,
    form: dict[str, Any],
    errors: dict[str, str],
    category: Category | None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "forums/admin_category.html",
        {"form": form, "errors": errors, "category": category},
        status_code=status_code,
    )


@router.get("")
async def list_categories(request: Request, session: SessionDep, viewer: CurrentAdmin) -> Response:
    rows = await session.scalars(select(Category).order_by(Category.position, Category.id))
    return render(request, "forums/admin_categories.html", {"categories": list(rows)})


@router.get("/new")
async def new_page(request: Request, viewer: CurrentAdmin) -> Response:
    defaults = {"colour": "#b3261e", "position": "0", "kind": "discussion"}
    return _form_page(
        request, defaults | {"visibility": "everyone", "posting": "members"}, {}, None
    )


@router.post("/new")
async def create(request: Request, session: SessionDep, viewer: CurrentAdmin) -> Response:
    form = await read_form(request)
    data, errors = validate(CategoryIn, {k: form.get(k, "") for k in FIELDS if k in form})
    if data is None:
        return _form_page(request, form, errors, None, 422)
    try:
        category = await service.create_category(session, data)
    except KizunaError as exc:
        return _form_page(request, form, {exc.field or "form": str(exc.message)}, None, 409)
    response = RedirectResponse("/admin/categories", status_code=303)
    flash(response, _("Category “%(name)s” created.", name=category.name))
    return response


async def _category(session: SessionDep, category_id: int) -> Category:
    category = await session.get(Category, category_id)
    if category is None:
        raise NotFound()
    return category


@router.get("/{category_id}")
async def edit_page(
    request: Request, category_id: int, session: SessionDep, viewer: CurrentAdmin
) -> Response:
    category = await _category(session, category_id)
    form = {name: getattr(category, name) for name in FIELDS}
    form["min_rank_threshold"] = form["min_rank_threshold"] if form["min_rank_threshold"] else ""
    return _form_page(request, {k: str(v) for k, v in form.items()}, {}, category)


@router.post("/{category_id}")
async def update(
    request: Request, category_id: int, session: SessionDep, viewer: CurrentAdmin
) -> Response:
    category = await _category(session, category_id)
    form = await read_form(request)
    data, errors = validate(CategoryIn, {k: form.get(k, "") for k in FIELDS if k in form})
    if data is None:
        return _form_page(request, form, errors, category, 422)
    try:
        await service.update_category(session, category_id, data)
    except KizunaError as exc:
        return _form_page(request, form, {exc.field or "form": str(exc.message)}, category, 409)
    response = RedirectResponse("/admin/categories", status_code=303)
    flash(response, _("Your changes were saved."))
    return response


@router.post("/{category_id}/delete")
async def delete(category_id: int, session: SessionDep, viewer: CurrentAdmin) -> Response:
    await service.delete_category(session, category_id)
    response = RedirectResponse("/admin/categories", status_code=303)
    flash(response, _("The category was deleted."))
    return response
