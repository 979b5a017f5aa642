"""Population and grids loads: pseudonyms, dropped and reduced personal data, key groups.

Every test loads CSV files through the real loader (`load_files`) into a tmp warehouse.
"""

from __future__ import annotations

import duckdb
import pytest

from pipelines.loader import load_files
from pipelines.privacy import pseudonym, secret_key
from pipelines.settings import parse_key_groups
from tests.accounting import assert_accounted
from tests.factories import resident_row, write_csv


def rows(settings, sql: str, **params) -> list[tuple]:
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def test_load_population__pseudonymises_ids_drops_name_and_phone(settings, tmp_path):
    person = resident_row(birth_date="1958-03-21", name="欧阳修远", phone="13987654321")
    (report,) = load_files(settings, "population", [write_csv(tmp_path / "p.csv", [person])])
    assert (report.inserted, report.quarantined) == (1, 0)
    key = secret_key(settings)
    (stored,) = rows(settings, "select person_id, household_id, birth_year from residents")
    assert stored == (pseudonym(key, person["person_id"]),
                      pseudonym(key, person["household_id"]), 1958)
    columns = {c for (c,) in rows(
        settings, "select column_name from information_schema.columns "
                  "where table_name = 'residents'")}
    assert not columns & {"name", "phone", "birth_date"}


def test_load_population__same_pseudonym_across_files_and_loads(settings, tmp_path):
    person = resident_row(updated_at="2025-09-01 10:00:00")
    first = write_csv(tmp_path / "a.csv", [person])
    moved = write_csv(tmp_path / "b.csv", [{**person, "building": "5栋",
                                            "updated_at": "2025-10-01 10:00:00"}])
    load_files(settings, "population", [first])
    (report,) = load_files(settings, "population", [moved])
    assert (report.updated, report.inserted) == (1, 0)
    # lower-case check character and spaces: the same person, the same pseudonym
    other = write_csv(tmp_path / "c.csv", [{**person, "person_id":
                                            " " + person["person_id"].lower() + " ",
                                            "updated_at": "2025-10-01 10:00:00",
                                            "building": "5栋"}])
    (again,) = load_files(settings, "population", [other])
    assert again.unchanged == 1
    assert rows(settings, "select building from residents") == [("5栋",)]


def test_load_population__key_groups_become_canonical_codes(settings, tmp_path):
    people = [
        resident_row(key_groups="低保;高龄"),
        resident_row(key_groups="disabled；退役军人"),
        resident_row(key_groups="独居老人、留守儿童;外星人"),
        resident_row(key_groups=""),
    ]
    (report,) = load_files(settings, "population", [write_csv(tmp_path / "p.csv", people)])
    got = dict(rows(settings, "select coalesce(key_groups_text, ''), key_groups "
                              "from residents"))
    assert got == {"低保;高龄": ["dibao", "elderly_80"],
                   "disabled；退役军人": ["disabled", "veteran"],
                   "独居老人、留守儿童;外星人": ["left_behind_child", "living_alone"],
                   "": []}
    assert any("外星人" in w for w in report.warnings)


def test_load_population__key_group_vocabulary_is_configurable(make_settings, tmp_path):
    settings = make_settings(key_groups="poor=贫困户|困难户,elderly_80=高龄")
    people = [resident_row(key_groups="困难户;高龄"), resident_row(key_groups="低保")]
    (report,) = load_files(settings, "population", [write_csv(tmp_path / "p.csv", people)])
    got = dict(rows(settings, "select key_groups_text, key_groups from residents"))
    assert got == {"困难户;高龄": ["elderly_80", "poor"], "低保": []}
    assert any("低保" in w for w in report.warnings)


def test_parse_key_groups__default_has_nine_groups_and_rejects_garbage():
    from pipelines.settings import Settings

    vocabulary = parse_key_groups(Settings().key_groups)
    assert list(vocabulary) == ["dibao", "tekun", "elderly_80", "living_alone", "disabled",
                                "veteran", "left_behind_child", "serious_illness",
                                "low_income"]
    assert "独居老人" in vocabulary["living_alone"]
    with pytest.raises(ValueError, match="WALL_KEY_GROUPS"):
        parse_key_groups("低保")


@pytest.mark.parametrize(("override", "reason"), [
    ({"person_id": ""}, "missing person_id"),
    ({"household_id": ""}, "missing household_id"),
    ({"community": ""}, "missing community"),
    ({"birth_date": "not a date"}, "birth_date"),
    ({"birth_date": "2999-01-01"}, "plausible birth date"),
    ({"is_owner": "maybe"}, "is_owner"),
])
def test_load_population__quarantines_bad_rows(settings, tmp_path, override, reason):
    path = write_csv(tmp_path / "p.csv", [resident_row(), resident_row(**override)])
    (report,) = load_files(settings, "population", [path])
    assert (report.inserted, report.quarantined) == (1, 1)
    assert_accounted(settings, [report], [path])
    ((line, why),) = rows(settings, "select line_no, reason from quarantine")
    assert line == 3 and reason in why


def test_load_population__synonyms_for_sex_and_residence(settings, tmp_path):
    people = [resident_row(sex="女", residence="流动人口", is_owner="否"),
              resident_row(sex="male", residence="常住")]
    load_files(settings, "population", [write_csv(tmp_path / "p.csv", people)])
    assert sorted(rows(settings, "select sex, residence, is_owner from residents")) == [
        ("female", "floating", False), ("male", "resident", True)]


def test_load_population__birth_year_column_via_mapping(settings, tmp_path):
    person = resident_row()
    del person["birth_date"]
    person["出生年份"] = "1949"
    mapping = tmp_path / "m.toml"
    mapping.write_text('[columns]\nbirth_date = "出生年份"\n', encoding="utf-8")
    load_files(settings, "population", [write_csv(tmp_path / "p.csv", [person])], mapping)
    assert rows(settings, "select birth_year from residents") == [(1949,)]


def test_load_grids__loads_staffing(settings, tmp_path):
    grids = [
        {"zone": "东片区", "community": "龙塔社区", "grid": "龙塔社区第1网格",
         "grid_head": "网格长李艳", "grid_workers": "3", "households_served": "284"},
        {"zone": "东片区", "community": "龙塔社区", "grid": "龙塔社区第2网格",
         "grid_head": "", "grid_workers": "-1", "households_served": "217"},
    ]
    (report,) = load_files(settings, "grids", [write_csv(tmp_path / "g.csv", grids)])
    assert (report.inserted, report.quarantined) == (1, 1)
    assert rows(settings, "select grid, grid_workers, households_served from grids") == [
        ("龙塔社区第1网格", 3, 284)]


def test_population_figures__one_mart_for_wall_explorer_and_export(settings, tmp_path):
    """Household H1 has a member in 龙塔社区 and, updated later, one in 望江社区: it
    counts once, in 望江社区, on the wall, in the explorer and in the export alike; and
    2 people in 低保 (k = 3) are hidden on all three."""
    import datetime as dt

    from pipelines.metrics.compute import population_figures
    from pipelines.queries import exports
    from pipelines.queries import explore
    from pipelines.queries import wall
    from pipelines.settings import Settings

    longta, wangjiang = "龙塔社区", "望江社区"
    w_grid = "望江社区第1网格"
    people = [
        resident_row(household_id="H1", updated_at="2025-09-01 10:00:00"),
        resident_row(household_id="H1", community=wangjiang, grid=w_grid,
                     updated_at="2025-09-02 10:00:00"),
        *(resident_row(key_groups="低保" if i < 2 else "") for i in range(5)),
        *(resident_row(community=wangjiang, grid=w_grid, key_groups="高龄")
          for _ in range(3)),
    ]
    load_files(settings, "population", [write_csv(tmp_path / "p.csv", people)])
    groups = list(parse_key_groups(settings.key_groups))
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        wall_d = wall.wall_view_data(con, "population", now=dt.datetime(2026, 12, 3, 9),
                                     settings=Settings(small_count=3))
        x = explore.population_cells(con, small_count=3, key_groups=groups, year=2026,
                                     communities=())
        e = exports.population_summary(con, small_count=3, key_groups=groups,
                                       community=None).to_pylist()
        figures = {c: population_figures(con, community=c) for c in (longta, wangjiang)}
    finally:
        con.close()
    per_wall = {r["community"]: r for r in wall_d["communities"]}
    x = x[x["row_kind"] == 1].set_index(["community", "measure"])
    per_export = {r["community"]: r for r in e if r["grid"] == "合计"}
    for community, households in ((longta, 5), (wangjiang, 4)):
        assert figures[community]["households"] == households, community
        assert per_wall[community]["households"]["value"] == households, community
        assert int(x.loc[(community, "households"), "shown_count"]) == households
        assert int(per_export[community]["households"]) == households, community
    assert wall_d["totals"]["households"]["value"] == 9  # 10 people, 9 households
    # small counts: 低保 is 2 in 龙塔社区, 0 in 望江社区
    assert figures[longta]["kg:dibao"] == 2
    assert per_wall[longta]["kg:dibao"] == {"value": None, "suppressed": "small"}
    assert x.loc[(longta, "kg:dibao"), "cell"] == "<3"
    assert per_export[longta]["dibao"] == "<3"
    assert wall_d["totals"]["kg:dibao"]["value"] is None
