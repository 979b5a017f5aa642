"""The serving load test's own accounting (scripts/loadtest.py)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def loadtest():
    spec = importlib.util.spec_from_file_location("loadtest", ROOT / "scripts" / "loadtest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads Linux's /proc")
def test_server_cpu__counts_a_worker_that_ended(loadtest):
    """gunicorn restarts a worker after max_requests: the CPU it spent stays in the
    server's total (negative CPU per answer and a server's CPU counted as "others" came
    of forgetting it)."""
    before = loadtest.server_cpu_seconds(os.getpid())
    # a "worker" that burns about half a second of CPU, ends and is reaped by us
    subprocess.run([sys.executable, "-c",
                    "import time\nend = time.process_time() + 0.5\n"
                    "while time.process_time() < end: pass"], check=True)
    after = loadtest.server_cpu_seconds(os.getpid())
    assert after - before >= 0.45
