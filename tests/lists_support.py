"""Helpers for the official-list tests: where the real files are, edited copies, event digests.

The real publications live in ``../shared/data`` (relative to the project's root); tests
that need them skip, saying so, when it is absent. Small fixtures of our own, cut from the
same publications, are in ``tests/fixtures``.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from support import FIXTURES, database_of, postgres_database

from ledger import Ledger, RecordedEvent
from ledger.adapters import DelistingLimit, parse
from projections import Views

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
UN_FILE = SHARED_DATA / "un" / "consolidated-2018-10-29.xml"
OFAC_DIR = SHARED_DATA / "ofac-sdn-2021"
FTM_SAMPLE = SHARED_DATA / "ftm" / "zala.entities.ftm.json"
UN_SMALL = FIXTURES / "un-consolidated-small.xml"
OFAC_SMALL = FIXTURES / "ofac-sdn-small"
OFAC_PUBLISHED = date(2021, 6, 1)
"""The date we give the OFAC CSV of 2021 (the files carry none)."""


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real data not found: {path} (the shared data folder beside the project)")
    return path


# ------------------------------------------------------------------ edited copies


def un_record(
    ref: str,
    names: Iterable[str],
    *,
    list_type: str,
    listed_on: str,
    tag: str = "INDIVIDUAL",
    aliases: Iterable[str] = (),
) -> ET.Element:
    """A new INDIVIDUAL or ENTITY as the UN publishes them."""
    record = ET.Element(tag)
    for field, value in zip(["FIRST_NAME", "SECOND_NAME", "THIRD_NAME"], names, strict=False):
        ET.SubElement(record, field).text = value
    ET.SubElement(record, "UN_LIST_TYPE").text = list_type
    ET.SubElement(record, "REFERENCE_NUMBER").text = ref
    ET.SubElement(record, "LISTED_ON").text = listed_on
    for alias in aliases:
        a = ET.SubElement(record, f"{tag}_ALIAS")
        ET.SubElement(a, "QUALITY").text = "Good"
        ET.SubElement(a, "ALIAS_NAME").text = alias
    return record


def un_copy(
    src: Path,
    dst: Path,
    *,
    generated: str | None = None,
    remove: Iterable[str] = (),
    add: Iterable[ET.Element] = (),
    change: Callable[[dict[str, ET.Element]], None] | None = None,
) -> Path:
    """A copy of a UN list file with another date, records removed, added or changed."""
    tree = ET.parse(src)
    root = tree.getroot()
    if generated is not None:
        root.set("dateGenerated", generated)
    gone = set(remove)
    by_ref: dict[str, ET.Element] = {}
    for section in root:
        for record in list(section):
            ref = (record.findtext("REFERENCE_NUMBER") or "").strip()
            if ref in gone:
                section.remove(record)
            else:
                by_ref[ref] = record
    for record in add:
        section = root.find("INDIVIDUALS" if record.tag == "INDIVIDUAL" else "ENTITIES")
        assert section is not None
        section.append(record)
    if change is not None:
        change(by_ref)
    tree.write(dst, encoding="utf-8", xml_declaration=True)
    return dst


def ofac_copy(
    src: Path,
    dst: Path,
    *,
    remove: Iterable[str] = (),
    rows: dict[str, str] | None = None,
    alt_rows: Iterable[str] = (),
) -> Path:
    """A copy of an SDN folder; ``rows`` replaces (or adds) sdn.csv lines by ent_num."""
    dst.mkdir(parents=True, exist_ok=True)
    gone = set(remove)
    replaced = dict(rows or {})
    for name in ("sdn.csv", "alt.csv", "add.csv", "sdn_comments.csv"):
        if not (src / name).exists():
            continue
        text = (src / name).read_bytes().decode("utf-8").rstrip("\x1a\r\n")
        kept = []
        for line in text.split("\r\n"):
            ent = line.split(",", 1)[0]
            if ent in gone:
                continue
            if name == "sdn.csv" and ent in replaced:
                line = replaced.pop(ent)
            kept.append(line)
        if name == "sdn.csv":
            kept += list(replaced.values())
        if name == "alt.csv":
            kept += list(alt_rows)
        (dst / name).write_bytes(("\r\n".join(kept) + "\r\n\x1a").encode("utf-8"))
    return dst


# ------------------------------------------------------------------ ledgers


def import_file(
    url: str,
    kind: str,
    path: Path,
    published: date | None = None,
    *,
    max_delistings: str | None = None,
    dry_run: bool = False,
) -> Any:
    """Import a snapshot as the user "importer"; ``max_delistings`` as on the command line."""
    ledger = Ledger.init(url, user="importer")  # the first import makes the ledger
    limit = DelistingLimit.parse(max_delistings) if max_delistings is not None else None
    try:
        return ledger.import_snapshot(
            parse(kind, path, published=published), max_delistings=limit, dry_run=dry_run
        )
    finally:
        ledger.close()


def events(url: str, start: int = 1) -> list[RecordedEvent]:
    ledger = Ledger(url)
    try:
        return list(ledger.read_log(start))
    finally:
        ledger.close()


def head(url: str) -> tuple[int, str]:
    ledger = Ledger(url)
    try:
        return ledger.head()
    finally:
        ledger.close()


def brief(e: RecordedEvent) -> tuple[Any, ...]:
    """An event reduced to what a snapshot diff is about."""
    d = e.data
    if e.type == "subject_registered":
        return (e.type, d["id"])
    if e.type == "subject_amended":
        changed = {k: v for k, v in d.items() if k not in ("id", "sources") and v}
        return (e.type, d["id"], changed)
    if e.type == "designated":
        return (e.type, d["subject"], d["regime"], d["effective"].isoformat())
    if e.type == "amended":
        return (
            e.type,
            d["subject"],
            d["regime"],
            d["effective"].isoformat(),
            d["add_measures"],
            d["remove_measures"],
        )
    if e.type == "delisted":
        return (e.type, d["subject"], d["regime"], d["effective"].isoformat())
    if e.type == "list_imported":
        return (e.type, d["list_name"], d["published"].isoformat())
    return (e.type,)


def with_views(url: str) -> tuple[Ledger, Views]:
    ledger = Ledger(url)
    views = Views(ledger)
    views.catch_up()
    return ledger, views


def real_ledger_template(base: Path) -> Path:
    """An SQLite ledger with the real UN list (2018-10-29) and OFAC SDN (2021) imported and
    projected, built once per test run; copy it before changing it. ``base``: the
    process's base temporary folder (under xdist, the workers' share a parent, where the
    first worker to need the template builds it while the others wait)."""
    need(UN_FILE)
    need(OFAC_DIR)
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = shared / "real-lists"
    with (shared / "real-lists.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (shared / "real-lists.built").exists():
            folder.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{folder / 'ledger.db'}"
            import_file(url, "un", UN_FILE)
            import_file(url, "ofac-sdn", OFAC_DIR, OFAC_PUBLISHED)
            ledger, views = with_views(url)
            views.close()
            ledger.close()
            (shared / "real-lists.built").touch()
    return folder


def copy_ledger(template: Path, dst: Path) -> str:
    """A writable copy of a template ledger's files; returns its URL."""
    dst.mkdir(parents=True, exist_ok=True)
    for f in template.iterdir():
        shutil.copy(f, dst / f.name)
    return f"sqlite:///{dst / 'ledger.db'}"


@contextmanager
def real_postgres_template() -> Iterator[str]:
    """As ``real_ledger_template``, a PostgreSQL database (dropped on exit) to copy with
    ``postgres_copy``; yields the ledger's URL."""
    need(UN_FILE)
    need(OFAC_DIR)
    with postgres_database() as database:
        url = f"{database}?schema=lists"
        import_file(url, "un", UN_FILE)
        import_file(url, "ofac-sdn", OFAC_DIR, OFAC_PUBLISHED)
        ledger, views = with_views(url)
        views.close()
        ledger.close()  # no connection left: a database being read cannot be a template
        yield url


@contextmanager
def postgres_copy(template: str) -> Iterator[str]:
    """A writable copy of a template ledger on PostgreSQL, dropped on exit; its URL."""
    schema = template.split("?", 1)[1]
    with postgres_database(database_of(template)) as database:
        yield f"{database}?{schema}"
