"""The matcher's reading of names: every name as folded ASCII words (``words``).

Each script is transliterated by ``anyascii``; Chinese and Korean syllables become one word
each (lists write ``KIM Jong Un``), Korean from the Revised Romanization towards the
McCune-Reischauer forms lists use; spelling variants are folded (``fold``). A query in a
script that writes no short vowels (Arabic, Hebrew) gets the Persian readings of some letters
(``abjad_readings``); a Cyrillic query of Korean syllables the Korean readings of its letters
(``korean_readings``). These rules are generic: no name from any list is held here.

The persistent search index stores these words (``projections.name_index``): a change to
``words`` must bump ``tables.SCHEMA_VERSION``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from anyascii import anyascii

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
# Arabic ta marbuta (a final -a, -ah or -at in Latin), as a vowel: anyascii's h made a dh
# of a d before it (القاعدة read lqdh, folded lkz, for al-Qaida).
_TA_MARBUTA = "a"
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
            parts.append(_TA_MARBUTA if ch == "\u0629" else anyascii(ch))
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


def first(word: str) -> str:
    """A query word's first reading (the plain transliteration)."""
    return word.split("/", 1)[0]


def syllable_groups(text: str, key: tuple[str, ...]) -> tuple[int, ...] | None:
    """For a name written in Chinese or Korean syllables alone (``key`` its words, one a
    syllable), the written word each syllable belongs to: ``영수 이`` -> (0, 0, 1). None for
    a name in any other script (or whose syllables did not each give one word)."""
    groups: list[int] = []
    group, apart = -1, True
    for ch in text:
        if not ch.isalnum():
            apart = True
            continue
        if _script(ch) not in _SYLLABIC:
            return None
        if apart:
            group, apart = group + 1, False
        groups.append(group)
    return tuple(groups) if groups and len(groups) == len(key) else None
