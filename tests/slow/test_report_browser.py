"""report.html in a real browser: headless Chromium (Debian's package) driven by Playwright.

The page must render on its own: no console or page errors, no request for anything but the
file itself and its data: URIs, and what a reader sees first (headline, chart, one section per
metric) is on screen. Reports are built from the report tests' synthetic record (seconds).
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from stagelens.report import write_report
from stagelens.report.record import RunRecord
from tests.unit import test_report
from tests.unit.test_report_headline import PNG_MAGIC, _standin_record

pytestmark = pytest.mark.slow

record = test_report.record  # the report tests' record, as a fixture of this module too

VIEWPORT = {"width": 1280, "height": 1000}
HEADLINE = "Which stage carries this behaviour?"


def _chromium() -> str | None:
    found = shutil.which("chromium")
    if found is None and Path("/usr/bin/chromium").is_file():
        found = "/usr/bin/chromium"
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright (Python package) is not installed; `make setup` installs it")
    executable = _chromium()
    if executable is None:
        pytest.skip(
            "chromium is not installed (Debian package `chromium`); "
            "`make setup` installs it when run as root"
        )
    with sync_playwright() as p:
        # the system browser, never a downloaded one; as root Chromium needs --no-sandbox
        launched = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Visit:
    page: Any
    url: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # anything but the report and data:


@contextmanager
def _open(browser: Any, report: Path) -> Iterator[Visit]:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    visit = Visit(page=page, url=report.resolve().as_uri())

    def on_console(msg: Any) -> None:
        if msg.type == "error":
            visit.console_errors.append(f"{msg.text} ({msg.location})")

    def on_request(request: Any) -> None:
        if request.url != visit.url and not request.url.startswith("data:"):
            visit.requests.append(request.url)

    def refuse(route: Any) -> None:
        # recorded by on_request; refused at once, so nothing waits on the network
        if route.request.url == visit.url:
            route.continue_()
        else:
            route.abort()

    page.on("console", on_console)
    page.on("pageerror", lambda exc: visit.page_errors.append(str(exc)))
    page.on("request", on_request)
    context.route("**/*", refuse)
    try:
        page.goto(visit.url, wait_until="load")
        yield visit
    finally:
        context.close()


def _check(visit: Visit, run: RunRecord, screenshot: Path) -> None:
    page = visit.page
    assert visit.requests == [], "the report must not fetch anything"
    assert visit.console_errors == []
    assert visit.page_errors == []

    assert page.get_by_role("heading", name=HEADLINE, exact=True).is_visible()
    items = page.locator("ul.headlines > li")
    assert items.count() == len(run.metrics)
    for mc in run.metrics:
        assert page.locator(f'ul.headlines > li[data-metric="{mc.metric}"]').is_visible(), mc.metric

    chart = page.locator('img[src^="data:image/png;base64,"]')
    assert chart.count() == 1 and chart.is_visible()
    assert chart.evaluate("img => img.complete && img.naturalWidth") > 0, "chart did not decode"
    box = chart.bounding_box()
    assert box is not None and box["width"] > 0 and box["height"] > 0

    sections = page.locator("h3")
    assert sections.count() == len(run.metrics)
    for mc in run.metrics:
        section = sections.filter(has=page.locator("code", has_text=mc.metric))
        assert section.count() == 1 and section.is_visible(), mc.metric

    page.screenshot(path=str(screenshot))  # the top of the page: one viewport
    png = screenshot.read_bytes()
    assert png[:8] == PNG_MAGIC
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (VIEWPORT["width"], VIEWPORT["height"])
        lo, hi = zip(*image.convert("RGB").getextrema(), strict=True)
        assert max(hi) - min(lo) > 100, "the screenshot is blank"


def test_report_renders_in_chromium(browser: Any, record: RunRecord, tmp_path: Path) -> None:
    paths = write_report(record, tmp_path / "out")
    with _open(browser, paths.report_html) as visit:
        _check(visit, record, tmp_path / "top.png")
        assert not visit.page.locator("p.standin").count()
        assert not visit.page.locator("ul.headlines .noevidence").count()


def test_standin_report_renders_in_chromium(
    browser: Any, record: RunRecord, tmp_path: Path
) -> None:
    same = _standin_record(record)
    paths = write_report(same, tmp_path / "out")
    with _open(browser, paths.report_html) as visit:
        _check(visit, same, tmp_path / "top.png")
        # the stand-in warning and each headline's "Not evidence:" are on screen
        assert visit.page.locator("p.standin").is_visible()
        flags = visit.page.locator("ul.headlines .noevidence")
        assert flags.count() == len(same.metrics)
        for i in range(flags.count()):
            assert flags.nth(i).is_visible()
