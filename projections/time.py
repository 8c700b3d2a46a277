"""Parsing of ``--known-at``: a ledger position, an ISO timestamp, or a date."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time

from ledger.errors import InvalidValue
from ledger.records import parse_date, parse_time


@dataclass(frozen=True)
class KnownAt:
    """A moment of record time: either a position or a UTC timestamp (inclusive)."""

    position: int | None = None
    moment: datetime | None = None


def parse_known_at(text: str) -> KnownAt:
    text = text.strip()
    if re.fullmatch(r"\d+", text):
        return KnownAt(position=int(text))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        day = parse_date(text, "--known-at")
        return KnownAt(moment=datetime.combine(day, time.max, tzinfo=UTC))
    try:
        return KnownAt(moment=parse_time(text, "--known-at"))
    except InvalidValue:
        raise InvalidValue(
            f"--known-at {text!r} is not a position, a timestamp or a date "
            "(e.g. 42, 2021-03-10T12:00:00Z, 2021-03-10)"
        ) from None
