"""Screenshot the top of a report.html in headless Chromium, to look at a real report.

Playwright drives Debian's `chromium` (installed by `make setup` as root); no browser is
downloaded. The report is opened from disk; any request it makes for something else is refused.

    python bench/report_screenshot.py runs/x/report.html top.png [--height 1200]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from playwright.sync_api import Route, sync_playwright


def screenshot(report: Path, out: Path, *, width: int = 1280, height: int = 1200) -> list[str]:
    """Write a PNG of the report's first `height` pixels; return the URLs it tried to fetch."""
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).is_file():
        sys.exit("chromium is not installed (Debian package `chromium`); run `make setup` as root")
    url = report.resolve().as_uri()
    fetched: list[str] = []

    def refuse(route: Route) -> None:
        if route.request.url == url:
            route.continue_()
        else:
            fetched.append(route.request.url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.route("**/*", refuse)
            page.goto(url, wait_until="load")
            page.screenshot(path=str(out))
        finally:
            browser.close()
    return fetched


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="a report.html")
    parser.add_argument("out", type=Path, help="the PNG to write")
    parser.add_argument("--height", type=int, default=1200, help="pixels from the top (1200)")
    args = parser.parse_args()
    fetched = screenshot(args.report, args.out, height=args.height)
    print(f"wrote {args.out}")
    for url in fetched:
        print(f"warning: the report tried to fetch {url} (refused)", file=sys.stderr)


if __name__ == "__main__":
    main()
