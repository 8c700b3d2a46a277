"""``show`` on SQLite without SQLAlchemy (``projections.fast``) answers exactly as the usual
path does, runs SQL that cannot drift from the Core statements, and steps aside whenever the
usual path has more to do (catching up, explaining an error)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from support import EXAMPLE, Sanctions, load_bench, sqlite_url_in

from ledger import Ledger
from ledger.database import Database
from ledger.errors import UnknownSubject
from projections import Views, compiled, compiling, fast
from projections.catchup import TRACKING_NAME
from projections.tables import SCHEMA_VERSION


def test_the_compiled_sql_is_a_fresh_compilation_of_the_core_statements() -> None:
    # Regenerate with: python -m projections.compiling
    assert compiling.sqlite_statements() == compiled.SQLITE
    assert (compiled.SCHEMA_VERSION, compiled.TRACKING_NAME) == (SCHEMA_VERSION, TRACKING_NAME)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///ledger.db",
        "sqlite:////abs/path/ledger.db",
        "sqlite:///sub/dir/x.db?mode=ro",
        "sqlite:///a-b_c.1.db",
    ],
)
def test_a_plain_sqlite_url_parses_as_the_full_parser_reads_it(url: str) -> None:
    assert Database.parse_plain_sqlite(url) == Database.parse(url)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres@127.0.0.1:5432/test",
        "sqlite:///a%20b.db",
        "sqlite:///:memory:",
        "sqlite:///folder/",
        "sqlite:///x.db?mode=rw",
        "sqlite://host/x.db",
    ],
)
def test_any_other_url_is_left_to_the_full_parser(url: str) -> None:
    assert Database.parse_plain_sqlite(url) is None


def usual(url: str, subject: str, at: date | None, known_at: str | None) -> object:
    ledger = Ledger(url)
    views = Views(ledger)
    try:
        views.catch_up()
        return views.show(subject, at=at, known_at=known_at)
    finally:
        views.close()
        ledger.close()


def assert_same_answers(
    url: str, subjects: list[str], ats: list[date | None], knowns: list[str | None]
) -> int:
    """Every combination answered by both paths alike; returns how many had designations."""
    with_rows = 0
    for subject in subjects:
        for at in ats:
            for known_at in knowns:
                quick = fast.show(url, subject, at=at, known_at=known_at)
                try:
                    expected = usual(url, subject, at, known_at)
                except UnknownSubject:  # left to the usual path, which explains
                    assert quick is None, (subject, at, known_at)
                    continue
                assert quick is not None, (subject, at, known_at)
                assert quick == expected, (subject, at, known_at)
                with_rows += bool(quick.designations)
    return with_rows


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Sanctions:
    s = Sanctions(sqlite_url_in(tmp_path_factory.mktemp("fast-example")))
    s.ok("import", str(EXAMPLE))
    return s


def test_show_answers_as_the_usual_path_on_the_example_ledger(example: Sanctions) -> None:
    ledger = Ledger(example.url)
    try:
        subjects = ledger.subject_ids()
        head, _ = ledger.head()
        moment = next(iter(ledger.read_log())).recorded_at.isoformat()
    finally:
        ledger.close()
    ats = [None, date(2020, 1, 1), date(2021, 3, 3), date(2022, 6, 1)]
    knowns = [None, "1", str(head // 2), str(head + 5), moment, "2021-01-01"]
    assert assert_same_answers(example.url, subjects, ats, knowns) > 0


def test_show_answers_as_the_usual_path_for_a_party(tmp_path: Path) -> None:
    s = Sanctions(sqlite_url_in(tmp_path))
    s.ok("import", str(EXAMPLE))
    s.ok("subject", "add", "KRASNOV, Igor", "--id", "ofac-krasnov", "--quiet")
    s.ok(
        "designate", "ofac-krasnov", "--authority", "UK", "--regime", "Russia",
        "--effective", "2021-03-01",
    )  # fmt: skip
    before = s.head()[0]
    s.ok("link", "igor-krasnov", "ofac-krasnov", "--reason", "same person")
    quick = fast.show(s.url, "igor-krasnov", at=date(2021, 3, 3), known_at=None)
    assert quick is not None and [p.subject_id for p in quick.party] == ["ofac-krasnov"]
    assert len(quick.links) == 1
    assert_same_answers(
        s.url, ["igor-krasnov", "ofac-krasnov"], [date(2021, 3, 3)], [None, str(before)]
    )


def test_show_answers_as_the_usual_path_on_a_generated_ledger(tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    load_bench().generate(history, 3000, seed=5)
    s = Sanctions(sqlite_url_in(tmp_path))
    s.ok("import", str(history))
    ledger = Ledger(s.url)
    try:
        subjects = ledger.subject_ids()[:25]
    finally:
        ledger.close()
    assert assert_same_answers(s.url, subjects, [None, date(2019, 6, 1)], [None, "1500"]) > 0


def test_show_leaves_projections_behind_the_log_to_the_usual_path(tmp_path: Path) -> None:
    s = Sanctions(sqlite_url_in(tmp_path))
    s.ok("import", str(EXAMPLE))
    ledger = Ledger(s.url)  # appends without the projections' catch-up
    try:
        ledger.register_subject("Ivan Zhdanov", subject_id="ivan-zhdanov")
    finally:
        ledger.close()
    assert fast.show(s.url, "igor-krasnov", at=None, known_at=None) is None
    out = s.ok("show", "ivan-zhdanov").stdout  # the usual path caught up, then answered
    assert out.startswith("Ivan Zhdanov (ivan-zhdanov, person)")
    assert fast.show(s.url, "ivan-zhdanov", at=None, known_at=None) is not None


def test_show_leaves_an_unknown_subject_to_the_usual_path(example: Sanctions) -> None:
    assert fast.show(example.url, "igor-krasnof", at=None, known_at=None) is None
    result = example("show", "igor-krasnof")
    assert result.exit_code == 1
    assert "unknown subject 'igor-krasnof'; did you mean: igor-krasnov," in result.stderr
