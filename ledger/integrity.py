"""Checking the stored ledger: the hash chain, positions and record times, and a kept head."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ledger.errors import InvalidValue
from ledger.store import GENESIS, LedgerNotification, chain_digest


@dataclass(frozen=True)
class ChainProblem:
    position: int
    kind: str  # edited | missing | inserted | reordered | time | broken
    message: str


@dataclass(frozen=True)
class ChainReport:
    count: int
    head_position: int
    head_digest: str
    problem: ChainProblem | None
    extends_head: bool | None  # None when no head was given

    @property
    def ok(self) -> bool:
        return self.problem is None and self.extends_head is not False


@dataclass(frozen=True)
class KeptHead:
    """A head a user wrote down: ``DIGEST`` or ``POSITION DIGEST``."""

    digest: str
    position: int | None = None

    @classmethod
    def parse(cls, text: str) -> KeptHead:
        m = re.fullmatch(r"\s*(?:(\d+)\s+)?([0-9a-fA-F]{64})\s*", text)
        if not m:
            raise InvalidValue(
                "a head is 'POSITION DIGEST' or a 64-character hexadecimal DIGEST, "
                "as printed by 'sanctions head'"
            )
        return cls(m.group(2).lower(), int(m.group(1)) if m.group(1) else None)


def _digest(n: LedgerNotification, previous: str, position: int | None = None) -> str:
    return chain_digest(
        previous,
        n.id if position is None else position,
        n.originator_id,
        n.originator_version,
        n.topic,
        n.recorded_at,
        n.state,
    )


def _diagnose(
    previous: str, row: LedgerNotification, nxt: LedgerNotification | None
) -> ChainProblem:
    """Why ``row`` does not chain from ``previous``, judged by how its neighbour chains."""
    k = row.id
    if nxt is not None and _digest(nxt, row.digest) == nxt.digest:
        return ChainProblem(
            k,
            "edited",
            f"event {k} was edited after it was recorded (its content no "
            "longer matches its digest)",
        )
    if nxt is not None and _digest(row, nxt.digest, k + 1) == row.digest:
        return ChainProblem(k, "reordered", f"events {k} and {k + 1} were reordered")
    if nxt is not None and _digest(nxt, previous, k) == nxt.digest:
        return ChainProblem(k, "inserted", f"event {k} was inserted into the ledger")
    if nxt is not None and _digest(nxt, row.digest, k + 2) == nxt.digest:
        return ChainProblem(k, "missing", f"an event is missing before position {k}")
    if nxt is None:
        return ChainProblem(
            k, "edited", f"event {k} does not match its digest (edited or replaced)"
        )
    return ChainProblem(k, "broken", f"the chain is broken at event {k} (edited or replaced)")


def verify_chain(rows: Iterable[LedgerNotification], kept: KeptHead | None = None) -> ChainReport:
    """Recompute the chain over rows in ledger order; report the first problem found."""
    it: Iterator[LedgerNotification] = iter(rows)
    previous_digest = GENESIS
    prev: LedgerNotification | None = None
    count = 0
    extends: bool | None = None if kept is None else False
    row = next(it, None)
    while row is not None:
        nxt = next(it, None)
        expected = (prev.id if prev else 0) + 1
        if row.id != expected:
            kind = "missing" if row.id > expected else "inserted"
            return ChainReport(
                count,
                prev.id if prev else 0,
                previous_digest,
                ChainProblem(
                    expected,
                    kind,
                    f"position {expected} is missing from the ledger"
                    if kind == "missing"
                    else f"position {row.id} appears twice",
                ),
                extends,
            )
        if prev is not None and row.recorded_at < prev.recorded_at:
            return ChainReport(
                count,
                prev.id,
                previous_digest,
                ChainProblem(row.id, "time", f"the record time of event {row.id} goes backwards"),
                extends,
            )
        if _digest(row, previous_digest) != row.digest:
            return ChainReport(
                count,
                prev.id if prev else 0,
                previous_digest,
                _diagnose(previous_digest, row, nxt),
                extends,
            )
        count += 1
        if kept is not None and row.digest == kept.digest:
            extends = kept.position in (None, row.id)
        previous_digest, prev, row = row.digest, row, nxt
    if kept is not None and kept.digest == GENESIS and kept.position in (None, 0):
        extends = True
    return ChainReport(count, prev.id if prev else 0, previous_digest, None, extends)


def stored_rows(recorder: object, page: int = 5000) -> Iterator[LedgerNotification]:
    """Every stored event in ledger order, read page by page."""
    position = 1
    while True:
        rows = recorder.select_notifications(start=position, limit=page)  # type: ignore[attr-defined]
        if not rows:
            return
        yield from rows
        position = rows[-1].id + 1
