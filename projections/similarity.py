"""How alike two names are, as folded words (``projections.transliteration``): 0 to 1.

A query word is paired with the most similar unused word of a name (``rapidfuzz``
normalised Indel similarity, or the similarity of the words' consonants), and the name is
also compared written as one word (``Abd al-Malik`` / ``Abdalmalik``). A query in a script
that writes no short vowels (Arabic, Hebrew) is compared by its consonants, word by word
too. ``full_score`` also gives a name without its middle names its due (either side's).

Matcher version 4 rules: Chinese and Korean syllables match exactly (or voiced otherwise)
and a given name keeps the order of its syllables (``_syllable_similarity``, ``_in_order``);
titles are left out (``TITLES``), particles and company forms weigh one letter (``PARTICLES``,
``LEGAL_FORMS``); Slavic and Central Asian transliterations are met by soft equivalences
(``_soft``); a long surname may stand by its first or last word (``_edges``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from functools import lru_cache

from rapidfuzz.distance import Indel

from projections.transliteration import _words, consonants, first

WEIGHT_MAX = 0.7
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
        # The same consonants (v and y too) in the same order from the same first letter:
        # another vowelling (Andri / Nader, Kluev / Kalai are other names).
        cq, cn = _latin_skeleton(q), _latin_skeleton(n)
        if len(cq) >= 2 and cq == cn and q[0] == n[0]:
            value = max(value, 0.85)
        if _vowels_only(q, n):
            value = max(value, VOWELS_ONLY)
        sq, sn = _soft(q), _soft(n)
        if (sq != q or sn != n) and sq[0] == sn[0]:
            value = max(value, SOFT * Indel.normalized_similarity(sq, sn))
    return value if value >= 0.6 else 0.0


SOFT = 0.95
"""The factor on comparing words by their ``_soft`` forms."""

_SOFT = [
    (re.compile(r"zh"), "j"),  # Alimzhan / Alimjan
    (re.compile(r"gh"), "g"),  # Ghani / Gani
    (re.compile(r"(?<=[^aeiou])i(?=[aeou])"), ""),  # Kliuiev / Kluev, Aliaksandr / Aleksandr
    (re.compile(r"(?<=[^aeiou])ov$"), "u"),  # Belarusian -ou (folded -u): Barsukou / Barsukov
    (re.compile(r"(?<![kscztdgp])h"), "g"),  # Ukrainian h for Russian g: Serhii / Sergei
]


@lru_cache(maxsize=1 << 16)
def _soft(word: str) -> str:
    """A word with the letters transliterations of one name from Russian, Ukrainian,
    Belarusian or Central Asian languages disagree on made alike (a comparison only: the
    index keeps ``words``)."""
    for pattern, replacement in _SOFT:
        word = pattern.sub(replacement, word)
    return word


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


@lru_cache(maxsize=1 << 16)
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


@lru_cache(maxsize=1 << 16)
def _syllable_similarity(q: str, n: str) -> float:
    """A Chinese or Korean syllable against a word: the same syllable, or voiced otherwise
    (Gim / Kim); a syllable a letter off is another (Jian / Jiang, Yong / Pyong), and one
    letter is a syllable, not an initial (Yi)."""
    if q == n:
        return 1.0
    return 0.9 if _devoiced(q) == _devoiced(n) else 0.0


OUT_OF_ORDER = 0.75
"""The factor on a Chinese or Korean name whose given name's syllables the other name has in
another order (``영수`` is Yong Su, not Su Yong)."""


def _in_order(groups: Sequence[int], paired: dict[int, int]) -> bool:
    """Whether the syllables of each written word stand in the same order in the name. A name
    written as one word (``김정은``) may have its first syllable (the surname) moved to the end;
    a two-syllable one either way round (``李欣``: Li Xin, Xin Li)."""
    single = len(set(groups)) == 1
    for g in set(groups):
        positions = [paired[i] for i, h in enumerate(groups) if h == g and i in paired]
        if single:
            if len(positions) <= 2:
                continue
            positions = positions[1:]
        if any(a >= b for a, b in itertools.pairwise(positions)):
            return False
    return True


PARTICLES = frozenset(
    {"al", "el", "bin", "ibn", "ben", "bint", "ulad", "de", "del", "da", "dos", "das", "du"}
    | {"van", "von", "der", "den", "le", "la"}
)
"""Words that join a name's parts (``bin``, ``al``, ``de``, ``van``): written or left out
by whoever writes the name, they count as one letter each in how much of a name is matched."""


LEGAL_FORMS = frozenset(
    {"ltd", "ltda", "limited", "inc", "inkorporated", "korp", "korporation", "ko", "kia"}
    | {"gmbh", "ag", "kg", "llk", "lp", "lc", "plk", "spa", "srl", "sarl", "sas", "sa", "sl"}
    | {"slu", "slne", "sk", "skom", "skop", "bv", "nv", "oi", "ab", "as", "ae", "ooo", "zao"}
    | {"oao", "pao", "ao", "doo", "eu", "kv", "rl", "sro", "pvt", "pte", "bhd", "sdn", "jsk"}
    | {"sks", "sk", "kpa", "sapi", "spr", "sakv"}
)
"""Company forms (as ``words``: ``Ltda.`` is ``ltda``; ``S.A.`` is ``s a``, letters weigh
one each anyway): they say nothing of which company a name is, and weigh one letter each
(``Morin S.A.`` is not ``SAAB MORAN``)."""


@lru_cache(maxsize=1 << 16)
def _forms_joined(key: tuple[str, ...]) -> tuple[str, ...]:
    """``key`` with the company forms written as letters at its end joined (``s a de k v``
    as ``sa de kv``): letters are initials elsewhere, and ``S.A.`` is not ``SAAB A...``."""
    if len(key) < 3 or (len(key[-1]) > 1 and key[-1] not in LEGAL_FORMS):
        return key
    out = list(key)
    end = len(out)
    while end > 1:
        if out[end - 1] in LEGAL_FORMS or out[end - 1] in PARTICLES:
            end -= 1
            continue
        letters = 0
        while letters < end - 1 and len(out[end - 1 - letters]) == 1:
            letters += 1
        for k in range(letters, 1, -1):
            if "".join(out[end - k : end]) in LEGAL_FORMS:
                out[end - k : end] = ["".join(out[end - k : end])]
                end -= k - 1
                break
        else:
            break
    return tuple(out)


def _weight(word: str) -> int:
    """How much a word counts in how much of a name is matched: its length, 1 for a
    particle or a company form."""
    return 1 if word in PARTICLES or word in LEGAL_FORMS else len(word)


def _tokens_score(
    query: Sequence[str], name: Sequence[str], groups: Sequence[int] | None = None
) -> float:
    """``groups``: the query's ``syllable_groups`` when it is written in Chinese or Korean."""
    similarity = _similarity if groups is None else _syllable_similarity
    # Most pairs of words score 0: left out before sorting (the hot path of screening).
    pairs = [
        (sim, i, j)
        for i, q in enumerate(query)
        for j, n in enumerate(name)
        if (sim := similarity(q, n)) > 0.0
    ]
    pairs.sort(reverse=True)
    used_q: dict[int, float] = {}
    used_n: dict[int, float] = {}
    paired: dict[int, int] = {}
    for sim, i, j in pairs:
        if i in used_q or j in used_n:
            continue
        used_q[i] = sim
        used_n[j] = sim
        paired[i] = j
    if not used_q:
        return 0.0
    lengths = [_weight(first(q)) for q in query]
    m_q = sum(s * lengths[i] for i, s in used_q.items()) / sum(lengths)
    weights = [_weight(n) for n in name]
    m_n = sum(s * weights[j] for j, s in used_n.items()) / sum(weights)
    value = WEIGHT_MAX * max(m_q, m_n) + (1 - WEIGHT_MAX) * min(m_q, m_n)
    if len(used_q) == 1 and max(len(query), len(name)) > 1:
        value *= ONE_WORD  # one shared word is a surname at best
    if groups is not None and not _in_order(groups, paired):
        value *= OUT_OF_ORDER
    return value


TITLES = frozenset(
    {"dr", "doktor", "prof", "profesor", "sir", "eng", "ing"}
    | {"sheikh", "sheik", "shaikh", "shaik", "shiekh", "haji", "mulah", "mula", "maulana"}
    | {"mavlana", "maulavi", "mavlavi", "kolonel", "general", "kapitan", "major", "sergeant"}
)
"""Titles (as ``words``: ``Doctor`` is ``doktor``) that are no part of a name: left out
of the comparison when a name has other words (``Doctor Ayman``, ``Haji Khalil``)."""


def _untitled(key: Sequence[str]) -> Sequence[str]:
    """``key`` without its titles; a title after a particle is a family name
    (``al-Shaykh``)."""
    if TITLES.isdisjoint(key):  # (a word with readings is no title)
        return key
    kept = [w for i, w in enumerate(key) if w not in TITLES or (i > 0 and key[i - 1] in PARTICLES)]
    return kept if kept else key


def name_score(
    query: Sequence[str],
    name: Sequence[str],
    *,
    abjad: bool = False,
    groups: Sequence[int] | None = None,
) -> float:
    """How well a name answers a query, 0..1 (both as ``words``); ``groups``: the query's
    ``syllable_groups`` when it is written in Chinese or Korean."""
    if not query or not name:
        return 0.0
    if not abjad:  # an abjad's skeletons are too short to tell a title (Omar is mr)
        query, name = _untitled(_forms_joined(tuple(query))), _untitled(name)
    name = _forms_joined(tuple(name))
    value = _tokens_score(query, name, groups)
    if groups is not None:  # syllables: no articles, no abjad; the name as one word below
        joined_q, joined_n = "".join(query), "".join(name)
        if len(joined_q) >= 8 and len(joined_n) >= 8:
            value = max(value, 0.97 * Indel.normalized_similarity(joined_q, joined_n))
        return min(1.0, value)
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


MIDDLE = 0.9
"""The score of a query naming a person by the given name and surname of a listed name that
has middle names or a patronymic besides (``Ibrahim al-Samarrai`` for ``IBRAHIM AWWAD IBRAHIM
ALI AL-BADRI AL-SAMARRAI``, ``Igor Krasnov`` for ``KRASNOV, Igor Viktorovich``), times how
well the words match."""


MIDDLE_FLOOR = 0.89
"""The least score of the query against a name without its middle names (or the other way
round) for ``MIDDLE`` to count: the same words, or another spelling of them (0.89: the
least that ``MIDDLE`` times it makes ``possible``)."""

MIDDLE_LEAST = 0.6
"""The least score of a name for leaving out middle names to be tried: a query whose words
the name has, with middle names besides, scores 0.7 and more (``WEIGHT_MAX``)."""


@lru_cache(maxsize=1 << 16)
def _edges(name: str) -> tuple[tuple[str, ...], ...]:
    """What is left of a name without its middle names: the surname part and first given
    name of ``SURNAME, Given Middle`` (titles aside), and when the surname part has several
    words, its first or last (with a particle before it) and the first given name
    (``CARRERA LOPEZ, Juan``: Juan Carrera; ``HADI AL-SAID, Omar``: Omar Hadi, Omar al-Said);
    else the first and
    last word as written. Empty when there is no middle to leave out."""
    surname, comma, given = name.partition(",")
    if comma:
        givens = [g for g in given.split() if _words(g)[0] and _words(g)[0][0] not in TITLES]
        family = _words(surname)[0]
        head = family[: 2 if family and family[0] in PARTICLES else 1]
        tail = family[-2 if len(family) > 1 and family[-2] in PARTICLES else -1 :]
        first_given = tuple(w for g in givens[:1] for w in _words(g)[0])
        out = []
        if givens[1:]:
            out.append(family + first_given)
        if first_given:
            out += [part + first_given for part in {head, tail} if len(part) < len(family)]
        return tuple(out)
    tokens = name.split()
    parts, rest = [tokens[0], tokens[-1]] if len(tokens) >= 3 else [], tokens[1:-1]
    if not parts or not any(_words(r)[0] for r in rest):
        return ()
    return (tuple(w for p in parts for w in _words(p)[0]),)


def _middle_score(query: Sequence[str], name: str, groups: Sequence[int] | None) -> float:
    if len(query) < 2 or min(map(len, query)) < 2 or groups is not None:
        return 0.0  # names, not initials; Chinese and Korean names have no middle names
    value = max((name_score(query, e, groups=groups) for e in _edges(name) if e), default=0.0)
    return MIDDLE * value if round(value, 6) >= MIDDLE_FLOOR else 0.0


def full_score(
    query: Sequence[str],
    name: str,
    name_key: Sequence[str],
    abjad: bool,
    groups: Sequence[int] | None = None,
    query_text: str = "",
) -> float:
    """``name_score``, or more when the query is the name without its middle names, or the
    name the query without its own (``query_text``: the query as written)."""
    value = name_score(query, name_key, abjad=abjad, groups=groups)
    if value >= MIDDLE or value < MIDDLE_LEAST:
        return value  # as good as leaving out middle names can be; or too far for them
    value = max(value, _middle_score(query, name, groups))
    if query_text and not abjad and groups is None and len(name_key) >= 2:
        # Not from an abjad or syllables: their words carry readings the edges would lose.
        fewer = max((name_score(e, name_key) for e in _edges(query_text) if e), default=0.0)
        if round(fewer, 6) >= MIDDLE_FLOOR:
            value = max(value, MIDDLE * fewer)
    return value
