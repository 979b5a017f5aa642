"""View layer: the wall's playlist from the URL (`?views=levels:community=龙塔社区,closure`).

Kept apart from dashboards/wall.py so that it can be used (and tested) without an app.
"""

from __future__ import annotations

from pipelines.queries import wall as q

MAX_SLIDES = 40
MAX_FILTER_CHARS = 40


def parse_playlist(views: str | None) -> list[dict]:
    """`levels:community=龙塔社区,closure` -> [{"view", "filters"}, ...].

    Unknown views and filter keys are dropped; an empty result means every view.
    """
    playlist = []
    for entry in (views or "").split(","):
        name, _, rest = entry.strip().partition(":")
        if name not in q.VIEWS:
            continue
        filters = {}
        for part in rest.split(";"):
            key, _, value = part.partition("=")
            key, value = key.strip(), value.strip()
            if key in q.FILTER_KEYS and value and len(value) <= MAX_FILTER_CHARS:
                filters[key] = value
        playlist.append({"view": name, "filters": filters})
    return playlist[:MAX_SLIDES] or [{"view": v, "filters": {}} for v in q.VIEWS]
