"""Status page without a browser: layout for missing, corrupt and loaded warehouses."""

from __future__ import annotations

import sys
from datetime import datetime

import pytest

from pipelines import warehouse


def _text(component) -> str:
    """All text in a Dash component tree, space-separated."""
    if component is None:
        return ""
    if isinstance(component, (str, int, float)):
        return str(component)
    if isinstance(component, (list, tuple)):
        return " ".join(_text(c) for c in component)
    return _text(getattr(component, "children", None))


def _ids(component) -> set[str]:
    found = set()
    if isinstance(component, (list, tuple)):
        for c in component:
            found |= _ids(c)
        return found
    if hasattr(component, "children"):
        if getattr(component, "id", None):
            found.add(component.id)
        found |= _ids(component.children)
    return found


@pytest.fixture
def status_layout(clear_pages_state):
    """Build the app for given settings and return the status page's layout function."""

    def build(settings):
        from app import create_app

        create_app(settings)
        return sys.modules["dashboards.status"].layout

    return build


def test_status_layout__missing_warehouse_says_so(settings, status_layout):
    page = status_layout(settings)()
    text = _text(page)
    assert "status-unavailable" in _ids(page)
    assert f"no warehouse at {settings.db_path}" in text
    assert "Traceback" not in text


def test_status_layout__corrupt_warehouse_says_so(settings, status_layout):
    settings.db_path.write_bytes(b"this is not a duckdb file\n" * 100)
    page = status_layout(settings)()
    text = _text(page)
    assert "status-unavailable" in _ids(page)
    assert f"cannot open warehouse {settings.db_path}" in text
    assert "Traceback" not in text


def test_status_layout__newer_schema_says_upgrade(settings, status_layout):
    with warehouse.writer(settings) as con:
        con.execute("insert into schema_version values (999, '0999_future.sql', now())")
    page = status_layout(settings)()
    assert "status-unavailable" in _ids(page)
    assert "newer than this program" in _text(page)


def test_status_layout__loaded_warehouse_shows_everything(settings, status_layout):
    with warehouse.writer(settings) as con:
        con.execute(
            """
            insert into load_log (load_id, source, source_file, rows_read, inserted,
                quarantined, started_at, finished_at, status, message, newest_record_at)
            values
                (1, 'tickets', 'tickets-2024.csv', 12, 10, 2, $t, $t, 'ok', null, $t),
                (2, 'tickets', 'broken.csv', 0, 0, 0, $t, $t, 'failed', 'bad header',
                    null)
            """,
            {"t": datetime(2024, 5, 1, 9, 30)},
        )
        con.execute(
            "insert into quarantine values "
            "(1, 'tickets', 'tickets-2024.csv', 3, '{}', 'unparseable reported_at'), "
            "(1, 'tickets', 'tickets-2024.csv', 4, '{}', 'unparseable reported_at')"
        )
        con.execute(
            "insert into dim_calendar values ('2027-01-04', true, false, null, 1)"
        )
    page = status_layout(settings)()
    text = _text(page)
    ids = _ids(page)
    assert {
        "status-tables-table",
        "status-loads-table",
        "status-freshness-table",
        "status-quarantine-table",
    } <= ids
    assert "tickets-2024.csv" in text and "broken.csv" in text and "bad header" in text
    assert "load_log" in text and "dim_calendar" in text
    assert "unparseable reported_at" in text
    # 2024 data is long past WALL_STALE_HOURS
    assert "stale" in text
    assert (
        "working-day calendar does not know 2027; deadlines use Monday–Friday" in text
    )
    # and what to do about it
    assert "add [2027] to the calendar file (WALL_CALENDAR_FILE" in text
    assert "在日历文件（WALL_CALENDAR_FILE）中加入 [2027]" in text


def test_status_layout__table_added_by_later_migration_is_listed(
    settings, status_layout
):
    with warehouse.writer(settings) as con:
        con.execute("create table population (person_id varchar)")
        con.execute("insert into population values ('a'), ('b'), ('c')")
    page = status_layout(settings)()
    assert "population" in _text(page)


def test_shell__nav_links_registered_pages(settings, clear_pages_state):
    from app import create_app

    app = create_app(settings)
    client = app.server.test_client()
    assert client.get("/").status_code == 200
    layout = client.get("/_dash-layout").get_json()
    assert "状态 Status" in str(layout)
    # nothing from a CDN
    html = client.get("/").get_data(as_text=True)
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()


def test_table_sizes__exact_after_deletes(settings):
    from pipelines.queries import status as q

    with warehouse.writer(settings) as con:
        con.execute("create table population as select range as i from range(1000)")
    with warehouse.writer(settings) as con:
        con.execute("delete from population where i < 400")
    con = warehouse.connect_read_only(settings.db_path)
    sizes = q.table_sizes(con).set_index("table_name")["row_count"]
    assert sizes["population"] == 600
    assert sizes["warehouse_meta"] == 1


def _hrefs(component) -> list[str]:
    if isinstance(component, (list, tuple)):
        return [h for c in component for h in _hrefs(c)]
    found = [component.href] if getattr(component, "href", None) else []
    return found + _hrefs(getattr(component, "children", None) or [])


@pytest.mark.parametrize("state", ["missing", "loaded"])
def test_status_layout__links_to_the_wall_and_each_of_its_views(
        settings, status_layout, clear_pages_state, state):
    import dash

    from pipelines.queries.wall import VIEWS

    if state == "loaded":
        with warehouse.writer(settings):
            pass  # an empty, migrated warehouse
    page = status_layout(settings)()
    hrefs = _hrefs(page)
    assert hrefs == ["/wall"] + [f"/wall/{v}" for v in VIEWS]
    # each is a page the app serves, not Dash's 404
    templates = [p["path_template"] or p["path"] for p in dash.page_registry.values()]
    for href in hrefs:
        assert any(dash._pages._parse_path_variables(href, t) is not None
                   or href == t for t in templates), href
