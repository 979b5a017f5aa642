"""View layer: the wall's playlist from the URL (`?views=levels:community=龙塔社区,closure`).

Kept apart from dashboards/wall.py so that it can be used (and tested) without an app.
The same caps hold for the playlist a browser sends back with a redraw request
(`bounded_config`): a client cannot make the server draw more, or longer, than a URL can.
"""

from __future__ import annotations

from dashboards._i18n import DEFAULT_LANG, LANGS
from pipelines.queries import wall as q

MAX_SLIDES = 40
MAX_SCREENS = 8  # a stitched canvas of up to 8 screens (4×2)
MAX_FILTER_CHARS = 40


def _entry(text: str) -> dict | None:
    """`levels:community=龙塔社区` -> {"view", "filters"}; None for an unknown view."""
    name, _, rest = text.strip().partition(":")
    if name not in q.VIEWS:
        return None
    filters = {}
    for part in rest.split(";"):
        key, _, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if key in q.WALL_VIEWS[name].filters and value and len(value) <= MAX_FILTER_CHARS:
            filters[key] = value
    return {"view": name, "filters": filters}


def parse_playlist(views: str | None) -> list[dict]:
    """`levels:community=龙塔社区,closure` -> [{"view", "filters"}, ...].

    Unknown views and filter keys are dropped; an empty result means every view.
    """
    playlist = [e for e in map(_entry, (views or "").split(",")) if e]
    return playlist[:MAX_SLIDES] or _every_view()


def parse_screens(screens: str | None) -> list[dict]:
    """`levels|closure,map` -> entries with "screen": each screen of a stitched canvas
    gets its own playlist (screens comma-separated, a screen's views `|`-separated), so
    no view moves between screens.

    At most MAX_SCREENS screens and MAX_SLIDES entries in all; a screen left without a
    known view is dropped. An empty result: no screens (the plain playlist applies).
    """
    playlist, screen = [], 0
    for part in (screens or "").split(",")[:MAX_SCREENS]:
        entries = [e for e in map(_entry, part.split("|")) if e]
        if entries:
            playlist += [{**e, "screen": screen} for e in entries]
            screen += 1
    return playlist[:MAX_SLIDES]


def _every_view() -> list[dict]:
    return [{"view": v, "filters": {}} for v in q.VIEWS]


def bounded_config(config: dict) -> tuple[dict, list[str]]:
    """A redraw request's config held to the URL parser's caps, and what was cut.

    Entries past MAX_SLIDES, unknown views or filter keys, over-long or non-text filter
    values, a screen outside 0..MAX_SCREENS-1 and an unknown language are dropped; an
    empty playlist means every view.
    """
    cut: list[str] = []
    playlist = config.get("playlist")
    if not isinstance(playlist, list):
        cut.append("playlist is not a list")
        playlist = []
    if len(playlist) > MAX_SLIDES:
        cut.append(f"{len(playlist)} slides (max {MAX_SLIDES})")
    kept, unknown, trimmed, bad_screens = [], 0, 0, 0
    for entry in playlist[:MAX_SLIDES]:
        if not isinstance(entry, dict) or entry.get("view") not in q.VIEWS:
            unknown += 1
            continue
        filters = entry.get("filters") if isinstance(entry.get("filters"), dict) else {}
        good = {k: v for k, v in filters.items()
                if k in q.WALL_VIEWS[entry["view"]].filters and isinstance(v, str)
                and 0 < len(v) <= MAX_FILTER_CHARS}
        trimmed += len(good) != len(filters)
        kept.append({"view": entry["view"], "filters": good})
        screen = entry.get("screen")
        if screen is not None:
            if isinstance(screen, int) and not isinstance(screen, bool) \
                    and 0 <= screen < MAX_SCREENS:
                kept[-1]["screen"] = screen
            else:
                bad_screens += 1
    if unknown:
        cut.append(f"{unknown} unknown view(s)")
    if trimmed:
        cut.append(f"filters of {trimmed} slide(s) (unknown key, not text or over "
                   f"{MAX_FILTER_CHARS} characters)")
    if bad_screens:
        cut.append(f"the screen of {bad_screens} slide(s) (not 0..{MAX_SCREENS - 1})")
    if any("screen" in e for e in kept) and not all("screen" in e for e in kept):
        cut.append("screens on some slides only")
        kept = [{k: v for k, v in e.items() if k != "screen"} for e in kept]
    lang = config.get("lang")
    if lang not in LANGS:
        cut.append("an unknown language")
        lang = DEFAULT_LANG
    return {**config, "playlist": kept or _every_view(), "lang": lang}, cut
