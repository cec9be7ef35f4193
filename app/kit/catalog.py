"""Checks the Japanese catalogues cover every translatable string in code and templates.

``python -m app.kit.catalog`` prints the missing messages as .po entries, ready to translate
and paste into the domain's file under ``app/locale/ja/LC_MESSAGES/``.
"""

from __future__ import annotations

from collections.abc import Iterator

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir

from app.kit.i18n import translations
from app.kit.paths import APP_DIR, TEMPLATES_DIR

_KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None}
_JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "trimmed": "false"}


def extracted() -> Iterator[tuple[str, str | tuple[str, ...], str]]:
    for filename, _line, message, _comments, _context in extract_from_dir(
        str(APP_DIR), method_map=[("**.py", "python")], keywords=_KEYWORDS
    ):
        yield f"app/{filename}", message, ""
    for filename, _line, message, _comments, _context in extract_from_dir(
        str(TEMPLATES_DIR),
        method_map=[("**.html", "jinja2"), ("**.txt", "jinja2")],
        options_map={"**.html": _JINJA_OPTIONS, "**.txt": _JINJA_OPTIONS},
    ):
        yield f"templates/{filename}", message, ""


def missing() -> dict[str | tuple[str, ...], str]:
    catalog = translations("ja")
    gaps: dict[str | tuple[str, ...], str] = {}
    for where, message, _ in extracted():
        if isinstance(message, tuple):
            singular = message[0]
            if catalog.ngettext(singular, message[1], 1) == singular:
                gaps.setdefault(message, where)
        elif message and catalog.gettext(message) == message:
            gaps.setdefault(message, where)
    return gaps


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def main() -> None:
    for message, where in missing().items():
        print(f"#: {where}")
        if isinstance(message, tuple):
            print(f"msgid {_quote(message[0])}\nmsgid_plural {_quote(message[1])}")
            print('msgstr[0] ""\n')
        else:
            print(f'msgid {_quote(message)}\nmsgstr ""\n')


if __name__ == "__main__":
    main()
