"""Bytes of one wall update per view: what a redraw sends for each slide.

    .venv/bin/python -m benchmarks.wallbytes --db WAREHOUSE [--lang zh]

Draws each view alone, and the whole default playlist, as the wall's redraw callback
does (`dashboards.wall._slides`: the slides' HTML and the top bar, alarm strip and
ticker included in every slide), and prints the JSON size of each (what the callback
returns) raw, gzip and brotli compressed (the app compresses responses; the browser
receives the compressed size plus headers; brotli at flask-compress's default level 4). In-process, no browser: the sizes do not
depend on the machine's load.
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path


def sizes(db: Path, lang: str = "zh") -> list[tuple[str, int, int, int]]:
    """(playlist, raw bytes, gzip bytes, brotli bytes) per view and for all views."""
    import brotli

    from app import create_app
    from pipelines.queries.wall import VIEWS
    from pipelines.settings import load_settings

    create_app(load_settings(db_path=db))  # pages register with an app
    from dashboards import wall
    from dashboards._wall_playlist import parse_playlist

    rows = []
    for views in [*VIEWS, ",".join(VIEWS)]:
        config = wall._config(parse_playlist(views), lang, None, None)
        body = json.dumps(wall._slides(config), ensure_ascii=False).encode()
        rows.append((views, len(body), len(gzip.compress(body, 6)),
                     len(brotli.compress(body, quality=4))))
    return rows


def main(argv: list[str] | None = None) -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--lang", default="zh")
    args = parser.parse_args(argv)
    print("| playlist | JSON (KB) | gzip (KB) | brotli (KB) |")
    print("| --- | ---: | ---: | ---: |")
    for views, raw, gz, br in sizes(args.db, args.lang):
        print(f"| {views} | {raw / 1024:.1f} | {gz / 1024:.1f} | {br / 1024:.1f} |")


if __name__ == "__main__":
    main()
