"""Data checks: `sql/checks/check_*.sql`, run after every load and on demand.

Each check is a query returning the rows that break one rule (none when all is well),
with a header declaring what a finding means and which loads can cause one:

    -- severity: error            (error: the load is refused; warning: recorded, shown)
    -- after loads of: tickets    (source names, or * for every load)
    -- scope: tickets.ticket_id   (optional: after a load, read only the rows of `tickets`
                                  whose ticket_id the load wrote)

After a load, the loader runs the checks of that source (`run_all(con, source)`) inside
the load's write, before its commit (a check with a scope reads only the rows of its table
that share a key with the load's own rows, so it costs the load's size, not the
warehouse's): an error refuses the load (nothing changes) with a
message naming the check and a few offending rows, personal data masked; a warning
becomes one of the load's warnings (load_log.message, on the status page).
`python -m pipelines check` runs every check against the served warehouse.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines import privacy
from pipelines.sources import SOURCES

logger = logging.getLogger(__name__)

CHECKS_DIR = Path(__file__).parent / "sql" / "checks"
SEVERITIES = ("error", "warning")
SHOWN_ROWS = 3  # offending rows quoted in a message


class CheckFileError(ValueError):
    """A check file's header is missing or wrong."""


@dataclass(frozen=True)
class Check:
    """One check file: its name, severity, the loads it follows, its rule and SQL."""

    name: str
    severity: str
    after: tuple[str, ...]  # source names; ("*",) for every load
    rule: str  # the first line of its explanatory comment
    sql: str
    scope: tuple[str, str] | None = None  # (table, key column): see the module docstring

    def follows(self, source: str) -> bool:
        """True when a load of `source` can break this check's rule."""
        return "*" in self.after or source in self.after


@dataclass(frozen=True)
class Finding:
    """What one check found: how many rows break its rule, and a few of them (masked)."""

    check: Check
    row_count: int
    columns: tuple[str, ...]
    examples: tuple[tuple[str, ...], ...]

    def message(self) -> str:
        """One paragraph: the check, its rule, the count and a few offending rows."""
        shown = "; ".join(
            ", ".join(f"{c}={v}" for c, v in zip(self.columns, row)) for row in self.examples)
        return (f"data check {self.check.name} ({self.check.severity}): {self.row_count:,} "
                f"row(s) break the rule \"{self.check.rule}\", e.g. {shown}")


def _header(path: Path, text: str, key: str) -> str:
    m = re.search(rf"^-- {key}:\s*(.+)$", text, re.MULTILINE)
    if not m:
        raise CheckFileError(f"{path}: no '-- {key}: ...' line in its header")
    return m.group(1).strip()


def parse_check(path: Path) -> Check:
    """Read one check file.

    Raises:
        CheckFileError: naming the file and what is wrong with its header.
    """
    text = path.read_text(encoding="utf-8")
    severity = _header(path, text, "severity")
    if severity not in SEVERITIES:
        raise CheckFileError(f"{path}: severity {severity!r} is not one of "
                             f"{', '.join(SEVERITIES)}")
    after = tuple(s.strip() for s in _header(path, text, "after loads of").split(","))
    unknown = [s for s in after if s != "*" and s not in SOURCES]
    if unknown:
        raise CheckFileError(f"{path}: unknown source(s) {', '.join(unknown)} after "
                             f"'after loads of:'; expected {', '.join(SOURCES)} or *")
    comments = [line[2:].strip() for line in text.splitlines()
                if line.startswith("--") and not re.match(r"-- (severity|after loads of):",
                                                          line)]
    comments = [c for c in comments if not c.startswith("scope:")]
    rule = comments[0].rstrip(".") if comments else path.stem
    scope = None
    m = re.search(r"^-- scope:\s*(.+)$", text, re.MULTILINE)
    if m:
        parts = m.group(1).strip().split(".")
        if len(parts) != 2 or not all(re.fullmatch(r"[a-z_][a-z0-9_]*", p) for p in parts):
            raise CheckFileError(f"{path}: scope {m.group(1).strip()!r} is not "
                                 "'<table>.<key column>'")
        scope = (parts[0], parts[1])
    return Check(path.stem, severity, after, rule, text, scope)


def all_checks() -> list[Check]:
    """Every check, by file name."""
    return [parse_check(p) for p in sorted(CHECKS_DIR.glob("check_*.sql"))]


def _shown(value) -> str:
    return privacy.mask_text(str(value))


def _load_keys(con: duckdb.DuckDBPyConnection, scope: tuple[str, str],
               load_id: int) -> tuple:
    """(least key, greatest key, the table holds only this load's rows) of a scope."""
    table, key = scope
    return con.execute(
        f"select min({key}), max({key}), not exists (select 1 from main.{table} "
        f"where load_id is distinct from $load_id) "
        f"from main.{table} where load_id = $load_id", {"load_id": load_id}
    ).fetchall()[0]


def run(con: duckdb.DuckDBPyConnection, check: Check,
        load_id: int | None = None, probed: dict | None = None) -> Finding | None:
    """Run one check; None when no row breaks its rule. With `load_id`, a check with a
    scope reads only the rows of its table sharing a key with that load's rows.
    `probed`: what `_load_keys` found per scope, filled as scopes are first met (the
    checks of one load share it).

    Raises:
        duckdb.Error: the check's SQL fails (a bug, or a table it needs is missing).
    """
    prefix, params = "", {}
    if load_id is not None and check.scope:
        table, key = check.scope
        probed = {} if probed is None else probed
        if check.scope not in probed:
            probed[check.scope] = _load_keys(con, check.scope, load_id)
        low, high, only_this_load = probed[check.scope]
        if not only_this_load:  # else the table is the load's rows: read it as it is
            # The CTE hides the table of that name from the check's query. The range of
            # the load's keys is redundant, but a constant: zone maps skip the row groups
            # outside it (1,000 updated tickets in 10M: 1.0 s of CPU -> 0.01 s).
            prefix = (f"with {table} as (select * from main.{table} where {key} between "
                      f"$low and $high and {key} in "
                      f"(select {key} from main.{table} where load_id = $load_id)) ")
            params = {"load_id": load_id, "low": low, "high": high}
    cursor = con.execute(f"{prefix}select * from ({check.sql}) limit {SHOWN_ROWS}", params)
    columns = tuple(d[0] for d in cursor.description)
    examples = cursor.fetchall()
    if not examples:
        return None
    count = con.execute(f"{prefix}select count(*) from ({check.sql})", params).fetchall()[0][0]
    return Finding(check, count, columns,
                   tuple(tuple(_shown(v) for v in row) for row in examples))


def run_all(con: duckdb.DuckDBPyConnection, source: str | None = None,
            load_id: int | None = None) -> list[Finding]:
    """Findings of every check (of those following loads of `source`, when given; scoped
    to the rows of load `load_id`, when given: see `run`).

    A check reading a table the warehouse does not have yet (nothing of that kind was
    loaded) is skipped; any other failure of its SQL is raised.
    """
    findings, probed = [], {}
    for check in all_checks():
        if source is not None and not check.follows(source):
            continue
        try:
            found = run(con, check, load_id, probed)
        except duckdb.CatalogException as e:
            logger.info("check %s skipped: %s", check.name, str(e).splitlines()[0])
            continue
        if found:
            findings.append(found)
    return findings
