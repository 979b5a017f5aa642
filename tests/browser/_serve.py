"""Run the real app (`python app.py`) in a subprocess for browser tests."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port nothing listens on now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_app(db_path: Path, log_path: Path, secret: str,
              ready_path: str = "/") -> Iterator[str]:
    """Serve the warehouse at `db_path` until the block ends; yields the base URL.

    The server's output goes to `log_path`; a server that does not answer `ready_path`
    within 60 s fails the test with the end of that log.
    """
    port = free_port()
    env = {**os.environ, "WALL_SECRET": secret, "PYTHONUNBUFFERED": "1"}
    env.pop("WALL_USERS_FILE", None)
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            [sys.executable, "app.py", "--port", str(port), "--db", str(db_path)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(url + ready_path, timeout=2):
                        break
                except OSError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        pytest.fail(log_path.read_text(encoding="utf-8")[-3000:])
                    time.sleep(0.3)
            yield url
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
