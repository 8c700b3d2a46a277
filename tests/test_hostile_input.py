"""Bad input: every append command and the JSON Lines import, fed malformed and hostile values.

Each refusal is one line ``Error: ...`` with exit status 1 (the ledger refuses) or 2 (click
refuses a malformed option value or argument), never a Python traceback, and the ledger is
byte-for-byte unchanged: the same ``export`` and the same head. SQL fragments in free text
are data: stored literally and read back exactly.

The property tests run on copies of one seeded SQLite ledger (copying a file is much faster
than seeding); the fixed hostile files at the end also run on PostgreSQL.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import string
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from support import Sanctions, init_ledger, sqlite_url_in

from cli.main import cli
from ledger.records import MAX_DATE, MIN_DATE, SCHEMAS
from ledger.vocabulary import BUILTIN_AUTHORITIES, MAX_TEXT, MEASURES, SUBJECT_KINDS

RUNS = settings(max_examples=100, deadline=None)


def jsonl(*records: dict[str, Any]) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


SEED = [
    {
        "type": "subject_registered",
        "data": {"name": "Igor Krasnov", "aliases": ["Igor Viktorovich Krasnov"]},
    },
    {"type": "subject_registered", "data": {"name": "Viktor Zolotov"}},
    {"type": "authority_registered", "data": {"code": "XA", "name": "Example authority"}},
    {
        "type": "designated",
        "data": {
            "subject": "igor-krasnov",
            "authority": "EU",
            "regime": "R",
            "effective": "2021-03-02",
            "measures": ["asset-freeze"],
        },
    },
    {
        "type": "designated",
        "data": {
            "subject": "viktor-zolotov",
            "authority": "XA",
            "regime": "EO 13661",
            "effective": "2021-03-02",
            "measures": ["travel-ban"],
        },
    },
    {
        "type": "announced",
        "data": {
            "title": "Coordinated action",
            "date": "2021-03-02",
            "authorities": ["US-OFAC", "EU"],
            "subjects": ["igor-krasnov"],
        },
    },
]
"""Positions 1..6. Position 6 (the announcement) can be retracted."""

SUBJECTS = {"igor-krasnov", "viktor-zolotov"}
AUTHORITIES = {*BUILTIN_AUTHORITIES, "XA"}

SQL_FRAGMENTS = [
    "'); DROP TABLE ledger_events; --",
    '"; DROP TABLE ledger_events; --',
    "x' OR '1'='1",
    "1; DELETE FROM ledger_events WHERE 1=1; --",
    "' UNION SELECT state FROM ledger_events --",
    "'; UPDATE ledger_events SET state = NULL; --",
    "Robert'); DROP TABLE subjects;--",
    "%s %s %(name)s %%",
    "{0} {name} {}",
    ":name ? $1 @p",
    "\\'; SELECT pg_sleep(5); --",
    "' || (SELECT sqlite_version()) || '",
    "0x27 CHAR(39) /* comment */",
]


# ---------------------------------------------------------------------------- the seeded ledger


class Seeded:
    """One seeded SQLite ledger; every attempt runs on a fresh copy of it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.dir = root / "seed"
        self.dir.mkdir()
        self.url = init_ledger(sqlite_url_in(self.dir))
        seeding = invoke(self.url, ["import", "-"], input=jsonl(*SEED))
        assert seeding.exit_code == 0, seeding.output
        self.export = export_of(self.url)
        self.head = head_of(self.url)
        assert self.head[0] == len(SEED)
        self.counter = itertools.count()

    def copy(self) -> Path:
        """A fresh copy of the seed (the database with any -wal and -shm files)."""
        work = self.root / f"copy-{next(self.counter)}"
        work.mkdir()
        for f in self.dir.iterdir():
            shutil.copy(f, work / f.name)
        return work


RUNNER = CliRunner()


def invoke(
    url: str, args: Sequence[str], *, input: str | bytes | None = None, by: str = "tester"
) -> Result:
    return RUNNER.invoke(cli, ["--db", url, "--by", by, *args], input=input)


def export_of(url: str) -> str:
    result = invoke(url, ["export"])
    assert result.exit_code == 0, result.output
    return result.stdout


def head_of(url: str) -> tuple[int, str]:
    return Sanctions(url, init=False).head()


@pytest.fixture(scope="module")
def seeded() -> Iterator[Seeded]:
    root = Path(tempfile.mkdtemp(prefix="sanctions-hostile-"))
    try:
        yield Seeded(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


OUTCOMES: Counter[tuple[str, int]] = Counter()
"""Exit statuses seen, per test: printed at the end of the module (run with -s)."""


@pytest.fixture(scope="module", autouse=True)
def outcome_report() -> Iterator[None]:
    yield
    if OUTCOMES:
        print("\nhostile input outcomes (test, exit status: count):")
        for (test, code), n in sorted(OUTCOMES.items()):
            print(f"  {test}, exit {code}: {n}")
        by_code = Counter[int]()
        for (_, code), n in OUTCOMES.items():
            by_code[code] += n
        print(f"  total: {sum(by_code.values())} ({dict(sorted(by_code.items()))})")


def check_refused(result: Result, code: int, *mentions: str) -> str:
    """One ``Error:`` line, the exit status, no traceback; returns the error line."""
    assert isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {result.exception}\n{result.output}"
    )
    assert "Traceback" not in result.output
    assert result.exit_code == code, result.output
    assert result.stdout == "", result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    if code == 1:  # a refusal by the ledger: exactly the one line
        assert result.stderr == errors[0] + "\n", result.stderr
    for word in mentions:
        assert word in errors[0], (word, errors[0])
    return errors[0]


def count(test: str, code: int) -> None:
    OUTCOMES[test, code] += 1
    if currently_in_test_context():
        event(f"exit {code}")


def refused(
    seeded: Seeded,
    test: str,
    args: Sequence[str],
    code: int,
    *mentions: str,
    input: str | bytes | None = None,
    by: str = "tester",
) -> str:
    """Runs a command on a copy of the seed: refused as said, and the ledger unchanged."""
    work = seeded.copy()
    try:
        url = sqlite_url_in(work)
        result = invoke(url, args, input=input, by=by)
        error = check_refused(result, code, *mentions)
        assert export_of(url) == seeded.export
        assert head_of(url) == seeded.head
    finally:
        shutil.rmtree(work, ignore_errors=True)
    count(test, code)
    return error


# ---------------------------------------------------------------------------- hostile values

_controls = [chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0))]
plain = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=12)
nonblank = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")),
    min_size=1,
    max_size=12,
).filter(lambda t: t.strip() != "")
filler = plain | st.sampled_from(SQL_FRAGMENTS)


@st.composite
def hostile_texts(draw: st.DrawFn) -> str:
    """Text every free-text field refuses: blank, control characters, lone surrogates (what
    bytes that are not UTF-8 become in a command line), or longer than MAX_TEXT."""
    kind = draw(st.sampled_from(["blank", "control", "surrogate", "huge"]))
    event(f"hostile text: {kind}")
    if kind == "blank":
        return draw(st.text(alphabet=" \t\n\r\x0b\x0c\xa0\u2003\u3000", max_size=8))
    if kind == "huge":
        size = draw(st.integers(MAX_TEXT + 1, 3 * MAX_TEXT))
        return draw(filler) + "x" * size
    odd = draw(
        st.sampled_from(_controls) if kind == "control" else st.integers(0xD800, 0xDFFF).map(chr)
    )
    if odd.isspace():  # \x0b, \x1c, \x85, ...: trimmed at either end, refused inside
        odd = f"<{odd}>"
    return draw(filler) + odd + draw(filler)


def fill(template: Sequence[str], values: dict[str, str]) -> list[str]:
    return [values[t[1:-1]] if t.startswith("<") and t.endswith(">") else t for t in template]


# Each append command: its argument template (<slot> marks a value; positional arguments
# after "--", so that a value starting with "-" stays a value) and valid slot values on the
# seed. A slot's name is what the error message calls the field.
COMMANDS: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "subject add": (
        (
            "subject",
            "add",
            "--id",
            "<subject id>",
            "--kind",
            "<kind>",
            "--alias",
            "<alias>",
            "--birth-date",
            "<birth-date>",
            "--nationality",
            "<nationality>",
            "--position",
            "<position>",
            "--source",
            "<source>",
            "--",
            "<name>",
        ),
        {
            "subject id": "anna-p",
            "kind": "person",
            "alias": "A. P.",
            "birth-date": "1958-08-30",
            "nationality": "Russia",
            "position": "Journalist",
            "source": "https://example.org",
            "name": "Anna Politkovskaya",
        },
    ),
    "subject amend": (
        (
            "subject",
            "amend",
            "--name",
            "<name>",
            "--kind",
            "<kind>",
            "--alias",
            "<alias>",
            "--remove-alias",
            "<removed alias>",
            "--birth-date",
            "<birth-date>",
            "--nationality",
            "<nationality>",
            "--position",
            "<position>",
            "--source",
            "<source>",
            "--",
            "<subject>",
        ),
        {
            "name": "Igor V. Krasnov",
            "kind": "person",
            "alias": "Krasnov",
            "removed alias": "Igor Viktorovich Krasnov",
            "birth-date": "1975-12-24",
            "nationality": "Russia",
            "position": "Prosecutor General",
            "source": "s",
            "subject": "igor-krasnov",
        },
    ),
    "authority add": (
        ("authority", "add", "--name", "<name>", "--source", "<source>", "--", "<code>"),
        {"name": "Another authority", "source": "s", "code": "XB"},
    ),
    "designate": (
        (
            "designate",
            "--authority",
            "<authority>",
            "--regime",
            "<regime>",
            "--effective",
            "<effective>",
            "--measure",
            "<measure>",
            "--until",
            "<until>",
            "--legal-act",
            "<legal act>",
            "--reason",
            "<reason>",
            "--source",
            "<source>",
            "--",
            "<subject>",
        ),
        {
            "authority": "EU",
            "regime": "EU GHR",
            "effective": "2021-03-02",
            "measure": "travel-ban",
            "until": "2022-03-02",
            "legal act": "Reg 2021/371",
            "reason": "Navalny",
            "source": "s",
            "subject": "viktor-zolotov",
        },
    ),
    "amend": (
        (
            "amend",
            "--authority",
            "<authority>",
            "--regime",
            "<regime>",
            "--effective",
            "<effective>",
            "--add-measure",
            "<added measure>",
            "--remove-measure",
            "<removed measure>",
            "--until",
            "<until>",
            "--legal-act",
            "<legal act>",
            "--reason",
            "<reason>",
            "--source",
            "<source>",
            "--",
            "<subject>",
        ),
        {
            "authority": "EU",
            "regime": "R",
            "effective": "2021-06-01",
            "added measure": "travel-ban",
            "removed measure": "asset-freeze",
            "until": "2022-01-01",
            "legal act": "x",
            "reason": "y",
            "source": "s",
            "subject": "igor-krasnov",
        },
    ),
    "delist": (
        (
            "delist",
            "--authority",
            "<authority>",
            "--regime",
            "<regime>",
            "--effective",
            "<effective>",
            "--reason",
            "<reason>",
            "--legal-act",
            "<legal act>",
            "--source",
            "<source>",
            "--",
            "<subject>",
        ),
        {
            "authority": "EU",
            "regime": "R",
            "effective": "2022-01-01",
            "reason": "r",
            "legal act": "l",
            "source": "s",
            "subject": "igor-krasnov",
        },
    ),
    "announce": (
        (
            "announce",
            "--title",
            "<title>",
            "--date",
            "<date>",
            "--authority",
            "<authority>",
            "--authority",
            "EU",
            "--subject",
            "<subject>",
            "--source",
            "<source>",
        ),
        {
            "title": "Another action",
            "date": "2021-03-02",
            "authority": "US-OFAC",
            "subject": "viktor-zolotov",
            "source": "s",
        },
    ),
    "ruling": (
        (
            "ruling",
            "--court",
            "<court>",
            "--date",
            "<date>",
            "--outcome",
            "<outcome>",
            "--summary",
            "<summary>",
            "--source",
            "<source>",
            "--",
            "<subject>",
        ),
        {
            "court": "General Court",
            "date": "2022-05-01",
            "outcome": "dismissed",
            "summary": "s",
            "source": "s",
            "subject": "igor-krasnov",
        },
    ),
    "ruling --annuls": (
        (
            "ruling",
            "--annuls",
            "--authority",
            "<authority>",
            "--regime",
            "<regime>",
            "--court",
            "<court>",
            "--date",
            "<date>",
            "--outcome",
            "<outcome>",
            "--summary",
            "<summary>",
            "--source",
            "<source>",
            "--",
            "<subject>",
        ),
        {
            "authority": "EU",
            "regime": "R",
            "court": "General Court",
            "date": "2022-05-01",
            "outcome": "annulled",
            "summary": "s",
            "source": "s",
            "subject": "igor-krasnov",
        },
    ),
    "retract": (
        ("retract", "--reason", "<reason>", "--source", "<source>", "--", "<position>"),
        {"reason": "recorded in error", "source": "s", "position": "6"},
    ),
}

DATE_SLOTS = {"effective", "until", "date", "birth-date"}
CHOICE_SLOTS = {"kind", "measure", "added measure", "removed measure"}
TEXT_SLOTS = [
    (command, slot)
    for command, (_, values) in COMMANDS.items()
    for slot in values
    if slot not in DATE_SLOTS | CHOICE_SLOTS | {"position"}
]
LABELS = {"removed alias": "alias"}
"""Slots whose error message calls the field by another name."""


def command_with(command: str, slot: str, value: str) -> list[str]:
    template, values = COMMANDS[command]
    return fill(template, {**values, slot: value})


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_template_is_valid_on_the_seed(seeded: Seeded, command: str) -> None:
    """The control for the tests below: unchanged, each template appends exactly one event,
    so a refusal there is due to the one hostile value."""
    template, values = COMMANDS[command]
    work = seeded.copy()
    try:
        url = sqlite_url_in(work)
        result = invoke(url, fill(template, values))
        assert result.exit_code == 0, result.output
        assert export_of(url).startswith(seeded.export)
        assert head_of(url)[0] == seeded.head[0] + 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.parametrize("command", list(COMMANDS))
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_a_hostile_text_in_any_field_is_refused_naming_the_field(
    seeded: Seeded, command: str, data: st.DataObject
) -> None:
    slots = [slot for c, slot in TEXT_SLOTS if c == command]
    slot = data.draw(st.sampled_from([*slots, "--by"]), label="field")
    value = data.draw(hostile_texts(), label="value")
    if slot == "--by":
        args, by = fill(*COMMANDS[command]), value
        if value == "":  # an empty --by means the default user: not an error
            return
    else:
        args, by = command_with(command, slot, value), "tester"
    refused(seeded, "hostile text", args, 1, LABELS.get(slot, slot), by=by)


@pytest.mark.parametrize(
    ("command", "slot", "value"),
    [
        ("designate", "reason", "x" * 1_000_000),
        ("subject add", "subject id", "a" * (MAX_TEXT + 1)),
        ("subject add", "subject id", ""),
        ("designate", "regime", "R\x00'); DROP TABLE ledger_events; --"),
        ("announce", "title", "bytes \udcff\udcfe that are not UTF-8"),
        ("subject add", "name", "Igor\x85Krasnov"),
        ("ruling", "court", "\x1b[2J\x1b[31mGeneral Court"),
    ],
    ids=["megabyte", "long-id", "empty-id", "nul-and-sql", "not-utf8", "c1-control", "escape"],
)
def test_an_extreme_text_is_refused_naming_the_field(
    seeded: Seeded, command: str, slot: str, value: str
) -> None:
    refused(seeded, "hostile text", command_with(command, slot, value), 1, slot)


def is_valid_date(text: str) -> bool:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        return False
    try:
        return MIN_DATE <= date.fromisoformat(text) <= MAX_DATE
    except ValueError:
        return False


in_range = st.dates(MIN_DATE, MAX_DATE)
bad_dates = st.one_of(
    (st.dates(max_value=date(1799, 12, 31)) | st.dates(min_value=date(3000, 1, 1))).map(
        date.isoformat
    ),
    st.builds(
        "{:04d}-{:02d}-{:02d}".format, st.integers(0, 9999), st.integers(0, 99), st.integers(0, 99)
    ),
    st.builds(
        date.strftime,
        in_range,
        st.sampled_from(
            [
                "%d/%m/%Y",
                "%Y%m%d",
                "%Y-%m-%dT00:00",
                "%d.%m.%Y",
                "%b %d %Y",
                "%Y-%m-%d ",
                " %Y-%m-%d",
                "%Y-%m-%d\n",
                "%Y-%-m-%-d",
                "%y-%m-%d",
            ]
        ),
    ),
    in_range.map(
        lambda d: d.isoformat().translate(
            {ord(c): ord(c) - ord("0") + 0xFF10 for c in string.digits}
        )
    ),  # full-width digits
    in_range.map(lambda d: d.isoformat() * 1000),
    st.sampled_from(
        [
            "",
            "today",
            "now",
            "2021-03-02'; DROP TABLE ledger_events; --",
            "-1",
            "0",
            "NaN",
            "9" * 5000,
            "2021-02-29",
            "1799-12-31",
            "3000-01-01",
        ]
    ),
    st.text(max_size=20),
).filter(lambda t: not is_valid_date(t))

DATE_TARGETS = [(c, s) for c, (_, values) in COMMANDS.items() for s in values if s in DATE_SLOTS]


@RUNS
@given(target=st.sampled_from(DATE_TARGETS), value=bad_dates)
def test_a_malformed_or_out_of_range_date_is_a_usage_error(
    seeded: Seeded, target: tuple[str, str], value: str
) -> None:
    command, slot = target
    refused(
        seeded, "bad date", command_with(command, slot, value), 2, f"Invalid value for '--{slot}'"
    )


unknown_authorities = st.one_of(
    st.lists(
        st.text(string.ascii_uppercase + string.digits, min_size=1, max_size=4),
        min_size=1,
        max_size=2,
    ).map("-".join),
    nonblank,
    st.sampled_from(
        ["US_OFAC", "E U", "OFAC", "US-", "-EU", "EU;", "XA' OR '1'='1", "eu-union", "\u0415U"]
    ),  # a Cyrillic E: looks like EU
).filter(lambda c: c.strip() != "" and c.strip().upper() not in AUTHORITIES)
unknown_subjects = st.one_of(
    st.lists(
        st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=8),
        min_size=1,
        max_size=3,
    ).map("-".join),
    nonblank,
    st.sampled_from(["Igor Krasnov", "igor_krasnov", "igor-krasnov-", "IGOR-KRASNOV", "krasnov"]),
).filter(lambda s: s.strip() != "" and s.strip() not in SUBJECTS)
unknown_choices = (
    nonblank
    | st.sampled_from(["seize", "asset freeze", "Person ", "robot", "ship", "ASSET_FREEZE"])
).filter(lambda v: not {v.casefold(), v.strip().lower()} & {*MEASURES, *SUBJECT_KINDS})
"""Neither click's choice (case-insensitive) nor the import (trimmed, lower case) knows it."""


@st.composite
def unknown_names(draw: st.DrawFn) -> tuple[list[str], int, str]:
    """A command naming an unknown authority, subject, regime, measure or kind."""
    kind = draw(st.sampled_from(["authority", "subject", "regime", "choice"]))
    event(f"unknown: {kind}")
    if kind == "choice":
        command, slot = draw(
            st.sampled_from(
                [(c, s) for c, (_, values) in COMMANDS.items() for s in values if s in CHOICE_SLOTS]
            )
        )
        template = COMMANDS[command][0]
        option = template[template.index(f"<{slot}>") - 1]
        return command_with(command, slot, draw(unknown_choices)), 2, f"'{option}'"
    targets = [(c, s) for c, (_, values) in COMMANDS.items() for s in values if s == kind]
    command, slot = draw(
        st.sampled_from([t for t in targets if not (kind == "regime" and t[0] == "designate")])
    )
    if kind == "authority":
        return command_with(command, slot, draw(unknown_authorities)), 1, "unknown authority"
    if kind == "subject":
        return command_with(command, slot, draw(unknown_subjects)), 1, "unknown subject"
    regime = draw(nonblank.filter(lambda r: r.strip() != "R"))
    words = "no designation to annul" if command == "ruling --annuls" else "is not designated"
    return command_with(command, slot, regime), 1, words


@RUNS
@given(case=unknown_names())
def test_an_unknown_authority_subject_regime_measure_or_kind_is_refused(
    seeded: Seeded, case: tuple[list[str], int, str]
) -> None:
    args, code, words = case
    refused(seeded, "unknown name", args, code, words)


def not_an_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return True
    return False


@RUNS
@given(
    position=st.one_of(
        st.integers(max_value=0),
        st.integers(min_value=len(SEED) + 1),
        st.integers(min_value=2**63 - 2, max_value=2**63 + 2),
        st.integers(10**30, 10**40),
        st.just(int("9" * 4000)),
        st.text(max_size=12).filter(not_an_int),
        st.sampled_from(["1.5", "1e3", "0x10", "six", "6; DROP TABLE ledger_events", "9" * 5000]),
    ),
    separated=st.booleans(),
)
def test_retract_refuses_a_position_that_is_not_in_the_ledger(
    seeded: Seeded, position: int | str, separated: bool
) -> None:
    text = str(position)
    args = ["retract", "--reason", "r", *(["--"] if separated else []), text]
    if isinstance(position, str):
        code, words = 2, "Invalid value for 'POSITION'"
        if not separated and text.startswith("-") and text != "-":
            words = ""  # click reads it as an option (or "--" as the end of options)
    elif position < 0 and not separated:  # click reads -5 as an option
        code, words = 2, "No such option"
    else:
        code, words = 1, f"no event at position {text}; the ledger has {len(SEED)} events"
    refused(seeded, "retract position", args, code, words)


# ---------------------------------------------------------------------------- JSON Lines


VALID: dict[str, dict[str, Any]] = {
    "subject_registered": {
        "name": "Anna Politkovskaya",
        "id": "anna-p",
        "kind": "person",
        "aliases": ["A. P."],
        "birth_date": "1958-08-30",
        "alt_birth_dates": ["1958-08-31"],
        "nationality": "Russia",
        "position": "Journalist",
        "sources": ["https://example.org"],
    },
    "subject_amended": {
        "id": "igor-krasnov",
        "name": "Igor V. Krasnov",
        "kind": "person",
        "add_aliases": ["Krasnov"],
        "remove_aliases": ["Igor Viktorovich Krasnov"],
        "birth_date": "1975-12-24",
        "alt_birth_dates": ["1975-12-25"],
        "nationality": "Russia",
        "position": "Prosecutor General",
        "sources": ["s"],
    },
    "authority_registered": {"code": "XB", "name": "Another authority", "sources": ["s"]},
    "designated": {
        "subject": "viktor-zolotov",
        "authority": "EU",
        "regime": "EU GHR",
        "effective": "2021-03-02",
        "measures": ["asset-freeze", "travel-ban"],
        "until": "2022-03-02",
        "legal_act": "Reg 2021/371",
        "reason": "r",
        "listed_after": "2021-02-01",
        "start_unknown": False,
        "sources": ["s"],
    },
    "amended": {
        "subject": "igor-krasnov",
        "authority": "EU",
        "regime": "R",
        "effective": "2021-06-01",
        "add_measures": ["travel-ban"],
        "remove_measures": ["asset-freeze"],
        "until": "2022-01-01",
        "legal_act": "x",
        "reason": "y",
        "sources": ["s"],
    },
    "delisted": {
        "subject": "igor-krasnov",
        "authority": "EU",
        "regime": "R",
        "effective": "2022-01-01",
        "reason": "r",
        "legal_act": "l",
        "sources": ["s"],
    },
    "announced": {
        "title": "Another action",
        "date": "2021-03-02",
        "authorities": ["US-OFAC", "EU"],
        "subjects": ["viktor-zolotov"],
        "sources": ["s"],
    },
    "ruling_recorded": {
        "subject": "igor-krasnov",
        "court": "General Court",
        "date": "2022-05-01",
        "outcome": "annulled",
        "summary": "s",
        "annuls": True,
        "authority": "EU",
        "regime": "R",
        "sources": ["s"],
    },
    "retracted": {"position": 6, "reason": "recorded in error", "sources": ["s"]},
    "list_imported": {
        "list_name": "un-sc",
        "authority": "UN",
        "published": "2018-10-29",
        "digest": "a" * 64,
        "entries": 1093,
        "summary": "703 individuals, 390 entities",
        "sources": ["s"],
    },
    "linked": {
        "subjects": ["igor-krasnov", "viktor-zolotov"],
        "reason": "one party",
        "despite": "d",
        "sources": ["s"],
    },
    "unlinked": {
        "subjects": ["viktor-zolotov", "igor-krasnov"],
        "reason": "two parties",
        "sources": ["s"],
    },
}
"""One valid line of each type on the seed, using every field of its schema."""

assert {t: set(d) for t, d in VALID.items()} == {t: set(s) for t, s in SCHEMAS.items()}

FILLER_LINES = [
    {"type": "subject_registered", "data": {"name": "Filler One"}},
    {"type": "subject_registered", "data": {"name": "Filler Two", "kind": "organization"}},
    {
        "type": "designated",
        "data": {
            "subject": "filler-one",
            "authority": "UK",
            "regime": "F",
            "effective": "2020-10-15",
        },
    },
]
"""Valid lines around the bad one (independent of VALID): a bad line fails them all."""


def test_every_valid_line_imports_on_the_seed(seeded: Seeded) -> None:
    """The control for the JSON Lines tests: each VALID line imports, with the filler."""
    for kind, data in VALID.items():
        work = seeded.copy()
        try:
            url = sqlite_url_in(work)
            # An unlink needs a link standing: the linked line first.
            before = [{"type": "linked", "data": VALID["linked"]}] if kind == "unlinked" else []
            lines = [*FILLER_LINES[:2], *before, {"type": kind, "data": data}, FILLER_LINES[2]]
            result = invoke(url, ["import", "-"], input=jsonl(*lines))
            assert result.exit_code == 0, (kind, result.output)
            assert head_of(url)[0] == len(SEED) + len(lines)
        finally:
            shutil.rmtree(work, ignore_errors=True)


json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | plain
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(plain, inner, max_size=3),
    max_leaves=8,
)


def wrong_values(kind: str, required: bool) -> st.SearchStrategy[Any]:
    """JSON values of the wrong type for a field of this kind (null only where required)."""
    numbers = st.integers() | st.floats() | st.booleans()
    nested = st.lists(json_values, min_size=1, max_size=3) | st.dictionaries(
        plain, json_values, max_size=3
    )
    absent = st.none() if required else st.nothing()
    if kind in ("text", "opt_text", "date", "opt_date"):
        return numbers | nested | absent
    if kind == "texts":
        not_str = json_values.filter(lambda v: not isinstance(v, str))
        return (
            numbers
            | plain
            | st.dictionaries(plain, json_values, max_size=2)
            | st.lists(not_str, min_size=1, max_size=3).map(lambda xs: ["ok", *xs])
        )
    if kind in ("dates", "opt_dates"):
        not_str = json_values.filter(lambda v: not isinstance(v, str))
        return (
            numbers
            | plain
            | st.dictionaries(plain, json_values, max_size=2)
            | st.lists(not_str, min_size=1, max_size=3).map(lambda xs: ["2001-01-01", *xs])
        )
    if kind == "int":
        return st.floats() | st.booleans() | plain | st.sampled_from(["6", "six"]) | nested | absent
    assert kind == "bool"
    return st.integers() | st.floats() | plain | st.sampled_from(["true", "yes"]) | nested


FIELDS = [(t, f) for t, schema in SCHEMAS.items() for f in schema]
TEXT_FIELDS = [(t, f) for t, f in FIELDS if SCHEMAS[t][f][0] in ("text", "opt_text", "texts")]
DATE_FIELDS = [
    (t, f) for t, f in FIELDS if SCHEMAS[t][f][0] in ("date", "opt_date", "dates", "opt_dates")
]
REQUIRED = [(t, f) for t, f in FIELDS if SCHEMAS[t][f][1]]
TOP_LEVEL = {"type", "data", "position", "recorded_at", "recorded_by", "digest"}


def not_json(text: bytes) -> bool:
    try:
        json.loads(text.decode("utf-8"))
    except ValueError:
        return True
    return False


def line(kind: str, data: dict[str, Any], **top: Any) -> bytes:
    return json.dumps({"type": kind, "data": data, **top}).encode()


def with_field(kind: str, name: str, value: Any) -> bytes:
    return line(kind, {**VALID[kind], name: value})


Bad = tuple[bytes, tuple[str, ...]]
"""A bad line (without its newline) and words its error must contain."""


FAULTS = [
    "wrong type",
    "missing",
    "unknown field",
    "hostile text",
    "bad date",
    "not an object",
    "not JSON",
    "not UTF-8",
    "unknown type",
    "unknown name",
    "nested",
    "huge number",
    "retract position",
    "restore line",
]


@st.composite
def bad_lines(draw: st.DrawFn, fault: str) -> Bad:
    if fault == "wrong type":
        kind, name = draw(st.sampled_from(FIELDS))
        fkind, required = SCHEMAS[kind][name]
        return with_field(kind, name, draw(wrong_values(fkind, required))), (name,)
    if fault == "missing":
        kind, name = draw(st.sampled_from(REQUIRED))
        data = {k: v for k, v in VALID[kind].items() if k != name}
        return line(kind, data), (f"{kind} needs '{name}'",)
    if fault == "unknown field":
        kind = draw(st.sampled_from(list(SCHEMAS)))
        in_data = draw(st.booleans())
        known = {*SCHEMAS[kind], "subject_id"} if in_data else TOP_LEVEL
        key = draw(nonblank.filter(lambda k: k not in known))
        value = draw(json_values)
        if in_data:
            return with_field(kind, key, value), (f"unknown field {key!r} for {kind}",)
        return line(kind, VALID[kind], **{key: value}), (f"unknown field {key!r}",)
    if fault == "hostile text":
        kind, name = draw(st.sampled_from(TEXT_FIELDS))
        value = draw(hostile_texts())
        if SCHEMAS[kind][name][0] == "texts":
            return with_field(kind, name, ["ok", value]), (name,)
        return with_field(kind, name, value), (name,)
    if fault == "bad date":
        kind, name = draw(st.sampled_from(DATE_FIELDS))
        value = draw(bad_dates)
        if SCHEMAS[kind][name][0] in ("dates", "opt_dates"):
            return with_field(kind, name, ["2001-01-01", value]), (name,)
        return with_field(kind, name, value), (name,)
    if fault == "not an object":
        value = draw(json_scalars | st.lists(json_values, max_size=3))
        return json.dumps(value).encode(), ("must be a JSON object",)
    if fault == "not JSON":
        whole = line(*draw(st.sampled_from(list(VALID.items()))))
        cut = draw(st.integers(1, len(whole) - 1))
        garbage = draw(
            st.sampled_from(
                [
                    whole[:cut],
                    whole[:cut] + b"]}",
                    b"\xef\xbb\xbf" + whole,
                    whole + b",",
                    whole.replace(b'"', b"'"),
                    b"{type: designated}",
                    b"NULL",
                    b"\x00" + whole,
                    whole + b"{}",
                ]
            ).filter(not_json)
        )
        return garbage, ("line",)
    if fault == "not UTF-8":
        whole = line(*draw(st.sampled_from(list(VALID.items()))))
        at = draw(st.integers(0, len(whole)))
        bad = draw(
            st.sampled_from(
                [
                    b"\xff",
                    b"\xfe\xff",
                    b"\xc3\x28",
                    b"\xc0\xaf",
                    b"\xed\xa0\x80",
                    b"\xf4\x90\x80\x80",
                    b"\x80",
                    b"\xe2\x82",
                ]
            )
        )
        return whole[:at] + bad + whole[at:], ("not valid UTF-8",)
    if fault == "unknown type":
        kind = draw(json_values.filter(lambda k: not (isinstance(k, str) and k in SCHEMAS)))
        return json.dumps({"type": kind, "data": {}}).encode(), ("unknown event type",)
    if fault == "unknown name":
        choice = draw(st.sampled_from(["authority", "subject", "measure", "kind"]))
        if choice == "authority":
            value = draw(unknown_authorities)
            return with_field("designated", "authority", value), ("unknown authority",)
        if choice == "subject":
            value = draw(unknown_subjects)
            kind = draw(st.sampled_from(["designated", "ruling_recorded", "subject_amended"]))
            name = "id" if kind == "subject_amended" else "subject"
            return with_field(kind, name, value), ("unknown subject",)
        if choice == "measure":
            value = draw(unknown_choices)
            return with_field("designated", "measures", [value]), ("unknown measure",)
        value = draw(unknown_choices)
        return with_field("subject_registered", "kind", value), ("unknown kind",)
    if fault == "nested":
        depth = draw(st.integers(2, 3000))
        kind, name = draw(st.sampled_from(FIELDS))
        garbage = "[" * depth + "]" * depth
        text = json.dumps({"type": kind, "data": {**VALID[kind], name: "@"}})
        return text.replace('"@"', garbage).encode(), ("line",)
    if fault == "huge number":
        digits = draw(st.integers(4301, 6000))  # more than int() reads (4300)
        kind, name = draw(st.sampled_from(FIELDS))
        text = json.dumps({"type": kind, "data": {**VALID[kind], name: "@"}})
        return text.replace('"@"', "9" * digits).encode(), ("too many digits",)
    if fault == "retract position":
        position = draw(
            st.integers(max_value=0)
            | st.integers(min_value=len(SEED) + 4)
            | st.integers(10**18, 10**40)
            | st.just(2**63)
        )
        return with_field("retracted", "position", position), ("no event at position",)
    # a restore line (with position, record time and recorder) into a non-empty ledger
    top = draw(
        st.fixed_dictionaries(
            {
                "position": st.integers(-3, 10) | st.just(10**30),
                "recorded_at": st.sampled_from(
                    [
                        "2021-03-02T10:00:00+00:00",
                        "0001-01-01T00:00:00+14:00",
                        "9999-12-31T23:59:59-12:00",
                        "yesterday",
                        "2021-02-30",
                    ]
                ),
                "recorded_by": st.sampled_from(["someone", "", "a\x00b"]),
                "digest": st.sampled_from(["0" * 64, "XYZ", "0" * 63]),
            }
        )
    )
    return line("subject_registered", VALID["subject_registered"], **top), ("line",)


@pytest.mark.parametrize("fault", FAULTS)
@settings(max_examples=25, deadline=None)
@given(
    data=st.data(),
    before=st.integers(0, len(FILLER_LINES)),
    blanks=st.integers(0, 2),
    after=st.integers(0, len(FILLER_LINES)),
    last_newline=st.booleans(),
)
def test_a_bad_line_fails_the_whole_import_and_names_the_line(
    seeded: Seeded,
    fault: str,
    data: st.DataObject,
    before: int,
    blanks: int,
    after: int,
    last_newline: bool,
) -> None:
    """Valid lines and blank ones before the bad line, valid lines after it, the last line
    with or without its newline: the error names the bad line, and nothing is written."""
    content, words = data.draw(bad_lines(fault), label="bad line")
    lines = [json.dumps(f).encode() for f in FILLER_LINES[:before]] + [b""] * blanks
    number = len(lines) + 1
    lines += [content] + [json.dumps(f).encode() for f in FILLER_LINES[:after]]
    text = b"\n".join(lines) + (b"\n" if last_newline else b"")
    refused(seeded, "import", ["import", "-"], 1, f"Error: line {number}: ", *words, input=text)


@RUNS
@given(cut=st.integers(1, 200), lines=st.integers(0, 3))
def test_a_truncated_last_line_fails_the_whole_import(seeded: Seeded, cut: int, lines: int) -> None:
    """An import cut short (a copy interrupted mid-line): the last line is refused."""
    records = [*FILLER_LINES[:lines], {"type": "designated", "data": VALID["designated"]}]
    text = jsonl(*records).rstrip("\n").encode()
    cut = min(cut, len(jsonl(records[-1])) - 2)
    refused(
        seeded,
        "import",
        ["import", "-"],
        1,
        f"Error: line {len(records)}: ",
        input=text[: len(text) - cut],
    )


# ---------------------------------------------------------------------------- SQL is data


SQL_SLOTS: dict[str, dict[str, tuple[str, int | None]]] = {
    # command: {slot: (the field in the export, its index in a list or None)}
    "subject add": {
        "name": ("name", None),
        "alias": ("aliases", 0),
        "nationality": ("nationality", None),
        "position": ("position", None),
        "source": ("sources", 0),
    },
    "subject amend": {
        "name": ("name", None),
        "alias": ("add_aliases", 0),
        "nationality": ("nationality", None),
        "position": ("position", None),
        "source": ("sources", 0),
    },
    "authority add": {"name": ("name", None), "source": ("sources", 0)},
    "designate": {
        "regime": ("regime", None),
        "legal act": ("legal_act", None),
        "reason": ("reason", None),
        "source": ("sources", 0),
    },
    "amend": {
        "legal act": ("legal_act", None),
        "reason": ("reason", None),
        "source": ("sources", 0),
    },
    "delist": {
        "legal act": ("legal_act", None),
        "reason": ("reason", None),
        "source": ("sources", 0),
    },
    "announce": {"title": ("title", None), "source": ("sources", 0)},
    "ruling": {
        "court": ("court", None),
        "outcome": ("outcome", None),
        "summary": ("summary", None),
        "source": ("sources", 0),
    },
    "retract": {"reason": ("reason", None), "source": ("sources", 0)},
}
"""Every free-text field of each append command (ids, codes and dates must stay valid)."""

sql_texts = st.builds(
    lambda a, fragment, b: (a + fragment + b).strip(), plain, st.sampled_from(SQL_FRAGMENTS), plain
)
"""Valid text (what is stored: trimmed) with an SQL fragment in it."""


@pytest.mark.parametrize("command", list(SQL_SLOTS))
@settings(max_examples=12, deadline=None)
@given(data=st.data())
def test_sql_fragments_in_every_text_field_are_stored_and_read_back_literally(
    seeded: Seeded, command: str, data: st.DataObject
) -> None:
    slots = SQL_SLOTS[command]
    texts = {slot: data.draw(sql_texts, label=slot) for slot in slots}
    template, values = COMMANDS[command]
    work = seeded.copy()
    try:
        url = sqlite_url_in(work)
        result = invoke(url, fill(template, {**values, **texts}))
        assert result.exit_code == 0, result.output
        exported = export_of(url)
        assert exported.startswith(seeded.export)
        new = exported[len(seeded.export) :].splitlines()
        assert len(new) == 1
        stored = json.loads(new[0])["data"]
        for slot, (name, index) in slots.items():
            value = stored[name] if index is None else stored[name][index]
            assert value == texts[slot], (slot, value, texts[slot])
        assert head_of(url)[0] == len(SEED) + 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    count("sql stored", 0)


# ---------------------------------------------------------------------------- PostgreSQL too


HOSTILE_FILES: dict[str, tuple[bytes, str]] = {
    "sql-fragment-then-bad-line": (
        jsonl(
            {
                "type": "subject_registered",
                "data": {"name": "'); DROP TABLE ledger_events; --", "id": "bobby-tables"},
            }
        ).encode()
        + with_field("designated", "effective", "2021-02-30")
        + b"\n",
        "Error: line 2: effective '2021-02-30' is not a calendar date",
    ),
    "nul-character": (
        with_field("designated", "reason", "a\x00b") + b"\n",
        "Error: line 1: reason contains a control character",
    ),
    "lone-surrogate": (
        with_field("designated", "regime", "R\udfff") + b"\n",
        "Error: line 1: regime contains a lone surrogate (not valid UTF-8)",
    ),
    "invalid-utf8": (
        jsonl(FILLER_LINES[0]).encode() + b'{"type": "\xff"}\n',
        "Error: line 2: not valid UTF-8",
    ),
    "truncated-last-line": (
        jsonl(*FILLER_LINES).encode() + b'{"type": "designated", "da',
        "Error: line 4: truncated line (no closing brace)",
    ),
    "not-an-object": (
        jsonl(FILLER_LINES[0]).encode() + b'["designated", {}]\n',
        "Error: line 2: each line must be a JSON object",
    ),
    "deep-nesting": (b"[" * 100_000 + b"\n", "Error: line 1: not valid JSON (nested too deeply)"),
    "unclosed-braces": (
        jsonl(FILLER_LINES[0]).encode() + b"{" * 100_000,
        "Error: line 2: truncated line (no closing brace)",
    ),
    "megabyte-name": (
        with_field("subject_registered", "name", "y" * 10**6) + b"\n",
        "Error: line 1: name is too long (1000000 characters; at most 4000)",
    ),
    "null-last-line": (
        jsonl(FILLER_LINES[0]).encode() + b"null",
        "Error: line 2: each line must be a JSON object",
    ),
    "huge-number": (
        b'{"type": "retracted", "data": {"position": ' + b"9" * 5000 + b"}}\n",
        "Error: line 1: not valid JSON (a number with too many digits)",
    ),
    "huge-position": (
        line("retracted", {"position": 10**30, "reason": "r"}) + b"\n",
        f"Error: line 1: no event at position {10**30}; the ledger has 6 events",
    ),
    "position-past-bigint": (
        line("retracted", {"position": 2**63, "reason": "r"}) + b"\n",
        f"Error: line 1: no event at position {2**63}; the ledger has 6 events",
    ),
    "number-for-string": (
        with_field("designated", "regime", 13661) + b"\n",
        "Error: line 1: regime must be a string",
    ),
    "missing-field": (
        line("designated", {"subject": "igor-krasnov"}) + b"\n",
        "Error: line 1: designated needs 'authority'",
    ),
    "unknown-field": (
        with_field("designated", "severity", "high") + b"\n",
        "Error: line 1: unknown field 'severity' for designated",
    ),
    "unknown-authority": (
        with_field("designated", "authority", "XX") + b"\n",
        "Error: line 1: unknown authority 'XX'; known: AU, CA, CH, EU, JP, NZ, "
        "UK, UN, US-BIS, US-OFAC, US-STATE, XA (register another with "
        "'sanctions authority add')",
    ),
    "huge-text": (
        with_field("announced", "title", "x" * 100_000) + b"\n",
        "Error: line 1: title is too long (100000 characters; at most 4000)",
    ),
    "record-time-out-of-range": (
        line(
            "subject_registered",
            {"name": "x"},
            position=1,
            recorded_at="0001-01-01T00:00:00+14:00",
            recorded_by="a",
        )
        + b"\n",
        "Error: line 1: recorded_at '0001-01-01T00:00:00+14:00' is out of range",
    ),
}


@pytest.mark.parametrize("name", list(HOSTILE_FILES))
def test_a_hostile_file_is_refused_on_every_store(db_url: str, name: str) -> None:
    content, error = HOSTILE_FILES[name]
    sanctions = Sanctions(db_url)
    sanctions.ok("import", "-", input=jsonl(*SEED))
    before, head = sanctions.ok("export").stdout, sanctions.head()
    result = sanctions.runner.invoke(
        cli, ["--db", db_url, "--by", "tester", "import", "-"], input=content
    )
    assert check_refused(result, 1) == error
    assert sanctions.ok("export").stdout == before
    assert sanctions.head() == head
    count("fixed file", 1)


def test_sql_fragments_in_an_import_are_stored_literally_on_every_store(db_url: str) -> None:
    sanctions = Sanctions(db_url)
    sanctions.ok("import", "-", input=jsonl(*SEED))
    records = []
    for i, fragment in enumerate(SQL_FRAGMENTS):
        records.append(
            {
                "type": "subject_registered",
                "data": {
                    "id": f"s-{i}",
                    "name": fragment,
                    "aliases": [fragment + " alias"],
                    "nationality": fragment,
                    "position": fragment,
                    "sources": [fragment],
                },
            }
        )
        records.append(
            {
                "type": "designated",
                "data": {
                    "subject": f"s-{i}",
                    "authority": "EU",
                    "regime": fragment,
                    "effective": "2021-03-02",
                    "legal_act": fragment,
                    "reason": fragment,
                    "sources": [fragment],
                },
            }
        )
    sanctions.ok("import", "-", input=jsonl(*records))
    exported = [json.loads(x) for x in sanctions.ok("export").stdout.splitlines()]
    assert len(exported) == len(SEED) + len(records)
    for record, stored in zip(records, exported[len(SEED) :], strict=True):
        assert stored["type"] == record["type"]
        assert {k: stored["data"][k] for k in record["data"]} == record["data"]
    # the read side got them too: its tables are all there
    listed = json.loads(sanctions.ok("subject", "list", "--format", "json").stdout)
    names = {row["subject_id"]: row["name"] for row in listed}
    assert {f"s-{i}": f for i, f in enumerate(SQL_FRAGMENTS)}.items() <= names.items()


# ---------------------------------------------------------------------------- official lists


def un_xml(name: str = "Ri Won Ho", listed_on: str = "2018-01-01", doctype: str = "") -> bytes:
    """A UN consolidated list with one individual."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{doctype}'
        '<CONSOLIDATED_LIST dateGenerated="2018-10-29T00:00:00"><INDIVIDUALS><INDIVIDUAL>'
        f"<DATAID>1</DATAID><FIRST_NAME>{name}</FIRST_NAME><UN_LIST_TYPE>DPRK</UN_LIST_TYPE>"
        f"<REFERENCE_NUMBER>KPi.001</REFERENCE_NUMBER><LISTED_ON>{listed_on}</LISTED_ON>"
        "</INDIVIDUAL></INDIVIDUALS><ENTITIES/></CONSOLIDATED_LIST>"
    ).encode()


_LOL = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10 if i else "lol"}">' for i in range(10))
SDN_ROW = (
    b'36,"AEROCARIBBEAN AIRLINES","-0- ","CUBA","-0- ","-0- ","-0- ","-0- ","-0- ",'
    b'"-0- ","-0- ","-0- "\n\x1a'
)  # OFAC ends its files with Ctrl-Z

HOSTILE_LISTS: dict[str, tuple[list[str], dict[str, bytes], int, str]] = {
    # name: (arguments after import-list, files to write, exit status, words in the error)
    "un-not-xml": (
        ["un", "{dir}/list.xml"],
        {"list.xml": b"\xff\xfe garbage"},
        1,
        "not valid UTF-8",
    ),
    "un-truncated": (["un", "{dir}/list.xml"], {"list.xml": un_xml()[:200]}, 1, "list.xml"),
    "un-entity-bomb": (
        ["un", "{dir}/list.xml"],
        {"list.xml": un_xml("&l9;", doctype=f"<!DOCTYPE l [{_LOL}]>")},
        1,
        "malformed XML",
    ),
    "un-huge-name": (
        ["un", "{dir}/list.xml"],
        {"list.xml": un_xml("x" * 5000)},
        1,
        "name is too long",
    ),
    "un-date-out-of-range": (
        ["un", "{dir}/list.xml"],
        {"list.xml": un_xml(listed_on="0001-01-01")},
        1,
        "out of range",
    ),
    "un-no-such-day": (
        ["un", "{dir}/list.xml"],
        {"list.xml": un_xml(listed_on="2018-02-30")},
        1,
        "'2018-02-30'",
    ),
    "sdn-not-utf8": (
        ["ofac-sdn", "{dir}", "--published", "2021-01-01"],
        {"sdn.csv": b'\xff,"a\n', "add.csv": b"", "alt.csv": b"", "sdn_comments.csv": b""},
        1,
        "not valid UTF-8",
    ),
    "sdn-malformed-csv": (
        ["ofac-sdn", "{dir}", "--published", "2021-01-01"],
        {"sdn.csv": SDN_ROW, "add.csv": b'"a\x1a', "alt.csv": b"\x1a", "sdn_comments.csv": b""},
        1,
        "malformed CSV",
    ),
    "sdn-no-date": (
        ["ofac-sdn", "{dir}"],
        {"sdn.csv": SDN_ROW, "add.csv": b"", "alt.csv": b"", "sdn_comments.csv": b""},
        1,
        "--published",
    ),
    "sdn-bad-date": (
        ["ofac-sdn", "{dir}", "--published", "2021-13-01"],
        {"sdn.csv": SDN_ROW},
        2,
        "Invalid value for '--published'",
    ),
    "unknown-list": (
        ["eu", "{dir}/list.xml"],
        {"list.xml": un_xml()},
        2,
        "Invalid value for 'LIST'",
    ),
    "missing-file": (["un", "{dir}/missing.xml"], {}, 2, "Invalid value for 'FILE'"),
}


@pytest.mark.parametrize("name", list(HOSTILE_LISTS))
def test_a_hostile_official_list_is_refused_on_every_store(
    db_url: str, tmp_path: Path, name: str
) -> None:
    args, files, code, words = HOSTILE_LISTS[name]
    for file, content in files.items():
        (tmp_path / file).write_bytes(content)
    sanctions = Sanctions(db_url)
    sanctions.ok("import", "-", input=jsonl(*SEED))
    before, head = sanctions.ok("export").stdout, sanctions.head()
    result = sanctions.runner.invoke(
        cli,
        ["--db", db_url, "--by", "tester", "import-list", *(a.format(dir=tmp_path) for a in args)],
    )
    check_refused(result, code, words)
    assert sanctions.ok("export").stdout == before
    assert sanctions.head() == head
    count("official list", code)


def test_an_sql_fragment_in_an_official_list_is_stored_literally(
    db_url: str, tmp_path: Path
) -> None:
    fragment = "Robert'); DROP TABLE ledger_events; --"
    (tmp_path / "list.xml").write_bytes(un_xml(fragment.replace("'", "&apos;")))
    sanctions = Sanctions(db_url)
    sanctions.ok("import-list", "un", str(tmp_path / "list.xml"))
    exported = [json.loads(x) for x in sanctions.ok("export").stdout.splitlines()]
    assert [e["data"]["name"] for e in exported if e["type"] == "subject_registered"] == [fragment]
