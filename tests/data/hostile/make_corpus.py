"""Writes the small hostile input files beside this script (committed; rerun to refresh).

    .venv/bin/python tests/data/hostile/make_corpus.py

The big ones (a 10 MB field, 10,000 columns) are generated inside
tests/unit/test_hostile_inputs.py instead of being committed.
"""

from __future__ import annotations

import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEADER = ("ticket_id,reported_at,level,category,community,accepted_at,closed_at,"
          "description")
ROW = "H{n},2025-09-23 09:00:00,1,城市管理,龙塔社区,2025-09-23 09:05:00,2025-09-23 15:00:00,门坏了"


def rows(n: int, start: int = 1) -> list[str]:
    return [ROW.format(n=i) for i in range(start, start + n)]


def main() -> None:
    w = lambda name, data: (HERE / name).write_bytes(data)  # noqa: E731
    w("empty.csv", b"")
    w("header_only.csv", (HEADER + "\n").encode())
    w("bom_only.csv", b"\xef\xbb\xbf")
    w("binary_garbage.csv", random.Random(1).randbytes(4096))
    good = "\n".join([HEADER, *rows(5)]) + "\n"
    w("truncated.csv", good.encode()[: len(good.encode()) - 25])
    w("semicolon.csv", ("\n".join([HEADER, *rows(3)]).replace(",", ";") + "\n").encode())
    w("tab.tsv.csv", ("\n".join([HEADER, *rows(3)]).replace(",", "\t") + "\n").encode())
    mixed = ("\n".join([HEADER, *rows(3)]) + "\n").encode("utf-8") + (
        "\n".join(rows(3, start=4)) + "\n").encode("gbk")
    w("mixed_encodings.csv", mixed)
    w("unbalanced_quotes.csv", (HEADER + "\n" + "\n".join(rows(2)) + '\nH9,"2025-09-23 09:00:00,1,城市管理,龙塔社区,,,"门坏了\n'
                                + "\n".join(rows(2, start=10)) + "\n").encode())
    dates = [HEADER,
             ROW.format(n=1),
             "H2,2025/09/23 09:00,1,城市管理,龙塔社区,,,",
             "H3,23.09.2025 09:00,1,城市管理,龙塔社区,,,",
             "H4,2025年9月23日 09:00,1,城市管理,龙塔社区,,,"]
    w("three_date_formats.csv", ("\n".join(dates) + "\n").encode())
    w("all_nuls.csv", b"\0" * 4096)
    controls = [HEADER, ROW.format(n=1), ROW.format(n="2\0"),
                ROW.format(n=3).replace("龙塔社区", "龙塔\0社区"),
                ROW.format(n=4).replace("门坏了", "门\x1b[2J坏了"),  # a terminal escape
                ROW.format(n=5).replace("门坏了", '"门\n坏了"')]  # a line break is text
    w("control_characters.csv", ("\n".join(controls) + "\n").encode())

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "说明"
    sheet["A1"] = "本表由系统导出"  # a cover sheet first, as office exports have
    sheet.merge_cells("A1:H3")
    data = book.create_sheet("工单")
    data.append(HEADER.split(","))
    for r in rows(4):
        data.append(r.split(","))
    data.merge_cells("D2:D3")  # a merged category cell: D3 reads as empty
    book.create_sheet("汇总").append(["合计", 4])
    book.save(HERE / "merged_sheets.xlsx")

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    for i, r in enumerate(rows(3), start=2):
        cells = r.split(",")
        cells[2] = f"=1+{i - 2}"  # level as a formula (no cached value: openpyxl writes none)
        cells[7] = '=HYPERLINK("http://evil.example","点我")'
        sheet.append(cells)
    book.save(HERE / "formulas.xlsx")


if __name__ == "__main__":
    main()
