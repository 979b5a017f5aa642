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
    or 'drop' (read, never stored); in a source with personal data, None is masked too
    (`Source.masks`). `choices` limits an enum; `strict=False` keeps an unknown
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
    # column whose newest value is the source's data time (freshness) and data cut-off
    # (pipelines/metrics); None: the version column, else the first timestamp
    data_time: str | None = None
    rules: tuple[Rule, ...] = ()
    description: str = ""  # one line for `load --help` and docs/data-contract.md

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

    def masks(self, col: Column) -> bool:
        """True when the text of `col` is masked before it is typed, checked or stored.

        Free text ('mask') always is; in a source with personal data so is every column
        that is not pseudonymised or dropped, because an ID number typed into the wrong
        column (`sex`, `building`) must not pass in clear either.
        """
        return col.pii == "mask" or (self.has_personal_data and col.pii is None)


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
    description="incidents and requests, one row per ticket (latest state wins)",
    table="tickets",
    key=("ticket_id",),
    version="updated_at",
    data_time="reported_at",  # the figures' cut-off: docs/metrics.md
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


# ---------------------------------------------------------------- population (issue 3)
SEX_SYNONYMS = {"男": "male", "女": "female", "M": "male", "F": "female", "m": "male",
                "f": "female"}
RESIDENCE_SYNONYMS = {
    "户籍": "registered", "户籍人口": "registered", "户籍居民": "registered",
    "常住": "resident", "常住人口": "resident", "居住": "resident", "实有人口": "resident",
    "流动": "floating", "流动人口": "floating", "暂住": "floating", "外来人口": "floating",
}

GRIDS = Source(
    name="grids",
    description="grids of each community with their staffing",
    table="grids",
    key=("community", "grid"),
    columns=(
        Column("zone"),
        Column("community", required=True),
        Column("grid", required=True),
        Column("grid_head", pii="mask"),
        Column("grid_workers", "int"),
        Column("households_served", "int"),
    ),
    rules=(
        Rule("grid_workers < 0", "'grid_workers is negative'"),
        Rule("households_served < 0", "'households_served is negative'"),
    ),
)

POPULATION = Source(
    name="population",
    description="residents, one row per person (ids pseudonymised, names dropped)",
    table="residents",
    key=("person_id",),
    version="updated_at",
    columns=(
        Column("person_id", required=True, pii="pseudonymise"),
        Column("household_id", required=True, pii="pseudonymise"),
        Column("community", required=True),
        Column("grid"),
        Column("compound"),
        Column("building"),
        # mask: an ID number typed into the wrong column never reaches a reason or row
        Column("birth_date", "year", pii="mask", stored_as="birth_year"),
        Column("sex", "enum", choices=("male", "female"), strict=False,
               synonyms=SEX_SYNONYMS),
        Column("residence", "enum", choices=("registered", "resident", "floating"),
               strict=False, synonyms=RESIDENCE_SYNONYMS),
        Column("is_owner", "bool"),
        # `;`-separated; canonical codes are derived (pipelines/derived.py, WALL_KEY_GROUPS)
        Column("key_groups", pii="mask", stored_as="key_groups_text"),
        Column("name", pii="drop"),
        Column("phone", pii="drop"),
        Column("updated_at", "timestamp"),
    ),
    rules=(
        Rule("birth_year > year(current_date) or birth_year < 1880",
             "'birth_date is not a plausible birth date'"),
    ),
)

# The community (and grid) each compound belongs to, as the center declares it; without
# a row here a compound goes to the community most of its residents live in
# (sql/marts/compound_community.sql).
COMPOUNDS = Source(
    name="compounds",
    description="the community (and grid) each compound belongs to",
    table="compounds",
    key=("compound",),
    columns=(
        Column("compound", required=True),
        Column("community", required=True),
        Column("grid"),
    ),
)

# ---------------------------------------------------------------- participation
MATTER_SYNONYMS = {"一般": "ordinary", "一般事项": "ordinary", "普通": "ordinary",
                   "普通事项": "ordinary", "重大": "major", "重大事项": "major"}
CHOICE_SYNONYMS = {"同意": "yes", "赞成": "yes", "支持": "yes", "反对": "no",
                   "不同意": "no", "弃权": "abstain"}
ENGAGEMENT_KINDS = ("questionnaire", "opinion", "suggestion", "praise", "complaint",
                    "volunteer", "registration")
ENGAGEMENT_SYNONYMS = {
    "问卷": "questionnaire", "问卷调查": "questionnaire", "意见": "opinion",
    "征求意见": "opinion", "建议": "suggestion", "表扬": "praise", "点赞": "praise",
    "投诉": "complaint", "志愿者": "volunteer", "志愿服务": "volunteer",
    "报名": "registration", "活动报名": "registration",
}

VOTES = Source(
    name="votes",
    description="owners' votes of a compound, with eligible owners and area",
    table="votes",
    key=("vote_id",),
    columns=(
        Column("vote_id", required=True),
        Column("compound", required=True),
        Column("title", pii="mask"),
        Column("matter", "enum", required=True, choices=("ordinary", "major"),
               synonyms=MATTER_SYNONYMS),
        Column("opens_at", "timestamp", required=True),
        Column("closes_at", "timestamp", required=True),
        Column("eligible_owners", "int", required=True),
        Column("eligible_area_m2", "decimal", required=True),
    ),
    rules=(
        Rule("closes_at <= opens_at", "'closes_at is not after opens_at'"),
        Rule("eligible_owners <= 0", "'eligible_owners must be above 0'"),
        Rule("eligible_area_m2 <= 0", "'eligible_area_m2 must be above 0'"),
    ),
)

# The vote's window, looked up in the warehouse: the inner select renames its columns so
# that `vote_id` binds to the row being checked (a correlated subquery).
_VOTE_WINDOW = ("(select {col} from (select vote_id as w_vote_id, opens_at as w_opens_at, "
                "closes_at as w_closes_at from votes) where w_vote_id = vote_id)")

BALLOTS = Source(
    name="ballots",
    description="one ballot per owner and vote",
    table="ballots",
    key=("vote_id", "owner_id"),
    version="cast_at",
    columns=(
        Column("vote_id", required=True),
        Column("owner_id", required=True, pii="pseudonymise"),
        Column("area_m2", "decimal", required=True),
        Column("choice", "enum", required=True, choices=("yes", "no", "abstain"),
               synonyms=CHOICE_SYNONYMS),
        Column("cast_at", "timestamp", required=True),
    ),
    rules=(
        Rule("vote_id not in (select vote_id from votes)",
             "'vote ' || vote_id__raw || ' is unknown (load its votes file first)'"),
        Rule(f"cast_at > {_VOTE_WINDOW.format(col='w_closes_at')}",
             "'cast after the vote closed'"),
        Rule(f"cast_at < {_VOTE_WINDOW.format(col='w_opens_at')}",
             "'cast before the vote opened'"),
        Rule("area_m2 <= 0", "'area_m2 must be above 0'"),
    ),
)

ENGAGEMENT = Source(
    name="engagement",
    description="questionnaire answers, opinions, volunteering and other acts",
    table="engagement",
    key=("event_id",),
    columns=(
        Column("event_id", required=True),
        Column("compound", required=True),
        Column("kind", "enum", required=True, choices=ENGAGEMENT_KINDS,
               synonyms=ENGAGEMENT_SYNONYMS),
        Column("occurred_at", "timestamp", required=True),
        Column("person_id", pii="pseudonymise"),
        Column("household_id", pii="pseudonymise"),
    ),
)

# ---------------------------------------------------------------- ledger
DIRECTION_SYNONYMS = {"收入": "income", "收": "income", "支出": "expense", "支": "expense"}
MONTH_FORMATS = "['%Y-%m', '%Y-%m-%d', '%Y/%m', '%Y/%m/%d', '%Y年%m月', '%Y%m']"

LEDGER_BALANCES = Source(
    name="ledger_balances",
    description="each compound's opening balance and its month",
    table="ledger_openings",
    key=("compound",),
    columns=(
        Column("compound", required=True),
        Column("month", required=True),
        Column("opening_balance", "decimal", required=True, stored_as="opening_yuan"),
    ),
    rules=(
        Rule(f"try_strptime(month, {MONTH_FORMATS}) is null",
             "'month \"' || month__raw || '\" is not a month (YYYY-MM)'"),
    ),
)

LEDGER = Source(
    name="ledger",
    description="public-accounts lines: income and expense per compound",
    table="ledger_entries",
    key=("entry_id",),
    columns=(
        Column("entry_id", required=True),
        Column("compound", required=True),
        Column("booked_on", "date", required=True),
        Column("direction", "enum", required=True, choices=("income", "expense"),
               synonyms=DIRECTION_SYNONYMS),
        Column("category"),
        # decimal text, at most two places, never negative: kind 'decimal' quarantines
        # anything else and casts text straight to decimal(18,2) (no float on the way)
        Column("amount", "decimal", required=True, stored_as="amount_yuan"),
        Column("counterparty", pii="mask"),
        Column("voucher_no"),
        Column("note", pii="mask"),
    ),
)

# Ordered so that references load first (bootstrap.load_demo_inputs follows this order).
SOURCES: dict[str, Source] = {s.name: s for s in (
    TICKETS, GRIDS, COMPOUNDS, POPULATION, VOTES, BALLOTS, ENGAGEMENT, LEDGER_BALANCES, LEDGER)}

# The map loads by the same command (`python -m pipelines load geo FILE`) into tables of
# its own (pipelines/geo.py), not by the loader.
MAP_SOURCE = "geo"
