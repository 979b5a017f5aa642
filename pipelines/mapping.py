"""Mapping files: how another system's export becomes our canonical columns.

A mapping is TOML with the sections documented in docs/data-contract.md:
`[columns]` canonical = source column, `[formats]` strptime formats (a string or a list),
`[defaults]` values for absent columns or empty cells, `[values.<column>]` source value →
canonical value, and optional `[file]` with `encoding`, `sheet` and `header_row`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path


class MappingError(ValueError):
    """The mapping file is malformed; the message names the file and the key."""


@dataclass(frozen=True)
class Mapping:
    """A parsed mapping file (an empty Mapping means canonical input)."""

    columns: dict[str, str] = field(default_factory=dict)
    formats: dict[str, list[str]] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    encoding: str | None = None
    sheet: str | None = None
    # line (CSV) or sheet row (Excel) of the header, titles above it; None: the loader
    # looks for it when line 1 lacks required columns
    header_row: int | None = None

    def source_column(self, canonical: str) -> str:
        """The file's column that holds `canonical`."""
        return self.columns.get(canonical, canonical)


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def load_mapping(path: Path | None, canonical: set[str]) -> Mapping:
    """Read and check a mapping file against the source's canonical column names.

    Raises:
        MappingError: unreadable TOML, an unknown section or canonical column, or a value of
            the wrong shape, naming the file and the key.
    """
    if path is None:
        return Mapping()
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise MappingError(f"{path}: cannot read mapping ({e})") from None
    unknown_sections = set(doc) - {"columns", "formats", "defaults", "values", "file"}
    if unknown_sections:
        raise MappingError(f"{path}: unknown section(s) {sorted(unknown_sections)}")

    def check_names(section: str, names) -> None:
        bad = sorted(set(names) - canonical)
        if bad:
            raise MappingError(
                f"{path}: [{section}] names {bad}, which are not canonical columns "
                f"(expected some of {sorted(canonical)})"
            )

    columns = doc.get("columns", {})
    check_names("columns", columns)
    formats = {}
    for name, fmt in doc.get("formats", {}).items():
        formats[name] = [fmt] if isinstance(fmt, str) else list(fmt)
        if not all(isinstance(f, str) for f in formats[name]):
            raise MappingError(f"{path}: [formats] {name} must be a string or list of strings")
    check_names("formats", formats)
    defaults = {k: _text(v) for k, v in doc.get("defaults", {}).items()}
    check_names("defaults", defaults)
    values = {}
    for name, table in doc.get("values", {}).items():
        if not isinstance(table, dict):
            raise MappingError(f"{path}: [values.{name}] must be a table of source = canonical")
        values[name] = {_text(k): _text(v) for k, v in table.items()}
    check_names("values", values)
    file_opts = doc.get("file", {})
    unknown_options = set(file_opts) - {"encoding", "sheet", "header_row"}
    if unknown_options:
        raise MappingError(f"{path}: [file] has unknown key(s) {sorted(unknown_options)}")
    header_row = file_opts.get("header_row")
    if header_row is not None and (isinstance(header_row, bool)
                                   or not isinstance(header_row, int) or header_row < 1):
        raise MappingError(f"{path}: [file] header_row must be a line number from 1, "
                           f"got {header_row!r}")
    return Mapping(
        columns={k: str(v) for k, v in columns.items()},
        formats=formats,
        defaults=defaults,
        values=values,
        encoding=file_opts.get("encoding"),
        sheet=file_opts.get("sheet"),
        header_row=header_row,
    )
