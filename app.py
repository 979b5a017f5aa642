"""Dash shell: the nav, the URL, and the page container; `python app.py` serves it.

    python app.py [--host H] [--port P] [--db PATH] [--debug]

On first start, when the warehouse file does not exist, a demo warehouse is generated
and loaded through the real pipeline (`pipelines.bootstrap.ensure_warehouse`); a
warehouse whose schema is behind the code's migrations is migrated as
`python -m pipelines migrate` does. Otherwise the app only reads the warehouse, through
one `pipelines.warehouse.Reader` per app.

Pages whose path starts with /wall (the kiosk wall) own the whole screen: the shell
shows nothing around them.
"""

from __future__ import annotations

import argparse
import logging
import re
from pathlib import Path

import dash
import duckdb
from dash import Dash, Input, Output, dcc, html, set_props
from flask import request
from werkzeug.serving import make_server

from dashboards import _downloads as _explore_downloads
from dashboards import (
    _data,
    _plotly_bundle,
    _serving,
    _theme,  # noqa: F401  (registers the plotly template)
    _version_api,
)
from dashboards._components import label
from pipelines import warehouse
from pipelines.settings import Settings, load_settings

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
TITLE = "基层治理指挥中心"
TITLE_EN = "Governance command center"
# Dash's own page template with the page language declared: screen readers pick the
# Chinese voice, and browsers do not offer to translate the page.
INDEX_STRING = dash.dash._default_index.replace("<html>", '<html lang="zh-CN">', 1)
# Scripts and styles the index page lists that a page does not use. The wall (a kiosk
# with no links out) gets its own (wall.js, wall.css) and none of the explorer's (AG Grid,
# explore*.js/css); the other pages, which client-side navigation joins into one, get
# all but the wall's (the status page's links to the wall load it afresh). Dash lists
# its DataTable on every page; no page uses it.
WALL_ONLY = re.compile(r'"[^"]*/assets/wall\.(?:js|css)\?')
NOT_ON_WALL = re.compile(r'"[^"]*(?:/assets/explore[^"/]*\.(?:js|css)\?'
                         r'|/_dash-component-suites/dash_ag_grid/)')
UNUSED = re.compile(r'"[^"]*/_dash-component-suites/dash/dash_table/')
# The ticket explorer mounts its table when scrolled to, unless the URL holds a position
# in it (dashboards/explore_tickets._table_in_use): there AG Grid's bundle (57-75 ms of
# the main thread to evaluate, docs/benchmarks-history.md) is listed but not run, and
# assets/explore.js runs it before the table, or a page with a grid, needs it.
GRID = re.compile(r'<script src="([^"]*/_dash-component-suites/dash_ag_grid/[^"]*)">')
TABLE_KEYS = ("ticket", "row", "sort")


def page_tags(tags: str, path: str, *, grid_later: bool = False) -> str:
    """The index page's script or style tags (one a line) that the page at `path`
    (below the URL prefix) uses; with `grid_later`, AG Grid's script is listed for
    assets/explore.js to run when needed (`data-lazy-src`), not run at load."""
    wall = path == "wall" or path.startswith("wall/")
    unused = NOT_ON_WALL if wall else WALL_ONLY
    lines = [line for line in tags.split("\n")
             if not UNUSED.search(line) and not unused.search(line)]
    if grid_later:
        lines = [GRID.sub(r'<script type="text/plain" data-lazy-src="\1">', line)
                 for line in lines]
    return "\n".join(lines)


class CommandCenter(Dash):
    """Dash, with each page's index listing only the scripts and styles it uses."""

    def interpolate_index(self, **kwargs) -> str:
        path = request.path.removeprefix(self.config.requests_pathname_prefix)
        grid_later = path == "explore/tickets" and not any(
            k in request.args for k in TABLE_KEYS)
        for key in ("scripts", "css"):
            kwargs[key] = page_tags(kwargs.get(key, ""), path, grid_later=grid_later)
        return super().interpolate_index(**kwargs)


def reset_pages_state() -> None:
    """Forget registered pages, so that another app can be built in this process.

    The pages registry is global in Dash; Dash's own tests reset it the same way.
    """
    dash._pages.PAGE_REGISTRY.clear()
    dash._pages.CONFIG.clear()
    dash._pages.CONFIG.__dict__.clear()


def _on_callback_error(err: Exception) -> None:
    """Any callback failure: the log gets the traceback, the user a reference to it.

    Error text (DuckDB binder messages, Python errors, file paths) never reaches the page.
    """
    ref = _serving.error_reference()
    logger.error("callback failed [ref %s]", ref, exc_info=err)
    set_props(
        "app-error",
        {
            "children": label(f"数据暂不可用（编号 {ref}）",
                              f"Data unavailable (reference {ref})"),
            "hidden": False,
        },
    )


def _nav() -> html.Nav:
    links = [
        dcc.Link(page["name"], href=page["relative_path"], className="nav-link")
        for page in dash.page_registry.values()
        if not page["path"].startswith("/wall")
    ]
    return html.Nav(
        [
            html.Span(
                [TITLE, html.Span(TITLE_EN, className="label-en")], className="brand"
            ),
            *links,
        ],
        id="app-nav",
        className="shell-nav",
        **{"aria-label": "页面 Pages"},
    )


def _shell() -> html.Div:
    # Starts with the nav: assets/shell.js hides it on wall paths before the first
    # paint (html.shell-wall), and the clientside callback keeps both right as the path
    # changes, so neither the wall flashes a nav nor a page shifts down when one appears.
    return html.Div(
        [
            dcc.Location(id="app-location"),
            _nav(),
            html.Div(id="app-error", className="app-error", hidden=True, role="alert"),
            html.Main(dash.page_container, className="shell-main"),
        ],
        id="app-shell",
        className="shell",
    )


def _migrate_at_start(settings: Settings) -> None:
    """Migrate a warehouse left behind by an upgrade (docs/operations.md, "Upgrading").

    If that fails the app still starts: the reader then refuses the old schema, and the
    status page and `/healthz` say so, naming `python -m pipelines migrate`.
    """
    try:
        warehouse.migrate_if_behind(settings)
    except (warehouse.WarehouseError, duckdb.Error, OSError) as e:
        logger.error("warehouse %s could not be migrated at start: %s; run "
                     "`python -m pipelines migrate`", settings.db_path, e)


def create_app(settings: Settings) -> Dash:
    """Build the Dash app serving `settings.db_path` (read-only).

    Pages register themselves from `dashboards/`; building a second app in the same
    process first resets Dash's global pages registry.
    """
    reset_pages_state()
    _migrate_at_start(settings)
    _data.configure(settings)
    app = CommandCenter(
        __name__,
        use_pages=True,
        pages_folder="dashboards",
        assets_folder="dashboards/assets",
        serve_locally=True,
        index_string=INDEX_STRING,
        title=f"{TITLE} {TITLE_EN}",
        update_title=None,
        suppress_callback_exceptions=True,
        on_error=_on_callback_error,
    )
    app.layout = _shell
    _explore_downloads.register(app.server)  # /download/explore/<name>.csv
    _serving.register(app, settings)  # security headers, /healthz, access control
    _plotly_bundle.register(app.server, app.config.requests_pathname_prefix)  # charts' plotly.js
    _version_api.register(app.server)  # GET /api/wall/version (the wall polls it)
    app.clientside_callback(
        """
        function (pathname) {
            var bare = (pathname || "").indexOf("/wall") === 0;
            document.documentElement.classList.toggle("shell-wall", bare);
            return bare ? "shell shell--bare" : "shell";
        }
        """,
        Output("app-shell", "className"),
        Input("app-location", "pathname"),
    )
    return app


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=f"Serve the {TITLE_EN} app.")
    parser.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1")
    parser.add_argument("--port", type=int, default=8050, help="default 8050")
    parser.add_argument("--db", type=Path, help="warehouse file (default: WALL_DB)")
    parser.add_argument(
        "--debug", action="store_true", help="Dash debug mode (dev only)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Create the demo warehouse when there is none, then serve the app."""
    args = _parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = load_settings(db_path=args.db)
    if not Path(settings.db_path).exists():
        # Imported here so the shell still serves (showing "no warehouse") while the
        # bootstrap module is unavailable.
        from pipelines.bootstrap import ensure_warehouse

        try:
            ensure_warehouse(settings)
        except Exception:
            # Serve anyway: the status page then says what is missing.
            logger.exception(
                "could not create the demo warehouse at %s", settings.db_path
            )
    app = create_app(settings)
    if args.debug:
        app.run(host=args.host, port=args.port, debug=True)  # reloader and dev tools
        return
    # Werkzeug's threaded server without app.run()'s banners: that path prints "Dash is
    # running" twice (Dash's handler and the root logger's) and a development-server
    # warning on every start. The server is fine for one room; production runs gunicorn.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server(args.host, args.port, app.server, threaded=True)
    logger.info("serving %s on http://%s:%s/ (production: gunicorn -c gunicorn.conf.py)",
                settings.db_path, args.host, server.port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        logger.info("stopped")


if __name__ == "__main__":
    main()
else:
    # For `gunicorn app:server` and dash.testing's import_app("app").
    app = create_app(load_settings())
    server = app.server
