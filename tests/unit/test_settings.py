"""Settings: README documents every setting; WALL_* parsing and its errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.settings import (
    DEFAULT_SLA,
    Settings,
    SlaRule,
    documented_settings,
    load_settings,
    parse_sla,
)

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize("env", [env for env, _ in documented_settings()])
def test_readme__documents_setting(env):
    assert f"`{env}`" in README.read_text(encoding="utf-8"), f"README lacks {env}"


def test_documented_settings__one_per_field_with_help():
    settings = documented_settings()
    assert len(settings) == len(Settings.__dataclass_fields__)
    assert all(env.startswith("WALL_") and help.strip() for env, help in settings)
    assert len({env for env, _ in settings}) == len(settings)


def test_parse_sla__reads_all_kinds():
    rules = parse_sla("4=workdays:15, 1=same_day,2=days:3,3=workdays:5")
    assert rules == (
        SlaRule(1, "same_day", 0),
        SlaRule(2, "days", 3),
        SlaRule(3, "workdays", 5),
        SlaRule(4, "workdays", 15),
    )


def test_parse_sla__default_round_trips():
    text = ",".join(f"{r.level}={r.kind}:{r.n}" for r in DEFAULT_SLA)
    assert parse_sla(text) == DEFAULT_SLA


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1=same_day,2=days:x,3=workdays:5,4=workdays:15", "cannot parse '2=days:x'"),
        ("1=same_day,2days:3,3=workdays:5,4=workdays:15", "cannot parse '2days:3'"),
        ("1=same_day,2=weeks:1,3=workdays:5,4=workdays:15", "unknown kind 'weeks'"),
        ("1=same_day,2=days:3,3=workdays:5", r"levels 1-4 once each, got \[1, 2, 3\]"),
        ("1=same_day,1=days:3,3=workdays:5,4=workdays:15", "levels 1-4 once each"),
        ("", "levels 1-4 once each"),
    ],
)
def test_parse_sla__rejects_with_reason(text, message):
    with pytest.raises(ValueError, match=message):
        parse_sla(text)


def test_load_settings__reads_environment_types():
    s = load_settings(
        {
            "WALL_DB": "/tmp/x.duckdb",
            "WALL_SLA": "1=same_day,2=days:2,3=workdays:4,4=workdays:10",
            "WALL_SMALL_COUNT": "3",
            "WALL_STALE_HOURS": "12.5",
            "WALL_TIMEZONE": "Asia/Urumqi",
            "WALL_RESPONSE_HOURS": "",  # empty means default
        }
    )
    assert s.db_path == Path("/tmp/x.duckdb")
    assert s.sla[1] == SlaRule(2, "days", 2)
    assert s.small_count == 3 and s.stale_hours == 12.5
    assert s.timezone == "Asia/Urumqi"
    assert s.response_hours == Settings().response_hours


def test_load_settings__overrides_beat_environment_and_none_is_ignored():
    s = load_settings({"WALL_DB": "/tmp/env.duckdb"}, db_path=Path("/tmp/cli.duckdb"))
    assert s.db_path == Path("/tmp/cli.duckdb")
    s = load_settings({"WALL_DB": "/tmp/env.duckdb"}, db_path=None)
    assert s.db_path == Path("/tmp/env.duckdb")


def test_load_settings__bad_sla_names_variable():
    with pytest.raises(ValueError, match="WALL_SLA"):
        load_settings({"WALL_SLA": "1=same_day"})


def test_load_settings__bad_number_fails():
    with pytest.raises(ValueError):
        load_settings({"WALL_SMALL_COUNT": "five"})
