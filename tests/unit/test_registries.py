"""Load sources and export reports are each declared once (pipelines/sources.py,
pipelines/queries/exports.py REPORTS); the CLI, the docs, the demo and the split queries
follow those declarations."""

from __future__ import annotations

import re

import pytest

from pipelines import dimensions
from pipelines.__main__ import _parser
from pipelines.queries import sql_text
from pipelines.queries.exports import REPORTS
from pipelines.sources import SOURCES
from tests.conftest import ROOT


def _headings(doc: str) -> set[str]:
    text = (ROOT / "docs" / doc).read_text(encoding="utf-8")
    return set(re.findall(r"^#{2,4} (\w+)\s*$", text, flags=re.MULTILINE))


def _help(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit):
        _parser().parse_args([*argv, "--help"])
    return capsys.readouterr().out


def test_sources__each_has_a_section_in_the_data_contract():
    assert set(SOURCES) <= _headings("data-contract.md")


def test_sources__the_readme_lists_every_source():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    line = next(x for x in readme.splitlines() if "SOURCE:" in x)
    listed = {n.strip().replace("-", "_") for n in line.split("SOURCE:")[1].split(",")}
    assert listed == set(SOURCES)


def test_sources__load_help_names_each_with_its_description(capsys):
    out = _help(capsys, "load")
    for source in SOURCES.values():
        assert source.description and re.search(
            rf"^  {source.name} +{re.escape(source.description)}$", out, re.MULTILINE)


def test_reports__each_has_a_section_in_the_exports_doc():
    assert set(REPORTS) <= _headings("exports.md")


def test_reports__export_help_names_each_with_its_description(capsys):
    out = " ".join(_help(capsys, "export").split())
    for report in REPORTS.values():
        assert f"{report.name} {' '.join(report.description.split())}" in out


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_reports__query_and_split_query_exist_and_splits_are_dimensions(name):
    report = REPORTS[name]
    assert sql_text(report.query) and sql_text(report.split_query)
    assert set(report.splits) <= set(dimensions.DIMENSIONS)
