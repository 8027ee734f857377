"""A headless Chromium driven by Selenium: Debian's own browser and driver, nothing downloaded.

CI installs them (scripts/browser.sh from .ci/run); a machine without them fails these tests with
the command that installs them, unless NO_BROWSER=1 says to skip them on purpose.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
WINDOW = (1400, 900)  # the console's target screen
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _missing() -> list[str]:
    return [p for p in (CHROMIUM, CHROMEDRIVER) if not (Path(p).is_file() and os.access(p, os.X_OK))]


@pytest.fixture(scope="session")
def browser(live_server: Any) -> Iterator[WebDriver]:
    # Asking for live_server makes the browser quit first: the server's request threads close their
    # (on SQLite, shared) connection when Chrome drops its keep-alive sockets, and must still be
    # allowed to share it then.
    missing = _missing()
    if missing:
        message = (
            f"headless browser not found: {', '.join(missing)}. Install Debian's chromium and driver "
            "(bash scripts/browser.sh, or apt-get install chromium chromium-driver), or set NO_BROWSER=1 "
            "to skip the browser tests on this machine."
        )
        if os.environ.get("NO_BROWSER") == "1":
            pytest.skip(message)
        pytest.fail(message)

    # Selenium Manager would fetch a browser or driver it cannot find; both paths are given, and
    # offline mode makes sure it never reaches the network whatever a later Selenium decides.
    os.environ["SE_OFFLINE"] = "true"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
        "--disable-dev-shm-usage",  # containers give /dev/shm 64 MB
        "--disable-gpu",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        "--lang=en-US",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def screenshot_dir(tmp_path: Path) -> Path:
    """docs/screenshots when UPDATE_SCREENSHOTS=1 (the README's pictures), else a throwaway folder."""
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS
    return tmp_path
