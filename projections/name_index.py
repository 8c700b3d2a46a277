"""The persistent search index: one more projection, kept by the catch-up.

Every name and alias a subject has held is a row of ``view_search_names`` over the record
time it held it (``rec_from``/``rec_to``, like the other views), stored as the matcher's
folded words; ``view_search_keys`` holds its index keys (``matching.index_keys``) with the
same record time; ``view_search_terms`` counts the names holding each key as of the head
(the key's weight). The catch-up writes them in the same transaction as the view rows
(``IndexWriter``, fed by the subject's state before and after each event), and ``rebuild``
makes them again from the log like every view. Only a change of a subject's names writes
here: an amendment of its position or nationality does not.

A search (``StoredIndex``) asks for the keys of the query, sums their weights per distinct
words in SQL (``view_search_words``: namesakes share theirs), reads the names held as known at
K of the heaviest words first (``_best_names``), and scores the best
``matching.CANDIDATES`` exactly, as the in-memory ``MatchIndex`` does; ``screen`` loads the
stored words of the subjects it screens against into a ``MatchIndex`` once
(``stored_match_index``).

The stored words are the matcher's folding of the names: a change to ``matching.words``
must bump ``tables.SCHEMA_VERSION``, so that every ledger rebuilds its index once
(``tests/test_name_index.py`` pins the folding of sample names to remind whoever changes it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Integer,
    Table,
    Text,
    and_,
    bindparam,
    case,
    func,
    select,
    tuple_,
    update,
)

from projections.queries import SubjectRow, known
from projections.tables import (
    LIVE,
    Tables,
    search_keys,
    search_names,
    search_terms,
    search_words,
    subjects,
)

if TYPE_CHECKING:
    from ledger.domain import SubjectState
    from projections.matching import Candidate, MatchIndex, Query

ALL = ""
"""The ``view_search_terms`` key that counts every name."""


def _named(state: SubjectState | None) -> dict[str, tuple[str, ...]]:
    """A subject's names, each as ``words`` (names without a letter or digit left out)."""
    if state is None:
        return {}
    from projections.matching import words_of  # the matcher's libraries, only when needed

    out = {}
    for name in dict.fromkeys([state.name, *state.aliases]):
        key = words_of(name)
        if key:
            out[name] = key
    return out


class IndexWriter:
    """The index rows of one catch-up batch, gathered event by event, written by ``flush``."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.opened: dict[tuple[str, str], dict[str, Any]] = {}  # held at the batch's end
        self.done: list[dict[str, Any]] = []  # opened and closed within the batch
        self.closes: list[tuple[str, str, int]] = []  # rows of earlier batches to close
        self.deltas: Counter[str] = Counter()

    def subject_changed(
        self, position: int, before: SubjectState | None, after: SubjectState | None
    ) -> None:
        """A subject's state changed at ``position``: open and close its names' rows."""
        old, new = _named(before), _named(after)
        if old == new:
            return
        from projections.matching import index_keys

        subject_id = (before or after).subject_id  # type: ignore[union-attr]
        for name, key in old.items():
            if new.get(name) == key:
                continue
            row = self.opened.pop((subject_id, name), None)
            if row is not None:
                row["rec_to"] = position
                self.done.append(row)
            else:
                self.closes.append((subject_id, name, position))
            self._count(index_keys(key), -1)
        ordinal = 0
        for name, key in new.items():
            if old.get(name) == key:
                continue
            self.opened[(subject_id, name)] = {
                "rec_from": position,
                "ordinal": ordinal,
                "rec_to": None,
                "subject_id": subject_id,
                "name": name,
                "words": " ".join(key),
            }
            ordinal += 1
            self._count(index_keys(key), 1)

    def _count(self, keys: Iterable[str], delta: int) -> None:
        # Every key touched gets a row, even at a net 0: the same rows however the log is
        # cut into batches (a rebuild and an incremental catch-up write the same table).
        for k in keys:
            self.deltas[k] += delta
        self.deltas[ALL] += delta

    def flush(self, conn: Connection, tables: Tables = LIVE) -> None:
        """Write what the events applied since the last flush changed, into ``tables`` (the
        live ones, or a rebuild's fresh ones)."""
        from projections.catchup import bulk_insert
        from projections.matching import index_keys

        self._close_earlier(conn, tables.search_names, tables.search_keys)
        rows = self.done + list(self.opened.values())
        bulk_insert(conn, tables.search_names, rows)
        bulk_insert(
            conn,
            tables.search_keys,
            [
                {
                    "key": k,
                    "rec_from": r["rec_from"],
                    "ordinal": r["ordinal"],
                    "rec_to": r["rec_to"],
                }
                for r in rows
                for k in sorted(index_keys(r["words"].split()))
            ],
        )
        if self.deltas:
            rows_ = [{"key": k, "names": d} for k, d in self.deltas.items()]
            conn.execute(_upsert(conn, tables.search_terms), rows_)
        held = sorted({r["words"] for r in rows})
        if held:  # namesakes' words are stored once, whichever batch first held them
            conn.execute(
                _insert(conn, tables.search_words).on_conflict_do_nothing(),
                [{"key": k, "words": w} for w in held for k in sorted(index_keys(w.split()))],
            )
        self.clear()

    def _close_earlier(self, conn: Connection, search_names: Table, search_keys: Table) -> None:
        from projections.matching import index_keys

        for subject_id, name, position in self.closes:
            row = conn.execute(
                select(search_names.c.rec_from, search_names.c.ordinal, search_names.c.words).where(
                    search_names.c.subject_id == subject_id,
                    search_names.c.name == name,
                    search_names.c.rec_to.is_(None),
                )
            ).first()
            if row is None:  # cannot be: the row was opened by an earlier event
                raise RuntimeError(f"no open search index row for {subject_id} {name!r}")
            where = and_(
                search_names.c.rec_from == row.rec_from, search_names.c.ordinal == row.ordinal
            )
            conn.execute(update(search_names).where(where).values(rec_to=position))
            conn.execute(
                update(search_keys)
                .where(
                    search_keys.c.rec_from == row.rec_from,
                    search_keys.c.ordinal == row.ordinal,
                    search_keys.c.key.in_(sorted(index_keys(row.words.split()))),
                )
                .values(rec_to=position)
            )


def _insert(conn: Connection, table: Table) -> Any:
    # Only the dialect in use: PostgreSQL's loads for PostgreSQL alone (start-up time).
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    return insert(table)


def _upsert(conn: Connection, search_terms: Table) -> Any:
    stmt = _insert(conn, search_terms)
    return stmt.on_conflict_do_update(
        index_elements=[search_terms.c.key],
        set_={"names": search_terms.c.names + stmt.excluded.names},
    )


# ------------------------------------------------------------------ reading


class StoredIndex:
    """The persistent index as known at position ``k``: what ``search`` and the web ask."""

    def __init__(self, engine: Engine, k: int) -> None:
        self.engine = engine
        self.k = k

    def match(self, query: Query, *, floor: float, limit: int = 5) -> list[Candidate]:
        """Subjects scoring at least ``floor``, best first (ties by name), at most ``limit``:
        the same answer as a ``MatchIndex`` of the subjects known at ``k``."""
        from projections.matching import (
            key_weight,
            preselected,
            query_keys,
            query_words,
            rank,
        )

        key, abjad = query_words(query)
        keys = sorted(query_keys(key, abjad))
        with self.engine.connect() as conn:
            held = _holders(conn, keys, self.k)
            total = held.get(ALL, 0)
            weights = {}
            for k in keys:
                weight = key_weight(held.get(k, 0), total)
                if weight is not None:
                    weights[k] = weight
            if not weights:
                return []
            chosen = _best_names(conn, weights, held, self.k)
            if not chosen:
                return []
            picked = preselected([((r[0], r[1]), int(r[2])) for r in chosen])
            rows = conn.execute(
                select(search_names.c.subject_id, search_names.c.name, search_names.c.words).where(
                    # rec_from alone first: SQLite scans every name for a row-value IN list.
                    search_names.c.rec_from.in_(sorted({rec_from for rec_from, _ in picked})),
                    tuple_(search_names.c.rec_from, search_names.c.ordinal).in_(picked),
                )
            ).all()
            held_by = _subjects(conn, sorted({r.subject_id for r in rows}), self.k)
        return rank(query, _in_name_order(rows, held_by), floor=floor, limit=limit)


_K = bindparam("k", type_=BigInteger)
NAMES_OF = (
    select(search_names.c.rec_from, search_names.c.ordinal)
    .where(search_names.c.words.in_(bindparam("words", expanding=True)), known(search_names, _K))
    .order_by(search_names.c.rec_from, search_names.c.ordinal)
    .limit(bindparam("n", type_=Integer))
)
"""The first ``n`` names by (rec_from, ordinal) held as known at ``k`` of any of ``words``."""

WORDS_AT_ONCE = 2000
"""Bound parameters of one statement stay well under the databases' limits."""


_KEYS = [f"key{i}" for i in range(6)]
"""The rarest keys looked up in the database (a join each); the others checked here."""
_EVERY: dict[int, Any] = {}


def _holding_every(count: int) -> Any:
    """The words holding every one of ``count`` keys (``key0``, the rarest, walked first)."""
    stmt = _EVERY.get(count)
    if stmt is None:
        first = search_words.alias("w0")
        stmt = select(first.c.words).where(first.c.key == bindparam(_KEYS[0]))
        for i in range(1, count):
            other = search_words.alias(f"w{i}")
            on = and_(other.c.key == bindparam(_KEYS[i]), other.c.words == first.c.words)
            stmt = stmt.join_from(first, other, on)
        _EVERY[count] = stmt
    return stmt


_WEIGHED: dict[int, Any] = {}


def _weighed(count: int) -> Any:
    """Every words holding any of ``count`` keys (``key0``...) with the sum of the weights
    (``weight0``...) of those it holds, heaviest first."""
    stmt = _WEIGHED.get(count)
    if stmt is None:
        c = search_words.c
        keys = [bindparam(f"key{i}", type_=Text) for i in range(count)]
        each = [bindparam(f"weight{i}", type_=BigInteger) for i in range(count)]
        weight = func.sum(case(*[(c.key == key, w) for key, w in zip(keys, each, strict=True)]))
        stmt = (
            select(c.words, weight.label("weight"))
            .where(c.key.in_(keys))
            .group_by(c.words)
            .order_by(weight.desc())
        )
        _WEIGHED[count] = stmt
    return stmt


def _best_names(
    conn: Connection, weights: dict[str, int], held: dict[str, int], k: int
) -> list[tuple[int, int, int]]:
    """The names held as known at ``k`` with the greatest sums of the weights of the keys they
    hold, as (rec_from, ordinal, weight): best first, ties by (rec_from, ordinal), enough of
    them for ``matching.preselected`` to choose exactly as from all names.

    A name weighs what its words weigh, and namesakes share their words: the distinct words
    are weighed (``view_search_words``: a few hundred rows a key at 1M events, however many
    names hold them), then their names are read by weight, the heaviest first, until
    ``CANDIDATES`` are found with every name tied with the last (or ``TIES`` in all): the
    first names of all by (weight, rec_from, ordinal), as summing every name's keys would
    give. Weights are few (words holding the same keys of the query weigh alike), and the
    heaviest is often enough alone: the words holding every key, looked for first.
    """
    from projections.matching import CANDIDATES, TIES, index_keys

    # The words holding every key weigh the most (and alike): when their names are enough,
    # they are the answer, found walking the rarest key's words (a few hundred rows) without
    # weighing every words holding any key.
    rarest = sorted(weights, key=lambda key: (held.get(key, 0), key))[: len(_KEYS)]
    stmt = _holding_every(len(rarest))
    every = [
        words
        for words in conn.execute(stmt, dict(zip(_KEYS, rarest, strict=False))).scalars()
        if index_keys(words.split()) >= weights.keys()  # the other keys too
    ]
    if every:
        found = _first_names(conn, every, k, TIES)
        if len(found) >= CANDIDATES:
            top = sum(weights.values())
            return [(rec_from, ordinal, top) for rec_from, ordinal in found]
    # Every words holding any key, weighed in the database and read heaviest first, as far
    # as needed: a weight's words are complete when the next weight's row comes.
    out: list[tuple[int, int, int]] = []
    params: dict[str, Any] = {}
    for i, (key, weight) in enumerate(sorted(weights.items())):
        params[f"key{i}"], params[f"weight{i}"] = key, weight
    level: list[str] = []
    last = 0
    rows = conn.execute(_weighed(len(weights)), params)
    try:
        for words, weight in rows:
            if level and weight != last:
                if _add_level(conn, level, last, k, out):
                    return out
                level = []
            last = int(weight)
            level.append(words)
    finally:
        rows.close()
    if level:
        _add_level(conn, level, last, k, out)
    return out


def _add_level(
    conn: Connection, words: list[str], weight: int, k: int, out: list[tuple[int, int, int]]
) -> bool:
    """Every name of the weight's ``words``, or the first up to ``TIES`` in all, added to
    ``out``; whether ``out`` is then enough (``CANDIDATES``)."""
    from projections.matching import CANDIDATES, TIES

    found = _first_names(conn, words, k, TIES - len(out))
    out += [(rec_from, ordinal, weight) for rec_from, ordinal in found]
    return len(out) >= CANDIDATES


def _first_names(conn: Connection, words: list[str], k: int, n: int) -> list[tuple[int, int]]:
    """The first ``n`` names by (rec_from, ordinal) held as known at ``k`` of any of ``words``
    (of very many words, the first of each part's first)."""
    held = sorted(words)
    found = sorted(
        (r.rec_from, r.ordinal)
        for i in range(0, len(held), WORDS_AT_ONCE)
        for r in conn.execute(NAMES_OF, {"words": held[i : i + WORDS_AT_ONCE], "k": k, "n": n})
    )
    return found[:n]


def _holders(conn: Connection, keys: list[str], k: int) -> dict[str, int]:
    """How many names held as known at ``k`` hold each key (``ALL``: how many names)."""
    from projections.catchup import tracked_position

    if k >= (tracked_position(conn) or 0):  # as of the head: counted as the index is kept
        return {
            r.key: r.names
            for r in conn.execute(
                select(search_terms.c.key, search_terms.c.names).where(
                    search_terms.c.key.in_([*keys, ALL])
                )
            )
        }
    # Earlier: counted among the rows known then. The names, from the head's count and the
    # rows opened or closed after ``k`` (few, for a recent ``k``).
    out: dict[str, int] = {
        r.key: r.names
        for r in conn.execute(
            select(search_keys.c.key, func.count().label("names"))
            .where(search_keys.c.key.in_(keys), known(search_keys, k))
            .group_by(search_keys.c.key)
        )
    }
    now = conn.execute(select(search_terms.c.names).where(search_terms.c.key == ALL)).scalar()
    opened_since = conn.execute(
        select(func.count()).where(search_names.c.rec_from > k, search_names.c.rec_to.is_(None))
    ).scalar()
    closed_since = conn.execute(
        select(func.count()).where(search_names.c.rec_to > k, search_names.c.rec_from <= k)
    ).scalar()
    out[ALL] = (now or 0) - (opened_since or 0) + (closed_since or 0)
    return out


def _subjects(conn: Connection, ids: list[str], k: int) -> dict[str, SubjectRow]:
    found = conn.execute(select(subjects).where(subjects.c.subject_id.in_(ids), known(subjects, k)))
    return {
        r.subject_id: SubjectRow(
            r.subject_id,
            r.name,
            r.kind,
            list(r.aliases),
            r.birth_date,
            r.nationality,
            r.position_title,
        )
        for r in found
    }


def _in_name_order(
    rows: Sequence[Any], subjects: dict[str, SubjectRow]
) -> list[tuple[SubjectRow, str, tuple[str, ...]]]:
    """Candidates in their subject's own order of names (the name before the aliases), so
    that of two names scoring alike the same one is reported as matched every time."""
    out = []
    for r in rows:
        s = subjects.get(r.subject_id)
        if s is None:
            continue
        order = list(dict.fromkeys([s.name, *s.aliases]))
        rank_in = order.index(r.name) if r.name in order else len(order)
        out.append((rank_in, s, r.name, tuple(r.words.split())))
    out.sort(key=lambda c: (c[1].subject_id, c[0]))
    return [(s, name, key) for _, s, name, key in out]


def stored_match_index(conn: Connection, k: int, subjects: Sequence[SubjectRow]) -> MatchIndex:
    """An in-memory index of ``subjects`` (as known at ``k``) from their stored words: for
    screening many names against the same subjects."""
    from projections.matching import MatchIndex

    wanted = {s.subject_id for s in subjects}
    stored: dict[str, list[tuple[str, Sequence[str]]]] = {}
    for r in conn.execute(
        select(search_names.c.subject_id, search_names.c.name, search_names.c.words).where(
            known(search_names, k)
        )
    ):
        if r.subject_id in wanted:
            stored.setdefault(r.subject_id, []).append((r.name, r.words.split()))
    return MatchIndex(subjects, stored=stored)
