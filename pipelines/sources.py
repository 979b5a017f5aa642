"""Input contracts: one `Source` per family of input files (docs/data-contract.md).

A Source names its target table, key, canonical columns with their types, which columns are
required, how personal data is treated, and the row rules that send a row to quarantine.
The generic loader (pipelines/loader.py) turns these into SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    """A canonical input column.

    kind: text | int | timestamp | date | year | decimal | bool | enum.
    pii: None, 'mask' (free text: numbers and e-mails masked), 'pseudonymise' (keyed hash)
    or 'drop' (read, never stored). `choices` limits an enum; `strict=False` keeps an unknown
    enum value as given and reports it as a warning instead of quarantining the row.
    `synonyms` maps common spellings (Chinese office wording) to canonical values.
    """

    name: str
    kind: str = "text"
    required: bool = False
    pii: str | None = None
    choices: tuple[str, ...] = ()
    strict: bool = True
    synonyms: dict[str, str] = field(default_factory=dict)
    stored_as: str | None = None  # target column name when it differs (e.g. birth_year)

    @property
    def target(self) -> str:
        """The warehouse column this input column is stored in."""
        return self.stored_as or self.name


@dataclass(frozen=True)
class Rule:
    """A row rule over typed columns: rows where `violated` is true are quarantined."""

    violated: str  # SQL boolean over typed columns
    reason: str  # SQL text expression, may use typed or `<col>__raw` columns


@dataclass(frozen=True)
class Source:
    """One input family and the table it loads."""

    name: str
    table: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    version: str | None = None  # column whose newest value wins within a load
    rules: tuple[Rule, ...] = ()

    def column(self, name: str) -> Column:
        """The column called `name`."""
        return next(c for c in self.columns if c.name == name)

    @property
    def stored(self) -> tuple[Column, ...]:
        """Columns that reach the warehouse (all but pii='drop')."""
        return tuple(c for c in self.columns if c.pii != "drop")

    @property
    def has_personal_data(self) -> bool:
        """True when rows carry identifiers or names that must never be kept in clear."""
        return any(c.pii in ("drop", "pseudonymise") for c in self.columns)


HANDLERS = ("property", "community", "department", "self_governance")
HANDLER_SYNONYMS = {
    "物业": "property", "物业公司": "property", "物业服务企业": "property",
    "社区": "community", "社区居委会": "community", "居委会": "community",
    "部门": "department", "职能部门": "department", "政府部门": "department",
    "自治": "self_governance", "居民自治": "self_governance", "业主自治": "self_governance",
    "self-governance": "self_governance",
}
SATISFACTION_SYNONYMS = {
    "满意": "satisfied", "基本满意": "satisfied", "非常满意": "satisfied",
    "不满意": "unsatisfied", "很不满意": "unsatisfied",
}
LEVEL_SYNONYMS = {"一级": "1", "二级": "2", "三级": "3", "四级": "4",
                  "Ⅰ": "1", "Ⅱ": "2", "Ⅲ": "3", "Ⅳ": "4"}

_TICKET_TIMES = ("accepted_at", "responded_at", "escalated_at", "closed_at")

TICKETS = Source(
    name="tickets",
    table="tickets",
    key=("ticket_id",),
    version="updated_at",
    columns=(
        Column("ticket_id", required=True),
        Column("reported_at", "timestamp", required=True),
        Column("level", "int", required=True, synonyms=LEVEL_SYNONYMS),
        Column("category", required=True),
        Column("community", required=True),
        *(Column(name, "timestamp") for name in _TICKET_TIMES),
        Column("grid"),
        Column("compound"),
        Column("source"),
        Column("handler", "enum", choices=HANDLERS, strict=False, synonyms=HANDLER_SYNONYMS),
        Column("satisfaction", "enum", choices=("satisfied", "unsatisfied"), strict=False,
               synonyms=SATISFACTION_SYNONYMS),
        Column("description", pii="mask"),
        Column("updated_at", "timestamp"),
    ),
    rules=(
        Rule("level not between 1 and 4",
             "'level must be 1-4, got ' || level__raw"),
        *(Rule(f"{name} < reported_at", f"'{name} is earlier than reported_at'")
          for name in _TICKET_TIMES),
    ),
)

SOURCES: dict[str, Source] = {s.name: s for s in (TICKETS,)}
