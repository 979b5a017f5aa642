"""View layer: the app's one warehouse Reader and its Settings, set by `app.create_app`.

Pages call `reader().cursor()` per request (one DuckDB connection is not thread-safe;
its cursors are). Pages never import `app`.
"""

from __future__ import annotations

import logging

from pipelines.queries.shared import SharedResults
from pipelines.settings import Settings, load_settings
from pipelines.warehouse import Reader

logger = logging.getLogger(__name__)

_settings: Settings | None = None
_reader: Reader | None = None
_results: SharedResults | None = None


def configure(settings: Settings) -> None:
    """Serve `settings.db_path` from now on (called once per app by `create_app`)."""
    global _settings, _reader, _results
    _settings = settings
    _reader = Reader(settings.db_path)
    db = settings.db_path
    _results = SharedResults(db.with_name(db.name + ".results"))


def settings() -> Settings:
    """The running app's settings (from the environment if not configured)."""
    if _settings is None:
        configure(load_settings())
    return _settings


def reader() -> Reader:
    """The running app's read-only view of the warehouse."""
    if _reader is None:
        configure(load_settings())
    return _reader


def results() -> SharedResults:
    """Where the app's processes share expensive results (`pipelines.queries.shared`)."""
    if _results is None:
        configure(load_settings())
    return _results
