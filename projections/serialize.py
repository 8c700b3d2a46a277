"""Rows as JSON: the one serializer behind the CLI's ``--format json`` and the web API.

Both faces hand it the same typed rows (``projections.queries``) or log events, so a row
reads the same on the command line and over HTTP.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ledger.records import to_json
from projections.rows import Row

if TYPE_CHECKING:
    from ledger import RecordedEvent


def json_value(value: Any) -> Any:
    """A row, a list of rows or plain data as JSON-ready values (dates as ISO strings)."""
    if isinstance(value, Row):
        return to_json(value.as_dict())
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return to_json(value)


def json_rows(rows: Iterable[Any]) -> list[Any]:
    return [json_value(r) for r in rows]


def dumps(value: Any, *, indent: int | None = None) -> str:
    return json.dumps(json_value(value), ensure_ascii=False, indent=indent)


def line_of(event: RecordedEvent) -> dict[str, Any]:
    """One event as an export line: re-importable into an empty ledger as it was."""
    return {
        "position": event.position,
        "type": event.type,
        "data": to_json(event.data),
        "recorded_at": to_json(event.recorded_at),
        "recorded_by": event.recorded_by,
        "digest": event.digest,
    }


def gist(data: dict[str, Any]) -> str:
    """An event's fields on one line, for the log table (empty fields and sources left out)."""
    parts = []
    for key, value in to_json(data).items():
        if key == "sources" or value in (None, [], False):
            continue
        text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        parts.append(f"{key}={text}")
    return "; ".join(parts)


LISTING_COLUMNS = [
    "subject_id",
    "subject_name",
    "kind",
    "authority",
    "regime",
    "measures",
    "listed_from",
    "listed_until",
    "legal_act",
]
"""The columns of a list of designations in a table or CSV (JSON carries every field)."""


def cell(value: Any) -> str:
    """One value as table or CSV text: lists joined by commas, nothing as empty."""
    value = to_json(value)
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def csv_text(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> str:
    """CSV with a header line, as ``--format csv`` prints it."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(row.get(c)) for c in columns])
    return buf.getvalue()
