"""The UN Security Council consolidated list (XML, schema ``sc-sanctions.xsd``).

The file is streamed (``XMLPullParser`` fed line by line, which is ``iterparse`` that also
knows the line of each record): one :class:`Entry` per ``INDIVIDUAL`` or ``ENTITY``. The
publication date is the date part of ``dateGenerated`` as written in the file.

Subject ids come from REFERENCE_NUMBER (``QDi.001`` -> ``un-qdi-001``); kind: INDIVIDUAL is a
person, ENTITY an organization. Name: FIRST_NAME .. FOURTH_NAME joined; aliases: ALIAS_NAME and
NAME_ORIGINAL_SCRIPT; birth date: the first exact INDIVIDUAL_DATE_OF_BIRTH/DATE (the other
exact ones: alternative birth dates); nationality
and position (DESIGNATION): their VALUEs joined with "; ".

The XML does not state measures. They come from the table below, one row per UN_LIST_TYPE:
the regime's name in the ledger, the resolution that set it up (recorded as the legal act),
and the targeted measures that resolution and its successors impose on listed individuals
and entities:

==============  ====================================  =============================  =========
UN_LIST_TYPE    regime                                legal act                      measures
==============  ====================================  =============================  =========
Al-Qaida        UN ISIL (Da'esh) and Al-Qaida         UNSC Resolution 1267 (1999)    AF TB AE
Taliban         UN Taliban                            UNSC Resolution 1988 (2011)    AF TB AE
Iraq            UN Iraq                               UNSC Resolution 1518 (2003)    AF
DPRK            UN DPRK                               UNSC Resolution 1718 (2006)    AF TB
Iran            UN Iran                               UNSC Resolution 2231 (2015)    AF TB
DRC             UN Democratic Republic of the Congo   UNSC Resolution 1533 (2004)    AF TB
Libya           UN Libya                              UNSC Resolution 1970 (2011)    AF TB
Somalia         UN Somalia                            UNSC Resolution 751 (1992)     AF TB AE
CAR             UN Central African Republic           UNSC Resolution 2127 (2013)    AF TB
GB              UN Guinea-Bissau                      UNSC Resolution 2048 (2012)    TB
SouthSudan      UN South Sudan                        UNSC Resolution 2206 (2015)    AF TB
Yemen           UN Yemen                              UNSC Resolution 2140 (2014)    AF TB AE
Sudan           UN Sudan                              UNSC Resolution 1591 (2005)    AF TB
Mali            UN Mali                               UNSC Resolution 2374 (2017)    AF TB
Haiti           UN Haiti                              UNSC Resolution 2653 (2022)    AF TB AE
==============  ====================================  =============================  =========

(AF asset-freeze, TB travel-ban, AE arms-embargo: the targeted arms embargo of 1267/1989/
2253, 1988, 1844 (Somalia), 2216 (Yemen) and 2653 (Haiti). Country-wide embargoes are not a
measure on the listed subject.) A list type not in the table is refused, naming the record:
add its row here rather than guess its measures.
"""

from __future__ import annotations

import hashlib
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import cast

from ledger.adapters.snapshot import (
    Entry,
    InvalidSnapshot,
    ListSpec,
    Programme,
    ProgressFn,
    Snapshot,
    clean,
    slug_ref,
)

SPEC = ListSpec(
    name="un-consolidated",
    authority="UN",
    title="UN Security Council consolidated list",
    url="https://scsanctions.un.org/resources/xml/en/consolidated.xml",
)

_AF, _TB, _AE = "asset-freeze", "travel-ban", "arms-embargo"

REGIMES: dict[str, Programme] = {
    "Al-Qaida": Programme(
        "UN ISIL (Da'esh) and Al-Qaida", (_AF, _AE, _TB), "UNSC Resolution 1267 (1999)"
    ),
    "Taliban": Programme("UN Taliban", (_AF, _AE, _TB), "UNSC Resolution 1988 (2011)"),
    "Iraq": Programme("UN Iraq", (_AF,), "UNSC Resolution 1518 (2003)"),
    "DPRK": Programme("UN DPRK", (_AF, _TB), "UNSC Resolution 1718 (2006)"),
    "Iran": Programme("UN Iran", (_AF, _TB), "UNSC Resolution 2231 (2015)"),
    "DRC": Programme(
        "UN Democratic Republic of the Congo", (_AF, _TB), "UNSC Resolution 1533 (2004)"
    ),
    "Libya": Programme("UN Libya", (_AF, _TB), "UNSC Resolution 1970 (2011)"),
    "Somalia": Programme("UN Somalia", (_AF, _AE, _TB), "UNSC Resolution 751 (1992)"),
    "CAR": Programme("UN Central African Republic", (_AF, _TB), "UNSC Resolution 2127 (2013)"),
    "GB": Programme("UN Guinea-Bissau", (_TB,), "UNSC Resolution 2048 (2012)"),
    "SouthSudan": Programme("UN South Sudan", (_AF, _TB), "UNSC Resolution 2206 (2015)"),
    "Yemen": Programme("UN Yemen", (_AF, _AE, _TB), "UNSC Resolution 2140 (2014)"),
    "Sudan": Programme("UN Sudan", (_AF, _TB), "UNSC Resolution 1591 (2005)"),
    "Mali": Programme("UN Mali", (_AF, _TB), "UNSC Resolution 2374 (2017)"),
    "Haiti": Programme("UN Haiti", (_AF, _AE, _TB), "UNSC Resolution 2653 (2022)"),
}

RECORDS = {"INDIVIDUAL": "person", "ENTITY": "organization"}
SECTIONS = {"INDIVIDUAL": "INDIVIDUALS", "ENTITY": "ENTITIES"}
_REF = re.compile(r"^[A-Z]{2}[ie]\.\d{3,}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def parse(
    path: str | os.PathLike[str],
    *,
    published: date | None = None,
    progress: ProgressFn | None = None,
) -> Snapshot:
    """Read a consolidated list file; any fault raises InvalidSnapshot naming its line.

    The file must be whole: its root with a ``dateGenerated``, and every record with a
    reference number, a name and a listing date; a file without records is refused ("no
    entries"), as is one that ends before its root closes (truncated).
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidSnapshot(f"{path}: no such file (give the consolidated list XML)")
    total = path.stat().st_size
    digest = hashlib.sha256()
    generated: list[date] = []
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    counts = {"individuals": 0, "entities": 0}
    name = path.name
    for line, element, section in _records(path, digest, total, progress, generated):
        entry = _entry(element, f"{name} line {line}")
        if section != SECTIONS[element.tag]:
            raise InvalidSnapshot(
                f"{entry.where}: {element.tag} inside <{section}> "
                f"(expected it inside <{SECTIONS[element.tag]}>)"
            )
        if entry.ref in seen:
            raise InvalidSnapshot(
                f"{entry.where}: REFERENCE_NUMBER {entry.ref} is listed twice "
                f"(first at line {seen[entry.ref]})"
            )
        seen[entry.ref] = line
        entries.append(entry)
        counts["individuals" if entry.kind == "person" else "entities"] += 1
    if not entries:
        raise InvalidSnapshot(
            f"{name}: no entries (no INDIVIDUAL or ENTITY): not a whole UN consolidated list"
        )
    when = generated[0]
    if published is not None and when != published:
        raise InvalidSnapshot(
            f"{name}: the file says it was generated on {when}; "
            f"--published {published} disagrees (leave it out)"
        )
    return Snapshot(SPEC, when, digest.hexdigest(), tuple(entries), counts, str(path))


def _records(
    path: Path,
    digest: hashlib._Hash,
    total: int,
    progress: ProgressFn | None,
    generated: list[date],
) -> Iterator[tuple[int, ET.Element, str]]:
    """(line of the start tag, element, its section) for each INDIVIDUAL / ENTITY, streamed.

    Appends the root's dateGenerated to ``generated`` as soon as the root opens.
    """
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start", "end"))
    root: ET.Element | None = None
    open_tags: list[str] = []
    starts: list[int] = []
    done = 0
    number = 0
    utf8 = True
    with path.open("rb") as file:
        for number, raw in enumerate(file, start=1):
            digest.update(raw)
            done += len(raw)
            if number == 1:
                utf8 = _declares_utf8(raw)
            if utf8:
                _check_utf8(path.name, number, raw)
            try:
                parser.feed(raw)
                events = list(parser.read_events())
            except ET.ParseError as e:
                raise _syntax(path.name, e) from None
            for event in events:
                kind, element = cast(tuple[str, ET.Element], event)
                if kind == "start":
                    open_tags.append(element.tag)
                    depth = len(open_tags)
                    if depth == 1:
                        root = element
                        if element.tag != "CONSOLIDATED_LIST":
                            raise InvalidSnapshot(
                                f"{path.name} line {number}: the root element is "
                                f"<{element.tag}>, not <CONSOLIDATED_LIST>: not a UN "
                                "consolidated list"
                            )
                        generated.append(_generated(element, f"{path.name} line {number}"))
                    elif depth == 3:
                        starts.append(number)
                    continue
                open_tags.pop()
                if len(open_tags) == 2:
                    line = starts.pop()
                    if element.tag not in RECORDS:
                        raise InvalidSnapshot(
                            f"{path.name} line {line}: unexpected element <{element.tag}> "
                            "(expected INDIVIDUAL or ENTITY)"
                        )
                    assert root is not None
                    yield line, element, open_tags[1]
                    element.clear()
                    for section in root:  # drop finished records: memory stays flat
                        section.clear()
            if progress is not None and number % 200 == 0:
                progress(done, total)
        try:
            parser.close()
        except ET.ParseError as e:
            if open_tags:  # well-formed so far, but it stops before the root closes
                raise InvalidSnapshot(
                    f"{path.name} line {number}: the file ends inside <{open_tags[-1]}>, "
                    f"before </{open_tags[0]}>: it is truncated (download it again)"
                ) from None
            raise _syntax(path.name, e) from None
    if root is None:
        raise InvalidSnapshot(f"{path.name}: empty file, not a UN consolidated list")
    if progress is not None:
        progress(total, total)


_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def _declares_utf8(first_line: bytes) -> bool:
    """Whether the file is UTF-8: no declared encoding, or UTF-8 declared."""
    m = _ENCODING.match(first_line.lstrip(b"\xef\xbb\xbf"))
    return m is None or m[1].lower().replace(b"_", b"-") in (b"utf-8", b"utf8")


def _check_utf8(name: str, number: int, raw: bytes) -> None:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidSnapshot(
            f"{name} line {number}, column {e.start + 1}: not valid UTF-8 "
            f"(byte 0x{raw[e.start]:02x}); the file is mis-encoded or damaged (download it again)"
        ) from None


def _syntax(name: str, e: ET.ParseError) -> InvalidSnapshot:
    line, column = e.position
    message = str(e).split(":")[0]
    return InvalidSnapshot(f"{name} line {line}, column {column + 1}: malformed XML ({message})")


def _generated(root: ET.Element, where: str) -> date:
    value = root.get("dateGenerated")
    if value is None:
        raise InvalidSnapshot(
            f"{where}: CONSOLIDATED_LIST has no dateGenerated: not a whole UN consolidated list "
            "(the UN writes it on every file)"
        )
    if not _DATE.match(value):
        raise InvalidSnapshot(f"{where}: dateGenerated {value!r} does not start with YYYY-MM-DD")
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise InvalidSnapshot(f"{where}: dateGenerated {value!r} is not a calendar date") from None


def _text(element: ET.Element, path: str) -> str:
    return clean(element.findtext(path))


def _values(element: ET.Element, path: str) -> list[str]:
    found: list[str] = []
    for v in element.findall(f"{path}/VALUE"):
        text = clean(v.text)
        if text and text not in found:
            found.append(text)
    return found


def _entry(element: ET.Element, where: str) -> Entry:
    tag = element.tag
    ref = _text(element, "REFERENCE_NUMBER")
    if not ref:
        raise InvalidSnapshot(f"{where}: {tag} without REFERENCE_NUMBER")
    if not _REF.match(ref):
        raise InvalidSnapshot(
            f"{where}: {tag} {ref}: REFERENCE_NUMBER {ref!r} is not of the form QDi.001"
        )
    where = f"{where} ({tag} {ref})"
    list_type = _text(element, "UN_LIST_TYPE")
    programme = REGIMES.get(list_type)
    if programme is None:
        raise InvalidSnapshot(
            f"{where}: unknown UN_LIST_TYPE {list_type!r}; known: {', '.join(REGIMES)} "
            "(add it to the table in ledger/adapters/un.py)"
        )
    parts = [_text(element, f) for f in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")]
    name = " ".join(p for p in parts if p)
    if not name:
        raise InvalidSnapshot(f"{where}: no name (FIRST_NAME is empty)")
    listed_text = _text(element, "LISTED_ON")
    if not listed_text:
        # Every record of the UN's files has one (all 1,093 of 29 Oct 2018): a record
        # without it is damaged, and its designation would start on a guessed date.
        raise InvalidSnapshot(f"{where}: no listing date (LISTED_ON is empty)")
    try:
        listed_on = date.fromisoformat(listed_text[:10])
    except ValueError:
        raise InvalidSnapshot(f"{where}: LISTED_ON {listed_text!r} is not a date") from None
    aliases: list[str] = []
    alias_tag = f"{tag}_ALIAS"
    for alias in element.findall(f"{alias_tag}/ALIAS_NAME"):
        text = clean(alias.text)
        if text and text != name and text not in aliases:
            aliases.append(text)
    original = _text(element, "NAME_ORIGINAL_SCRIPT")
    if original and original not in aliases:
        aliases.append(original)
    births: list[date] = []  # every exact one: lists often give several
    for dob in element.findall("INDIVIDUAL_DATE_OF_BIRTH"):
        text = _text(dob, "DATE")
        if text and _text(dob, "TYPE_OF_DATE") in ("EXACT", ""):
            try:
                births.append(date.fromisoformat(text[:10]))
            except ValueError:
                raise InvalidSnapshot(f"{where}: date of birth {text!r} is not a date") from None
    birth = births[0] if births else None
    return Entry(
        ref=ref,
        subject_id=slug_ref("un", ref),
        kind=RECORDS[tag],
        name=name,
        aliases=tuple(aliases),
        birth_date=birth,
        nationality="; ".join(_values(element, "NATIONALITY")) or None,
        position="; ".join(_values(element, "DESIGNATION")) or None,
        programmes=(programme,),
        listed_on=listed_on,
        where=where,
        alt_birth_dates=tuple(sorted(set(births) - {birth})) if birth else (),
    )
