"""Fixtures: a fresh ledger per test, on an SQLite file or in a fresh PostgreSQL schema.

Each URL names an empty ledger made by ``sanctions init``; ``nowhere_url`` names the same
kinds of place with no ledger in it.

PostgreSQL tests need ``SANCTIONS_TEST_POSTGRES_URL`` (e.g.
``postgresql://postgres@127.0.0.1:5432/test``); each test gets its own schema through the
``?schema=NAME`` parameter of the ledger's URL, dropped afterwards. Without the variable
they are skipped, saying so.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from support import Sanctions, init_ledger, postgres_schema, sqlite_url_in

# In CI the generated examples are the same on every run: a red CI names a bug to reproduce,
# not a roll of the dice. Developers' runs keep exploring new examples.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return init_ledger(sqlite_url_in(tmp_path))


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with postgres_schema() as url:
        yield init_ledger(url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def nowhere_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same test on both stores, where there is no ledger (a file or schema not made)."""
    if request.param == "sqlite":
        yield sqlite_url_in(tmp_path)
    else:
        with postgres_schema() as url:
            yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same test on both stores."""
    if request.param == "sqlite":
        yield init_ledger(sqlite_url_in(tmp_path))
    else:
        with postgres_schema() as url:
            yield init_ledger(url)


@pytest.fixture
def sanctions(db_url: str) -> Sanctions:
    return Sanctions(db_url, init=False)  # db_url made it


SLOW_FIRST = (
    "test_uncertain_start.py::test_the_real_ofac_list_in_two_snapshots",
    "test_crash_and_concurrency.py::test_killed_imports",
    "test_links_properties.py::test_parties_answer_as_the_union",
    "test_name_index.py::test_the_index_caught_up_event_by_event",
    "test_matching.py::test_measured_recall_and_false_matches",
    "test_web_fuzz.py::",
    "test_cli_transfer.py::test_a_large_import_is_written_in_batches",
    "test_projections_properties.py::test_rebuild_equals_incremental_catch_up",
    "test_lists_snapshots.py::test_a_snapshot_that_kept_one_entry",
    "test_hostile_locations.py::test_generated_postgresql_grants",
    "test_bulk_path.py::test_the_bulk_path_on_the_100k",
    "test_bulk_path.py::test_import_list_through_the_bulk_path",
)
"""Tests of 20 s and more: started last on two cores, one of them would run alone at the end."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # First, then the others in their order (xdist hands tests out in this order).
    items.sort(key=lambda item: not any(slow in item.nodeid for slow in SLOW_FIRST))
