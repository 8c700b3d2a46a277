"""A table that fits the terminal window, laid out from its first rows and then streamed.

Rules, in the order they are applied when the window is too narrow:

1. long free text (``reason``, ``summary``, ...) is cut to one line with an ellipsis;
2. the other columns shrink, widest first, wrapping only between words;
3. columns are left out, least needed first (the caller says which were, and what shows them);
4. words are broken after a hyphen (``alexander-`` / ``bortnikov``), never inside a measure
   name (``funds-prohibition`` stays whole), and only as a last resort inside a word.

No line is ever wider than the window.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from cli.terminal import cells, ellipsis
from ledger.vocabulary import MEASURES

GAP = 2
"""Spaces between two columns."""

FREE_TEXT = frozenset({"reason", "summary", "details", "window"})
"""Long prose: cut to one line with an ellipsis rather than wrapped over many."""

LEAVE_OUT = (
    "reason",
    "legal_act",
    "kind",
    "listed_until",
    "recorded_by",
    "window",
    "details",
    "sources",
    "summary",
    "certain",
    "annuls",
    "matched",
    "aliases",
    "nationality",
    "birth_date",
    "builtin",
)
"""Left out in this order when even the shrunk columns do not fit; the rest stay longest."""

FREE_MIN = 12
"""Columns a cut free-text column keeps, if it has that much."""

_PUNCT = ",;.:"
_HYPHENS = re.compile(r"(?<=-)(?=[^-])")


def _whole(word: str) -> bool:
    """A word never broken after its hyphens: a measure name (``funds-prohibition,``)."""
    bare = word.rstrip(_PUNCT)
    return bare in MEASURES or bare.split("=")[-1] in MEASURES


_DAY = re.compile(r"(\d{4}-\d\d-\d\d)(T\S*)?[,;]?")


def _pieces(word: str) -> list[str]:
    """A word's parts when it must be broken: after each hyphen; measure names and dates
    whole, a timestamp only between its date and its time."""
    if _whole(word):
        return [word]
    day = _DAY.fullmatch(word)
    if day is not None:
        return [word] if day.group(2) is None else [day.group(1), word[len(day.group(1)) :]]
    return _HYPHENS.split(word)


@dataclass
class Column:
    name: str
    label: str
    free: bool
    natural: int = 0
    soft: int = 1
    """The widest word: at least this wide, nothing is broken."""
    hard: int = 1
    """The widest part of a word broken after its hyphens."""
    width: int = 0

    def measure(self, text: str) -> None:
        self.natural = max(self.natural, cells(text))
        for word in text.split():
            self.soft = max(self.soft, cells(word))
            self.hard = max(self.hard, max(cells(p) for p in _pieces(word)))

    def least(self, hard: bool) -> int:
        if self.free:
            return min(self.natural, max(FREE_MIN, self._label_words()))
        return self.hard if hard else self.soft

    def _label_words(self) -> int:
        return max(cells(w) for w in self.label.split())


def layout(
    names: Sequence[str], sample: Sequence[Sequence[str]], width: int
) -> tuple[list[Column], list[str]]:
    """Columns with widths that fit ``width`` for rows like ``sample``, and the names left
    out (in the order of ``names``)."""
    columns = [Column(n, n.replace("_", " "), n in FREE_TEXT) for n in names]
    for c in columns:
        for word in c.label.split():
            c.soft = max(c.soft, cells(word))
            c.hard = max(c.hard, cells(word))
        c.natural = max(c.natural, c.soft)
    for row in sample:
        for c, text in zip(columns, row, strict=True):
            c.measure(text)
    shown = list(columns)
    while True:
        if _fit(shown, width, hard=False):
            break
        droppable = [n for n in LEAVE_OUT if any(c.name == n for c in shown)]
        if droppable and len(shown) > 1:
            shown = [c for c in shown if c.name != droppable[0]]
            continue
        if _fit(shown, width, hard=True):
            break
        if len(shown) > 1:
            shown = shown[:-1]
            continue
        shown[0].width = width  # one column, narrower than a word: it is folded
        break
    left_out = [c.name for c in columns if c not in shown]
    return shown, left_out


def _fit(columns: list[Column], width: int, *, hard: bool) -> bool:
    budget = width - GAP * (len(columns) - 1)
    least = [c.least(hard) for c in columns]
    if sum(least) > budget:
        return False
    if sum(c.natural for c in columns) <= budget:
        for c in columns:
            c.width = c.natural
        return True
    # Free text gives way first: the others keep their natural width if that fits.
    rest = [c for c in columns if not c.free]
    free = [c for c in columns if c.free]
    fixed = sum(c.natural for c in rest)
    if fixed + sum(c.least(hard) for c in free) <= budget:
        for c in rest:
            c.width = c.natural
        _fill(free, [c.least(hard) for c in free], budget - fixed)
        return True
    for c in free:
        c.width = c.least(hard)
    _fill(rest, [c.least(hard) for c in rest], budget - sum(c.width for c in free))
    return True


def _fill(columns: list[Column], least: list[int], budget: int) -> None:
    """Widths between each column's least and natural width, summing to at most ``budget``:
    the widest are cut down first (one ceiling for all), the room left given out in turn."""
    lo, hi = 0, max((c.natural for c in columns), default=0)
    while lo < hi:  # the highest ceiling that fits
        mid = (lo + hi + 1) // 2
        if sum(max(m, min(c.natural, mid)) for c, m in zip(columns, least, strict=True)) <= budget:
            lo = mid
        else:
            hi = mid - 1
    for c, m in zip(columns, least, strict=True):
        c.width = max(m, min(c.natural, lo))
    spare = budget - sum(c.width for c in columns)
    for c in columns:
        if spare <= 0:
            break
        extra = min(spare, c.natural - c.width)
        c.width += extra
        spare -= extra


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` cells, broken between words where possible."""
    lines: list[str] = []
    line, used = "", 0
    for word in text.split():
        w = cells(word)
        if line and used + 1 + w <= width:
            line, used = f"{line} {word}", used + 1 + w
            continue
        if line:
            lines.append(line)
            line, used = "", 0
        if w <= width:
            line, used = word, w
            continue
        for piece in _pieces(word):  # wider than the column: after its hyphens
            for part in _fold(piece, width):
                pw = cells(part)
                if line and used + pw <= width:
                    line, used = line + part, used + pw
                else:
                    if line:
                        lines.append(line)
                    line, used = part, pw
    if line or not lines:
        lines.append(line)
    return lines


def _fold(word: str, width: int) -> list[str]:
    """A word wider than the whole column, in column-wide parts (the last resort)."""
    if cells(word) <= width:
        return [word]
    parts, part, used = [], "", 0
    for ch in word:
        w = cells(ch)
        if part and used + w > width:
            parts.append(part)
            part, used = "", 0
        part, used = part + ch, used + w
    parts.append(part)
    return parts


def cut(text: str, width: int) -> str:
    """One line of at most ``width`` cells: cut with an ellipsis, between words if it can."""
    text = " ".join(text.split())
    if cells(text) <= width:
        return text
    mark = ellipsis()
    room = width - cells(mark)
    kept, used = "", 0
    for ch in text:
        w = cells(ch)
        if used + w > room:
            break
        kept, used = kept + ch, used + w
    space = kept.rfind(" ")
    if space >= room // 2 or (space > 0 and _whole(text[space + 1 :].split(" ")[0])):
        kept = kept[:space]  # between words; never inside a measure name
    elif space < 0 and _whole(text.split(" ")[0]):
        kept = ""
    return kept.rstrip(" ,;") + mark


def pad(text: str, width: int) -> str:
    return text + " " * (width - cells(text))


def row_lines(columns: Sequence[Column], values: Sequence[str]) -> list[str]:
    """One row of the table as its screen lines (no trailing spaces)."""
    cellsets = [
        [cut(v, c.width)] if c.free else wrap(v, c.width)
        for c, v in zip(columns, values, strict=True)
    ]
    height = max(len(x) for x in cellsets)
    lines = []
    for i in range(height):
        parts = [
            pad(x[i] if i < len(x) else "", c.width) for c, x in zip(columns, cellsets, strict=True)
        ]
        lines.append((" " * GAP).join(parts).rstrip())
    return lines
