"""`scripts/setup` installs the lock file asked for, only when the venv does not hold it
yet, and writes the project's bytecode every time.

The script runs in a copy of the project's layout whose `.venv/bin/python` is a stand-in
that records its arguments, so pip is never really called.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

FAKE_PYTHON = """#!/usr/bin/env bash
echo "$*" >> "$(dirname "$0")/../calls"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "setup", tmp_path / "scripts" / "setup")
    (tmp_path / "requirements.lock").write_text("a==1\n")
    (tmp_path / "requirements-dev.lock").write_text("a==1\nb==2\n")
    # npm's lock already installed, newer than package-lock.json: `--dev` skips npm ci
    (tmp_path / "package-lock.json").write_text("{}")
    (tmp_path / "node_modules").mkdir()
    installed = tmp_path / "node_modules" / ".package-lock.json"
    installed.write_text("{}")
    os.utime(installed, (1e10, 1e10))
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    return tmp_path


def _setup(project: Path, *args: str) -> list[str]:
    """Run the script; the fake python's calls it made."""
    calls = project / ".venv" / "calls"
    calls.unlink(missing_ok=True)
    done = subprocess.run([str(project / "scripts" / "setup"), *args], cwd=project,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return calls.read_text().splitlines() if calls.exists() else []


def _installs(calls: list[str]) -> list[str]:
    return [c.split("-r ")[1] for c in calls if c.startswith("-m pip install")]


def _dev_tools_installed() -> bool:
    """What `setup --dev` checks before it would call apt-get (as scripts/setup tests it)."""
    if shutil.which("dpkg-query") is None:
        return False
    fonts = subprocess.run(["dpkg-query", "-W", "-f=${Status}", "fonts-noto-cjk"],
                           capture_output=True, text=True)
    return (os.access("/usr/bin/chromium", os.X_OK)
            and os.access("/usr/bin/chromedriver", os.X_OK)
            and "ok installed" in fonts.stdout and shutil.which("npm") is not None)


@pytest.mark.skipif(not _dev_tools_installed(),
                    reason="`--dev` would install chromium, its driver, fonts and npm")
def test_setup__pip_runs_only_when_the_venv_does_not_hold_the_wanted_lock(project):
    assert _installs(_setup(project, "--dev")) == ["requirements-dev.lock"]
    # the dev lock's packages run the app: the runtime set does not replace them (its
    # urllib3 would then sit under the dev lock's selenium, and `--dev` skip pip)
    assert _installs(_setup(project)) == []
    assert _installs(_setup(project, "--dev")) == []
    (project / "requirements-dev.lock").write_text("a==1\nb==3\n")
    assert _installs(_setup(project, "--dev")) == ["requirements-dev.lock"]
    assert _installs(_setup(project, "--dev")) == []


def test_setup__a_changed_lock_is_installed_again(project):
    assert _installs(_setup(project)) == ["requirements.lock"]
    assert _installs(_setup(project)) == []
    # the content counts, not the file's time: a checkout that only touches it skips pip
    os.utime(project / "requirements.lock", (2e10, 2e10))
    assert _installs(_setup(project)) == []
    (project / "requirements.lock").write_text("a==2\n")
    assert _installs(_setup(project)) == ["requirements.lock"]


def test_setup__writes_the_projects_bytecode_every_run(project):
    for _ in range(2):
        assert "-m compileall -q app.py pipelines dashboards" in _setup(project)
