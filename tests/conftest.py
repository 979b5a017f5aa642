"""Shared fixtures: settings on a temp warehouse, pages-state reset, Chromium options.

Tests build `Settings(...)` directly; they never touch the environment.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import dash
import pytest

from pipelines.settings import Settings
from tests.factories import TEST_SECRET

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"

CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1600,1200",
)


def chromium_binary() -> str:
    """Debian's chromium, or whatever `chromium` is on PATH."""
    return shutil.which("chromium") or "/usr/bin/chromium"


def chrome_options():
    """Selenium options for headless Debian Chromium (also used by dash_duo)."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.binary_location = chromium_binary()
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "SEVERE"})
    return options


def pytest_setup_options():
    """dash.testing hook: the options dash_duo / dash_br start Chromium with."""
    return chrome_options()


@pytest.fixture
def make_settings(tmp_path):
    """Factory: Settings on a warehouse under tmp_path, with overrides."""

    def make(**overrides) -> Settings:
        values = dict(
            db_path=tmp_path / "w.duckdb",
            demo_dir=tmp_path / "demo",
            secret=TEST_SECRET,
            secret_file=tmp_path / "pseudonym.key",
            calendar_file=None,
        )
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def settings(make_settings) -> Settings:
    """Settings on an empty tmp_path (no warehouse file yet)."""
    return make_settings()


def _reset_pages_state() -> None:
    dash._pages.PAGE_REGISTRY.clear()
    dash._pages.CONFIG.clear()
    dash._pages.CONFIG.__dict__.clear()


@pytest.fixture
def clear_pages_state():
    """Dash's pages registry is global: reset it around a test that builds an app."""
    _reset_pages_state()
    yield
    _reset_pages_state()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """test-artifacts/ (git-ignored): screenshots and logs from browser tests."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(autouse=True)
def _restore_pipelines_log_level():
    """The benchmark CLI, run in-process by its smoke test, quiets "pipelines" to ERROR;
    later tests that read log records must not inherit that."""
    logger = logging.getLogger("pipelines")
    level = logger.level
    yield
    logger.setLevel(level)
