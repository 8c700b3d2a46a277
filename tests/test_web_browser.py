"""The pages in a real Chromium (Debian's ``chromium``) driven by Playwright: search, a
subject's timeline, known-at, the EU list, keyboard and phone use, no console errors and no
request to another host.

In CI (``CI`` set) a missing chromium is a failure, not a skip: ``.ci/run`` installs it.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from support import EXAMPLE, Sanctions, sqlite_url_in
from web_support import serving

CHROMIUM = shutil.which("chromium")
DOCS = Path(__file__).resolve().parent.parent / "docs"

if CHROMIUM is None and not os.environ.get("CI"):
    pytest.skip(
        "the browser tests need Debian's chromium (apt-get install chromium); CI installs it",
        allow_module_level=True,
    )

from playwright.sync_api import ConsoleMessage, Page, Request, Response, expect  # noqa: E402

# Without the background-networking flags Chromium reaches out to Google hosts by itself.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    assert CHROMIUM is not None, "CI must have chromium: .ci/run installs it"
    return {"executable_path": CHROMIUM, "args": FLAGS, "headless": True}


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Sanctions:
    sanctions = Sanctions(sqlite_url_in(tmp_path_factory.mktemp("browser")))
    sanctions.ok("import", str(EXAMPLE))
    return sanctions


@pytest.fixture(scope="module")
def served(ledger: Sanctions) -> Iterator[str]:
    with serving(ledger.url) as base:
        yield base


class Watch:
    """Console errors, failed responses and requests to any other host, on one page."""

    def __init__(self, page: Page, base: str) -> None:
        self.host = urlsplit(base).netloc
        self.errors: list[str] = []
        self.foreign: list[str] = []
        self.failed: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", self.console)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", self.request)
        page.on("response", self.response)
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def request(self, request: Request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme not in ("data", "about") and parts.netloc != self.host:
            self.foreign.append(request.url)

    def response(self, response: Response) -> None:
        if response.status >= 400:
            self.failed.append(f"{response.status} {response.url}")

    def clean(self) -> None:
        assert self.errors == [] and self.foreign == [] and self.failed == [], vars(self)
        assert self.dialogs == []


def test_search_krasnov_open_him_and_see_two_lanes_then_none_as_known_before(
    page: Page, served: str, ledger: Sanctions
) -> None:
    watch = Watch(page, served)
    page.goto(served + "/")
    page.get_by_label("Name or alias").fill("Krasnov")
    page.get_by_label("Name or alias").press("Enter")
    page.get_by_role("link", name="Igor Krasnov").click()
    expect(page).to_have_url(f"{served}/subjects/igor-krasnov")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Igor Krasnov")
    lanes = page.locator("svg g.lane")
    expect(lanes).to_have_count(2)
    seen = {
        (lane.get_attribute("data-authority"), lane.get_attribute("data-start"))
        for lane in lanes.all()
    }
    assert seen == {("EU", "2021-03-02"), ("US-OFAC", "2021-03-02")}
    expect(page.locator("svg g.lane rect.bar")).to_have_count(2)
    expect(page.locator("svg .mark-announcement")).to_have_count(1)
    shot = page.locator("figure.timeline").screenshot()
    assert shot[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("SANCTIONS_SCREENSHOTS"):  # refresh the README's picture
        page.set_viewport_size({"width": 1100, "height": 900})
        page.screenshot(path=str(DOCS / "subject-timeline.png"), full_page=False)

    # As known just before his first designation was recorded: the lanes are gone.
    events = ledger.events()
    first = min(e.position for e in events
                if e.type == "designated" and e.data["subject"] == "igor-krasnov")  # fmt: skip
    page.get_by_role("textbox", name="As known at").fill(str(first - 1))
    page.get_by_role("textbox", name="As known at").press("Enter")
    expect(page).to_have_url(f"{served}/subjects/igor-krasnov?at=&known_at={first - 1}")
    expect(page.locator("svg g.lane")).to_have_count(0)
    expect(page.locator("p.none")).to_contain_text("No designation in force")
    watch.clean()


def test_known_at_a_date_before_the_import_does_not_know_him(page: Page, served: str) -> None:
    page.goto(served + "/subjects/igor-krasnov?known_at=2021-03-10")
    expect(page.locator("p.error")).to_have_text("unknown subject 'igor-krasnov'")


def test_the_eu_list_on_3_march_2021_has_the_rows_of_sanctions_list(
    page: Page, served: str, ledger: Sanctions
) -> None:
    watch = Watch(page, served)
    page.goto(served + "/")
    page.get_by_role("link", name="Designations").click()
    page.get_by_label("Authority").fill("EU")
    page.get_by_label("On date").fill("2021-03-03")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(f"{served}/designations?authority=EU&regime=&measure=&kind="
                             "&at=2021-03-03&known_at=")  # fmt: skip
    rows = page.locator("table.listings tbody tr")
    shown = [tuple(cell.inner_text() for cell in row.locator("td").all()[:7]) for row in rows.all()]
    cli = json.loads(ledger.ok("list", "--authority", "EU", "--at", "2021-03-03",
                               "--format", "json").stdout)  # fmt: skip
    expected = [
        (r["subject_id"], r["subject_name"], r["kind"], r["authority"], r["regime"],
         ", ".join(r["measures"]), r["listed_from"])
        for r in cli
    ]  # fmt: skip
    assert len(expected) == 11
    assert shown == expected
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    csv = Path(download.value.path()).read_text()
    assert csv == ledger.ok("list", "--authority", "EU", "--at", "2021-03-03",
                            "--format", "csv").stdout  # fmt: skip
    watch.clean()


def test_no_page_logs_an_error_or_asks_another_host(page: Page, served: str) -> None:
    watch = Watch(page, served)
    for path in [
        "/",
        "/?q=Kalashnikov&at=2021-03-03",
        "/subjects/alexei-navalny",
        "/subjects/igor-krasnov?at=2021-03-03&known_at=41",
        "/designations?at=2021-03-03",
        "/diff?from=2021-03-01&to=2021-03-31&authority=EU",
        "/log?from=30&limit=5",
    ]:
        page.goto(served + path)
        expect(page.locator("footer")).to_contain_text("Ledger head: position")
    watch.clean()


def test_the_search_works_from_the_keyboard(page: Page, served: str) -> None:
    page.goto(served + "/")
    expect(page.get_by_label("Name or alias")).to_be_focused()  # ready to type
    page.keyboard.type("Aleksandr Kalashnikov")
    page.keyboard.press("Enter")
    link = page.get_by_role("link", name="Alexander Kalashnikov")
    for _ in range(40):  # Tab through the page to the hit, as a keyboard user does
        page.keyboard.press("Tab")
        if link.evaluate("e => e === document.activeElement"):
            break
    expect(link).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{served}/subjects/alexander-kalashnikov")


def test_pages_fit_a_phone_sized_window(page: Page, served: str) -> None:
    page.set_viewport_size({"width": 375, "height": 740})
    for path in ["/", "/subjects/igor-krasnov", "/designations?at=2021-03-03", "/log"]:
        page.goto(served + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, (path, width)


def test_a_script_imported_as_a_name_is_shown_as_text_and_never_runs(
    page: Page, served: str, ledger: Sanctions, tmp_path: Path
) -> None:
    events = tmp_path / "hostile.jsonl"
    events.write_text(json.dumps({"type": "subject_registered", "data": {
        "id": "hostile-name", "name": "<script>alert(1)</script>",
        "aliases": ["<img src=x onerror=alert(2)>"]}}) + "\n")  # fmt: skip
    ledger.ok("import", str(events))
    watch = Watch(page, served)
    page.goto(served + "/subjects/hostile-name")  # the running server is current
    expect(page.get_by_role("heading", level=1)).to_contain_text("<script>alert(1)</script>")
    expect(page.locator("ul.aliases li")).to_have_text("<img src=x onerror=alert(2)>")
    watch.clean()
