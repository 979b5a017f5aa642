"""`python -m pipelines load` as cron and clerks run it: a whole process, started cold."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.factories import TEST_SECRET, ticket_row, write_csv

ROOT = Path(__file__).resolve().parents[2]

# Modules a ticket CSV load has no use for; importing them costs a cold process up to a
# second of CPU (pandas alone ~0.4 s), which issue 18's whole-process target counts.
UNUSED_BY_A_TICKET_LOAD = ("pandas", "scipy.stats", "statsmodels", "openpyxl", "plotly",
                           "dash", "flask", "matplotlib")

_LOAD_AND_LIST_MODULES = """
import json, sys
from pipelines.__main__ import main
status = main(sys.argv[1:])
print(json.dumps({"status": status, "modules": sorted(sys.modules)}))
"""


def _env() -> dict:
    env = {**os.environ, "WALL_SECRET": TEST_SECRET, "PYTHONPATH": str(ROOT)}
    env.pop("WALL_DB", None)
    return env


def test_cli_load__ticket_csv_imports_no_heavy_module(tmp_path):
    csv = write_csv(tmp_path / "tickets.csv", [ticket_row() for _ in range(3)])
    done = subprocess.run(
        [sys.executable, "-c", _LOAD_AND_LIST_MODULES, "--db", str(tmp_path / "w.duckdb"),
         "load", "tickets", str(csv), "--quiet"],
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == 0
    assert "read 3 = inserted 3" in done.stdout
    imported = set(result["modules"])
    assert imported.isdisjoint(UNUSED_BY_A_TICKET_LOAD), \
        sorted(imported.intersection(UNUSED_BY_A_TICKET_LOAD))
    assert "pipelines.warnings_engine" in imported  # the warnings ran


def _modules_after(code: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", code + "\nimport json, sys\n"
                           "print(json.dumps(sorted(sys.modules)))"],
                          cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_cli__starts_without_the_modules_only_some_commands_use():
    # `export --due` runs from cron every minute: it pays for none of these; a load
    # imports the warnings' numpy and pyarrow in their step, or during a big insert
    imported = _modules_after("import pipelines.__main__")
    later = {"numpy", "pyarrow", "scipy", "shapely", "pipelines.bootstrap", "pipelines.demo",
             "pipelines.geo", "pipelines.loader", "pipelines.derived",
             "pipelines.warnings_engine"}
    assert imported.isdisjoint(later), sorted(imported & later)


def test_warm_up__imports_the_steps_after_a_big_insert_on_a_thread():
    code = ("from pipelines import derived\n"
            "derived.warm_up({size})\n"
            "derived._WARM_UP.shutdown(wait=True)")
    later = {"pipelines.warnings_engine", "scipy.special"}
    assert later <= _modules_after(code.format(size=64 << 20))
    # a small file's insert ends before the imports would: they wait for their step
    assert not later & _modules_after(code.format(size=1 << 20))


def test_cli_load__prints_the_first_quarantined_lines_with_reasons(tmp_path):
    rows = [ticket_row(),  # line 2
            ticket_row(level="13812345678"),  # line 3: a phone number where the level goes
            ticket_row(reported_at=""),  # line 4
            ticket_row(),  # line 5
            *[ticket_row(level="9") for _ in range(6)]]  # lines 6-11
    csv = write_csv(tmp_path / "tickets.csv", rows)
    done = subprocess.run(
        [sys.executable, "-m", "pipelines", "--db", str(tmp_path / "w.duckdb"), "load",
         "tickets", str(csv), "--quiet"],
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout.splitlines()
    summary = next(i for i, line in enumerate(out) if "read 10 = " in line)
    assert out[summary].endswith("quarantined 8")
    assert out[summary + 1] == "quarantined:"
    shown = out[summary + 2:summary + 8]
    assert [line.split(":")[0] for line in shown[:5]] == \
        ["  line 3", "  line 4", "  line 6", "  line 7", "  line 8"]
    assert "missing reported_at" in shown[1]
    assert all("level" in line for line in shown[:1] + shown[2:5]), shown
    assert shown[5] == "  ... and 3 more quarantined line(s)"
    # the reason is printed as quarantine stores it: the phone number masked
    assert "13812345678" not in done.stdout
    assert "[手机号]" in shown[0]
    assert "table `quarantine` (load 1)" in out[summary + 8]
