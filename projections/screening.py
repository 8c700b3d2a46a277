"""Screening a file of names as of a date, as known at a moment; and its certificate.

A row's status: ``match`` when a subject designated on the date (by the authorities asked
about) scores at least the threshold, ``possible`` when one scores within
``POSSIBLE_MARGIN`` below it or when the best match is only possibly listed on the date (its
listing date is uncertain), ``clear`` otherwise; ``error`` for a row that could not be read
(reported by line; it does not stop the others). Only subjects with a designation on the
date are candidates: screening asks what the lists said that day.

The certificate (``Certificate``) records what was asked and answered, so that
``check_certificate`` can later answer the same questions as known at the same position of
the same or a longer ledger and say which rows would now be answered differently.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import itertools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import IO, Any

from ledger.errors import IntegrityFailure, InvalidValue, LedgerError, UnknownAuthority
from ledger.integrity import KeptHead, stored_rows, verify_chain
from ledger.records import parse_date, to_json
from ledger.vocabulary import SUBJECT_KINDS, today
from projections import parties, queries
from projections.matching import (
    DEFAULT_THRESHOLD,
    MATCHER_VERSION,
    POSSIBLE_MARGIN,
    MatchIndex,
    Query,
    check_threshold,
    status,
)
from projections.name_index import stored_match_index
from projections.queries import Row
from projections.time import KnownAt
from projections.views import Views

CANDIDATES = 3
"""Candidates shown (and certified) per row."""

_RANK = {"clear": 0, "possible": 1, "match": 2}

FORMAT = "sanctions-ledger screening certificate"
FORMAT_VERSION = 1

# ------------------------------------------------------------------ input


@dataclass(frozen=True)
class InputRow:
    line: int
    id: str | None
    name: str
    birth_date: date | None = None
    country: str | None = None
    kind: str | None = None
    error: str | None = None

    def query(self) -> Query:
        return Query(self.name, self.birth_date, self.country, self.kind)

    def asked(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "id": self.id,
            "name": self.name,
            "birth_date": self.birth_date,
            "country": self.country,
            "kind": self.kind,
        }


class NamesFile:
    """A CSV with a ``name`` column (optional ``id``, ``birth_date``, ``country``, ``kind``) or
    a text file of one name a line, read as a stream; its SHA-256 is known once read."""

    COLUMNS = ("name", "id", "birth_date", "country", "kind")

    def __init__(self, stream: IO[bytes], label: str) -> None:
        self.stream = stream
        self.label = label
        self.sha256 = hashlib.sha256()
        self.bytes = 0
        self.lines = 0

    def _text_lines(self) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
        for raw in self.stream:
            self.sha256.update(raw)
            self.bytes += len(raw)
            self.lines += 1
            try:
                yield decoder.decode(raw)
            except UnicodeDecodeError:
                raise InvalidValue(
                    f"{self.label}: line {self.lines} is not UTF-8 text; save the file as "
                    "UTF-8 (a mis-decoded name would be screened as another name)"
                ) from None
        decoder.decode(b"", final=True)

    def rows(self) -> Iterator[InputRow]:
        lines = self._text_lines()
        first = next(lines, None)
        if first is None:
            return
        for delimiter in DELIMITERS:
            header = next(csv.reader([first], delimiter=delimiter), [])
            columns = [c.strip().lower() for c in header]
            if "name" in columns:
                yield from self._csv(first, lines, columns, delimiter)
                return
        self._refuse_a_table_without_names(first)
        ahead = list(itertools.islice(lines, TABLE_EVIDENCE - 1))
        self._refuse_a_table_without_a_header([first, *ahead])
        blank: list[int] = []  # blank lines count as errors only when a name follows them
        for line, text in enumerate(itertools.chain([first], ahead, lines), start=1):
            if not text.strip():
                blank.append(line)
                continue
            for empty in blank:
                yield InputRow(empty, None, "", error="empty name")
            blank.clear()
            name = text.strip()
            long = _too_long(name)
            yield InputRow(
                line, None, name[:MAX_NAME] if long else name, error=long or _not_a_name(name)
            )

    def _refuse_a_table_without_a_header(self, head: list[str]) -> None:
        """Lines that all hold as many semicolons are a table's rows, not names (a name may
        hold one: ``COMPAGNIE AERIENNE DES GRANDS LACS (CAGL) ; GREAT LAKES ...``)."""
        counts = {text.count(";") for text in head if text.strip()}
        if len([t for t in head if t.strip()]) > 1 and len(counts) == 1 and 0 not in counts:
            raise InvalidValue(
                f"{self.label}: every line holds {counts.pop()} ';': a table without a header "
                "line? Give it one with a 'name' column, or give one name a line"
            )

    def _refuse_a_table_without_names(self, first: str) -> None:
        """A table whose header names no ``name`` column would otherwise be read as one name
        a line, each line a name with its other cells glued on (``123,Kim Jong Un,1984``),
        and such a name may score below the threshold: a silent "clear"."""
        for delimiter in DELIMITERS:
            cells = [c.strip() for c in next(csv.reader([first], delimiter=delimiter), [])]
            if len(cells) > 1 and any(c.lower() in HEADER_WORDS for c in cells):
                raise InvalidValue(
                    f"{self.label}: line 1 looks like a header ({', '.join(cells)}) with no "
                    "'name' column: call the column that holds whole names 'name' (the "
                    "others may be " + ", ".join(self.COLUMNS[1:]) + "), or give one name a line"
                )

    def _csv(
        self, first: str, lines: Iterator[str], columns: list[str], delimiter: str
    ) -> Iterator[InputRow]:
        unknown = [c for c in columns if c and c not in self.COLUMNS]
        if unknown:
            raise InvalidValue(
                f"{self.label}: unknown column {unknown[0]!r}; the columns are "
                + ", ".join(self.COLUMNS)
            )

        def rest() -> Iterator[str]:
            yield first
            yield from lines

        reader = csv.reader(rest(), delimiter=delimiter)
        next(reader)
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as e:  # a field over the csv module's limit
                yield InputRow(reader.line_num, None, "", error=f"not CSV: {e}")
                continue
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(columns):
                yield InputRow(
                    line, None, "", error=f"{len(values)} fields, the header has {len(columns)}"
                )
                continue
            yield _csv_row(line, dict(zip(columns, values, strict=True)))


TABLE_EVIDENCE = 20
"""Lines of a names list looked at to tell it from a table without a header."""

DELIMITERS = ",;\t|"
"""The separators a names table may use: Excel writes ';' where the decimal mark is ','."""

HEADER_WORDS = frozenset(
    {"id", "birth_date", "country", "kind"}
    | {"full_name", "full name", "fullname", "names", "customer", "customer_name", "client"}
    | {"client_name", "entity", "entity_name", "counterparty", "party", "party_name"}
    | {"first_name", "firstname", "first name", "given_name", "last_name", "lastname"}
    | {"last name", "surname", "family_name", "dob", "date_of_birth", "birthdate"}
    | {"nationality", "type", "customer_id", "client_id"}
)
"""Words that make a first line a table's header rather than a name (with a separator)."""


def _not_a_name(text: str) -> str | None:
    """A line of a names file that is a table's row, not a name: names hold no tabs or
    pipes, and screening the whole row as one name could miss it."""
    for mark, called in (("\t", "a tab"), ("|", "a '|'")):
        if mark in text:
            return (
                f"{called} in a name: if this is a table, give it a header line with a "
                "'name' column"
            )
    return None


MAX_NAME = 500
"""Characters in a name, at most: a longer one is not a name (and would cost seconds)."""


def _too_long(name: str) -> str | None:
    if len(name) > MAX_NAME:
        return f"the name has {len(name):,} characters; a name has at most {MAX_NAME}"
    return None


def _csv_row(line: int, cells: dict[str, str]) -> InputRow:
    name = cells.get("name", "").strip()
    ident = cells.get("id", "").strip() or None
    country = cells.get("country", "").strip() or None
    kind = cells.get("kind", "").strip().lower() or None
    born_text = cells.get("birth_date", "").strip()
    if not name:
        return InputRow(line, ident, name, error="empty name")
    if (long := _too_long(name)) is not None:
        return InputRow(line, ident, name[:MAX_NAME], error=long)
    if kind is not None and kind not in SUBJECT_KINDS:
        return InputRow(
            line, ident, name, error=f"kind {kind!r} is not one of {', '.join(SUBJECT_KINDS)}"
        )
    born = None
    if born_text:
        try:
            born = parse_date(born_text, "birth_date")
        except InvalidValue as e:
            return InputRow(line, ident, name, error=str(e))
    return InputRow(line, ident, name, born, country, kind)


# ------------------------------------------------------------------ results


@dataclass(frozen=True)
class Designation(Row):
    authority: str
    regime: str
    measures: list[str]
    listed_from: date
    certain: bool
    """False when the listing date is not known: possibly listed on the date asked about."""
    listed_after: date | None


@dataclass(frozen=True)
class Hit(Row):
    subject_id: str
    name: str
    kind: str
    score: float
    matched: str
    reasons: list[str]
    designations: list[Designation]
    """Those of its whole party (see ``party``)."""
    party: list[str] = field(default_factory=list)
    """The other subjects linked with it as one party; their designations are included."""

    def as_dict(self) -> dict[str, Any]:
        found = super().as_dict()
        if not self.party:  # as certified before parties: old certificates still check
            del found["party"]
        return found


@dataclass(frozen=True)
class Screened(Row):
    line: int
    id: str | None
    name: str
    status: str
    score: float | None
    candidates: list[Hit] = field(default_factory=list)
    error: str | None = None
    birth_date: date | None = None
    country: str | None = None
    kind: str | None = None


def _designation(listing: queries.Listing) -> Designation:
    # Issue 13 adds the uncertain start (``certain``, ``listed_after``) to listings; until
    # then every start is certain.
    certain = bool(getattr(listing, "certain", True))
    return Designation(
        listing.authority,
        listing.regime,
        list(listing.measures),
        listing.listed_from,
        certain,
        getattr(listing, "listed_after", None),
    )


class NothingToScreenAgainst(LedgerError):
    """No designation in force to screen names against."""


@dataclass(frozen=True)
class Parameters:
    at: date
    known_at: str | None
    position: int
    authorities: tuple[str, ...]
    threshold: float


class Screening:
    """The subjects designated on a date as known at a position, ready to screen names."""

    party_of: Mapping[str, str] = MappingProxyType({})
    """Each linked subject's party (its first id) as known at the position; none: alone."""
    members: Mapping[str, list[str]] = MappingProxyType({})
    """Each party's subjects."""

    def __init__(
        self,
        views: Views,
        *,
        at: date | None = None,
        known_at: str | KnownAt | None = None,
        authorities: Iterable[str] = (),
        threshold: float = DEFAULT_THRESHOLD,
    ) -> None:
        wanted = tuple(sorted({a.upper() for a in authorities}))
        known = [a.code for a in views.ledger.authorities()]
        for a in wanted:
            if a not in known:
                raise UnknownAuthority(
                    f"unknown authority {a!r}; known: {', '.join(known)} (a typo here would "
                    "screen against nothing)"
                )
        k = views.resolve_known_at(known_at)
        day = at if at is not None else today()
        self.parameters = Parameters(
            day,
            known_at if isinstance(known_at, str) else None,
            k,
            wanted,
            check_threshold(threshold),
        )
        self.designations: dict[str, list[Designation]] = {}
        with views.engine.connect() as conn:
            for listing in queries.listings(conn, at=day, k=k):
                if wanted and listing.authority not in wanted:
                    continue
                self.designations.setdefault(listing.subject_id, []).append(_designation(listing))
            subjects = [
                s for s in queries.subjects_known(conn, k=k) if s.subject_id in self.designations
            ]
            # Many names against the same subjects: their stored words, in memory once.
            self.index: MatchIndex = stored_match_index(conn, k, subjects)
            self.party_of = parties.groups(conn, k=k)
        members: dict[str, list[str]] = {}
        for sid, root in sorted(self.party_of.items()):
            members.setdefault(root, []).append(sid)
        self.members = members

    def require_candidates(self) -> None:
        """Refuse to screen against nothing: with no designation in force on the date as
        known at the position, every name would come out clear (an empty or wrong ledger, a
        date before the lists were imported, an authority with nothing in force then)."""
        if self.designations:
            return
        p = self.parameters
        by = f" by {', '.join(p.authorities)}" if p.authorities else ""
        raise NothingToScreenAgainst(
            f"no designation{by} in force on {p.at} as known at position {p.position}"
            + (f" (--known-at {p.known_at})" if p.known_at else "")
            + ": "
            "every name would be clear; check --db, --at, --known-at and --authority"
        )

    def screen(self, row: InputRow) -> Screened:
        def answer(
            verdict: str, value: float | None, hits: list[Hit], error: str | None = None
        ) -> Screened:
            return Screened(
                row.line,
                row.id,
                row.name,
                verdict,
                value,
                hits,
                error,
                row.birth_date,
                row.country,
                row.kind,
            )

        if row.error is not None:
            return answer("error", None, [], row.error)
        threshold = self.parameters.threshold
        try:
            found = self.index.match(
                row.query(), floor=threshold - POSSIBLE_MARGIN, limit=CANDIDATES
            )
        except InvalidValue as e:
            return answer("error", None, [], str(e))
        hits = []
        seen: set[str] = set()
        for c in found:  # best first: a party once, by its best-matching subject
            sid = c.subject.subject_id
            root = self.party_of.get(sid, sid)
            if root in seen:
                continue
            seen.add(root)
            others = [m for m in self.members.get(root, [sid]) if m != sid]
            designations = [d for m in [sid, *others] for d in self.designations.get(m, [])]
            who = c.subject
            hits.append(
                Hit(
                    sid,
                    who.name,
                    who.kind,
                    c.score,
                    c.matched,
                    list(c.reasons),
                    designations,
                    others,
                )
            )
        verdict = "clear"
        for h in hits:
            s = status(h.score, threshold)
            if s == "match" and not any(d.certain for d in h.designations):
                s = "possible"  # possibly listed on the date: never a plain answer either way
            if _RANK[s] > _RANK[verdict]:
                verdict = s
        return answer(verdict, hits[0].score if hits else None, hits)

    def run(
        self, rows: Iterable[InputRow], progress: Callable[[int], None] | None = None
    ) -> Iterator[Screened]:
        for row in rows:
            yield self.screen(row)
            if progress is not None:
                progress(row.line)


# ------------------------------------------------------------------ certificates


def canonical(value: Any) -> bytes:
    return json.dumps(
        to_json(value), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    ).encode()


class CertificateWriter:
    """Writes a certificate as the rows come, so that memory stays bounded.

    The file is one JSON object: the header's fields, ``results`` (one object a row), then
    ``input`` (known once the input is read), ``results_sha256`` and ``digest``. In
    canonical JSON (sorted keys, no spaces, UTF-8), ``results_sha256`` is the SHA-256 of every
    row followed by a newline, and ``digest`` the SHA-256 of every field but ``results`` and
    ``digest`` itself.
    """

    def __init__(self, out: IO[str], header: dict[str, Any]) -> None:
        self.out = out
        self.header = header
        self.rows = hashlib.sha256()
        self.first = True
        out.write("{\n")
        for key, value in header.items():
            self._field(key, value)
        out.write('  "results": [')

    def _field(self, key: str, value: Any) -> None:
        self.out.write(f"  {json.dumps(key)}: {json.dumps(to_json(value), ensure_ascii=False)},\n")

    def add(self, row: dict[str, Any]) -> None:
        """One row's result, as ``Screened.as_dict()``."""
        line = canonical(row)
        self.rows.update(line + b"\n")
        self.out.write(("\n    " if self.first else ",\n    ") + line.decode())
        self.first = False

    def close(self, trailer: dict[str, Any]) -> str:
        self.out.write("\n  ],\n")
        meta = {**self.header, **trailer, "results_sha256": self.rows.hexdigest()}
        for key, value in trailer.items():
            self._field(key, value)
        self._field("results_sha256", meta["results_sha256"])
        digest = hashlib.sha256(canonical(meta)).hexdigest()
        self.out.write(f'  "digest": "{digest}"\n}}\n')
        return digest


def certificate_header(screening: Screening, views: Views) -> dict[str, Any]:
    p = screening.parameters
    head_position, head_digest = views.ledger.head()
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "parameters": {
            "at": p.at,
            "known_at": p.known_at,
            "known_at_position": p.position,
            "authorities": list(p.authorities),
            "threshold": p.threshold,
        },
        "matcher": {"version": MATCHER_VERSION, "threshold": p.threshold},
        "ledger": {"head_position": head_position, "head_digest": head_digest},
    }


def certificate_digest(document: dict[str, Any]) -> str:
    """The digest a certificate should carry, recomputed from its content."""
    rows = hashlib.sha256()
    for row in document.get("results", []):
        rows.update(canonical(row) + b"\n")
    meta = {k: v for k, v in document.items() if k not in ("results", "digest")}
    meta["results_sha256"] = rows.hexdigest()
    if document.get("results_sha256") != meta["results_sha256"]:
        return ""
    return hashlib.sha256(canonical(meta)).hexdigest()


@dataclass(frozen=True)
class RowChange(Row):
    line: int
    name: str
    was: str
    now: str
    why: str


@dataclass(frozen=True)
class CertificateCheck(Row):
    rows: int
    position: int
    head_position: int
    changes: list[RowChange]
    ledger_rewritten: bool
    matcher_changed: bool

    @property
    def valid(self) -> bool:
        return not self.changes and not self.ledger_rewritten


def _summary(result: dict[str, Any]) -> str:
    best = result.get("candidates") or []
    if result.get("status") == "error":
        return f"error ({result.get('error')})"
    if not best:
        return str(result.get("status"))
    top = best[0]
    return f"{result.get('status')} ({top['subject_id']} {top['score']})"


def _comparable(result: dict[str, Any]) -> Any:
    return json.loads(canonical(result))


def check_certificate(views: Views, document: dict[str, Any]) -> CertificateCheck:
    """Whether the ledger still extends the certificate's head and answers every row alike."""
    try:
        if document.get("format") != FORMAT:
            raise KeyError("format")
        parameters = document["parameters"]
        matcher = document["matcher"]
        ledger = document["ledger"]
        results = document["results"]
        stated = document["digest"]
        at = parse_date(str(parameters["at"]), "at")
        position = int(parameters["known_at_position"])
        head = KeptHead.parse(f"{int(ledger['head_position'])} {ledger['head_digest']}")
        threshold = float(parameters["threshold"])
        authorities = [str(a) for a in parameters["authorities"]]
    except (KeyError, TypeError, ValueError, InvalidValue) as e:
        raise InvalidValue(
            f"not a screening certificate (missing or bad {e}); give a file written by "
            "'sanctions screen --certificate'"
        ) from None
    if certificate_digest(document) != stated:
        raise IntegrityFailure(
            "the certificate's digest does not match its content: it was edited after it "
            "was written"
        )
    chain = verify_chain(stored_rows(views.ledger.recorder), head)
    if chain.problem is not None:
        raise IntegrityFailure(
            f"the ledger fails verification at position {chain.problem.position}: "
            f"{chain.problem.message}"
        )
    rewritten = chain.extends_head is False
    matcher_changed = str(matcher.get("version")) != MATCHER_VERSION
    screening = Screening(
        views,
        at=at,
        known_at=KnownAt(position=position),
        authorities=authorities,
        threshold=threshold,
    )
    why = (
        f"the ledger was rewritten: it no longer extends the certificate's head "
        f"{head.position} {head.digest[:12]}"
        if rewritten
        else f"the matcher changed (version {matcher.get('version')}, now {MATCHER_VERSION})"
        if matcher_changed
        else f"the ledger answers otherwise as known at position {position}"
    )
    changes: list[RowChange] = []
    for result in results:
        row = _replay(result)
        now = screening.screen(row).as_dict()
        if _comparable(now) != _comparable(result):
            changes.append(
                RowChange(row.line, row.name, _summary(result), _summary(_comparable(now)), why)
            )
    return CertificateCheck(
        len(results), position, chain.head_position, changes, rewritten, matcher_changed
    )


def _replay(result: dict[str, Any]) -> InputRow:
    """The input row a certified result answered."""
    born = result.get("birth_date")
    return InputRow(
        int(result["line"]),
        result.get("id"),
        str(result.get("name", "")),
        parse_date(born, "birth_date") if born else None,
        result.get("country"),
        result.get("kind"),
        result.get("error") if result.get("status") == "error" else None,
    )
