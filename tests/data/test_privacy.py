"""Personal data never reaches the warehouse in clear.

Files full of realistic identifiers (valid-checksum 18-digit national IDs, mobile numbers,
e-mail addresses, Chinese names) are loaded through every personal-data source, some rows
quarantined on purpose (bad values, a malformed CSV line). Then every text column of every
table is searched by query for every identifier (DuckDB compresses strings, so the raw bytes
of a warehouse of a few thousand rows need not contain a name it holds), as are the raw bytes
of any other file the load left behind (.wal, temp spill files) and the captured logs and
output: none may be found.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import duckdb

from pipelines.loader import load_files
from pipelines.privacy import pseudonym, secret_key
from tests.accounting import assert_accounted
from tests.factories import (
    ballot_row,
    national_id,
    resident_row,
    ticket_row,
    vote_row,
    write_csv,
)
from tests.pii_scan import find_strings

ROOT = Path(__file__).resolve().parents[2]

# Three-character names with rare characters, so no other text contains them by chance.
NAMES = ["欧阳翊骞", "司马淼泓", "诸葛晟曦", "慕容璟琰", "上官翎霁", "皇甫澍渊"]
# Enough residents for DuckDB to compress the text columns (a byte search misses them).
N = 5000


def people() -> list[dict]:
    out = []
    for i in range(N):
        out.append(resident_row(
            person_id=national_id(f"330106{1950 + i % 40}{i % 12 + 1:02d}{i % 27 + 1:02d}",
                                  100 + i % 900),
            household_id=f"330106-HH-{i // 2:04d}",
            name=NAMES[i % len(NAMES)] + str(i),
            phone=f"139{i:04d}{(7777 + i) % 10000:04d}",
            key_groups="低保;高龄" if i % 5 == 0 else "",
        ))
    # quarantined: missing community, unparseable birth date, no household
    out[1]["community"] = ""
    out[2]["birth_date"] = out[2]["person_id"]  # an ID in the wrong column
    out[3]["household_id"] = ""
    return out


def identifiers(rows: list[dict]) -> set[str]:
    found = set()
    for row in rows:
        for column in ("person_id", "owner_id", "household_id", "name", "phone"):
            if row.get(column):
                found.add(row[column])
    return found


def test_privacy__no_identifier_in_warehouse_bytes_logs_or_quarantine(
        settings, tmp_path, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    residents = people()
    secret_ids = identifiers(residents)
    population = write_csv(tmp_path / "in" / "population.csv", residents)
    # a line the CSV parser cannot split, full of identifiers
    bad_id = national_id("11010519491231", 2)
    lines = population.read_text(encoding="utf-8").splitlines(keepends=True)
    lines.insert(5, f"{bad_id},H99,龙塔社区,,,,,,,,,令狐冲霄,13700001111,x,extra,extra\n")
    population.write_text("".join(lines), encoding="utf-8")
    secret_ids |= {bad_id, "令狐冲霄", "13700001111"}

    votes = write_csv(tmp_path / "in" / "votes.csv", [vote_row(vote_id="V1")])
    ballots = [ballot_row(vote_id="V1", owner_id=r["person_id"]) for r in residents[:10]]
    ballots[4]["vote_id"] = "UNKNOWN"  # quarantined
    ballots[5]["area_m2"] = "-1"  # quarantined
    ballots_path = write_csv(tmp_path / "in" / "ballots.csv", ballots)
    events = [{"event_id": f"E{i}", "compound": "金桂苑", "kind": "opinion",
               "occurred_at": "2025-09-05 10:00:00", "person_id": r["person_id"],
               "household_id": r["household_id"]} for i, r in enumerate(residents)]
    events[0]["kind"] = "unknown-kind"  # quarantined
    engagement = write_csv(tmp_path / "in" / "engagement.csv", events)
    email = "ouyang.yiqian@example.com"
    tickets = write_csv(tmp_path / "in" / "tickets.csv", [
        ticket_row(description=f"住户来电{residents[6]['phone']}反映漏水"),
        ticket_row(description=f"身份证{residents[7]['person_id']}，邮箱{email}"),
        ticket_row(level="9", description=f"联系{residents[8]['phone']}"),  # quarantined
    ])
    secret_ids.add(email)
    ledger = write_csv(tmp_path / "in" / "ledger.csv", [
        {"entry_id": "L1", "compound": "金桂苑", "booked_on": "2025-03-05",
         "direction": "expense", "category": "维修", "amount": "120.00",
         "counterparty": f"个人维修 {residents[9]['phone']}",
         "voucher_no": "PZ1", "note": f"报销人身份证 {residents[9]['person_id']}"},
        {"entry_id": "L2", "compound": "金桂苑", "booked_on": "2025-03-05",
         "direction": "expense", "category": "维修", "amount": "-1",  # quarantined
         "counterparty": "", "voucher_no": "", "note": f"电话{residents[10]['phone']}"},
    ])

    reports = []
    for source, path in [("population", population), ("votes", votes),
                         ("ballots", ballots_path), ("engagement", engagement),
                         ("tickets", tickets), ("ledger", ledger)]:
        reports += load_files(settings, source, [path])
    quarantined = {r.source: r.quarantined for r in reports}
    assert quarantined == {"population": 4, "votes": 0, "ballots": 2, "engagement": 1,
                           "tickets": 1, "ledger": 1}
    for report, path in zip(reports, [population, votes, ballots_path, engagement, tickets,
                                      ledger]):
        assert_accounted(settings, [report], [path])

    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        assert find_strings(con, secret_ids) == []
    finally:
        con.close()

    needles = {s: s.encode("utf-8") for s in secret_ids}
    needles.update({s + " (lower x)": s.lower().encode() for s in secret_ids
                    if s.endswith("X")})
    files = [p for p in Path(settings.db_path).parent.rglob("*")
             if p.is_file() and "in" not in p.relative_to(settings.db_path.parent).parts
             and p.name not in (settings.secret_file.name, settings.db_path.name)]
    for path in files:
        data = path.read_bytes()
        leaked = [s for s, b in needles.items() if b in data]
        assert leaked == [], f"{path.name} holds {leaked}"

    out = capsys.readouterr()
    for text, where in [(caplog.text, "logs"), (out.out + out.err, "output")]:
        leaked = [s for s in secret_ids if s in text]
        assert leaked == [], f"{where} hold {leaked}"

    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        quarantine = " ".join(
            f"{raw} {reason}" for raw, reason in con.execute(
                "select raw_row, reason from quarantine").fetchall())
        pseudonyms = {p for (p,) in con.execute("select person_id from residents").fetchall()}
    finally:
        con.close()
    assert "[withheld: personal data]" in quarantine  # the malformed line
    # the quarantined ballot keeps the owner's pseudonym, so it can still be traced
    key = secret_key(settings)
    assert pseudonym(key, residents[4]["person_id"]) in quarantine
    assert pseudonym(key, residents[0]["person_id"]) in pseudonyms


# Misplaced identifiers in the written forms people use (valid checksums, rare digits).
MISPLACED_ID = national_id("37028319830611", 417)
MISPLACED_ID_2 = national_id("45030519771130", 263)
MISPLACED_PHONE = "15837461925"
MISPLACED_PHONE_2 = "17764928351"
OLD_ID = "370283830611417"  # 15 digits, issued before 1999
BIRTH_DATE = "1983-06-11"


def _wide(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _digits(text: str) -> str:
    """Text as a search sees through separators and full-width forms."""
    return re.sub(r"[^0-9A-Za-z]", "", unicodedata.normalize("NFKC", text)).upper()


def _misplaced_files(folder: Path) -> dict[str, Path]:
    i, p = MISPLACED_ID, MISPLACED_PHONE
    residents = [
        resident_row(sex=i, building=p, birth_date=BIRTH_DATE),  # kept: masked
        resident_row(grid=_wide(p), compound=f"{i[:6]} {i[6:14]} {i[14:]}",
                     residence=OLD_ID, key_groups=f"低保;{MISPLACED_PHONE_2}"),
        resident_row(community=f"sfz{MISPLACED_ID_2}", building=f"({p[:3]}){p[3:]}",
                     sex=_wide(MISPLACED_ID_2)),
        # quarantined: the birth date must shrink to its year, the rest be masked
        resident_row(household_id="", birth_date=BIRTH_DATE, building=f"{p[:3]}.{p[3:7]}.{p[7:]}",
                     is_owner=i),
        resident_row(birth_date=i, updated_at=MISPLACED_PHONE_2, grid=i.replace("", " ")),
    ]
    votes = [vote_row(vote_id="V1")]
    ballots = [ballot_row(vote_id="V1"), ballot_row(vote_id=p),  # unknown vote: quarantined
               ballot_row(vote_id="V1", choice=i)]
    events = [{"event_id": "E1", "compound": i, "kind": "opinion",
               "occurred_at": "2025-09-05 10:00:00", "person_id": MISPLACED_ID_2},
              {"event_id": "E2", "compound": "金桂苑", "kind": p,
               "occurred_at": "2025-09-05 10:00:00", "person_id": ""}]
    tickets = [ticket_row(handler=p, description=f"身份证{i[:6]}-{i[6:14]}-{i[14:]}"),
               ticket_row(level=i, satisfaction=MISPLACED_PHONE_2)]  # quarantined
    return {"population": write_csv(folder / "population.csv", residents),
            "votes": write_csv(folder / "votes.csv", votes),
            "ballots": write_csv(folder / "ballots.csv", ballots),
            "engagement": write_csv(folder / "engagement.csv", events),
            "tickets": write_csv(folder / "tickets.csv", tickets)}


def test_privacy__misplaced_identifiers_are_masked_in_every_table_output_and_log(
        settings, tmp_path):
    files = _misplaced_files(tmp_path / "in")
    env = dict(os.environ, WALL_DB=str(settings.db_path), WALL_SECRET=settings.secret,
               PYTHONPATH=str(ROOT))
    output = ""
    for source, path in files.items():
        # the load as cron runs it, logging at INFO: stdout and stderr are the cron log
        done = subprocess.run(
            [sys.executable, "-m", "pipelines", "-v", "load", source, str(path), "--quiet"],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        output += done.stdout + done.stderr

    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        # DuckDB compresses strings, so the file's bytes are no proof: read every text
        # column of every table back through a query
        columns = con.execute(
            "select table_name, column_name from information_schema.columns "
            "where data_type = 'VARCHAR' order by all").fetchall()
        texts = {}
        for table, column in columns:
            for (value,) in con.execute(
                    f'select distinct "{column}" from "{table}" where "{column}" is not null'
            ).fetchall():
                texts.setdefault(value, f"{table}.{column}")
        raw_rows = [json.loads(r) for (r,) in con.execute(
            "select raw_row from quarantine where source = 'population'").fetchall()]
        (message,) = con.execute(
            "select string_agg(message, ' ') from load_log where source = 'population'"
        ).fetchone()
    finally:
        con.close()
    assert {"residents.sex", "residents.building", "quarantine.raw_row",
            "load_log.message"} <= set(texts.values())

    needles = [MISPLACED_ID, MISPLACED_ID_2, MISPLACED_PHONE, MISPLACED_PHONE_2, OLD_ID]
    places = [(text, where) for text, where in texts.items()] + [(output, "load output")]
    leaked = [(where, n) for text, where in places for n in needles if n in _digits(text)]
    assert leaked == []
    # the warning about the unknown sex still says what was found, masked
    assert "sex outside male|female kept as given: '[身份证号]'" in message
    assert "[身份证号]" in output
    # a quarantined resident keeps the birth year only
    assert BIRTH_DATE not in " ".join(texts) and BIRTH_DATE not in output
    assert {r["birth_date"] for r in raw_rows} >= {"1983"}
