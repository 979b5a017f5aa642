"""The pseudonymisation key is refused unless it is long and random; masking finds every
written form of a phone or ID number and leaves ordinary numbers alone."""

from __future__ import annotations

import os
import re

import duckdb
import pytest

from pipelines.__main__ import main as cli
from pipelines.loader import LoadError, load_files
from pipelines.privacy import mask_sql, mask_text, pseudonym, secret_key
from pipelines.settings import MAKE_KEY
from tests.factories import TEST_SECRET, resident_row, write_csv


@pytest.mark.parametrize("content, problem", [
    ("", "it is empty"),
    ("\n", "it is empty"),
    ("correct horse battery staple", "not hex digits"),
    ("9864f8f2ac5aab0ba6b68e9ab709c140", "16 bytes, fewer than 32"),
    ("00" * 32, "repeat a pattern"),
    ("0123456789abcdef" * 4, "repeat a pattern"),
])
def test_load__weak_key_file_is_refused_with_the_command_to_make_one(
        make_settings, tmp_path, content, problem):
    key = tmp_path / "pseudonym.key"
    key.write_text(content, encoding="utf-8")
    key.chmod(0o600)
    settings = make_settings(secret=None, secret_file=key)
    path = write_csv(tmp_path / "p.csv", [resident_row()])
    with pytest.raises(LoadError) as e:
        load_files(settings, "population", [path])
    assert str(key) in str(e.value) and problem in str(e.value)
    assert MAKE_KEY in str(e.value)
    assert not settings.db_path.exists()  # nothing written


def test_cli_load__weak_wall_secret_is_a_clear_error(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("WALL_SECRET", "test-secret-not-for-production")
    db = tmp_path / "w.duckdb"
    path = write_csv(tmp_path / "p.csv", [resident_row()])
    assert cli(["load", "population", str(path), "--db", str(db), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "WALL_SECRET: refused as pseudonymisation key: it is not hex digits" in err
    assert MAKE_KEY in err and "Traceback" not in err
    assert not db.exists()


def test_secret_key__world_readable_key_file_is_refused(make_settings, tmp_path):
    key = tmp_path / "pseudonym.key"
    key.write_text(TEST_SECRET, encoding="utf-8")
    key.chmod(0o644)
    with pytest.raises(ValueError, match="every user of this machine can read"):
        secret_key(make_settings(secret=None, secret_file=key))


def test_secret_key__created_on_first_use_and_accepted(make_settings, tmp_path):
    key = tmp_path / "sub" / "pseudonym.key"
    settings = make_settings(secret=None, secret_file=key)
    first = secret_key(settings)
    assert re.fullmatch(r"[0-9a-f]{64}", first.decode()) and secret_key(settings) == first
    assert key.stat().st_mode & 0o777 == 0o600


def test_secret_key__existing_key_files_keep_their_pseudonyms(make_settings, tmp_path):
    # Key files made on first use before keys were checked hold 64 hex digits, and their
    # text keyed the HMAC: the same ids must give the same pseudonyms as before.
    key = tmp_path / "pseudonym.key"
    key.write_text(TEST_SECRET + "\n", encoding="utf-8")
    os.chmod(key, 0o600)
    got = secret_key(make_settings(secret=None, secret_file=key))
    assert pseudonym(got, "110101199003074518") == pseudonym(TEST_SECRET.encode(),
                                                             "110101199003074518")


ID = "110101199003074518"


@pytest.mark.parametrize("text, masked", [
    # full-width forms, as typed with a Chinese input method
    ("电话１３８１２３４５６７８", "电话[手机号]"),
    ("身份证１１０１０１１９９００３０７４５１Ｘ", "身份证[身份证号]"),
    ("电话１３８－１２３４－５６７８。", "电话[手机号]。"),
    ("ａｂ＠ｅｘａｍｐｌｅ．ｃｏｍ", "[邮箱]"),
    # ID numbers with separators, 15-digit IDs, ID right after letters
    ("110101 19900307 4518", "[身份证号]"),
    ("110101-19900307-4518", "[身份证号]"),
    ("1101 0119 9003 0745 18", "[身份证号]"),
    ("老证号110101900307451，已换证", "老证号[身份证号]，已换证"),
    ("110101 900307 451", "[身份证号]"),
    ("1 1 0 1 0 1 1 9 9 0 0 3 0 7 4 5 1 8", "[身份证号]"),
    (f"sfz{ID}", "sfz[身份证号]"),
    (f"SFZ:{ID[:-1]}x", "SFZ:[身份证号]"),
    # phone numbers with dots, brackets and prefixes
    ("138.1234.5678", "[手机号]"),
    ("1381 234 5678", "[手机号]"),
    ("(138)12345678", "[手机号]"),
    ("（138）1234-5678", "[手机号]"),
    ("+86 138 1234 5678", "[手机号]"),
    ("0086-13812345678", "[手机号]"),
    ("(+86)13812345678", "[手机号]"),
    ("tel13812345678", "tel[手机号]"),
    ("13912345678,15012345678、16612345678", "[手机号],[手机号]、[手机号]"),
    # the forms masked before
    ("+86 138-1234-5678", "[手机号]"),
    ("身份证11010119900307451X号", "身份证[身份证号]号"),
    ("a_b@example.org", "[邮箱]"),
])
def test_mask__finds_every_written_form(text, masked):
    con = duckdb.connect()
    assert con.execute(f"select {mask_sql('$t::varchar')}", {"t": text}).fetchall() == [
        (masked,)]
    assert mask_text(text) == masked


@pytest.mark.parametrize("text", [
    "3栋2单元1201室漏水",
    "维修费1380.50元，押金 13812.50 元",
    "合计 1,381,234.56 元",
    "2025-03-05 13:45:00 上报",
    "2025年3月5日",
    "20250305134500",
    "工单20240101123",
    "工单GD20250305000123转派",
    "凭证 PZ-2025-0001、PZ2025030512",
    "报警时间 2025.03.05 12:34",
    "编号 202503050001234",  # 15 digits whose month would be 00
    "身份证号码有误，请核对",
    "订单号 12345678901",  # 11 digits that no mobile number starts with
    "楼道灯不亮",
])
def test_mask__leaves_ordinary_numbers_alone(text):
    con = duckdb.connect()
    assert con.execute(f"select {mask_sql('$t::varchar')}", {"t": text}).fetchall() == [
        (text,)]
    assert mask_text(text) == text
