"""The JSON Lines form of events (import, export, log): coercion against the commands' schemas.

One object a line: ``type``, ``data`` (the commands' long options in snake_case, repeatable
options as plural lists) and, in an export, ``position``, ``recorded_at``, ``recorded_by`` and
``digest``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from ledger.commands import SCHEMAS as SCHEMAS
from ledger.commands import FieldKind
from ledger.errors import InvalidImport, InvalidValue
from ledger.vocabulary import MAX_TEXT

MIN_DATE = date(1800, 1, 1)
MAX_DATE = date(2999, 12, 31)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_UNWANTED = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def check_text(value: str, field: str) -> str:
    """Trimmed, non-empty, bounded text without control characters."""
    text = value.strip()
    if not text:
        raise InvalidValue(f"{field} must not be empty")
    if len(text) > MAX_TEXT:
        raise InvalidValue(f"{field} is too long ({len(text)} characters; at most {MAX_TEXT})")
    if _UNWANTED.search(text) is None:  # one scan for the common case
        return text
    if _CONTROL.search(text):
        raise InvalidValue(f"{field} contains a control character")
    if _SURROGATE.search(text):  # a \ud800 escape, or bytes not UTF-8 in a command line
        raise InvalidValue(f"{field} contains a lone surrogate (not valid UTF-8)")
    return text


def check_date(value: date, field: str) -> date:
    if not MIN_DATE <= value <= MAX_DATE:
        raise InvalidValue(f"{field} {value.isoformat()} is out of range ({MIN_DATE}..{MAX_DATE})")
    return value


def parse_date(text: str, field: str) -> date:
    """A calendar date written YYYY-MM-DD (``2021-02-30`` is refused)."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        raise InvalidValue(f"{field} {text!r} is not a date: write YYYY-MM-DD")
    try:
        value = date.fromisoformat(text)
    except ValueError:
        raise InvalidValue(f"{field} {text!r} is not a calendar date") from None
    return check_date(value, field)


def parse_time(text: str, field: str) -> datetime:
    """An ISO 8601 timestamp, UTC unless an offset is given."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidValue(f"{field} {text!r} is not an ISO 8601 timestamp") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise InvalidValue(f"{field} {text!r} is out of range") from None


def _coerce(kind: FieldKind, value: Any, field: str) -> Any:
    if kind in ("opt_text", "opt_date", "opt_dates") and value is None:
        return None
    if kind in ("text", "opt_text"):
        if not isinstance(value, str):
            raise InvalidValue(f"{field} must be a string")
        return check_text(value, field)
    if kind in ("date", "opt_date"):
        if not isinstance(value, str):
            raise InvalidValue(f"{field} must be a date string YYYY-MM-DD")
        return parse_date(value, field)
    if kind == "texts":
        if value is None:
            return []
        if not isinstance(value, list):
            raise InvalidValue(f"{field} must be a list of strings")
        items = []
        for item in value:
            if not isinstance(item, str):
                raise InvalidValue(f"{field} must be a list of strings")
            items.append(check_text(item, field))
        return items
    if kind in ("dates", "opt_dates"):
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidValue(f"{field} must be a list of date strings YYYY-MM-DD")
        return [parse_date(v, field) for v in value]
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidValue(f"{field} must be a whole number")
        return value
    if kind == "bool":
        if value is None:
            return False
        if not isinstance(value, bool):
            raise InvalidValue(f"{field} must be true or false")
        return value
    raise AssertionError(kind)  # pragma: no cover


@dataclass(frozen=True)
class InputRecord:
    """One validated line of a JSON Lines file."""

    line: int
    type: str
    data: dict[str, Any]
    position: int | None = None
    recorded_at: datetime | None = None
    recorded_by: str | None = None
    digest: str | None = None


_TOP_LEVEL = {"type", "data", "position", "recorded_at", "recorded_by", "digest"}


def coerce_record(line: int, obj: Any) -> InputRecord:
    """Check one decoded line against its type's schema; raises InvalidImport naming the line."""
    try:
        if not isinstance(obj, Mapping):
            raise InvalidValue("each line must be a JSON object")
        unknown = sorted(set(obj) - _TOP_LEVEL)
        if unknown:
            raise InvalidValue(f"unknown field {unknown[0]!r}")
        kind = obj.get("type")
        if not isinstance(kind, str) or kind not in SCHEMAS:
            raise InvalidValue(f"unknown event type {kind!r}; known types: {', '.join(SCHEMAS)}")
        raw = obj.get("data", {})
        if not isinstance(raw, Mapping):
            raise InvalidValue("data must be a JSON object")
        schema = SCHEMAS[kind]
        if kind.startswith("subject_") and "subject_id" in raw and "id" not in raw:
            raw = {("id" if k == "subject_id" else k): v for k, v in raw.items()}
        unknown = sorted(set(raw) - set(schema))
        if unknown:
            raise InvalidValue(f"unknown field {unknown[0]!r} for {kind}")
        data: dict[str, Any] = {}
        for field, (fkind, required) in schema.items():
            if required and raw.get(field) is None:
                raise InvalidValue(f"{kind} needs {field!r}")
            data[field] = _coerce(fkind, raw.get(field), field)
        position = obj.get("position")
        if position is not None and (
            isinstance(position, bool) or not isinstance(position, int) or position < 1
        ):
            raise InvalidValue("position must be a positive whole number")
        recorded_at = obj.get("recorded_at")
        recorded_by = obj.get("recorded_by")
        digest = obj.get("digest")
        if position is not None:
            if not isinstance(recorded_at, str) or not isinstance(recorded_by, str):
                raise InvalidValue("a restore line needs recorded_at and recorded_by")
            if digest is not None and (
                not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest)
            ):
                raise InvalidValue("digest must be 64 hexadecimal characters")
            return InputRecord(
                line,
                kind,
                data,
                position,
                parse_time(recorded_at, "recorded_at"),
                check_text(recorded_by, "recorded_by"),
                digest,
            )
        if recorded_by is not None and not isinstance(recorded_by, str):
            raise InvalidValue("recorded_by must be a string")
        if recorded_at is not None or digest is not None:
            raise InvalidValue("recorded_at and digest are only allowed with a position")
        return InputRecord(
            line,
            kind,
            data,
            recorded_by=check_text(recorded_by, "recorded_by")
            if isinstance(recorded_by, str)
            else None,
        )
    except InvalidValue as e:
        raise InvalidImport(line, str(e)) from None


def read_jsonl(lines: Iterable[bytes | str]) -> Iterator[InputRecord]:
    """Decode and check each non-blank line; a bad line raises InvalidImport naming it."""
    for number, raw in enumerate(lines, start=1):
        if isinstance(raw, bytes):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidImport(number, "not valid UTF-8") from None
        else:
            text = raw
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as e:
            if not text.endswith("\n") and not _complete(text):  # the last line, cut short
                raise InvalidImport(number, "truncated line (no closing brace)") from None
            raise InvalidImport(number, f"not valid JSON ({e.msg} at column {e.colno})") from None
        except RecursionError:
            raise InvalidImport(number, "not valid JSON (nested too deeply)") from None
        except ValueError:  # an integer longer than sys.get_int_max_str_digits()
            raise InvalidImport(number, "not valid JSON (a number with too many digits)") from None
        yield coerce_record(number, obj)


def _complete(text: str) -> bool:
    return text.rstrip().endswith("}")


def to_json(value: Any) -> Any:
    """Dates and times as ISO strings, for JSON output."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    return value


@lru_cache(maxsize=1024)  # an import stamps thousands of events with one record time
def format_time(moment: datetime) -> str:
    """Record times as text: UTC, ISO 8601, always with microseconds (as the store keeps
    them; here so that a reader without the store can compare with them)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
