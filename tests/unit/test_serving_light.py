"""Light pages: responses go out compressed, static files are cached, data is not.

The browser-side promises (no overflow at 390 px, a chart above the fold, no serious
accessibility violation) are in tests/browser/test_explore_light.py.
"""

from __future__ import annotations

import gzip
import json
import re

import brotli
import pytest

from dashboards import _serving
from tests.factories import ticket_row, write_csv
from tests.serving_helpers import pages_request

BR = {"Accept-Encoding": "br, gzip"}


@pytest.fixture
def client(settings, tmp_path, clear_pages_state):
    from app import create_app
    from pipelines.loader import load_files

    load_files(settings, "tickets", [write_csv(tmp_path / "t.csv", [ticket_row()])])
    return create_app(settings).server.test_client()


def _static_urls(client) -> list[str]:
    html = client.get("/explore/tickets").get_data(as_text=True)
    return re.findall(r'(?:src|href)="(/[^"]+)"', html)


def test_page_declares_chinese_language(client):
    html = client.get("/explore/tickets").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html


def test_page_javascript_and_callbacks_are_compressed_with_brotli_or_gzip(client):
    page = client.get("/explore/tickets", headers=BR)
    assert page.headers["Content-Encoding"] == "br"
    assert "<html" in brotli.decompress(page.data).decode()

    js = [u for u in _static_urls(client) if "dash_core_components.v" in u][0]
    plain = client.get(js).data
    packed = client.get(js, headers=BR)
    assert packed.headers["Content-Encoding"] == "br"
    assert brotli.decompress(packed.data) == plain
    assert len(packed.data) < len(plain) / 3
    assert "Accept-Encoding" in packed.headers["Vary"]

    answer = client.post("/_dash-update-component", json=pages_request("/explore/tickets"),
                         headers={"Accept-Encoding": "gzip"})
    assert answer.status_code == 200
    assert answer.headers["Content-Encoding"] == "gzip"
    assert "response" in json.loads(gzip.decompress(answer.data))


def test_no_encoding_asked_gets_plain_bytes(client):
    r = client.get("/explore/tickets", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in r.headers
    assert r.get_data(as_text=True).startswith("<!DOCTYPE html>")


def test_fingerprinted_static_files_are_cached_a_year_as_immutable(client):
    urls = [u for u in _static_urls(client)
            if u.startswith(("/_dash-component-suites/", "/assets/"))]
    assert any(u.startswith("/assets/") for u in urls)
    assert any("dash_ag_grid" in u for u in urls)
    for url in urls:
        r = client.get(url)
        assert r.status_code == 200, url
        assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable", url


def test_plotly_and_unmarked_static_files_are_revalidated_not_refetched(client):
    r = client.get("/_dash-component-suites/plotly/package_data/plotly.min.js", headers=BR)
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "no-cache"
    assert r.headers["Content-Encoding"] == "br"
    again = client.get("/_dash-component-suites/plotly/package_data/plotly.min.js",
                       headers={**BR, "If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304
    assert client.get("/assets/explore.css").headers["Cache-Control"] == "no-cache"


def test_data_pages_and_health_are_never_stored(client):
    assert client.get("/explore/tickets").headers["Cache-Control"] == "no-store"
    assert client.get("/healthz").headers["Cache-Control"] == "no-store"
    answer = client.post("/_dash-update-component", json=pages_request("/explore/tickets"))
    assert answer.headers["Cache-Control"] == "no-store"
    download = client.get("/download/explore/category.csv")
    assert download.status_code == 200
    assert download.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path,query,status,want", [
    ("/assets/app.css", {"m": "1"}, 200, "public, max-age=31536000, immutable"),
    ("/assets/app.css", {"m": "1"}, 404, "no-store"),
    ("/assets-not/x.css", {"m": "1"}, 200, "no-store"),
    ("/_favicon.ico", {"v": "4"}, 200, "public, max-age=31536000, immutable"),
    ("/download/explore/x.csv", {"m": "1"}, 200, "no-store"),
    ("/app/assets/a.js", {"m": "1"}, 200, "public, max-age=31536000, immutable"),
])
def test_cache_policy_reads_only_the_marked_static_urls(path, query, status, want):
    prefix = "/app/" if path.startswith("/app/") else "/"
    assert _serving.cache_policy(path, query, status, prefix=prefix) == want


def test_plotly_is_compressed_once_not_on_every_visit_and_callbacks_never_cached(
        client, monkeypatch):
    import flask_compress.flask_compress as fc

    calls = []
    real = fc._compress_data
    monkeypatch.setattr(fc, "_compress_data",
                        lambda app, data, algo: calls.append(len(data)) or real(app, data, algo))
    url = "/_dash-component-suites/plotly/package_data/plotly.min.js"
    first = client.get(url, headers=BR)
    second = client.get(url, headers=BR)
    assert second.data == first.data
    assert len(calls) == 1

    tickets = client.post("/_dash-update-component", headers=BR,
                          json=pages_request("/explore/tickets"))
    accounts = client.post("/_dash-update-component", headers=BR,
                           json=pages_request("/explore/accounts"))
    assert brotli.decompress(tickets.data) != brotli.decompress(accounts.data)
    assert len(calls) == 3


def test_compression_cache_keeps_only_static_bodies_and_at_most_its_size():
    cache = _serving.StaticCompressionCache(size=2)
    cache.set("br;", b"a callback")
    assert cache.get("br;") is None
    for name in ("a", "b", "c"):
        cache.set(f"br;/_dash-component-suites/{name}.js", name.encode())
    assert cache.get("br;/_dash-component-suites/a.js") is None
    assert cache.get("br;/_dash-component-suites/c.js") == b"c"


def _listed(client, page: str) -> list[str]:
    """The scripts and styles `page`'s index lists, without fingerprints."""
    html = client.get(page).get_data(as_text=True)
    return [re.sub(r"\.v[\d_]+m[\d.]+\.", ".", u.split("?")[0])
            for u in re.findall(r'(?:src|href)="(/[^"]+\.(?:js|css)[^"]*)"', html)]


@pytest.mark.parametrize("page", ["/", "/explore/tickets", "/explore/accounts"])
def test_a_page_lists_no_script_or_style_it_does_not_use__explorer_and_status(
        client, page):
    listed = _listed(client, page)
    assert "/assets/explore.js" in listed and "/assets/explore.css" in listed
    assert any("dash_ag_grid" in u for u in listed)  # client-side navigation may need it
    assert [u for u in listed if "/assets/wall." in u or "dash_table" in u] == []


@pytest.mark.parametrize("page", ["/wall", "/wall/map"])
def test_a_page_lists_no_script_or_style_it_does_not_use__wall(client, page):
    listed = _listed(client, page)
    assert {"/assets/wall.js", "/assets/wall.css", "/assets/shell.js"} <= set(listed)
    assert any("dash_renderer" in u for u in listed)
    assert [u for u in listed if "/assets/explore" in u or "dash_ag_grid" in u
            or "dash_table" in u] == []


def test_the_charts_plotly_is_the_vendored_bundle(client):
    from dashboards import _plotly_bundle

    body = client.get("/_dash-component-suites/plotly/package_data/plotly.min.js").data
    assert body == _plotly_bundle.BUNDLE.read_bytes()
