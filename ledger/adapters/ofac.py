"""The OFAC Specially Designated Nationals list in its legacy CSV form.

A folder with ``sdn.csv`` (required) and ``add.csv``, ``alt.csv``, ``sdn_comments.csv``
(each optional): no header row, ``-0-`` means empty, a trailing Ctrl-Z ends a file.

- sdn.csv: ent_num, name, type, programs (``A] [B``), title, call sign, vessel type, tonnage,
  GRT, vessel flag, vessel owner, remarks;
- alt.csv: ent_num, alt_num, alt_type (aka/fka/nka), alt_name, remarks: the aliases;
- sdn_comments.csv: ent_num, the rest of remarks longer than sdn.csv holds;
- add.csv: ent_num, add_num, address, city, country, remarks: checked, and part of the digest.

Subject ids: ``ofac-`` and the ent_num. Kind: individual -> person, vessel, aircraft, and
``-0-`` (an entity) -> organization. Birth date and nationality come from the remarks (the
first ``DOB 24 Dec 1975``, later ones as other birth dates; ``nationality Russia`` or
``citizen Russia``), the position from the title. Each program is one regime, named by its
tag as OFAC writes it (``UKRAINE-EO13661``, ``SDGT``). The SDN list blocks: every designation
carries ``asset-freeze`` (property blocked) and ``funds-prohibition`` (no dealings by US persons).

The files carry no publication date: give it (``--published``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

from ledger.adapters.snapshot import (
    Entry,
    InvalidSnapshot,
    ListSpec,
    Programme,
    ProgressFn,
    Snapshot,
    clean,
)

SPEC = ListSpec(
    name="ofac-sdn",
    authority="US-OFAC",
    title="OFAC Specially Designated Nationals list",
    url="https://www.treasury.gov/ofac/downloads/sdn.csv",
)

MEASURES: tuple[str, ...] = ("asset-freeze", "funds-prohibition")
KINDS = {"individual": "person", "vessel": "vessel", "aircraft": "aircraft", "": "organization"}
FILES = ("sdn.csv", "alt.csv", "add.csv", "sdn_comments.csv")
WIDTHS = {"sdn.csv": 12, "alt.csv": 5, "add.csv": 6, "sdn_comments.csv": 2}
MARKED = ("sdn.csv", "alt.csv", "add.csv")
"""The files OFAC ends with Ctrl-Z (sdn_comments.csv has none): without it, a file was cut."""
OPTIONAL = {
    "alt.csv": "the entries have no aliases",
    "add.csv": "no addresses checked",
    "sdn_comments.csv": "no remarks beyond sdn.csv's",
}
"""The optional files, and what their absence means (reported with the import)."""
NUMBERS = {"alt.csv": "alt_num", "add.csv": "add_num"}

_DOB = re.compile(r"\bDOB (\d{1,2} [A-Z][a-z]{2} \d{4})\b")
_NATIONALITY = re.compile(r"\b(?:nationality|citizen) ([^;.]+)")


def _value(text: str) -> str:
    text = clean(text)
    return "" if text == "-0-" else text


def parse(
    folder: str | os.PathLike[str],
    *,
    published: date | None,
    progress: ProgressFn | None = None,
) -> Snapshot:
    """Read an SDN folder; any fault raises InvalidSnapshot naming the file and line."""
    folder = Path(folder)
    if folder.is_file():
        folder = folder.parent
    if not (folder / "sdn.csv").is_file():
        raise InvalidSnapshot(f"{folder}: no sdn.csv here (give the folder of the SDN CSV files)")
    if published is None:
        raise InvalidSnapshot(
            f"{folder}: the SDN CSV files carry no publication date: give --published DATE"
        )
    present = [name for name in FILES if (folder / name).is_file()]
    total = sum((folder / name).stat().st_size for name in present)
    digest = hashlib.sha256()
    done = 0
    rows: dict[str, list[tuple[int, list[str]]]] = {}
    notes: list[str] = []
    for name in present:
        data = (folder / name).read_bytes()
        digest.update(f"{name}\n{len(data)}\n".encode())
        digest.update(data)
        rows[name] = list(_rows(name, data))
        done += len(data)
        if progress is not None:
            progress(done, total)
    for name, lost in OPTIONAL.items():
        if name not in present:
            notes.append(f"no {name} in the folder: {lost}")
        elif not rows[name]:
            notes.append(f"{name} has no rows: {lost}")

    entry_lines: dict[str, int] = {}
    for line, row in rows["sdn.csv"]:
        ent = _ent_num(row[0], "sdn.csv", line)
        if ent in entry_lines:
            raise InvalidSnapshot(
                f"sdn.csv line {line}: ent_num {ent} is listed twice "
                f"(first at line {entry_lines[ent]})"
            )
        entry_lines[ent] = line
    if not entry_lines:
        raise InvalidSnapshot(f"{folder}/sdn.csv: no entries")
    for name in OPTIONAL:
        numbers: dict[str, int] = {}
        for line, row in rows.get(name, []):
            ent = _ent_num(row[0], name, line)
            if ent not in entry_lines:
                raise InvalidSnapshot(f"{name} line {line}: ent_num {ent} is not in sdn.csv")
            if name == "sdn_comments.csv":
                continue
            number = row[1].strip()
            if not number.isdigit():
                raise InvalidSnapshot(
                    f"{name} line {line}: {NUMBERS[name]} {number!r} is not a number"
                )
            if number in numbers:
                raise InvalidSnapshot(
                    f"{name} line {line}: {NUMBERS[name]} {number} is listed twice "
                    f"(first at line {numbers[number]})"
                )
            numbers[number] = line

    remarks_more: dict[str, str] = {}
    for _, row in rows.get("sdn_comments.csv", []):
        ent = str(int(row[0].strip()))
        remarks_more[ent] = remarks_more.get(ent, "") + row[1]  # in order: a long remark's parts
    aliases: dict[str, list[str]] = {}
    for line, row in rows.get("alt.csv", []):
        alias = _value(row[3])
        if not alias:
            raise InvalidSnapshot(
                f"alt.csv line {line}: alternate name {row[1].strip()} of entry "
                f"{int(row[0].strip())} is empty"
            )
        aliases.setdefault(str(int(row[0].strip())), []).append(alias)

    entries: list[Entry] = []
    counts = {"individuals": 0, "entities": 0, "vessels": 0, "aircraft": 0}
    unreadable_births: list[int] = []
    for line, row in rows["sdn.csv"]:
        where = f"sdn.csv line {line}"
        ent = str(int(row[0].strip()))
        entry, birth_readable = _entry(
            ent, row, aliases.get(ent, []), remarks_more.get(ent, ""), where
        )
        if not birth_readable:
            unreadable_births.append(line)
        entries.append(entry)
        counts[
            {"person": "individuals", "vessel": "vessels", "aircraft": "aircraft"}.get(
                entry.kind, "entities"
            )
        ] += 1
    if unreadable_births:
        shown = ", ".join(str(n) for n in unreadable_births[:5])
        more = ", ..." if len(unreadable_births) > 5 else ""
        notes.append(
            f"{len(unreadable_births)} dates of birth in the remarks are not calendar dates "
            f"and were left out (sdn.csv lines {shown}{more})"
        )
    return Snapshot(
        SPEC, published, digest.hexdigest(), tuple(entries), counts, str(folder), tuple(notes)
    )


def _rows(name: str, data: bytes) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of each record; a wrong number of fields names its line.

    An empty line, or a file that stops without OFAC's end-of-file mark, is refused: it is
    how a damaged or truncated download looks.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise InvalidSnapshot(
            f"{name} line {line}, column {column}: not valid UTF-8 (byte 0x{data[e.start]:02x}); "
            "the file is mis-encoded or damaged (download it again)"
        ) from None
    if name in MARKED and not text:
        raise InvalidSnapshot(
            f"{name}: empty file (OFAC's files end with Ctrl-Z even without rows): it is "
            "truncated (download it again)"
        )
    if not text:
        return
    if name in MARKED and not text.rstrip("\r\n").endswith("\x1a"):
        last = text.count("\n") + (0 if text.endswith("\n") else 1)
        raise InvalidSnapshot(
            f"{name} line {last}: the file ends without OFAC's end-of-file mark (Ctrl-Z): "
            "it is truncated (download it again)"
        )
    text = text.rstrip("\r\n").removesuffix("\x1a").rstrip("\r\n")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    width = WIDTHS[name]
    line = 1
    try:
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                raise InvalidSnapshot(
                    f"{name} line {line}: an empty line (OFAC's files have none): "
                    "the file is damaged (download it again)"
                )
            if len(row) != width:
                raise InvalidSnapshot(
                    f"{name} line {line}: expected {width} fields, found {len(row)}"
                )
            yield line, row
            line = reader.line_num + 1
    except csv.Error as e:
        raise InvalidSnapshot(f"{name} line {reader.line_num}: malformed CSV ({e})") from None


def _ent_num(text: str, name: str, line: int) -> str:
    value = text.strip()
    if not value.isdigit():
        raise InvalidSnapshot(f"{name} line {line}: ent_num {value!r} is not a number")
    return str(int(value))


def _entry(
    ent: str, row: list[str], aliases: list[str], more: str, where: str
) -> tuple[Entry, bool]:
    """The entry, and whether a date of birth its remarks give could be read."""
    name = _value(row[1])
    if not name:
        raise InvalidSnapshot(f"{where}: entry {ent} has no name")
    type_text = _value(row[2]).lower()
    if type_text not in KINDS:
        raise InvalidSnapshot(
            f"{where}: entry {ent} has the unknown type {row[2].strip()!r} "
            "(individual, vessel, aircraft or -0-)"
        )
    programs = [p.strip() for p in _value(row[3]).strip("[]").split("] [") if p.strip()]
    if not programs:
        raise InvalidSnapshot(f"{where}: entry {ent} has no program")
    remarks = clean((row[11] if _value(row[11]) else "") + more)
    births: list[date] = []  # the first, then every "alt. DOB"
    readable = True
    for m in _DOB.finditer(remarks):
        try:
            births.append(datetime.strptime(m[1], "%d %b %Y").date())
        except ValueError:
            readable = False  # 'DOB 31 Feb 1970' happens; not a date we can keep (reported)
    birth = births[0] if births else None
    nationality = None
    n = _NATIONALITY.search(remarks)
    if n:
        nationality = clean(n[1]) or None
    unique: list[str] = []
    for alias in aliases:
        if alias != name and alias not in unique:
            unique.append(alias)
    entry = Entry(
        ref=ent,
        subject_id=f"ofac-{ent}",
        kind=KINDS[type_text],
        name=name,
        aliases=tuple(unique),
        birth_date=birth,
        nationality=nationality,
        position=_value(row[4]) or None,
        programmes=tuple(Programme(p, MEASURES) for p in dict.fromkeys(programs)),
        listed_on=None,
        where=where,
        alt_birth_dates=tuple(sorted(set(births) - {birth})) if birth else (),
    )
    return entry, readable
