"""The name matcher behind ``search`` and ``screen`` (and the HTTP API): one score, 0 to 1.

What a score means: how much of two names is the same name once both are written in plain
Latin letters and folded (scripts transliterated, spelling variants met, word order ignored).

- 1.0: the same words (``Калашников Александр`` and ``KALASHNIKOV, Aleksandr``);
- 0.9 and more: the same name with a small difference: a typo, an initial for a given
  name, another transliteration;
- ``MIDDLE`` (0.88): the given name and surname of a name with middle names or a
  patronymic besides (``Igor Krasnov`` for ``KRASNOV, Igor Viktorovich``);
- ``DEFAULT_THRESHOLD`` (0.87) and more: a ``match``: screening treats it as the same name;
- ``DEFAULT_THRESHOLD - POSSIBLE_MARGIN`` and more: ``possible``: a person must look;
- below: ``clear``: not the same name.

Birth date, country and kind, when the query gives them, raise or lower the score of a
candidate whose record has them (``adjust``); a kind that contradicts the query rules the
candidate out. The threshold was chosen from measurement on the real UN and OFAC lists
(``bench/matching.py``, results in ``bench/results/matching.json``); the matcher holds no
names from those lists: only the rules of scripts and spelling below.

How: every name becomes folded ASCII words (``words``). Each script is transliterated by
``anyascii``; Chinese and Korean syllables become one word each (lists write ``KIM Jong Un``),
Korean from the Revised Romanization towards the McCune-Reischauer forms lists use. A query
word is paired with the most similar unused word of a name (``rapidfuzz`` normalised Indel
similarity, or the similarity of the words' consonants), and the name is also compared
written as one word (``Abd al-Malik`` / ``Abdalmalik``). A query in a script that writes no
short vowels (Arabic, Hebrew) is compared by its consonants, word by word too, and its
letters that Persian names read otherwise (ض as z) get that reading as well. A Cyrillic query
whose every word is one Korean syllable in the Kontsevich system (``Ким Чен Ын``) also gets
the Korean readings of its letters. Candidates come from an inverted index of word keys (the
word, its consonants, its first and last three letters) before being scored exactly: in
memory (``build_index``, for screening many names against the same subjects) or persistent
(``projections.name_index``, kept by the catch-up, for ``search`` and the web).
"""

from __future__ import annotations

import heapq
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Protocol, TypeVar

from anyascii import anyascii
from rapidfuzz.distance import Indel

from ledger.errors import InvalidValue
from projections.queries import SubjectRow

MATCHER_VERSION = "3"
"""Bump when any score may change: a certificate names the version that answered it."""

DEFAULT_THRESHOLD = 0.87
"""A ``match`` at or above this score (measured: bench/results/matching.json)."""

POSSIBLE_MARGIN = 0.07
"""``possible`` from ``threshold - POSSIBLE_MARGIN`` up to the threshold."""

WEIGHT_MAX = 0.65
"""How much the better covered side (query or name) counts against the other."""

ONE_WORD = 0.85
"""The factor on a score resting on one shared word of names with several."""

ABJAD = 0.94
"""The factor on comparing consonants alone (a query in a script without short vowels)."""

T = TypeVar("T")

VOWELS_ONLY = 0.9
"""The similarity of words differing in their vowels alone (``_vowels_only``): measured on
both seeds, 0.92 and more let the made-up names past 5% ``possible``."""

JOINED_ARTICLE = 0.97
"""The factor on comparing names with an article written joined on one side (``Alrawi``)
and apart on the other (``al-Rawi``)."""

SKELETON = 0.93
"""The factor on comparing words by their consonants alone (``_skeletons``)."""

CANDIDATES = 60
"""How many names the index hands to exact scoring for one query (and those tied with the
last of them, up to ``TIES``)."""

TIES = 2 * CANDIDATES

# ------------------------------------------------------------------ words

_WORD = re.compile(r"[a-z0-9]+")
_FOLDS = [
    (re.compile(r"x"), "ks"),
    (re.compile(r"ph"), "f"),
    (re.compile(r"ck"), "k"),
    (re.compile(r"q"), "k"),
    (re.compile(r"c(?!h)"), "k"),
    (re.compile(r"w"), "v"),
    (re.compile(r"y"), "i"),
    (re.compile(r"dh"), "z"),
    (re.compile(r"dj"), "j"),  # French transcription: Djamel / Jamal
    (re.compile(r"ou"), "u"),
    (re.compile(r"ee"), "i"),
    (re.compile(r"(.)\1+"), r"\1"),
]
_VOWELS = re.compile(r"[aeiouv]")  # after folding w -> v, y -> i: semivowels in abjads

# Korean: the Revised Romanization anyascii writes, towards McCune-Reischauer (lists' usage).
_KOREAN = [
    (re.compile(r"eo"), "o"),
    (re.compile(r"eu"), "u"),
    (re.compile(r"^i$"), "ri"),
]
_GREEK_OU = re.compile("[οό][υύ]", re.IGNORECASE)


def fold(word: str) -> str:
    """One word's spelling-variant key: ``alexander`` -> ``aleksander``."""
    for pattern, replacement in _FOLDS:
        word = pattern.sub(replacement, word)
    return word


def _script(ch: str) -> str:
    try:
        return unicodedata.name(ch).split(" ", 1)[0]
    except ValueError:
        return ""


_SYLLABIC = {"CJK", "HANGUL"}
_ABJADS = {"ARABIC", "HEBREW", "SYRIAC", "THAANA"}


def _latin(text: str) -> tuple[str, bool]:
    """The text in ASCII, one word per CJK or Hangul syllable; and whether it had an abjad."""
    text = _GREEK_OU.sub(lambda m: "u" if m.group(0)[0].islower() else "U", text)
    parts: list[str] = []
    abjad = False
    for ch in text:
        if ord(ch) < 128:
            parts.append(ch)
            continue
        script = _script(ch)
        if script in _SYLLABIC:
            syllable = anyascii(ch).lower()
            if script == "HANGUL":
                for pattern, replacement in _KOREAN:
                    syllable = pattern.sub(replacement, syllable)
            parts.append(f" {syllable} ")
        else:
            abjad = abjad or script in _ABJADS
            parts.append(anyascii(ch))
    return "".join(parts), abjad


# An apostrophe inside a word marks a letter of the source (ayin, hamza) or a soft sign, not
# a word break: ``Sa'd`` is one word, as ``Saad`` or ``Sad`` elsewhere.
_INNER_MARK = re.compile(r"(?<=[a-z])['`](?=[a-z])")


@lru_cache(maxsize=65536)
def _words(text: str) -> tuple[tuple[str, ...], bool]:
    latin, abjad = _latin(text)
    latin = _INNER_MARK.sub("", latin.lower())
    return tuple(fold(w) for w in _WORD.findall(latin)), abjad


def words_of(text: str) -> tuple[str, ...]:
    """``words`` as a tuple (cached): what the search index stores for a name."""
    return _words(text)[0]


def words(text: str) -> list[str]:
    """A name as folded ASCII words: ``KALASHNIKOV, Александр`` -> [kalashnikov, aleksandr]."""
    return list(_words(text)[0])


@lru_cache(maxsize=1 << 16)
def consonants(word: str) -> str:
    """A folded word without its vowels: what a script without short vowels writes."""
    return _VOWELS.sub("", word)


# Korean names in Cyrillic: Russian writes them by the Kontsevich system (김정은 is Ким Чен Ын,
# 박영길 Пак Ён Гиль), whose letters read otherwise than Russian ones: ч is j or ch, е after
# it o, ы is eu (u once folded), a final н is n or ng. A query of two or more Cyrillic words
# that are each one Korean syllable in that system also gets these readings, word by word
# (``a/b/c``: the scorer takes the best); lists write such names in McCune-Reischauer.
_K_ONSET = r"(?P<onset>чх|кх|тх|пх|дж|чж|[чжкгтдпбсхрлнм])?"
_K_SYLLABLE = re.compile(
    _K_ONSET + r"(?P<vowel>ый|ой|ве|во|ва|[аяоёеэуюыи])(?P<coda>нъ|ль|[нмктпр])?$"
)
_K_ONSETS = {
    "ч": ("j", "ch"), "чж": ("j",), "дж": ("j",), "ж": ("j",), "чх": ("ch",),
    "к": ("k", "g"), "г": ("g", "k"), "кх": ("k",), "т": ("t", "d"), "д": ("d", "t"),
    "тх": ("t",), "п": ("p", "b"), "б": ("b", "p"), "пх": ("p",), "с": ("s",), "х": ("h",),
    "р": ("r",), "л": ("r",), "н": ("n",), "м": ("m",), "": ("",),
}  # fmt: skip
_K_VOWELS = {
    "а": ("a",), "я": ("ya",), "о": ("o",), "ё": ("yo",), "е": ("o", "e", "yo"), "э": ("e",),
    "у": ("u",), "ю": ("yu",), "ы": ("u",), "и": ("i",), "ый": ("ui",), "ой": ("oe",),
    "ве": ("we", "wo"), "во": ("wo",), "ва": ("wa",),
}  # fmt: skip
_K_CODAS = {
    "н": ("n", "ng"), "нъ": ("ng",), "ль": ("l",), "р": ("l",), "м": ("m",), "к": ("k",),
    "т": ("t",), "п": ("p",), "": ("",),
}  # fmt: skip


def _korean_syllable(word: str) -> tuple[str, ...] | None:
    m = _K_SYLLABLE.match(word)
    if m is None:
        return None
    onset, vowel, coda = m.group("onset") or "", m.group("vowel"), m.group("coda") or ""
    out = dict.fromkeys(
        fold(o + v + c) for o in _K_ONSETS[onset] for v in _K_VOWELS[vowel] for c in _K_CODAS[coda]
    )
    return tuple(out)


def korean_readings(text: str, key: tuple[str, ...]) -> tuple[str, ...]:
    """``key`` (the words of ``text``) with the Korean readings of a Cyrillic name whose
    every word is one Korean syllable (``Ким Чен Ын``: kim, chen/jon/jong/..., in/un/ung);
    ``key`` itself otherwise."""
    tokens = re.findall(r"[а-яё]+", text.lower())
    if len(tokens) < 2 or len(tokens) != len(key) or re.search(r"[a-z]", text.lower()):
        return key
    readings = [_korean_syllable(t) for t in tokens]
    if any(r is None for r in readings):
        return key
    return tuple(
        "/".join(dict.fromkeys([w, *r]))  # type: ignore[misc]
        for w, r in zip(key, readings, strict=True)
    )


# Arabic letters that Persian, Urdu and Pashto names (and the lists' spellings of them)
# read otherwise: ض, ظ and ذ as z (Fazl, not Fadl), ث as s (Wasiq), ص stays s.
_PERSIAN = str.maketrans({"ض": "ز", "ظ": "ز", "ذ": "ز", "ث": "س"})


def abjad_readings(text: str, key: tuple[str, ...]) -> tuple[str, ...]:
    """``key`` with a second reading of each word holding such letters (``a/b``)."""
    tokens = text.split()
    if len(tokens) != len(key) or not any(c in text for c in "ضظذث"):
        return key
    out = []
    for word, token in zip(key, tokens, strict=True):
        other = _words(token.translate(_PERSIAN))[0]
        out.append(f"{word}/{other[0]}" if len(other) == 1 and other[0] != word else word)
    return tuple(out)


# ------------------------------------------------------------------ scoring


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
    lengths = [len(_first(q)) for q in query]
    m_q = sum(s * lengths[i] for i, s in used_q.items()) / sum(lengths)
    m_n = sum(s * len(name[j]) for j, s in used_n.items()) / sum(len(n) for n in name)
    value = WEIGHT_MAX * max(m_q, m_n) + (1 - WEIGHT_MAX) * min(m_q, m_n)
    if len(used_q) == 1 and max(len(query), len(name)) > 1:
        value *= ONE_WORD  # one shared word is a surname at best
    return value


def _first(word: str) -> str:
    """A query word's first reading (the plain transliteration)."""
    return word.split("/", 1)[0]


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
    joined_q, joined_n = "".join(map(_first, query)), "".join(name)
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


def score(query: str, name: str) -> float:
    """The score of a name as written for a query as written."""
    q, abjad = query_words(Query(query))
    return round(full_score(q, name, _words(name)[0], abjad), 3)


# ------------------------------------------------------------------ queries and candidates


@dataclass(frozen=True)
class Query:
    """What is screened: a name, and what else is known of whom it names."""

    name: str
    birth_date: date | None = None
    country: str | None = None
    kind: str | None = None


@dataclass(frozen=True)
class Candidate:
    subject: SubjectRow
    score: float
    name_score: float
    matched: str
    """The name or alias that matched best."""
    reasons: tuple[str, ...]
    """What moved the score from the name's own: ``birth date differs`` and the like."""


def adjust(query: Query, subject: SubjectRow, value: float) -> tuple[float, list[str]] | None:
    """The name score moved by birth date and country; None when the kind rules it out."""
    reasons: list[str] = []
    if query.kind and subject.kind != query.kind:
        return None
    if query.birth_date and subject.birth_date:
        if query.birth_date == subject.birth_date:
            value += 0.05
            reasons.append("same birth date")
        elif query.birth_date.year == subject.birth_date.year:
            value += 0.02
            reasons.append("same birth year")
        elif abs(query.birth_date.year - subject.birth_date.year) > 1:
            value -= 0.15
            reasons.append("birth date differs")
    if query.country and subject.nationality:
        q, n = _country(query.country), _country(subject.nationality)
        if q and n:
            if q == n or q in n or n in q:
                value += 0.03
                reasons.append("same country")
            else:
                value -= 0.05
                reasons.append("country differs")
    return max(0.0, min(1.0, value)), reasons


def _country(text: str) -> str:
    return " ".join(_WORD.findall(anyascii(text).lower()))


def status(value: float, threshold: float) -> str:
    """``match``, ``possible`` or ``clear`` for a score."""
    if value >= threshold:
        return "match"
    if value >= threshold - POSSIBLE_MARGIN:
        return "possible"
    return "clear"


def check_threshold(threshold: float) -> float:
    if not 0.0 < threshold <= 1.0:
        raise InvalidValue(f"--threshold {threshold} is not a score: give one in (0, 1]")
    return threshold


def _keys(word: str) -> list[str]:
    if "/" in word:
        return [k for a in word.split("/") for k in _keys(a)]
    keys = [word]
    c = consonants(word)
    if len(c) >= 2:
        keys.append("c:" + c)
    if len(word) >= 4:
        keys += ["p:" + word[:3], "s:" + word[-3:]]
    return keys


def _abjad_keys(joined: str) -> list[str]:
    c = consonants(joined)
    return ["t:" + c[i : i + 3] for i in range(len(c) - 2)]


def index_keys(key: Sequence[str]) -> set[str]:
    """The keys under which a name (as ``words``) is indexed."""
    return {k for w in key for k in _keys(w)} | set(_abjad_keys("".join(key)))


def query_keys(key: Sequence[str], abjad: bool) -> set[str]:
    """The keys a query (as ``words``) looks up: its consonant trigrams only from an abjad."""
    keys = {k for w in key for k in _keys(w)}
    if abjad:
        keys |= set(_abjad_keys("".join(map(_first, key))))
    return keys


def key_weight(holders: int, names: int) -> int | None:
    """A key's weight in the pre-selection (idf); None for a key too common to select by.

    Common keys (``muhammad``, ``s:nov``) say little; keys held by more than a fifth of the
    names (and more than 50) are left out of the pre-selection.
    """
    if holders <= 0 or holders > max(50, names // 5):
        return None
    # In thousandths, so that sums are exact and equal in SQL and here (ties matter below).
    return round(1000 * (math.log(max(1, names) / holders) + 0.1))


def preselected(weighed: Sequence[tuple[T, int]]) -> list[T]:
    """The names to score exactly, from (name, weight) best first: the first ``CANDIDATES``
    and every name tied with the last of them (up to ``TIES`` in all), so that which of
    several equally weighed names are scored does not depend on the order of storage."""
    if len(weighed) <= CANDIDATES:
        return [n for n, _ in weighed]
    last = weighed[CANDIDATES - 1][1]
    return [n for n, w in weighed[:TIES] if w >= last]


def query_words(query: Query) -> tuple[tuple[str, ...], bool]:
    """The query's name as ``words`` and whether it was written in an abjad; refused empty."""
    key, abjad = _words(query.name)
    if not key:
        raise InvalidValue(
            f"the name {query.name!r} has no letters or digits to match; give a name"
        )
    if abjad:
        return abjad_readings(query.name, key), abjad
    return korean_readings(query.name, key), abjad


Named = tuple[SubjectRow, str, Sequence[str]]
"""A candidate name: its subject, the name as written, the name as ``words``."""


def _rank_of(subject: SubjectRow, name: str) -> int:
    """Where ``name`` stands among the subject's names: 0 for its main name."""
    names = [subject.name, *subject.aliases]
    return names.index(name) if name in names else len(names)


def rank(query: Query, candidates: Iterable[Named], *, floor: float, limit: int) -> list[Candidate]:
    """Candidates scored exactly: subjects scoring at least ``floor``, best first (ties by
    name), at most ``limit``; a subject counts once, by its best name."""
    key, abjad = query_words(query)
    best: dict[str, Candidate] = {}
    scored: dict[tuple[str, tuple[str, ...]], float] = {}  # namesakes are scored once
    for subject, name, name_key in candidates:
        held_score = scored.get((name, tuple(name_key)))
        if held_score is None:
            held_score = scored[name, tuple(name_key)] = full_score(key, name, name_key, abjad)
        raw = held_score
        if raw < floor - 0.2:  # no birth date or country lifts it that far
            continue
        moved = adjust(query, subject, raw)
        if moved is None:
            continue
        value, reasons = moved
        value = round(value, 3)
        if value < floor:
            continue
        held = best.get(subject.subject_id)
        if (
            held is None
            or value > held.score
            # Equal scores: the name that comes first among the subject's own (its main name,
            # then its aliases in order), whatever order the candidates came in (a set's order
            # varies with the process's hash seed).
            or (value == held.score and _rank_of(subject, name) < _rank_of(subject, held.matched))
        ):
            best[subject.subject_id] = Candidate(
                subject, value, round(raw, 3), name, tuple(reasons)
            )
    ranked = sorted(best.values(), key=lambda c: (-c.score, c.subject.name.lower()))
    return ranked[:limit]


class Matcher(Protocol):
    """What ``search`` and the web ask of an index: the in-memory ``MatchIndex`` or the
    persistent one (``projections.name_index.StoredIndex``)."""

    def match(self, query: Query, *, floor: float, limit: int = 5) -> list[Candidate]: ...


class MatchIndex:
    """Every name and alias of some subjects, with an inverted index of their word keys."""

    def __init__(
        self,
        subjects: Iterable[SubjectRow],
        stored: Mapping[str, Sequence[tuple[str, Sequence[str]]]] | None = None,
    ) -> None:
        """``stored``: the names of each subject already as ``words`` (by subject id), as the
        persistent index keeps them; else each name is transliterated and folded here."""
        self.subjects: list[SubjectRow] = []
        self.owner: list[int] = []
        self.names: list[str] = []
        self.keys: list[tuple[str, ...]] = []
        postings: dict[str, list[int]] = defaultdict(list)
        for s in subjects:
            index = len(self.subjects)
            self.subjects.append(s)
            own = dict.fromkeys([s.name, *s.aliases])
            if stored is not None:
                held = dict(stored.get(s.subject_id, ()))
                named = [(n, tuple(held[n])) for n in own if n in held]
            else:
                named = [(n, _words(n)[0]) for n in own]
            for name, key in named:
                if not key:
                    continue
                position = len(self.names)
                self.owner.append(index)
                self.names.append(name)
                self.keys.append(key)
                for k in index_keys(key):
                    postings[k].append(position)
        count = len(self.names)
        self.postings: dict[str, tuple[list[int], int]] = {}
        for k, v in postings.items():
            weight = key_weight(len(v), count)
            if weight is not None:
                self.postings[k] = (v, weight)

    def __len__(self) -> int:
        return len(self.subjects)

    def _preselect(self, key: Sequence[str], abjad: bool) -> list[int]:
        weights: dict[int, int] = defaultdict(int)
        for k in query_keys(key, abjad):
            found = self.postings.get(k)
            if found is None:
                continue
            positions, weight = found
            for p in positions:
                weights[p] += weight
        if len(weights) <= CANDIDATES:
            return list(weights)
        # The best TIES by weight (ties by position), without sorting every name found.
        best = heapq.nsmallest(TIES, weights.items(), key=lambda pw: (-pw[1], pw[0]))
        return preselected(best)

    def match(self, query: Query, *, floor: float, limit: int = 5) -> list[Candidate]:
        """Subjects scoring at least ``floor``, best first (ties by name), at most ``limit``."""
        key, abjad = query_words(query)
        chosen = self._preselect(key, abjad)
        return rank(
            query,
            ((self.subjects[self.owner[p]], self.names[p], self.keys[p]) for p in chosen),
            floor=floor,
            limit=limit,
        )


def build_index(subjects: Iterable[SubjectRow]) -> MatchIndex:
    """The index the matcher searches: built once per ledger state and set of subjects.

    (Kept behind this one function so that a persistent index can take its place.)
    """
    return MatchIndex(subjects)
