"""Data checks: `sql/checks/check_*.sql`, run after every load and on demand.

Each check is a query returning the rows that break one rule (none when all is well),
with a header declaring what a finding means and which loads can cause one:

    -- severity: error            (error: the load is refused; warning: recorded, shown)
    -- after loads of: tickets    (source names, or * for every load)

After a load, the loader runs the checks of that source (`run_all(con, source)`) inside
the load's write, before its commit: an error refuses the load (nothing changes) with a
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
    rule = comments[0].rstrip(".") if comments else path.stem
    return Check(path.stem, severity, after, rule, text)


def all_checks() -> list[Check]:
    """Every check, by file name."""
    return [parse_check(p) for p in sorted(CHECKS_DIR.glob("check_*.sql"))]


def _shown(value) -> str:
    return privacy.mask_text(str(value))


def run(con: duckdb.DuckDBPyConnection, check: Check) -> Finding | None:
    """Run one check; None when no row breaks its rule.

    Raises:
        duckdb.Error: the check's SQL fails (a bug, or a table it needs is missing).
    """
    cursor = con.execute(f"select * from ({check.sql}) limit {SHOWN_ROWS}")
    columns = tuple(d[0] for d in cursor.description)
    examples = cursor.fetchall()
    if not examples:
        return None
    count = con.execute(f"select count(*) from ({check.sql})").fetchall()[0][0]
    return Finding(check, count, columns,
                   tuple(tuple(_shown(v) for v in row) for row in examples))


def run_all(con: duckdb.DuckDBPyConnection, source: str | None = None) -> list[Finding]:
    """Findings of every check (of those following loads of `source`, when given).

    A check reading a table the warehouse does not have yet (nothing of that kind was
    loaded) is skipped; any other failure of its SQL is raised.
    """
    findings = []
    for check in all_checks():
        if source is not None and not check.follows(source):
            continue
        try:
            found = run(con, check)
        except duckdb.CatalogException as e:
            logger.info("check %s skipped: %s", check.name, str(e).splitlines()[0])
            continue
        if found:
            findings.append(found)
    return findings
