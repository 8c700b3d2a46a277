"""Events as data: the JSON Lines view of an event (``event_data``: its fields as the commands
name them), its valid-time date and the subjects it is about. Functions over the events of
``ledger.domain``, kept apart from them.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from functools import cache
from typing import Any

from ledger.domain import (
    Designation,
    LedgerAggregate,
    Subject,
    alt_births_unset,
    window_of,
)
from ledger.facts import WINDOW_FIELDS

_INTERNAL_FIELDS = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_topic", "recorded_by"}
)
_HIDDEN_FIELDS = frozenset({"target_version", "list_entry"})  # list_entry: in sources


@cache
def _data_fields(cls: type) -> tuple[tuple[str, str], ...]:
    """(attribute, name in the data) of an event class's own fields, ``sources`` last."""
    names = [
        f.name
        for f in dataclasses.fields(cls)
        if f.name not in _INTERNAL_FIELDS and f.name not in _HIDDEN_FIELDS
    ]
    names.sort(key=lambda name: name == "sources")  # stable: only moves sources to the end
    return tuple((name, "id" if name == "subject_id" else name) for name in names)


def event_data(event: LedgerAggregate.Event, *, window: bool = False) -> dict[str, Any]:
    """The event's own fields, as the commands name them (dates stay ``date`` objects).

    A designation's window fields are left out when its start is certain, and when it was
    stored in version 1 (the window read from its reason): both read as they always did, so
    that exports of older ledgers stay the same bytes. ``window``: keep the window read from
    a version 1 reason (the history view).
    """
    data = {key: getattr(event, name) for name, key in _data_fields(type(event))}
    if isinstance(event, Designation.Designated | Designation.Redesignated):
        if window_of(event) is None or (event.window_in_reason and not window):
            for name in WINDOW_FIELDS:
                del data[name]
    elif isinstance(event, Subject.Registered | Subject.Reregistered | Subject.Amended):
        if event.alt_birth_dates == alt_births_unset(event):
            del data["alt_birth_dates"]  # none to say: as exported before they were kept
    elif isinstance(event, Designation.Annulled):
        data["annuls"] = True
        data["sources"] = data.pop("sources")  # last, as the commands list it
    return data


def effective_date(event: LedgerAggregate.Event) -> date | None:
    """The event's valid-time date, if it has one."""
    value = getattr(event, "effective", None) or getattr(event, "date", None)
    return value if isinstance(value, date) else None


def subjects_of(event: LedgerAggregate.Event) -> list[str]:
    """Subject ids the event is about."""
    if isinstance(event, Subject.Registered | Subject.Reregistered | Subject.Amended):
        return [event.subject_id]
    subjects = getattr(event, "subjects", None)  # announcements, links
    if isinstance(subjects, list):
        return list(subjects)
    subject = getattr(event, "subject", None)
    return [subject] if isinstance(subject, str) else []
