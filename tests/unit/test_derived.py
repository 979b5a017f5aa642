"""Derived tables rebuild in an order computed from the inputs each declares, and every
declaration says what its SQL really reads."""

from __future__ import annotations

import re

import duckdb
import pytest

from pipelines import derived
from pipelines.derived import DependencyError, Step, ordered


def _noop(con, ctx):
    return []


def _tables_read(name: str) -> set[str]:
    # duckdb cannot name the tables of a statement with parameters: bind them away
    sql = re.sub(r"\$\w+", "null", derived.mart_sql(name))
    return set(duckdb.get_table_names(sql))


@pytest.mark.parametrize("path", sorted(derived.MARTS_DIR.glob("*.sql")),
                         ids=lambda p: p.stem)
def test_mart_sql__declares_exactly_the_tables_it_reads(path):
    # steps that are not tables (key_groups, ticket_deadlines) order but read nothing
    files = {p.stem for p in derived.MARTS_DIR.glob("*.sql")}
    not_tables = {s.name for s in derived.STEPS} - files
    declared = set(derived.declared_inputs(path.stem)) - not_tables - {path.stem}
    assert declared == _tables_read(path.stem) - {path.stem}


def test_steps__every_mart_file_is_rebuilt_by_a_step():
    written = {name for s in derived.STEPS for name in s.writes}
    files = {p.stem for p in derived.MARTS_DIR.glob("*.sql")}
    assert files <= written


def test_order__each_step_runs_after_the_steps_it_reads_whatever_the_listing():
    for steps in (derived.STEPS, tuple(reversed(derived.STEPS))):
        done: set[str] = set()
        for step in ordered(steps):
            assert all(n in derived.BASE_TABLES or n in done or n in step.writes
                       for n in step.inputs), step.name
            done.update(step.writes)


def test_plan__a_population_load_places_compounds_before_what_reads_them():
    names = [s.name for s in derived.plan({"residents"})]
    assert names.index("compound_community") < names.index("compound_residents")
    assert names.index("key_groups") < names.index("population_counts")
    assert "vote_results" not in names and "ledger" not in names


def test_plan__a_compounds_load_rebuilds_only_what_depends_on_compounds():
    assert [s.name for s in derived.plan({"compounds"})] == [
        "compound_community", "compound_residents"]


def test_order__an_input_nobody_writes_is_an_error():
    steps = (Step("a", ("tickets",), _noop), Step("b", ("a", "nowhere"), _noop))
    with pytest.raises(DependencyError, match="b depends on nowhere"):
        ordered(steps)


def test_order__a_cycle_is_an_error():
    steps = (Step("a", ("b",), _noop), Step("b", ("a",), _noop))
    with pytest.raises(DependencyError, match="cycle"):
        ordered(steps)


def test_order__two_steps_writing_one_table_is_an_error():
    steps = (Step("a", ("tickets",), _noop), Step("b", ("tickets",), _noop, outputs=("a",)))
    with pytest.raises(DependencyError, match="a is written by two steps"):
        ordered(steps)


def test_declared_inputs__a_mart_without_the_header_is_an_error(monkeypatch, tmp_path):
    (tmp_path / "bare.sql").write_text("select 1 as x\n", encoding="utf-8")
    monkeypatch.setattr(derived, "MARTS_DIR", tmp_path)
    with pytest.raises(DependencyError, match="bare.sql: the first line"):
        derived.declared_inputs("bare")
