"""The one mapper between domain events and stored events: the library's, with two seams.

- Record time: :meth:`LedgerMapper.stored` encodes an event with the record time that the
  store's appender decides while holding the write lock (``ledger.store``). The event's
  ``timestamp`` is that time; the stored JSON is produced once and never edited.
- Stored form: an event may store in an older form what its upcasters read back exactly
  (``LedgerAggregate.Event.stored_form``, ``ledger.facts``): so a fact that became a field
  changes no stored byte, and every ledger and export written before restores byte for byte.

Reading is the library's ``to_domain_event`` unchanged: its ``upcast_*`` chain runs there.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import JSONTranscoder, Mapper, StoredEvent, Transcoding
from eventsourcing.utils import get_topic

from ledger.store import format_time

if TYPE_CHECKING:  # the aggregates load when an event is written, not to read the log
    from ledger.domain import LedgerAggregate


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class DatetimeAsRecorded(Transcoding):
    """Datetimes as the ledger writes record times: UTC, always with microseconds (the
    library's ``isoformat()`` drops them when zero, which would change the stored bytes)."""

    type = datetime
    name = "datetime_iso"

    def encode(self, obj: datetime) -> str:
        return format_time(obj)

    def decode(self, data: str) -> datetime:
        return datetime.fromisoformat(data)


def register_transcodings(transcoder: JSONTranscoder) -> None:
    """What the ledger adds to the library's transcodings (after them: it replaces theirs
    for datetimes)."""
    transcoder.register(DateAsISO())
    transcoder.register(DatetimeAsRecorded())


class LedgerMapper(Mapper[UUID]):
    """The library's mapper, writing each event in its stored form with its record time."""

    def stored(self, domain_event: Any, recorded_at: datetime) -> StoredEvent:
        """The stored event, its ``timestamp`` the record time (the appender's ``encode``)."""
        event = cast("LedgerAggregate.Event", domain_event)
        state = dict(vars(event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        state["timestamp"] = recorded_at  # in place: the key order, and so the bytes, as ever
        class_version = event.stored_form(state)
        if class_version > 1:
            state["class_version"] = class_version
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=get_topic(type(event)),
            state=self.transcoder.encode(state),
        )

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        """The library's interface: the event with the time it carries."""
        return self.stored(domain_event, cast("LedgerAggregate.Event", domain_event).timestamp)
