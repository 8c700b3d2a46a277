"""Older stored forms read as today's data (the upcasts of ``ledger.domain``'s events).

Kept apart from the aggregates: they only read what earlier versions wrote.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

__all__ = ["WINDOW_FIELDS", "upcast_window"]

WINDOW_FIELDS = ("listed_after", "start_unknown")
"""The fields of a designation whose start the source left uncertain."""

_DAY = r"(\d{4}-\d{2}-\d{2})"
# The prose of ledger.adapters.reconcile before the window became data (version 1 events).
_ADDED_BETWEEN = re.compile(
    rf"; not on the list of {_DAY}, on that of {_DAY}"
    rf"(?: \(its listing date is older: restored\))?: added between {_DAY} and {_DAY}\Z"
)
_FIRST_SEEN = re.compile(rf"; on the list published {_DAY}\Z")
_LIST_TAG = re.compile(r"^[a-z0-9][a-z0-9-]*@\d{4}-\d{2}-\d{2}/")


def upcast_window(state: dict[str, Any]) -> None:
    """A version 1 designation: the window its list import wrote as prose, as data."""
    listed_after: date | None = None
    unknown = False
    reason = state.get("reason") or ""
    effective = state["effective"]
    day = effective.isoformat() if isinstance(effective, date) else str(effective)
    from_list = any(_LIST_TAG.match(s) for s in state.get("sources") or ())
    if from_list and (m := _ADDED_BETWEEN.search(reason)) and m.group(2) == m.group(4) == day:
        listed_after = date.fromisoformat(m.group(1))
    elif from_list and (m := _FIRST_SEEN.search(reason)) and m.group(1) == day:
        unknown = True
    state["listed_after"] = listed_after
    state["start_unknown"] = unknown
    if listed_after is not None or unknown:
        state["window_in_reason"] = True
