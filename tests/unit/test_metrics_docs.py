"""docs/metrics.md and /metrics come from the declarations; thresholds are configurable."""

from __future__ import annotations

import pytest

from pipelines.metrics import BY_ID, METRICS, load_thresholds
from pipelines.metrics.catalog import BASES
from pipelines.metrics.docs import DOC_PATH, render
from pipelines.metrics.surfaces import SHOWN, SURFACES

REQUIRED = {
    "reported", "closed", "open", "overdue_open", "closed_late", "missed_deadline",
    "closure_pct", "on_time_pct", "response_timeout_pct", "escalations",
    "median_close_hours", "p90_close_hours", "satisfaction_pct", "participation_pct",
    "turnout_owners_pct", "approval_owners_pct", "income", "expense", "balance",
    "residents", "key_group_count",
}


def test_docs_metrics_md__is_generated_from_the_declarations():
    assert DOC_PATH.read_text(encoding="utf-8") == render(), (
        "docs/metrics.md is out of date: run python -m pipelines.metrics.docs"
    )


def test_catalog__declares_every_figure_the_issue_lists_once():
    assert REQUIRED <= set(BY_ID)
    assert len(BY_ID) == len(METRICS)


@pytest.mark.parametrize("m", METRICS, ids=lambda m: m.id)
def test_each_metric__says_what_it_means_in_both_languages(m):
    assert m.definition_zh and m.definition_en and m.name_zh and m.name_en and m.unit
    assert m.basis in BASES and m.good in ("up", "down", "")
    assert SHOWN[m.id] and set(SHOWN[m.id]) <= set(SURFACES)


def test_thresholds__a_toml_file_overrides_one_metric_and_keeps_the_rest(tmp_path):
    path = tmp_path / "thresholds.toml"
    path.write_text("[closure_pct]\namber = 92\nred = 85\n", encoding="utf-8")
    metrics = load_thresholds(path)
    assert (metrics["closure_pct"].amber, metrics["closure_pct"].red) == (92, 85)
    assert metrics["on_time_pct"] == BY_ID["on_time_pct"]
    assert metrics["closure_pct"].level(91) == "amber"
    assert metrics["closure_pct"].level(85) == "red"
    assert metrics["closure_pct"].level(99) == "ok"


@pytest.mark.parametrize("text, reason", [
    ("[closure]\namber = 1\n", "not a metric"),
    ("[closure_pct]\namber = 'high'\n", "must be a number"),
    ("[closure_pct]\ngreen = 1\n", "only amber and red"),
    ("[closure_pct\n", "cannot read"),
])
def test_thresholds__a_bad_file_is_refused_naming_the_file_and_reason(tmp_path, text, reason):
    path = tmp_path / "t.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=reason) as e:
        load_thresholds(path)
    assert str(path) in str(e.value)


def test_lower_is_better__red_at_or_above_its_threshold():
    m = BY_ID["response_timeout_pct"]
    assert (m.level(4.9), m.level(5), m.level(15), m.level(None)) == ("ok", "amber", "red", "")


def test_metrics_page__lists_every_metric_with_thresholds_in_force(
    make_settings, tmp_path, clear_pages_state
):
    import dash

    from dashboards import _data

    path = tmp_path / "t.toml"
    path.write_text("[on_time_pct]\namber = 97\n", encoding="utf-8")
    _data.configure(make_settings(metric_thresholds=path))
    dash.Dash(__name__, use_pages=True, pages_folder="")
    from dashboards import metrics as page

    text = str(page.layout())
    for m in METRICS:
        assert m.id in text
    assert "amber 97 / red 85" in text


def test_closure_of_a_running_window__is_not_judged_while_on_time_is():
    """On the 3rd a month's closure is low because its tickets are young, not late:
    colouring it red would call normal work a failure."""
    closure, on_time = BY_ID["closure_pct"], BY_ID["on_time_pct"]
    assert closure.level(33.3) == "red" and closure.level(33.3, running=True) == ""
    assert on_time.level(80, running=True) == "red"
