"""How alike two names are, as folded words (``projections.transliteration``): 0 to 1.

A query word is paired with the most similar unused word of a name (``rapidfuzz``
normalised Indel similarity, or the similarity of the words' consonants), and the name is
also compared written as one word (``Abd al-Malik`` / ``Abdalmalik``). A query in a script
that writes no short vowels (Arabic, Hebrew) is compared by its consonants, word by word
too. ``full_score`` also gives a name without its middle names its due.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from rapidfuzz.distance import Indel

from projections.transliteration import _words, consonants, first

WEIGHT_MAX = 0.65
"""How much the better covered side (query or name) counts against the other."""

ONE_WORD = 0.85
"""The factor on a score resting on one shared word of names with several."""

ABJAD = 0.94
"""The factor on comparing consonants alone (a query in a script without short vowels)."""

VOWELS_ONLY = 0.9
"""The similarity of words differing in their vowels alone (``_vowels_only``): measured on
both seeds, 0.92 and more let the made-up names past 5% ``possible``."""

JOINED_ARTICLE = 0.97
"""The factor on comparing names with an article written joined on one side (``Alrawi``)
and apart on the other (``al-Rawi``)."""

SKELETON = 0.93
"""The factor on comparing words by their consonants alone (``_skeletons``)."""

_VOICED = str.maketrans("gdb", "ktp")


def _devoiced(word: str) -> str:
    return word.translate(_VOICED)


@lru_cache(maxsize=1 << 16)
def _similarity(q: str, n: str) -> float:
    if q == n:
        return 1.0
    if "/" in q:  # a query word with other readings (``korean_readings``): the best one
        return max(_similarity(a, n) for a in q.split("/"))
    if len(q) == 1 or len(n) == 1:  # an initial
        return 0.9 if q[0] == n[0] else 0.0
    if min(len(q), len(n)) <= 3:
        # A syllable (Li, Kim, Son) one letter off is another name; but romanizations differ
        # in voicing consonants (Gil / Kil, Bak / Pak).
        return 0.9 if _devoiced(q) == _devoiced(n) else 0.0
    value = Indel.normalized_similarity(q, n)
    if len(q) >= 4 and len(n) >= 4:
        cq, cn = consonants(q), consonants(n)
        if len(cq) >= 2 and cq == cn:
            value = max(value, 0.85)
        if _vowels_only(q, n):
            value = max(value, VOWELS_ONLY)
    return value if value >= 0.6 else 0.0


_JOINED_ARTICLE = re.compile(r"^([ae]l)([^aeiou]\w\w+)$")
_ARTICLES = {"al", "el"}


def _split_articles(key: Sequence[str]) -> tuple[str, ...]:
    """``alrawi`` as ``al rawi``: Arabic names write their article joined or apart."""
    out: list[str] = []
    for w in key:
        m = _JOINED_ARTICLE.match(w)
        out += [m.group(1), m.group(2)] if m else [w]
    return tuple(out)


_FINAL_H = re.compile(r"(?<=[aeiou])h$")


_VOWEL_RUN = re.compile(r"[aeiou]+")


def _syllables(word: str) -> int:
    return len(_VOWEL_RUN.findall(word))


def _latin_skeleton(word: str) -> str:
    """A word's consonants (v, w and y too), without a final h after a vowel (Haniyeh /
    Haniya)."""
    return _VOWEL_RUN.sub("", _FINAL_H.sub("", word))


def _vowels_only(q: str, n: str) -> bool:
    """Whether two words differ in their vowels alone (and a final h), what transliterations
    disagree on most (Muhammad / Mohamed, Yusuf / Yousef, Haniyeh / Haniya): with the same
    first letter, three consonants at least, and two syllables at least (Zhang / Zheng and
    Ping / Pyong are other names)."""
    if q[0] != n[0] or _syllables(q) < 2 or _syllables(n) < 2:
        return False
    cq = _latin_skeleton(q)
    return len(cq) >= 3 and cq == _latin_skeleton(n)


def _tokens_score(query: Sequence[str], name: Sequence[str]) -> float:
    # Most pairs of words score 0: left out before sorting (the hot path of screening).
    pairs = [
        (sim, i, j)
        for i, q in enumerate(query)
        for j, n in enumerate(name)
        if (sim := _similarity(q, n)) > 0.0
    ]
    pairs.sort(reverse=True)
    used_q: dict[int, float] = {}
    used_n: dict[int, float] = {}
    for sim, i, j in pairs:
        if i in used_q or j in used_n:
            continue
        used_q[i] = sim
        used_n[j] = sim
    if not used_q:
        return 0.0
    lengths = [len(first(q)) for q in query]
    m_q = sum(s * lengths[i] for i, s in used_q.items()) / sum(lengths)
    m_n = sum(s * len(name[j]) for j, s in used_n.items()) / sum(len(n) for n in name)
    value = WEIGHT_MAX * max(m_q, m_n) + (1 - WEIGHT_MAX) * min(m_q, m_n)
    if len(used_q) == 1 and max(len(query), len(name)) > 1:
        value *= ONE_WORD  # one shared word is a surname at best
    return value


def name_score(query: Sequence[str], name: Sequence[str], *, abjad: bool = False) -> float:
    """How well a name answers a query, 0..1 (both as ``words``)."""
    if not query or not name:
        return 0.0
    value = _tokens_score(query, name)
    # Alfred is not al-Fred: a joined article is split only when the other name has one apart.
    if _ARTICLES.intersection(name) and not _ARTICLES.intersection(query):
        value = max(value, JOINED_ARTICLE * _tokens_score(_split_articles(query), name))
    elif _ARTICLES.intersection(query) and not _ARTICLES.intersection(name):
        value = max(value, JOINED_ARTICLE * _tokens_score(query, _split_articles(name)))
    joined_q, joined_n = "".join(map(first, query)), "".join(name)
    if len(joined_q) >= 8 and len(joined_n) >= 8:
        value = max(value, 0.97 * Indel.normalized_similarity(joined_q, joined_n))
    if abjad:
        cq, cn = consonants(joined_q), consonants(joined_n)
        if len(cq) >= 4 and len(cn) >= 4:
            value = max(value, ABJAD * Indel.normalized_similarity(cq, cn))
        value = max(value, SKELETON * _tokens_score(_skeletons(query), _skeletons(name)))
    return min(1.0, value)


def _skeleton(word: str) -> str:
    c = consonants(word)
    return c if len(c) >= 2 else word


def _skeletons(key: Sequence[str]) -> tuple[str, ...]:
    """Words by their consonants, as a script without short vowels writes them (Fazl and
    Fazal, Rahim and Rhim, are one word there); too short a skeleton keeps the word."""
    return tuple("/".join(dict.fromkeys(_skeleton(a) for a in w.split("/"))) for w in key)


MIDDLE = 0.88
"""The score of a query naming a person by the given name and surname of a listed name that
has middle names or a patronymic besides (``Ibrahim al-Samarrai`` for ``IBRAHIM AWWAD IBRAHIM
ALI AL-BADRI AL-SAMARRAI``, ``Igor Krasnov`` for ``KRASNOV, Igor Viktorovich``), times how
well the words match."""


@lru_cache(maxsize=1 << 16)
def _edges(name: str) -> tuple[str, ...]:
    """What is left of a name without its middle names: the surname part and first given
    name of ``SURNAME, Given Middle``; else the first and last word as written. Empty when
    there is no middle to leave out."""
    surname, comma, given = name.partition(",")
    if comma:
        parts = [surname, *given.split()[:1]]
        rest = given.split()[1:]
    else:
        tokens = name.split()
        parts, rest = [tokens[0], tokens[-1]] if len(tokens) >= 3 else [], tokens[1:-1]
    if not parts or not any(_words(r)[0] for r in rest):
        return ()
    return tuple(w for p in parts for w in _words(p)[0])


def _middle_score(query: Sequence[str], name: str) -> float:
    edges = _edges(name)
    if len(query) < 2 or len(query) != len(edges) or min(map(len, query)) < 2:
        return 0.0  # names, not initials
    value = _tokens_score(query, edges)
    return MIDDLE * value if value >= 0.95 else 0.0


def full_score(query: Sequence[str], name: str, name_key: Sequence[str], abjad: bool) -> float:
    """``name_score``, or more when the query is the name without its middle names."""
    return max(name_score(query, name_key, abjad=abjad), _middle_score(query, name))
