"""What makes an acceptable password, name, handle or bio, and who may do what."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from zoneinfo import available_timezones

from app.kit.i18n import gettext as _
from app.kit.i18n import lazy_gettext

PASSWORD_MIN = 10
PASSWORD_MAX = 1024
HANDLE_RE = re.compile(r"^[a-z0-9_]{3,20}$")
_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn"}


@lru_cache
def common_passwords() -> frozenset[str]:
    path = Path(__file__).with_name("common_passwords.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line and not line.startswith("#"))


@lru_cache
def time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_password(password: str, *, email: str = "", display_name: str = "") -> str:
    if len(password) < PASSWORD_MIN:
        raise ValueError(_("Use at least %(min)s characters.", min=PASSWORD_MIN))
    if len(password) > PASSWORD_MAX:
        raise ValueError(_("Use at most %(max)s characters.", max=PASSWORD_MAX))
    lowered = password.lower()
    if lowered in common_passwords() or len(set(lowered)) < 3:
        raise ValueError(_("This password is too common. Choose one that is harder to guess."))
    personal = {email.lower(), email.split("@")[0].lower(), display_name.strip().lower()}
    if lowered in {p for p in personal if p}:
        raise ValueError(_("Do not use your email or name as your password."))
    return password


def check_single_line(value: str, *, max_length: int) -> str:
    """Names and titles: normalised, trimmed, no control or invisible formatting characters."""
    value = unicodedata.normalize("NFC", value).strip()
    if any(unicodedata.category(char) in _INVISIBLE for char in value):
        raise ValueError(_("Remove control or invisible characters."))
    if not value:
        raise ValueError(_("This field is required."))
    if len(value) > max_length:
        raise ValueError(_("Must be at most %(max)s characters.", max=max_length))
    return value


def check_multiline(value: str, *, max_length: int) -> str:
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n")).strip()
    if any(unicodedata.category(char) in _INVISIBLE and char not in "\n\t" for char in value):
        raise ValueError(_("Remove control or invisible characters."))
    if len(value) > max_length:
        raise ValueError(_("Must be at most %(max)s characters.", max=max_length))
    return value


def check_handle(value: str) -> str:
    value = value.strip().lower()
    if not HANDLE_RE.match(value):
        raise ValueError(
            _("Use 3 to 20 characters: lowercase letters a-z, digits and underscores.")
        )
    return value


def check_time_zone(value: str) -> str:
    if value not in time_zones():
        raise ValueError(_("Choose a time zone from the list."))
    return value


ROLE_LABELS = {
    "member": lazy_gettext("Member"),
    "moderator": lazy_gettext("Moderator"),
    "operator": lazy_gettext("Operator"),
    "admin": lazy_gettext("Admin"),
}


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))
