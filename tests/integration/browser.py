"""A real headless Chromium for the console's browser tests: Debian's ``chromium`` and
``chromium-driver`` (installed by scripts/chromium.sh, which ``make test`` runs; nothing is
downloaded at test time) driven by selenium. A missing driver skips outside CI and fails
with ``CI=true``. Screenshots are test artefacts under ``.run/screenshots/``."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service as DriverService
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

SCREENSHOTS = Path(__file__).parents[2] / ".run" / "screenshots"
WAIT_S = 30
WINDOW = (1366, 768)


def chromedriver() -> str:
    found = os.environ.get("JOURNEY_TEST_CHROMEDRIVER") or shutil.which("chromedriver")
    if not found:
        message = "chromedriver is missing: run bash scripts/chromium.sh (make test does)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and {message}")
        pytest.skip(message)
    return found


def chromium_binary() -> str | None:
    return next((b for b in ("chromium", "chromium-browser") if shutil.which(b)), None)


@contextmanager
def browser(downloads: Path) -> Iterator[Console]:
    options = webdriver.ChromeOptions()
    binary = chromium_binary()
    if binary:
        options.binary_location = shutil.which(binary) or binary
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
    ):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    driver = webdriver.Chrome(service=DriverService(chromedriver()), options=options)
    try:
        yield Console(driver, downloads)
    finally:
        driver.quit()


class Console:
    """The console in one browser: sign in, open pages, wait for what they show."""

    def __init__(self, driver: webdriver.Chrome, downloads: Path) -> None:
        self.driver = driver
        self.downloads = downloads
        self.url = ""

    def wait(self, condition: Callable[[Any], Any], what: str, timeout_s: float = WAIT_S) -> Any:
        # A page that re-renders (rebuild progress) replaces elements while they are read.
        waiting = WebDriverWait(
            self.driver, timeout_s, ignored_exceptions=[StaleElementReferenceException]
        )
        return waiting.until(condition, message=what)

    def find(self, css: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def shown(self, css: str) -> WebElement:
        found: WebElement = self.wait(lambda d: self._visible(css), f"{css} to show")
        return found

    def _visible(self, css: str) -> WebElement | None:
        found = self.all(css)
        return found[0] if found and found[0].is_displayed() else None

    def loaded(self, page: str) -> None:
        self.wait(
            lambda d: self.find("#page").get_attribute("data-loaded") == page,
            f"the {page} page to load",
        )

    def sign_in(self, url: str, key: str) -> str:
        """Signs in with ``key`` (signing out first); returns the page shown first."""
        self.url = url
        self.driver.get(f"{url}/")
        self.driver.execute_script("sessionStorage.clear(); location.hash = ''")
        self.driver.refresh()
        self.shown("#key").send_keys(key)
        self.find("#sign-in button").click()
        return str(
            self.wait(lambda d: self.find("#page").get_attribute("data-loaded"), "a page to load")
        )

    def open(self, page: str, arg: str | None = None) -> None:
        self.driver.execute_script("delete document.getElementById('page').dataset.loaded")
        self.driver.get(f"{self.url}/#/{page}" + (f"/{arg}" if arg else ""))
        self.loaded(page)

    def nav(self) -> list[str]:
        return [a.get_attribute("data-page") or "" for a in self.all("#nav a")]

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path
