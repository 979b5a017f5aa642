"""View layer: the plotly.js the charts load, a bundle of only the traces they draw.

dcc.Graph loads plotly.js when the first chart of a page is drawn, from the URL the
Dash renderer gives it (`_dash-component-suites/plotly/package_data/plotly.min.js`),
which Dash serves from the plotly package: the full bundle, 4.8 MB of every trace
type. Every chart of this app is a bar, scatter or heatmap: `register` serves at the
same URL a bundle of plotly.js's core with those three traces (1.0 MB; plotly.js's
cartesian bundle, which it replaces, is 1.5 MB of twelve), so a page downloads and
evaluates a fifth of the code, and Dash's own loading (only on a page that draws a
chart) is kept. The wall draws no plotly chart.

The bundle is built by `scripts/vendor-plotly` from npm's plotly.js (every package
pinned by version and integrity, the build byte-reproducible and its sha256 pinned)
and must be the plotly.js version of the installed plotly package, whose figures it
draws: when they differ (plotly upgraded, the script not re-run) the full bundle is
served and the log says why. `tests/unit/test_plotly_bundle.py` holds every trace type
the app's figures use to `trace_types()`.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from pathlib import Path

from flask import Flask, Response, request

logger = logging.getLogger(__name__)

BUNDLE = Path(__file__).resolve().parent / "vendor" / "plotly-charts.min.js"
# The path, below the requests prefix, the Dash renderer loads plotly.js from.
PLOTLY_PATH = "_dash-component-suites/plotly/package_data/plotly.min.js"


@functools.lru_cache(maxsize=1)
def _bundle() -> bytes:
    return BUNDLE.read_bytes()


def bundle_version() -> str:
    """The plotly.js version in the vendored bundle's banner (`v4.1.1` → "4.1.1")."""
    head = _bundle()[:300].decode("utf-8", "replace")
    match = re.search(r"plotly\.js \([^)]*\) v(\d+\.\d+\.\d+)", head)
    if match is None:
        raise ValueError(f"{BUNDLE.name}: no plotly.js version in its banner")
    return match.group(1)


def trace_types() -> frozenset[str]:
    """The trace types the vendored bundle registers (its trace modules' names)."""
    names = re.findall(rb'moduleType:"trace",name:"([a-z0-9]+)"', _bundle())
    return frozenset(n.decode() for n in names)


def register(server: Flask, prefix: str = "/") -> bool:
    """Serve the vendored bundle at Dash's plotly.js URL; False (the full bundle is
    served, and the log says why) when its version is not the plotly package's."""
    from plotly.offline import get_plotlyjs_version

    wanted = get_plotlyjs_version()
    if bundle_version() != wanted:
        logger.error("%s is plotly.js %s, the plotly package draws for %s: serving the "
                     "full bundle; run scripts/vendor-plotly", BUNDLE.name,
                     bundle_version(), wanted)
        return False
    path = prefix + PLOTLY_PATH
    body = _bundle()
    etag = hashlib.sha256(body).hexdigest()[:32]

    @server.before_request
    def partial_plotly():
        if request.path != path:
            return None
        # Revalidated by ETag (serving.cache_policy): the URL has no fingerprint.
        response = Response(body, mimetype="text/javascript")
        response.set_etag(etag)
        return response.make_conditional(request)

    return True
