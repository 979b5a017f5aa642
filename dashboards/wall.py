"""The LED wall: /wall rotates through views; /wall/<view> shows one view pinned.

URL (every part optional)::

    /wall?views=levels:community=龙塔社区,closure&rotate=30&lang=en&poll=20
    /wall/closure?community=望江社区

- `views`: the playlist, comma-separated; an entry is `view[:key=value[;key=value]]`
  with the keys its view declares (`WallView.filters`), so a wall can show one slide per
  community. Default: every view.
- `screens`: a stitched canvas's screens, left to right, comma-separated, each its own
  playlist of `|`-separated entries (`levels|closure,map|participation,accounts`);
  replaces `views`.
- `rotate`: seconds per slide (default 20); 0 pins the first slide.
- `poll`: seconds between data-version checks (default 30).
- `lang`: zh (default) or en.

The server draws every slide of the playlist; wall.js rotates them (a cross-fade),
ticks the clock, polls `/api/wall/version` and asks for a redraw (the `wall-version`
store) only when the data changed, the day rolled over or a source's freshness changed.
While the server is away the wall keeps its picture and shows a small "reconnecting"
mark. An ultra-wide canvas shows several 16:9 slides side by side.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime
from typing import Callable

import dash
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, dcc, html
from flask import request

from dashboards import _data
from dashboards._components import fmt_time
from dashboards._html import to_html
from dashboards._i18n import lang_of, t, wall_date
from dashboards._version_api import version_payload
from dashboards._serving import error_reference
from dashboards._wall_playlist import (MAX_FILTER_CHARS, bounded_config, parse_playlist,
                                      parse_screens)
from dashboards._wall_views import alarm_strip, no_data, renderer, slide_header, ticker
from pipelines import queries
from pipelines.queries import wall as q

logger = logging.getLogger(__name__)


dash.register_page(
    __name__, path="/wall", name="大屏 Wall", title="大屏 / Wall", order=90
)


def _number(text, default: float, lo: float, hi: float) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return default
    return min(max(value, lo), hi) if value else 0.0


def _config(playlist, lang, rotate, poll) -> dict:
    settings = _data.settings()
    return {
        "playlist": playlist,
        "lang": lang,
        "rotate": _number(rotate, settings.wall_rotate_seconds, 0.05, 3600),
        "poll": _number(poll, settings.wall_poll_seconds, 0.05, 3600) or 1,
    }


# ------------------------------------------------------------------ drawing


def _slides(config: dict) -> dict:
    """Every slide of the playlist and the top bar's status part, from one cursor, as HTML.

    Returns:
        {"slides": [{"attrs": {attribute: value}, "html": inner HTML}], "status": HTML}:
        what wall.js puts in place (see dashboards/_html.py for why not Dash children).
    """
    settings = _data.settings()
    lang = config["lang"]
    # Whole minutes: every wall showing a view within one minute shares one computation
    # (results are cached per data version); the clock itself ticks in the browser.
    now = q.local_now(settings.timezone).replace(second=0, microsecond=0)
    try:
        con = _data.reader().cursor()
    except Exception as e:  # noqa: BLE001  # no warehouse: a calm message on every slide
        ref = error_reference()
        logger.warning("wall: warehouse unavailable [ref %s]: %s", ref, e)
        return {
            "slides": [
                _slide(i, entry, now, _slide_html(
                    entry, lang, no_data(entry["view"], lang, error=f"ref {ref}"), None))
                for i, entry in enumerate(config["playlist"])],
            "status": to_html(html.Span(t("wall.unavailable", lang),
                                        className="tb-warn tb-stale")),
        }
    try:
        tables = q.existing_tables(con)
        version = queries.current_version(con)
        # the alarm strip and ticker are drawn only for a slide not drawn this minute
        frame = functools.cache(lambda: _alarms(con, version, now, settings, tables, lang))
        slides = []
        for i, entry in enumerate(config["playlist"]):
            view = entry["view"]
            try:
                # drawn once per worker, data version, minute, view, filters and language:
                # walls redrawing together after a load, or several walls showing the
                # same view, share one HTML (building and serialising a slide's
                # thousands of components was most of a wall answer's CPU)
                shown_at, inner = queries.cached(
                    f"wall:slide:{view}", version,
                    lambda: _drawn_view(con, entry, lang, now, settings, tables, frame,
                                        version),
                    db=str(settings.db_path), settings=settings, filters=entry["filters"],
                    lang=lang, now=now)
            except Exception:  # one broken view never blanks the others
                ref = error_reference()
                logger.exception("wall view %s failed [ref %s]", view, ref)
                shown_at, inner = now, _slide_html(
                    entry, lang, no_data(view, lang, error=f"ref {ref}"), frame())
            slides.append(_slide(i, entry, shown_at, inner))
        status = _status(q.wall_status(con, now=now, settings=settings), lang, now)
        return {"slides": slides, "status": to_html(status)}
    finally:
        con.close()


def _alarms(con, version, now: datetime, settings, tables: set[str], lang: str) -> list:
    """The alarm strip and the ticker, drawn once for every slide (the wall's frame)."""
    try:
        data = queries.cached("wall:alarms", version,
                              lambda: q.alarm_data(con, q.Clock.at(now), settings=settings,
                                                   tables=tables),
                              db=str(settings.db_path), settings=settings, now=now)
    except Exception:  # the strip failing never blanks the slides
        logger.exception("wall alarm strip failed [ref %s]", error_reference())
        return [alarm_strip(None, lang), ticker([], lang)]
    return [alarm_strip(data, lang), ticker(data["ticker"], lang)]


def _drawn_view(con, entry: dict, lang: str, now: datetime, settings, tables: set[str],
                frame: Callable[[], list], version: str) -> tuple[datetime, str]:
    """One view's data (cached per data version) drawn as its slide's inner HTML, with
    `frame()` around it, and the instant its figures are judged at: a ticket view's data
    cut-off (newest record), else `now`."""
    view = entry["view"]
    data = queries.cached(
        f"wall:{view}", version,
        lambda: q.wall_view_data(con, view, filters=entry["filters"], now=now,
                                 settings=settings, tables=tables),
        db=str(settings.db_path), settings=settings, filters=entry["filters"], now=now)
    body = renderer(view)(data, lang) if data["available"] else no_data(view, lang)
    return data.get("cutoff") or now, _slide_html(entry, lang, body, frame())


def _slide_html(entry: dict, lang: str, body: list, frame: list | None) -> str:
    """A slide's content as HTML: the alarm strip on top, the view's header and body,
    the ticker at the bottom."""
    strip, feed = frame or (None, None)
    return to_html([strip, slide_header(entry["view"], lang, entry["filters"]), *body, feed])


def _slide(index: int, entry: dict, now: datetime, inner: str) -> dict:
    """One slide: the attributes of its `section.wall-slide` and its inner HTML."""
    filt = ";".join(f"{k}={v}" for k, v in entry["filters"].items())
    return {
        "attrs": {
            "class": f"wall-slide view-{entry['view']}",
            # no designed ultra-wide layout: alone on such a canvas it keeps 16:9
            "data-wide": "1" if q.WALL_VIEWS[entry["view"]].wide else "0",
            "data-index": str(index),
            "data-screen": str(entry.get("screen", "")),
            "data-view": entry["view"],
            "data-filter": filt,
            "data-now": now.isoformat(timespec="microseconds"),  # the figures' instant
            "data-drawn": datetime.now().isoformat(timespec="microseconds"),
        },
        "html": inner,
    }


def _age(now: datetime, then: datetime | None, lang: str) -> str:
    from dashboards._i18n import duration

    if then is None:
        return "—"
    return duration(int((now - then).total_seconds() // 60), lang)


def _status(status: dict, lang: str, now: datetime) -> list:
    """Warnings and the per-source "data as of" badges of the top bar."""
    parts = []
    if status["is_stale"]:
        text = (t("wall.stale", lang, age=_age(now, status["newest_load_at"], lang))
                if status["newest_load_at"] else t("wall.never_loaded", lang))
        parts.append(html.Span("⚠ " + text, className="tb-warn tb-stale",
                               id="wall-stale"))
    if status["fallback_years"]:
        years = "、".join(str(y) for y in status["fallback_years"])
        parts.append(html.Span("ⓘ " + t("wall.calendar_fallback", lang, years=years),
                               className="tb-warn tb-calendar", id="wall-calendar"))
    badges = []
    for b in status["badges"]:
        if b["as_of"] is None:
            when = t("source.none", lang)
        elif b["as_of"].date() == now.date():
            when = b["as_of"].strftime("%H:%M")
        else:
            when = b["as_of"].strftime("%m-%d")
        mark = {"ok": "●", "late": "▲", "missed": "✖", "failing": "✖",
                "none": "○"}[b["state"]]
        badges.append(
            html.Span(
                [html.Span(mark, className="bd-mark"),
                 t(f"source.{b['source']}", lang) + " ",
                 html.Span(when, className="bd-when")],
                className=f"badge badge-{b['state']}",
                title=fmt_time(b["as_of"]) + (f" · {b['error']}" if b["error"] else ""),
                **{"data-source": b["source"], "data-state": b["state"]},
            )
        )
    parts.append(html.Span(badges, className="tb-badges"))
    return parts


# ------------------------------------------------------------------ pages


def _frame(config: dict) -> html.Div:
    settings = _data.settings()
    lang = config["lang"]
    drawn = _slides(config)
    now = q.local_now(settings.timezone)
    dots = [html.Span(className="dot", **{"data-index": str(i)})
            for i in range(len(config["playlist"]))]
    version = version_payload()["key"]
    return html.Div(
        [
            html.Header(
                [
                    html.Span(t("wall.title", lang), className="tb-title"),
                    html.Span(wall_date(now, lang), id="wall-date", className="tb-date"),
                    html.Span(now.strftime("%H:%M:%S"), id="wall-clock",
                              className="tb-clock"),
                    html.Div(id="wall-status", className="tb-status"),
                    html.Span(dots if len(dots) > 1 else [], id="wall-dots",
                              className="tb-dots"),
                    html.Span("⟳ " + t("wall.reconnecting", lang),
                              id="wall-reconnecting", className="tb-reconnect"),
                ],
                className="wall-top",
            ),
            # filled by wall.js from wall-html, never by Dash (dashboards/_html.py)
            html.Div(id="wall-slides", className="wall-slides"),
            dcc.Store(id="wall-html", data=drawn),
            dcc.Store(id="wall-filled"),
            dcc.Store(id="wall-config", data=config),
            dcc.Store(id="wall-version", data=version),
        ],
        id="wall",
        className=f"wall lang-{lang}",
        lang="en" if lang == "en" else "zh-CN",
        **{
            # screens of a stitched canvas (?screens=), 0 = one playlist across it
            "data-screens": str(1 + max((e.get("screen", -1) for e in config["playlist"]),
                                        default=-1)),
            "data-rotate": f"{config['rotate']:g}",
            "data-poll": f"{config['poll']:g}",
            "data-version": version,
            "data-tz": settings.timezone,
            "data-lang": lang,
        },
    )


def layout(views: str | None = None, rotate=None, lang=None, poll=None,
           screens: str | None = None, **_query):
    """The rotating wall: every view of the playlist (or of each screen's), rotated in
    the browser."""
    playlist = parse_screens(screens) or parse_playlist(views)
    return _frame(_config(playlist, lang_of(lang), rotate, poll))


def view_layout(view: str | None = None, lang=None, poll=None, rotate=None,
                views=None, **query):
    """One view pinned (/wall/<view>), with optional filters from the query string."""
    if view not in q.VIEWS:
        return layout(views=views, rotate=rotate, lang=lang, poll=poll)
    filters = {k: str(query[k])[:MAX_FILTER_CHARS] for k in q.WALL_VIEWS[view].filters
               if query.get(k)}
    return _frame(_config([{"view": view, "filters": filters}], lang_of(lang), 0, poll))


dash.register_page(
    "dashboards.wall_view",
    path_template="/wall/<view>",
    name="大屏单页 Wall view",
    title="大屏 / Wall",
    order=91,
    layout=view_layout,
)


@callback(
    Output("wall-html", "data"),
    Input("wall-version", "data"),
    State("wall-config", "data"),
    prevent_initial_call=True,
)
def redraw(_version, config):
    """Redraw every slide when the data version (or the day) changed; wall.js then
    replaces only the slides whose HTML differs, one per frame, in place.

    The config comes back from the browser, so it is held to the URL's caps first.
    """
    if not isinstance(config, dict):
        return dash.no_update
    config, cut = bounded_config(config)
    if cut:
        logger.warning("wall redraw from %s: config over the caps, dropped %s",
                       request.remote_addr, "; ".join(cut))
    return _slides(config)


clientside_callback(
    ClientsideFunction(namespace="wall", function_name="fill"),
    Output("wall-filled", "data"),
    Input("wall-html", "data"),
)
