"""Whether a listed variant of a name is a *spelling* of it or *another name*: how
``bench/matching.py`` splits the kinds whose variants come from the lists themselves (OFAC
aliases, UN names in their original script).

Decided from the two names alone, never from the matcher or its scores (the split must not be
tuned to make the matcher look good). A variant is a spelling of a name when its words pair off
one to one with the name's words, in any order, each pair a plausible respelling:

- words are the name's ``anyascii`` transliteration, lowercased, apostrophes dropped
  (``Ch'o'l`` is ``chol``); a bracketed or slashed part (an acronym, ``(TTP)``, ``/ AIAI``)
  is left out;
- particles (``al``, ``bin``, ``de``, ``van``, ``ul``, ``jr``, ...) and titles (``Dr.``,
  ``Haji``, ``Shaykh``, ``Maulawi``, Burmese ``U``, ...) are left out; a particle may also be
  written joined to its neighbour (``ALJABOURI`` is ``AL-JABURI``, ``Fazlur`` is ``Fazl-ur``);
- two neighbouring words may be written as one (``Gholamreza`` is ``Gholam Reza``), at most
  two such joins, and a joined pair allows one edit at most;
- a one-letter word (an initial) pairs with a word of that initial (``Gennady A.`` is
  ``Gennadii Anatolievich``);
- two Latin words are a respelling when, after folding the usual transliteration alternations
  (``ou``/``u``, ``ph``/``f``, ``c``/``q``/``k``, ``x``/``ks``, ``kh``/``h``, ``gh``/``g``,
  ``dh``/``d``, ``th``/``t``, ``y``/``i``, ``e``/``i``, ``o``/``u``, a final ``h`` after a
  vowel, doubled letters), they are at most 0 edits apart for words of up to 3 letters, 1 for 4
  to 7, 2 for longer (by the shorter word; a swap of two letters, not the first, is one edit):
  ``KHUSHLAF``/``KOSHLAF``, ``Viktor``/``Viktar``, ``Qadhafi``/``Gaddafi``,
  ``Lukashenko, Aleksandr``/``Lukashenka, Alyaksandr``; patronymics are compared by their stem
  (``Vasilyevich``/``Valeryevich`` are two fathers);
- a name written in an abjad (Arabic, Hebrew: short vowels unwritten) is compared by consonant
  skeletons: the article ``ال`` split off, vowels and ``h``/``w``/``y`` dropped, at most one edit
  for skeletons of 3 to 5 letters (``القاعدة``/``AL-QAIDA``, ``عصبة الأنصار``/``ASBAT AL-ANSAR``).

Anything else is another name: another given name (``DE VERA, Esmael`` of ``DE VERA, Pio
Abogne``), a word more or less (``ZHELEZNYAK, Sergey`` of ``ZHELEZNYAK, Sergei
Vladimirovich``), a kunya (``ABU LAYTH, Mansur``), a translation (``الجماعة الاسلامية المسلحة``
of ``ARMED ISLAMIC GROUP``).

Known limits: two Arabic names one vowel apart (``Bashir``/``Bashar``, ``Salah``/``Salih``)
count as spellings; Korean ``ch``/``j`` (``Chae-Il``/``Jae Il``) does not.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator

from anyascii import anyascii

# fmt: off
PARTICLES = frozenset({
    "al", "el", "ad", "ag", "ar", "as", "ash", "at", "az", "an", "ul", "ur", "ud", "bin", "ibn",
    "bint", "ben", "wa", "e", "de", "da", "di", "do", "dos", "das", "del", "della", "la", "le",
    "los", "van", "von", "der", "den", "ter", "jr", "sr",
})
TITLES = frozenset({
    "dr", "doctor", "mr", "mrs", "ms", "prof", "general", "sheikh", "shaykh", "shaikh", "haji",
    "hajji", "mullah", "mulla", "maulawi", "mawlawi", "maulana", "qari", "u", "daw",
})
# fmt: on
_ASIDE = PARTICLES | TITLES
_FOLDS = (
    ("ou", "u"),
    ("ph", "f"),
    ("ck", "k"),
    ("x", "ks"),
    ("kh", "h"),
    ("gh", "g"),
    ("dh", "d"),
    ("th", "t"),
    ("c", "k"),
    ("q", "k"),
    ("y", "i"),
    ("e", "i"),
    ("o", "u"),
)
_PATRONYMIC = re.compile(
    r"(?<=...)[iy]?(ovich|evich|avich|ivich|ovych|evych|ovna|evna|ivna|auna|ouna|awna)$"
)


class Word:
    """A word of a name and the forms it may be written in (with a neighbouring particle)."""

    def __init__(self, forms: list[str], joined: bool = False) -> None:
        self.forms = forms
        self.joined = joined  # two words written as one


def abjad(text: str) -> bool:
    return any(unicodedata.name(c, "").startswith(("ARABIC", "HEBREW", "SYRIAC")) for c in text)


def name_words(text: str) -> list[Word]:
    text = re.sub(r"\(.*?\)|/.*", " ", text)
    if abjad(text):
        text = re.sub(r"(?<!\S)(ال|لل)", "al ", text)  # the article, written joined
    raw = re.findall(r"[a-z0-9]+", re.sub(r"['`]", "", anyascii(text).lower()))
    out = []
    for i, w in enumerate(raw):
        if w in _ASIDE:
            continue
        forms = [w]
        if i > 0 and raw[i - 1] in PARTICLES:
            forms.append(raw[i - 1] + w)
        if i + 1 < len(raw) and raw[i + 1] in PARTICLES:
            forms.append(w + raw[i + 1])
        out.append(Word(forms))
    return out


def fold(word: str) -> str:
    for a, b in _FOLDS:
        word = word.replace(a, b)
    word = re.sub(r"(?<=[aiu])h$", "", word)
    return re.sub(r"(.)\1+", r"\1", word)


def skeleton(word: str) -> str:
    word = word.replace("ch", "sh").replace("q", "k").replace("c", "k")
    return re.sub(r"(.)\1+", r"\1", re.sub(r"[aeiouyhw]", "", word))


def edits(a: str, b: str) -> int:
    """Levenshtein distance, two neighbouring letters swapped counting one (not the first)."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            change = d[i - 1][j - 1] + (a[i - 1] != b[j - 1])
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, change)
            if i > 2 and j > 2 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


def _allowed(length: int, abj: bool) -> int:
    if abj:
        return 0 if length <= 2 else 1 if length <= 5 else 2
    return 0 if length <= 3 else 1 if length <= 7 else 2


def respelling(a: Word, b: Word, abj: bool) -> bool:
    if not abj and (len(a.forms[0]) == 1 or len(b.forms[0]) == 1):  # an initial
        return a.forms[0][0] == b.forms[0][0]
    xs, ys = a.forms, b.forms
    if _PATRONYMIC.search(xs[0]) and _PATRONYMIC.search(ys[0]):
        xs, ys = [_PATRONYMIC.sub("", xs[0])], [_PATRONYMIC.sub("", ys[0])]
    cap = 1 if a.joined or b.joined else 2
    for x in xs:
        for y in ys:
            if abj:
                fx, fy = skeleton(x), skeleton(y)
                room = _allowed(max(len(fx), len(fy)), True)
            else:
                fx, fy = fold(x), fold(y)
                room = _allowed(min(len(x), len(y)), False)
            if fx and edits(fx, fy) <= min(cap, room):
                return True
    return False


def _paired(va: list[Word], vb: list[Word], ok: Callable[[Word, Word], bool]) -> bool:
    """Whether every word of ``va`` pairs with its own word of ``vb`` (augmenting paths)."""
    owner: dict[int, int] = {}

    def take(i: int, seen: set[int]) -> bool:
        for j in range(len(vb)):
            if j not in seen and ok(va[i], vb[j]):
                seen.add(j)
                if j not in owner or take(owner[j], seen):
                    owner[j] = i
                    return True
        return False

    return all(take(i, set()) for i in range(len(va)))


def _joinings(ws: list[Word], k: int) -> Iterator[list[Word]]:
    """``ws`` with ``k`` pairs of neighbouring words (not initials) written as one."""
    if k == 0:
        yield ws
        return
    for i in range(len(ws) - 1):
        if len(ws[i].forms[0]) > 1 and len(ws[i + 1].forms[0]) > 1:
            one = Word([a + b for a in ws[i].forms for b in ws[i + 1].forms], joined=True)
            yield from _joinings([*ws[:i], one, *ws[i + 2 :]], k - 1)


def same_name(variant: str, name: str) -> bool:
    """Whether ``variant`` is a spelling of ``name`` (see the module's docstring)."""
    abj = abjad(variant) or abjad(name)
    va, vb = name_words(variant), name_words(name)
    if not va or not vb:
        return False
    if len(va) < len(vb):
        va, vb = vb, va
    if len(va) - len(vb) > 2:
        return False
    return any(
        _paired(joined, vb, lambda a, b: respelling(a, b, abj))
        for joined in _joinings(va, len(va) - len(vb))
    )
