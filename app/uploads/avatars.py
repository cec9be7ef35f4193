"""``avatar_url(member)`` for templates: never queries, never raises."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.exc import NoInspectionAvailable

from app.models import Upload


def avatar_url(member: object) -> str | None:
    """The member's avatar URL, or None when they have none or it is not loaded.

    Templates cannot await, so an attribute that would need a database round trip (expired,
    or left unloaded by the query) counts as "no avatar" instead of failing the page.
    """
    if member is None:
        return None
    if not hasattr(member, "_sa_instance_state"):
        # Not a mapped object (a read model such as a post's author): skip inspect(), whose
        # failure is an exception per call, i.e. per name on a page.
        url = getattr(member, "avatar_url", None)
        return url if isinstance(url, str) else None
    try:
        state = inspect(member)
    except NoInspectionAvailable:
        url = getattr(member, "avatar_url", None)
        return url if isinstance(url, str) else None
    if {"avatar", "avatar_upload_id"} & state.unloaded:
        return None
    avatar = getattr(member, "avatar", None)
    return avatar.url if isinstance(avatar, Upload) else None
