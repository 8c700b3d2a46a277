"""``show`` on an SQLite ledger without SQLAlchemy: the command line's quick read.

Importing SQLAlchemy alone costs about 0.13 s, most of what one ``sanctions show`` takes.
When the projections are current, this runs the prebuilt statements' SQLite text
(``projections.compiled``, generated from ``projections.statements``) through ``sqlite3``
and hands the rows to the same code that builds the answer on the usual path
(``projections.showing``). Anything else (a PostgreSQL or unusual URL, projections behind
the log or of another schema, a ledger to upgrade, an unknown subject, a database error)
answers None: the caller takes the usual path, which catches up, explains or raises.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import date
from types import SimpleNamespace
from typing import Any, NoReturn

from ledger.database import EVENTS_TABLE, LEDGER_VERSION, Database, lock_timeout
from ledger.errors import LedgerError
from ledger.records import format_time
from ledger.vocabulary import today
from projections import showing
from projections.compiled import SCHEMA_VERSION, SQLITE
from projections.rows import SubjectReport
from projections.time import parse_known_at

_DECODE: dict[str, Callable[[Any], Any]] = {"date": date.fromisoformat, "json": json.loads}
"""As SQLAlchemy's SQLite ``Date`` and ``JSON`` types read their columns."""


class _Elsewhere(Exception):
    """Not answered here: the usual path answers (or raises its own error)."""


def runner(conn: sqlite3.Connection) -> showing.Run:
    """The compiled statements run on ``conn``, rows decoded as SQLAlchemy would."""

    def run(name: str, /, **params: Any) -> list[Any]:
        sql, fixed, decode = SQLITE[name]
        args = dict(fixed)
        for key, value in params.items():
            if isinstance(value, list):  # an expanding parameter: one placeholder a value
                names = [f"{key}_{i}" for i in range(len(value))]
                sql = sql.replace(f"__[POSTCOMPILE_{key}]", ", ".join(f":{n}" for n in names))
                args.update(zip(names, value, strict=True))
            else:  # a day as SQLAlchemy's SQLite Date type binds it
                args[key] = value.isoformat() if isinstance(value, date) else value
        cursor = conn.execute(sql, args)
        columns = [d[0] for d in cursor.description]
        decoders = [_DECODE.get(decode.get(c, "")) for c in columns]
        return [
            SimpleNamespace(
                **{
                    c: (f(v) if f is not None and v is not None else v)
                    for c, f, v in zip(columns, decoders, row, strict=True)
                }
            )
            for row in cursor
        ]

    return run


def _elsewhere(subject_id: str) -> NoReturn:
    raise _Elsewhere(subject_id)


def show(
    url: str, subject_id: str, *, at: date | None, known_at: str | None
) -> SubjectReport | None:
    """``Views.show`` of a current SQLite ledger, or None (see the module)."""
    db = Database.parse_plain_sqlite(url)
    if db is None:
        return None
    try:
        access = db.open()
        if access.created or access.version != LEDGER_VERSION:
            return None
        with closing(sqlite3.connect(access.sqlite_uri, uri=True, timeout=lock_timeout())) as conn:
            conn.isolation_level = None  # our own BEGIN: every read from one snapshot
            conn.execute("BEGIN")
            run = runner(conn)
            tracked = run("TRACKED")
            head = conn.execute(f"SELECT MAX(position) FROM {EVENTS_TABLE}").fetchone()[0]  # noqa: S608 - a constant
            if not tracked or tracked[0].schema_version != SCHEMA_VERSION:
                return None
            position = int(tracked[0].position)
            if position < (head or 0):
                return None  # behind the log: the usual path catches up first
            k = _known(run, known_at, position)
            return showing.show(run, subject_id, at or today(), k, _elsewhere)
    except (LedgerError, sqlite3.Error, _Elsewhere):
        return None


def _known(run: showing.Run, known_at: str | None, position: int) -> int:
    """As ``Answers.resolve_known_at``."""
    if known_at is None:
        return position
    k = parse_known_at(known_at)
    if k.position is not None:
        return k.position
    assert k.moment is not None
    found = run("LAST_RECORDED_BY", moment=format_time(k.moment))
    return int(found[0].position or 0)
