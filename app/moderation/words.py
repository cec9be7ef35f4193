"""The watched-word list: block, hold for review, or replace; works for Japanese text.

Matching compares NFKC-normalised, case-folded text, so full-width "ＳＰＡＭ", half-width
katakana "ｽﾊﾟﾑ" and "Spam" all match their plain forms. Japanese has no spaces between words,
so CJK patterns match anywhere; a pattern that starts or ends with a Latin letter or digit
must start or end at a word boundary ("ass" does not match "class").
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.kit.errors import Invalid
from app.kit.i18n import gettext as _
from app.kit.sql import read_prebuilt
from app.models import WordFilter

BLOCK = "block"
HOLD = "hold"
REPLACE = "replace"
ACTIONS = (BLOCK, HOLD, REPLACE)
DEFAULT_REPLACEMENT = "■■■"
_HALFWIDTH_SOUND_MARKS = ("\uff9e", "\uff9f")


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _clusters(text: str) -> list[tuple[int, int]]:
    """Spans of a base character and the marks that modify it (combining marks and the
    half-width katakana sound marks), which normalise together."""
    spans: list[tuple[int, int]] = []
    for index, char in enumerate(text):
        joins = unicodedata.combining(char) or char in _HALFWIDTH_SOUND_MARKS
        if spans and joins:
            spans[-1] = (spans[-1][0], index + 1)
        else:
            spans.append((index, index + 1))
    return spans


def _normalized_with_map(text: str) -> tuple[str, list[tuple[int, int]]]:
    """The normalised text and, for each of its characters, the span of the original."""
    out: list[str] = []
    origin: list[tuple[int, int]] = []
    for start, end in _clusters(text):
        piece = normalize(text[start:end])
        out.append(piece)
        origin.extend([(start, end)] * len(piece))
    return "".join(out), origin


def _is_word_char(char: str) -> bool:
    # CJK scripts (and everything beyond them) have no word boundaries to respect.
    return char.isalnum() and ord(char) < 0x2E80


def _matches(haystack: str, needle: str) -> list[tuple[int, int]]:
    found: list[tuple[int, int]] = []
    if not needle:
        return found
    start = haystack.find(needle)
    while start != -1:
        end = start + len(needle)
        left_ok = not (
            _is_word_char(needle[0]) and start > 0 and _is_word_char(haystack[start - 1])
        )
        right_ok = not (
            _is_word_char(needle[-1]) and end < len(haystack) and _is_word_char(haystack[end])
        )
        if left_ok and right_ok:
            found.append((start, end))
            start = haystack.find(needle, end)
        else:
            start = haystack.find(needle, start + 1)
    return found


@dataclass(frozen=True)
class Rule:
    pattern: str
    normalized: str
    action: str
    replacement: str


def _rules_query(_insert: Any) -> Any:
    return select(
        WordFilter.pattern, WordFilter.normalized, WordFilter.action, WordFilter.replacement
    ).order_by(WordFilter.id)


async def load_rules(session: AsyncSession) -> list[Rule]:
    """The admins' list, read as columns by a statement built once: every new post is
    screened against it."""
    return [
        Rule(*row) for row in await read_prebuilt(session, "moderation.words", _rules_query, {})
    ]


def screen(text: str, rules: list[Rule], *, field: str = "body") -> tuple[str, str | None]:
    """Apply ``rules`` to ``text``: returns the text (with replacements) and the strongest
    action taken ("hold", "replace" or None); a blocked word raises Invalid on ``field``."""
    if not text or not rules:
        return text, None
    normalized, origin = _normalized_with_map(text)
    held = False
    spans: list[tuple[int, int, str]] = []
    for rule in rules:
        found = _matches(normalized, rule.normalized)
        if not found:
            continue
        if rule.action == BLOCK:
            raise Invalid(
                _(
                    "“%(word)s” is not allowed here. Please rephrase and try again.",
                    word=rule.pattern,
                ),
                field=field,
            )
        if rule.action == HOLD:
            held = True
        elif rule.action == REPLACE:
            for start, end in found:
                spans.append(
                    (origin[start][0], origin[end - 1][1], rule.replacement or DEFAULT_REPLACEMENT)
                )
    if spans:
        text = _replace(text, spans)
    if held:
        return text, HOLD
    return text, REPLACE if spans else None


def _replace(text: str, spans: list[tuple[int, int, str]]) -> str:
    parts: list[str] = []
    position = 0
    for start, end, replacement in sorted(spans, key=lambda span: (span[0], -span[1])):
        if start < position:
            continue  # overlaps a longer match already replaced
        parts.append(text[position:start])
        parts.append(replacement)
        position = end
    parts.append(text[position:])
    return "".join(parts)


async def apply_word_filters(
    session: AsyncSession, text: str, *, field: str = "body"
) -> tuple[str, str | None]:
    """Screen ``text`` against the admins' list (see :func:`screen`)."""
    return screen(text, await load_rules(session), field=field)


async def add_word(
    session: AsyncSession, admin_id: int, pattern: str, action: str, replacement: str
) -> WordFilter:
    from app.kit.errors import Conflict

    normalized = normalize(pattern)
    if not normalized.strip():
        raise Invalid(_("This field is required."), field="pattern")
    if action not in ACTIONS:
        raise Invalid(_("Choose one of the offered values."), field="action")
    exists = await session.scalar(select(WordFilter.id).where(WordFilter.normalized == normalized))
    if exists is not None:
        raise Conflict(_("This word is already on the list."), field="pattern")
    word = WordFilter(
        pattern=pattern,
        normalized=normalized,
        action=action,
        replacement=replacement if action == REPLACE else "",
        created_by_id=admin_id,
    )
    session.add(word)
    await session.flush()
    return word


async def list_words(session: AsyncSession) -> list[WordFilter]:
    return list((await session.execute(select(WordFilter).order_by(WordFilter.id))).scalars())
