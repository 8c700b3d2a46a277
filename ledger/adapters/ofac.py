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
first ``DOB 24 Dec 1975``, ``nationality Russia`` or ``citizen Russia``), the position from
the title. Each program is one regime, named by its tag as OFAC writes it
(``UKRAINE-EO13661``, ``SDGT``). The SDN list blocks: every designation carries
``asset-freeze`` (property blocked) and ``funds-prohibition`` (no dealings by US persons).

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
    for name in present:
        data = (folder / name).read_bytes()
        digest.update(f"{name}\n{len(data)}\n".encode())
        digest.update(data)
        rows[name] = list(_rows(name, data))
        done += len(data)
        if progress is not None:
            progress(done, total)

    remarks_more: dict[str, str] = {}
    for line, row in rows.get("sdn_comments.csv", []):
        remarks_more[_ent_num(row[0], "sdn_comments.csv", line)] = row[1]
    aliases: dict[str, list[str]] = {}
    for line, row in rows.get("alt.csv", []):
        ent = _ent_num(row[0], "alt.csv", line)
        alias = _value(row[3])
        if alias:
            aliases.setdefault(ent, []).append(alias)
    for line, row in rows.get("add.csv", []):
        _ent_num(row[0], "add.csv", line)

    entries: list[Entry] = []
    seen: dict[str, int] = {}
    counts = {"individuals": 0, "entities": 0, "vessels": 0, "aircraft": 0}
    for line, row in rows["sdn.csv"]:
        where = f"sdn.csv line {line}"
        ent = _ent_num(row[0], "sdn.csv", line)
        if ent in seen:
            raise InvalidSnapshot(
                f"{where}: ent_num {ent} is listed twice (first at line {seen[ent]})"
            )
        seen[ent] = line
        entries.append(_entry(ent, row, aliases.get(ent, []), remarks_more.get(ent, ""), where))
        kind = entries[-1].kind
        counts[
            {"person": "individuals", "vessel": "vessels", "aircraft": "aircraft"}.get(
                kind, "entities"
            )
        ] += 1
    for name in ("alt.csv", "add.csv", "sdn_comments.csv"):
        for line, row in rows.get(name, []):
            if row[0].strip() not in seen:
                raise InvalidSnapshot(
                    f"{name} line {line}: ent_num {row[0].strip()} is not in sdn.csv"
                )
    if not entries:
        raise InvalidSnapshot(f"{folder}/sdn.csv: no entries")
    return Snapshot(SPEC, published, digest.hexdigest(), tuple(entries), counts, str(folder))


def _rows(name: str, data: bytes) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of each record; a wrong number of fields names its line."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise InvalidSnapshot(f"{name} line {line}: not valid UTF-8") from None
    text = text.rstrip("\x1a\r\n")  # the legacy files end with Ctrl-Z
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    width = WIDTHS[name]
    line = 1
    try:
        for row in reader:
            if row and not (len(row) == 1 and not row[0].strip()):
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


def _entry(ent: str, row: list[str], aliases: list[str], more: str, where: str) -> Entry:
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
    birth: date | None = None
    m = _DOB.search(remarks)
    if m:
        try:
            birth = datetime.strptime(m[1], "%d %b %Y").date()
        except ValueError:
            birth = None  # 'DOB 31 Feb 1970' happens; not a date we can keep
    nationality = None
    n = _NATIONALITY.search(remarks)
    if n:
        nationality = clean(n[1]) or None
    unique: list[str] = []
    for alias in aliases:
        if alias != name and alias not in unique:
            unique.append(alias)
    return Entry(
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
    )
