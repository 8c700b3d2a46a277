"""A ledger written before the speed-ups of issue 5 (commit 2d4b43a~1, the example history,
its projections dropped) is read by today's code: the chain verifies, the export is the same
bytes, and the projections catch up from its log to the same answers as a ledger restored
from that export by today's code.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from support import FIXTURES, Sanctions, sqlite_url_in

OLD_LEDGER = FIXTURES / "ledger-written-before-issue-5.db"
OLD_EXPORT = FIXTURES / "ledger-written-before-issue-5.export.jsonl"


def old_ledger(directory: Path) -> Sanctions:
    directory.mkdir()
    shutil.copyfile(OLD_LEDGER, directory / "ledger.db")
    return Sanctions(sqlite_url_in(directory))


def test_a_ledger_written_before_the_speed_ups_verifies_and_exports_the_same_bytes(
    tmp_path: Path,
) -> None:
    sanctions = old_ledger(tmp_path / "old")
    assert sanctions.head()[0] == 41
    result = sanctions.ok("verify")
    assert result.stdout.startswith("OK: 41 events, hash chain verified up to position 41")
    assert sanctions.ok("export").stdout == OLD_EXPORT.read_text(encoding="utf-8")
    assert sanctions.head()[0] == 41  # reading wrote nothing


def test_a_ledger_written_before_the_speed_ups_answers_like_its_restore(
    tmp_path: Path,
) -> None:
    old = old_ledger(tmp_path / "old")
    (tmp_path / "restored").mkdir()
    restored = Sanctions(sqlite_url_in(tmp_path / "restored"))
    restored.ok("import", str(OLD_EXPORT))
    for question in (
        ("list", "--authority", "EU", "--at", "2021-06-01"),
        ("list", "--authority", "US-OFAC", "--at", "2021-06-01", "--known-at", "41"),
        ("show", "aleksei-krivoruchko"),
        ("history", "aleksei-krivoruchko"),
    ):
        answer = old.ok(*question).stdout
        assert len(answer.splitlines()) > 4, question  # a table, not two empty answers
        assert answer == restored.ok(*question).stdout, question
