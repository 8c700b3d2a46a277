"""Fixtures: a fresh ledger per test, on an SQLite file or in a fresh PostgreSQL schema.

PostgreSQL tests need ``SANCTIONS_TEST_POSTGRES_URL`` (e.g.
``postgresql://postgres@127.0.0.1:5432/test``); each test gets its own schema through the
``?schema=NAME`` parameter of the ledger's URL, dropped afterwards. Without the variable
they are skipped, saying so.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support import Sanctions, postgres_schema, sqlite_url_in


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return sqlite_url_in(tmp_path)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with postgres_schema() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same test on both stores."""
    if request.param == "sqlite":
        yield sqlite_url_in(tmp_path)
    else:
        with postgres_schema() as url:
            yield url


@pytest.fixture
def sanctions(db_url: str) -> Sanctions:
    return Sanctions(db_url)
