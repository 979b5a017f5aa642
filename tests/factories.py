"""Test data factories: valid canonical input rows, and a CSV writer.

`ticket_row(**overrides)` returns a valid ticket row as strings; tests change only what
their scenario is about. `write_csv(path, rows, encoding=...)` writes rows with a header
taken from the first row's keys (missing keys are empty cells).
"""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

_ids = itertools.count(1)


def ticket_row(**overrides) -> dict[str, str]:
    """A valid level-1 ticket, reported 2025-09-23 09:00 and closed the same day."""
    row = {
        "ticket_id": f"T{next(_ids):07d}",
        "reported_at": "2025-09-23 09:00:00",
        "level": "1",
        "category": "城市管理",
        "community": "龙塔社区",
        "accepted_at": "2025-09-23 09:05:00",
        "responded_at": "2025-09-23 10:00:00",
        "escalated_at": "",
        "closed_at": "2025-09-23 15:00:00",
        "grid": "龙塔社区第1网格",
        "compound": "金桂苑",
        "source": "居民APP随手拍",
        "handler": "property",
        "satisfaction": "satisfied",
        "description": "3栋单元门损坏",
        "updated_at": "2025-09-23 15:00:00",
    }
    row.update({k: "" if v is None else str(v) for k, v in overrides.items()})
    return row


def write_csv(path: Path, rows: list[dict], encoding: str = "utf-8") -> Path:
    """Write `rows` as CSV with a header; returns `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fields = list(dict.fromkeys(k for row in rows for k in row))
    with open(path, "w", encoding=encoding, newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path
