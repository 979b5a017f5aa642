"""A gunicorn worker answers its first concurrent requests: Dash's set-up is finished
before the worker takes any (gunicorn.conf.py `post_worker_init`)."""

from __future__ import annotations

import runpy
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_post_worker_init__callbacks_are_in_place_before_the_first_request(
    settings, clear_pages_state
):
    from app import create_app

    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    app = create_app(settings)
    # Dash copies the page callbacks in on the first request it serves
    assert "explore-table-slot.children" not in app.callback_map
    conf["post_worker_init"](types.SimpleNamespace(wsgi=app.server))
    assert "explore-table-slot.children" in app.callback_map
