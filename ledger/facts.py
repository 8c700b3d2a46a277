"""Facts that older events kept as prose, and the upcasters that read them as data.

Stored events never change (they are hashed into the chain): when a fact becomes a field,
an ``upcast_*`` reads it from the prose of events stored before, and ``ledger.mapper``
stores an event whose field says no more than its prose in the older form, byte for byte.
This module is the one place that reads such prose.

- The list entry an event comes from (:class:`ListEntry`): a list import cites the snapshot
  and the entry in ``sources`` as ``LIST@PUBLISHED/REFERENCE`` (``un-consolidated@2018-10-29/
  QDi.001``). That tag is the stored form (and the JSON Lines form, so that exports and
  restores stay the same bytes); ``list_entry`` is the field the code reads.
- A designation's observation window (``listed_after``, ``start_unknown``): written by list
  imports into ``reason`` before it was data (events stored in version 1).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

TAG = re.compile(r"^(?P<list>[a-z0-9][a-z0-9-]*)@(?P<published>\d{4}-\d{2}-\d{2})/(?P<ref>\S.*)$")


@dataclass(frozen=True)
class ListEntry:
    """Where an event comes from: one entry of one imported snapshot of an official list."""

    list_name: str
    """The list (``un-consolidated``, ``ofac-sdn``): with ``published``, the import."""
    published: date
    """The snapshot's publication date."""
    ref: str
    """The list's own reference of the entry (``QDi.001``, ``31252``)."""

    @property
    def tag(self) -> str:
        """How ``sources`` cites it: ``un-consolidated@2018-10-29/QDi.001``."""
        return source_tag(self.list_name, self.published, self.ref)

    @staticmethod
    @lru_cache(maxsize=65536)  # a catch-up reads the same few tags many times
    def parse(text: str) -> ListEntry | None:
        """The entry a source tag names; None for any other source."""
        m = TAG.match(text)
        if m is None:
            return None
        try:
            published = date.fromisoformat(m["published"])
        except ValueError:
            return None
        return ListEntry(m["list"], published, m["ref"])


def source_tag(list_name: str, published: date, ref: str) -> str:
    """``un-consolidated@2018-10-29/QDi.001``: the snapshot and entry an event comes from."""
    return f"{list_name}@{published.isoformat()}/{ref}"


def entry_of(sources: Iterable[str]) -> ListEntry | None:
    """The list entry the first source tag names (None when no source is a tag)."""
    for source in sources:
        entry = ListEntry.parse(source)
        if entry is not None:
            return entry
    return None


def upcast_entry(state: dict[str, Any]) -> None:
    """An event stored before ``list_entry`` was a field: read it from ``sources``."""
    state["list_entry"] = entry_of(state.get("sources") or ())


WINDOW_FIELDS = ("listed_after", "start_unknown")
"""The fields of a designation whose start the source left uncertain."""

_DAY = r"(\d{4}-\d{2}-\d{2})"
# The prose of ledger.adapters.reconcile before the window became data (version 1 events).
_ADDED_BETWEEN = re.compile(
    rf"; not on the list of {_DAY}, on that of {_DAY}"
    rf"(?: \(its listing date is older: restored\))?: added between {_DAY} and {_DAY}\Z"
)
_FIRST_SEEN = re.compile(rf"; on the list published {_DAY}\Z")
_LIST_TAG = re.compile(r"^[a-z0-9][a-z0-9-]*@\d{4}-\d{2}-\d{2}/")  # as version 1 read it


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
