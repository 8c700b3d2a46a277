"""A linked subject's timeline in a real Chromium: the party's lanes, each labelled with its
subject, appear once the link is recorded and are gone as known before it.

Same browser set-up as test_web_browser.py (Debian's ``chromium``; in CI a missing chromium
is a failure, not a skip)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from support import EXAMPLE, Sanctions, sqlite_url_in
from web_support import serving

CHROMIUM = shutil.which("chromium")

if CHROMIUM is None and not os.environ.get("CI"):
    pytest.skip(
        "the browser tests need Debian's chromium (apt-get install chromium); CI installs it",
        allow_module_level=True,
    )

from playwright.sync_api import Page, expect  # noqa: E402
from test_web_browser import FLAGS  # noqa: E402


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    assert CHROMIUM is not None, "CI must have chromium: .ci/run installs it"
    return {"executable_path": CHROMIUM, "args": FLAGS, "headless": True}


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Sanctions, int]:
    """The example ledger, a second Krasnov as another list would bring him (UK), and the
    link between them; with the position just before the link."""
    s = Sanctions(sqlite_url_in(tmp_path_factory.mktemp("party-browser")))
    s.ok("import", str(EXAMPLE))
    s.ok("subject", "add", "KRASNOV, Igor", "--id", "uk-krasnov", "--quiet")
    s.ok(
        "designate", "uk-krasnov", "--authority", "UK", "--regime", "Global Human Rights",
        "--effective", "2021-03-25",
    )  # fmt: skip
    before = s.head()[0]
    s.ok("link", "igor-krasnov", "uk-krasnov", "--reason", "the same man on two lists")
    return s, before


@pytest.fixture(scope="module")
def served(linked: tuple[Sanctions, int]) -> Iterator[str]:
    with serving(linked[0].url) as base:
        yield base


def test_the_timeline_shows_the_linked_subjects_lanes_and_not_as_known_before_the_link(
    page: Page, served: str, linked: tuple[Sanctions, int]
) -> None:
    _, before = linked
    page.goto(f"{served}/subjects/igor-krasnov?at=2021-04-01")
    lanes = page.locator("svg g.lane")
    expect(lanes).to_have_count(3)
    seen = {
        (lane.get_attribute("data-subject"), lane.get_attribute("data-authority"))
        for lane in lanes.all()
    }
    assert seen == {("igor-krasnov", "EU"), ("igor-krasnov", "US-OFAC"), ("uk-krasnov", "UK")}
    expect(page.locator("svg g.lane[data-subject='uk-krasnov'] text.lane-label")).to_have_text(
        "uk-krasnov · UK · Global Human Rights"
    )
    # From the other side of the link: the same three lanes.
    page.goto(f"{served}/subjects/uk-krasnov?at=2021-04-01")
    expect(page.locator("svg g.lane")).to_have_count(3)

    # As known just before the link was recorded: only his own lanes, unlabelled.
    page.goto(f"{served}/subjects/igor-krasnov?at=2021-04-01")
    page.get_by_role("textbox", name="As known at").fill(str(before))
    page.get_by_role("textbox", name="As known at").press("Enter")
    expect(page).to_have_url(f"{served}/subjects/igor-krasnov?at=2021-04-01&known_at={before}")
    expect(page.locator("svg g.lane")).to_have_count(2)
    expect(page.locator("svg g.lane[data-subject]")).to_have_count(0)
    expect(page.locator("svg g.lane[data-authority='UK']")).to_have_count(0)
