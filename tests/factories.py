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


def resident_row(**overrides) -> dict[str, str]:
    """A valid resident (an owner in 金桂苑) with a valid-checksum 18-digit national ID."""
    n = next(_ids)
    row = {
        "person_id": national_id(f"500112196{n % 10}0{n % 9 + 1}1{n % 10}", n % 1000),
        "household_id": f"H{n:06d}",
        "community": "龙塔社区",
        "grid": "龙塔社区第1网格",
        "compound": "金桂苑",
        "building": "3栋",
        "birth_date": "1960-05-14",
        "sex": "男",
        "residence": "registered",
        "is_owner": "1",
        "key_groups": "",
        "name": "王建国",
        "phone": "13812345678",
        "updated_at": "2025-09-01 10:00:00",
    }
    row.update({k: "" if v is None else str(v) for k, v in overrides.items()})
    return row


def national_id(first14: str, seq: int) -> str:
    """An 18-digit national ID: 14 digits (region + birth date), a 3-digit sequence and
    its ISO 7064 MOD 11-2 check character."""
    first17 = f"{first14[:14]}{seq:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(first17, weights, strict=True))
    return first17 + "10X98765432"[total % 11]


def vote_row(**overrides) -> dict[str, str]:
    """A valid ordinary vote of 金桂苑: 3 owners, 300.00 m², open 2025-09-01..09-15."""
    row = {
        "vote_id": f"V{next(_ids):05d}",
        "compound": "金桂苑",
        "title": "增设充电桩",
        "matter": "ordinary",
        "opens_at": "2025-09-01 09:00:00",
        "closes_at": "2025-09-15 20:00:00",
        "eligible_owners": "3",
        "eligible_area_m2": "300.00",
    }
    row.update({k: "" if v is None else str(v) for k, v in overrides.items()})
    return row


def ballot_row(**overrides) -> dict[str, str]:
    """A valid yes ballot of 100.00 m², cast 2025-09-02 10:00."""
    row = {
        "vote_id": "V00001",
        "owner_id": national_id("50011219600514", next(_ids) % 1000),
        "area_m2": "100.00",
        "choice": "yes",
        "cast_at": "2025-09-02 10:00:00",
    }
    row.update({k: "" if v is None else str(v) for k, v in overrides.items()})
    return row


def ledger_row(**overrides) -> dict[str, str]:
    """A valid income line: stall rent 1000.00 for 金桂苑 on 2025-03-05."""
    n = next(_ids)
    row = {
        "entry_id": f"L{n:07d}",
        "compound": "金桂苑",
        "booked_on": "2025-03-05",
        "direction": "income",
        "category": "摊位租金",
        "amount": "1000.00",
        "counterparty": "便民早餐摊位",
        "voucher_no": f"PZ{n:06d}",
        "note": "摊位租金收入",
    }
    row.update({k: "" if v is None else str(v) for k, v in overrides.items()})
    return row


# A valid pseudonymisation key (64 hex digits) for tests only.
TEST_SECRET = "9864f8f2ac5aab0ba6b68e9ab709c14090913c138908f346a05e20a8ef4edb33"
