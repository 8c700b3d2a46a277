"""How FollowTheMoney cleans and checks the values ``export-ftm`` writes, without the package.

followthemoney (4.11) needs normality, which needs PyICU: no wheels, minutes of C++ compiling.
The export writes few kinds of value, and these are the package's own rules for them (its
``clean_text`` and ``validate`` of each property type, from followthemoney, normality, rigour
and prefixdate, all MIT-licensed). ``tests/test_ftm_package.py`` checks them against the
package when the ``[ftm]`` extra is installed; ``tests/ftm_reference.py`` rebuilds
``ftm_countries.json`` from it.

One deliberate difference: a country written in another script than Latin (``Россия``) is
matched by the package through rigour's language-aware transliteration, which this module
cannot reproduce; it reports such a value instead of guessing (see ``country``).
"""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import date
from functools import cache, lru_cache
from ipaddress import ip_address
from pathlib import Path
from urllib.parse import ParseResult, urlparse

# ------------------------------------------------------------------ text (every value)

_UNSAFE_SPACES = frozenset(
    chr(cp)
    for cp in (*range(0x2000, 0x200B), 0x2028, 0x2029, 0x0A00, 0x1680, 0x202F, 0x205F, 0x3000)
)
_UNSAFE_DELETE = (
    *range(0x00, 0x09),
    *range(0x0B, 0x0D),
    *range(0x0E, 0x20),
    0x7F,
    *range(0x80, 0xA0),
    *range(0x200B, 0x2010),
    0x061C,
    *range(0x2060, 0x2065),
    0x00AD,
    0xFEFF,
    *range(0xD800, 0xE000),
)
_UNSAFE = re.compile(
    "["
    + "".join(re.escape(c) for c in sorted(_UNSAFE_SPACES | {chr(c) for c in _UNSAFE_DELETE}))
    + "]"
)


def sanitize(text: str) -> str | None:
    """NFC, unsafe characters out (odd spaces become a space), trimmed; None when empty."""
    text = unicodedata.normalize("NFC", text)
    text = _UNSAFE.sub(lambda m: " " if m.group() in _UNSAFE_SPACES else "", text).strip()
    return text or None


def key_part(text: str) -> bytes:
    """One part of a hashed entity id, as followthemoney's ``make_id`` takes it."""
    return text.strip().encode("utf-8")


# ------------------------------------------------------------------ names

_QUOTES = re.compile(r'^["\'](.*)["\']$', re.U)
_SQUASH = re.compile(r"[\s\u2028\u2000-\u200a\u2029\u0a00\u1680\u202f\u205f\u3000]+", re.U)
_SQUASH_REMOVE = re.compile(r"[\u200b\u200c\u200d\ufeff\u00ad\u2060-\u2064]", re.U)
NAME_MAX = 384


def squash_spaces(text: str) -> str:
    return _SQUASH.sub(" ", _SQUASH_REMOVE.sub("", text)).strip(" ")


def name(text: str) -> str | None:
    return squash_spaces(_QUOTES.sub("\\1", text)) or None


# ------------------------------------------------------------------ dates


def day(value: date) -> str | None:
    """A date as FollowTheMoney keeps it; None outside the years 1000-2999, which it drops."""
    return value.isoformat() if 1000 <= value.year <= 2999 else None


# ------------------------------------------------------------------ entity references

_ENTITY_ID = re.compile(r"^[0-9a-zA-Z]([0-9a-zA-Z\.\-]*[0-9a-zA-Z])?$")


def entity_ref(text: str) -> str | None:
    """An entity id another entity may point to; None for one the model refuses (``a_b``)."""
    return text if _ENTITY_ID.match(text) else None


# ------------------------------------------------------------------ URLs (rigour.urls)

_SCHEMES = ("http", "https", "ftp", "mailto", "file", "s3", "gs")
_HOST_LABEL = re.compile(r"[\w-]{1,63}", re.UNICODE)
_HOST_ALNUM = re.compile(r"[^\W_]", re.UNICODE)
_WHITESPACE = re.compile(r"\s")


def _valid_netloc(parsed: ParseResult) -> bool:
    if _WHITESPACE.search(parsed.netloc) is not None:
        return False
    try:
        host = parsed.hostname
        _ = parsed.port
    except ValueError:
        return False
    if not host:
        return False
    try:
        ip_address(host)
        return True
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    for label in labels:
        if _HOST_LABEL.fullmatch(label) is None or _HOST_ALNUM.search(label) is None:
            return False
    return not (len(labels) > 1 and (len(labels[-1]) < 2 or labels[-1].isdigit()))


def _parse_url(text: str) -> ParseResult | None:
    try:
        parsed = urlparse(text)
    except (TypeError, ValueError):
        return None
    if not parsed.netloc:
        if parsed.scheme.lower() in _SCHEMES:
            return None
        if "." in parsed.path and not text.startswith("//"):
            return _parse_url(f"//{text}")
        return None
    if not _valid_netloc(parsed):
        return None
    scheme = parsed.scheme.lower() if parsed.scheme else "http"
    if scheme not in _SCHEMES:
        return None
    path = parsed.path.strip() or "/"
    return parsed._replace(scheme=scheme, path=path)


def url(text: str) -> str | None:
    parsed = _parse_url(text)
    return None if parsed is None else parsed.geturl()


# ------------------------------------------------------------------ countries (rigour.territories)

_COUNTRIES = Path(__file__).with_name("ftm_countries.json")
_SKIP = frozenset(".()[],;:_-/\u02bb'\u2019")  # rigour's SKIP_CHARACTERS


@cache
def _countries() -> tuple[
    dict[str, str | None], dict[str, str | None], list[tuple[str, str | None]]
]:
    """(codes, names, the names longer than 4 for the fuzzy search), in the package's order."""
    data = json.loads(_COUNTRIES.read_text(encoding="utf-8"))
    codes: dict[str, str | None] = data["codes"]
    names: dict[str, str | None] = data["names"]
    return codes, names, [(k, v) for k, v in names.items() if len(k) > 4]


def _latin(text: str) -> str | None:
    """Latin letters with accents as plain ASCII (``Côte`` -> ``Cote``); None for anything
    else that is not ASCII, whose transliteration rigour decides by language."""
    if text.isascii():
        return text
    for char in text:
        if char.isascii() or unicodedata.name(char, "").startswith(("LATIN ", "COMBINING ")):
            continue
        if not unicodedata.normalize("NFKD", char).isascii():  # a no-break space passes
            return None
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return plain if plain.isascii() else None


def territory_key(text: str) -> str:
    """rigour's ``normalize_territory_name`` for ASCII text."""
    text = unicodedata.normalize("NFKC", text).casefold()
    out = []
    for char in text:
        if char in _SKIP:
            continue
        if not char.isalnum() and not unicodedata.category(char).startswith("M"):
            out.append(" ")
        else:
            out.append(char)
    return squash_spaces("".join(out))


class NotLatin(ValueError):
    """A country name this module cannot match as the package would (another script)."""


@lru_cache(maxsize=4096)
def country(text: str) -> str | None:
    """A FollowTheMoney country code (``ru``, ``kp``, ``suhh``) for a code or an English
    name, matched as followthemoney's ``fuzzy=True`` does: a code (two or three letters,
    a Wikidata id), an exact name, else the nearest name within 30% of its length; None
    when nothing is near. Raises NotLatin for a name in another script."""
    codes, names, fuzzy = _countries()
    code = text.lower().replace("_", "-").strip()
    if code in codes:
        return codes[code]
    latin = _latin(text)
    if latin is None:
        raise NotLatin(text)
    key = territory_key(latin)
    if key in names:
        return names[key]
    from rapidfuzz.distance import Levenshtein  # loads only for a name that is not exact

    cutoff = int(len(key) * 0.3)
    best, found = cutoff + 1, None
    for candidate, value in fuzzy:
        distance = Levenshtein.distance(key, candidate, score_cutoff=cutoff)
        if distance < best:
            best, found = distance, value
    return found


# ------------------------------------------------------------------ checks (``validate``)

MAX_LENGTH = {"name": NAME_MAX, "string": 1024, "text": 65000, "identifier": 64, "url": 4096}


def valid(kind: str, value: str) -> bool:
    """followthemoney's ``validate`` for a value already cleaned: it must clean again to
    something non-empty and not longer than the type allows."""
    again = name(value) if kind == "name" else url(value) if kind == "url" else value
    return bool(again) and len(again or "") <= MAX_LENGTH.get(kind, 1 << 30)
