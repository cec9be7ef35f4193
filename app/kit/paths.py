"""Where templates, static files, migrations and catalogues live.

In a checkout they sit beside ``app/``; in an installed wheel they are packed inside ``app/``.
"""

from __future__ import annotations

from pathlib import Path

APP_DIR = Path(__file__).resolve().parent.parent


def _resource(name: str) -> Path:
    packed = APP_DIR / name
    return packed if packed.is_dir() else APP_DIR.parent / name


TEMPLATES_DIR = _resource("templates")
STATIC_DIR = _resource("static")
MIGRATIONS_DIR = _resource("migrations")
LOCALE_DIR = APP_DIR / "locale"
