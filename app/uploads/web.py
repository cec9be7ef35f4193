"""Upload pages: the upload form (htmx or plain), serving images, and avatar settings."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from app.accounts.deps import CurrentMember, SessionDep
from app.kit.errors import Invalid, NotFound
from app.kit.flash import flash
from app.kit.i18n import gettext as _
from app.kit.routing import Router
from app.kit.templating import is_htmx, render
from app.models import UploadPurpose
from app.pipeline import keep_writes
from app.uploads import service
from app.uploads.images import EXTENSIONS

router = Router(include_in_schema=False)

# Served images are immutable (a new image gets a new name) and must never run as a page:
# no scripts, no plugins, no framing, no MIME sniffing, and a sandbox if opened directly.
IMAGE_POLICY = "default-src 'none'; img-src 'self'; sandbox"
IMAGE_CACHE = "public, max-age=31536000, immutable"
# The form holds the file, its alt text and the CSRF token; nothing else is read.
FORM_LIMITS: dict[str, Any] = {"max_files": 1, "max_fields": 4}


async def _form(request: Request) -> FormData:
    return await request.form(**FORM_LIMITS)


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value if isinstance(value, str) else ""


def _filename(form: FormData) -> str | None:
    file = form.get("file")
    return None if isinstance(file, str) or file is None else file.filename


@router.get("/uploads/new")
async def upload_page(request: Request, viewer: CurrentMember) -> Response:
    return render(request, "uploads/upload.html", {"form": {}, "errors": {}, "result": None})


@router.post("/uploads")
async def upload(request: Request, session: SessionDep, viewer: CurrentMember) -> Response:
    await service.check_may_upload(session, viewer)
    form = await _form(request)
    alt = _text(form, "alt")
    try:
        data = await service.read_image_file(form.get("file"))
        stored = await service.store_image(session, viewer, data, purpose=UploadPurpose.post)
    except Invalid as exc:
        # A rejected file still counts towards the hourly limit (decoding is the costly part).
        keep_writes(request)
        template = "uploads/_form.html" if is_htmx(request) else "uploads/upload.html"
        return render(
            request,
            template,
            {"form": {"alt": alt}, "errors": {exc.field or "form": str(exc.message)}},
            status_code=exc.status_code,
        )
    text = service.alt_text(alt, _filename(form))
    result = {"upload": stored, "alt": text, "markdown": service.markdown_for(stored, text)}
    template = "uploads/_result.html" if is_htmx(request) else "uploads/upload.html"
    return render(request, template, {"form": {}, "errors": {}, "result": result}, status_code=201)


@router.api_route("/uploads/{name}", methods=["GET", "HEAD"])
async def serve(request: Request, name: str) -> Response:
    if not service.is_storage_name(name):
        raise NotFound()
    path = service.file_path(name)
    stat = await anyio.to_thread.run_sync(lambda: path.stat() if path.is_file() else None)
    if stat is None:
        raise NotFound()
    # The name is random and the bytes never change, so the name itself is the ETag.
    etag = f'"{name}"'
    headers = {
        "Cache-Control": IMAGE_CACHE,
        "Content-Security-Policy": IMAGE_POLICY,
        "Content-Disposition": "inline",
        "X-Content-Type-Options": "nosniff",
        "ETag": etag,
    }
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    content_type = EXTENSIONS[name.rsplit(".", 1)[1]]
    return FileResponse(path, media_type=content_type, headers=headers, stat_result=stat)


async def _settings_page(
    request: Request,
    session: SessionDep,
    viewer: CurrentMember,
    errors: dict[str, str],
    status: int,
) -> Response:
    from app.accounts.web import _settings_context

    context = await _settings_context(request, session, viewer)
    context["avatar_errors"] = errors
    return render(request, "accounts/settings.html", context, status_code=status)


@router.post("/settings/avatar")
async def set_avatar(request: Request, session: SessionDep, viewer: CurrentMember) -> Response:
    await service.check_may_upload(session, viewer)
    form = await _form(request)
    try:
        data = await service.read_image_file(form.get("file"))
        await service.set_avatar(session, viewer, data)
    except Invalid as exc:
        keep_writes(request)
        return await _settings_page(
            request, session, viewer, {exc.field or "form": str(exc.message)}, exc.status_code
        )
    response = RedirectResponse("/settings", status_code=303)
    flash(response, _("Your avatar was updated."))
    return response


@router.post("/settings/avatar/remove")
async def remove_avatar(request: Request, session: SessionDep, viewer: CurrentMember) -> Response:
    removed = await service.remove_avatar(session, viewer)
    response = RedirectResponse("/settings", status_code=303)
    if removed:
        flash(response, _("Your avatar was removed."))
    return response
