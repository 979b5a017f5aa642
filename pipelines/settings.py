"""Configuration: the only module that reads the environment.

Every rule that differs between command centers (time limits, thresholds, paths) is a field
of `Settings`, with its default and help text beside it. `load_settings()` reads `WALL_*`
environment variables; tests build `Settings(...)` directly.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class SlaRule:
    """How one ticket level's deadline is counted from its acceptance date.

    kind: ``same_day`` (end of the acceptance date), ``days`` (end of the acceptance date
    plus `n` calendar days) or ``workdays`` (end of the `n`-th working day after it).
    """

    level: int
    kind: str
    n: int


DEFAULT_SLA = (
    SlaRule(1, "same_day", 0),
    SlaRule(2, "days", 3),
    SlaRule(3, "workdays", 5),
    SlaRule(4, "workdays", 15),
)


def _setting(default, env: str, help: str):
    return field(default=default, metadata={"env": env, "help": help})


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with defaults. See README "Settings" for each variable."""

    db_path: Path = _setting(
        ROOT / "data" / "warehouse.duckdb", "WALL_DB", "The DuckDB warehouse file."
    )
    demo_dir: Path = _setting(
        ROOT / "data" / "demo", "WALL_DEMO_DIR", "Where first start writes demo input files."
    )
    sla: tuple[SlaRule, ...] = _setting(
        DEFAULT_SLA,
        "WALL_SLA",
        "Time limit per level, e.g. '1=same_day,2=days:3,3=workdays:5,4=workdays:15'.",
    )
    response_hours: int = _setting(
        6, "WALL_RESPONSE_HOURS", "A ticket not responded to within this many hours is late."
    )
    calendar_file: Path | None = _setting(
        None,
        "WALL_CALENDAR_FILE",
        "TOML adding holidays and make-up working days for years the package lacks.",
    )
    small_count: int = _setting(
        5, "WALL_SMALL_COUNT", "Counts of people from 1 to this minus one are shown as '<k'."
    )
    stale_hours: float = _setting(
        26.0, "WALL_STALE_HOURS",
        "Expected cadence, in hours, of the daily sources (tickets, engagement) unless "
        "WALL_CADENCE names them: their data is stale when its newest record is older.",
    )
    cadence: str = _setting(
        "ballots=7d,votes=35d,grids=35d,compounds=400d,population=35d,ledger=35d,"
        "ledger_balances=400d",
        "WALL_CADENCE",
        "Expected cadence per source, e.g. 'tickets=1h,population=35d' (units m, h, d): a "
        "source's data is stale when its newest record (else its newest load) is older.",
    )
    secret_file: Path = _setting(
        Path.home() / ".config" / "neighbourhood-wall" / "pseudonym.key",
        "WALL_SECRET_FILE",
        "File holding the pseudonymisation key: 64 or more hex digits (created with mode "
        "0600 on first use).",
    )
    secret: str | None = _setting(
        None, "WALL_SECRET",
        "The pseudonymisation key itself (64 or more hex digits); overrides WALL_SECRET_FILE.",
    )
    timezone: str = _setting(
        "Asia/Shanghai", "WALL_TIMEZONE", "Local time zone of all timestamps."
    )
    export_encoding: str = _setting(
        "utf-8-sig",
        "WALL_EXPORT_ENCODING",
        "CSV export encoding: utf-8-sig (UTF-8 with BOM, opens in Excel/WPS), utf-8 or "
        "gb18030.",
    )
    export_dir: Path = _setting(
        ROOT / "exports", "WALL_EXPORT_DIR", "Default folder for exported CSV files."
    )
    export_schedules: Path = _setting(
        ROOT / "exports.toml",
        "WALL_EXPORT_SCHEDULES",
        "TOML file of export schedules read by `export --due` and `scheduler`.",
    )
    key_groups: str = _setting(
        "dibao=低保|最低生活保障|低保户,tekun=特困|特困人员|特困供养,"
        "elderly_80=高龄|高龄老人|80岁以上老人,living_alone=独居老人|独居,"
        "disabled=残疾人|残疾,veteran=退役军人|军人,left_behind_child=留守儿童,"
        "serious_illness=大病|大病患者|重病,low_income=低收入家庭|低收入",
        "WALL_KEY_GROUPS",
        "Key-group vocabulary: 'code=中文名|别名,...'; a resident's key_groups cell "
        "(';'-separated) may use a code or any of its names.",
    )
    ledger_publish_days: int = _setting(
        10,
        "WALL_LEDGER_PUBLISH_DAYS",
        "A ledger month is published this many days after it ends; an entry loaded later "
        "and dated in it is booked as an adjustment in the current month.",
    )
    standby_min_mib: int = _setting(
        256, "WALL_STANDBY_MIN_MIB",
        "A warehouse at least this large (MiB) on a filesystem without clones (ext4) keeps "
        "a standby copy beside it, made in the background after each write, so the next "
        "write need not copy the file (0: always; negative: never).",
    )
    warnings_file: Path = _setting(
        ROOT / "pipelines" / "warnings.toml",
        "WALL_WARNINGS_FILE",
        "TOML of early-warning rules and anomaly thresholds (defaults: "
        "pipelines/warnings.toml).",
    )
    users_file: Path | None = _setting(
        None,
        "WALL_USERS_FILE",
        "File of 'name:password-hash' lines (werkzeug hashes; `python -m dashboards._serving "
        "add-user NAME`); when set, every page but the wall needs a login.",
    )
    wall_tokens_file: Path | None = _setting(
        None,
        "WALL_WALL_TOKENS_FILE",
        "File of 'wall-name:sha256-of-token' lines; when set, /wall needs ?token=... "
        "(`python -m dashboards._serving add-wall NAME`).",
    )
    state_dir: Path = _setting(
        Path.home() / ".config" / "neighbourhood-wall",
        "WALL_STATE_DIR",
        "Folder the app writes its login state to when access control is on: the cookie "
        "signing key (session.key, mode 0600, made on first use) and the failed-login "
        "counts shared by gunicorn's workers.",
    )
    cookie_secure: bool = _setting(
        False, "WALL_COOKIE_SECURE",
        "1 to mark the login and wall cookies Secure (sent over HTTPS only); set it "
        "whenever TLS is in front.",
    )
    session_hours: float = _setting(
        12.0, "WALL_SESSION_HOURS",
        "A login is good for this many hours; then the password is checked again.",
    )
    proxies: int = _setting(
        0, "WALL_PROXIES",
        "Reverse proxies (e.g. nginx) in front of the app whose X-Forwarded-For/-Proto "
        "headers are trusted, so logins are throttled per real client; 0 trusts none.",
    )
    wall_rotate_seconds: float = _setting(
        20.0, "WALL_ROTATE_SECONDS",
        "Seconds each wall view stays up (URL ?rotate= overrides; 0 pins one view).",
    )
    wall_ticker_text: str = _setting(
        "category_place", "WALL_TICKER_TEXT",
        "What the wall's ticker shows of each new report: category_place (category, community "
        "and grid) or description (also the description, phone and ID numbers masked; names "
        "in it are not).",
    )
    metric_thresholds: Path | None = _setting(
        None,
        "WALL_METRIC_THRESHOLDS",
        "TOML overriding metrics' amber/red thresholds: one [metric_id] table with amber "
        "and red (docs/metrics.md lists the ids and defaults).",
    )
    wall_poll_seconds: float = _setting(
        30.0, "WALL_POLL_SECONDS",
        "Seconds between the wall's cheap data-version polls (URL ?poll= overrides).",
    )


TICKER_TEXTS = ("category_place", "description")

KEY_BYTES = 32
# Shown in every refusal of a key: the exact command that makes a good one.
MAKE_KEY = ("umask 077; python3 -c 'import secrets; print(secrets.token_hex(32))' "
            "> /etc/wall/pseudonym.key")


def check_secret(text: str, origin: str) -> bytes:
    """The pseudonymisation key written as `text` (read from `origin`), as HMAC bytes.

    A key is the hex form of at least 32 random bytes (64 hex digits). The hex text itself
    keys the HMAC, as it always has, so a key file made on first use keeps its pseudonyms.

    Raises:
        ValueError: naming `origin`, what is wrong and the command that makes a key.
    """
    text = text.strip()
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raw = None
    if not text:
        problem = "it is empty"
    elif raw is None:
        problem = "it is not hex digits (0-9, a-f)"
    elif len(raw) < KEY_BYTES:
        problem = f"it holds {len(raw)} bytes, fewer than {KEY_BYTES}"
    elif len(set(raw)) < KEY_BYTES // 2:
        # 32 random bytes have about 30 different values; 16 or fewer is a pattern
        problem = f"its bytes repeat a pattern ({len(set(raw))} different values)"
    else:
        return text.encode("ascii")
    raise ValueError(
        f"{origin}: refused as pseudonymisation key: {problem}. A key is at least "
        f"{KEY_BYTES} random bytes written as {2 * KEY_BYTES} hex digits; make one with "
        f"`{MAKE_KEY}` and set WALL_SECRET_FILE to it (a new key changes every pseudonym: "
        f"rebuild the warehouse from the input files, docs/operations.md)")


def parse_sla(text: str) -> tuple[SlaRule, ...]:
    """Parse ``'1=same_day,2=days:3,3=workdays:5,4=workdays:15'`` into rules.

    Raises:
        ValueError: naming the part that does not parse.
    """
    rules = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        try:
            level, rule = part.split("=")
            kind, _, n = rule.partition(":")
            rules.append(SlaRule(int(level), kind.strip(), int(n or 0)))
        except ValueError:
            raise ValueError(f"WALL_SLA: cannot parse {part!r}") from None
        if rules[-1].kind not in ("same_day", "days", "workdays"):
            raise ValueError(f"WALL_SLA: unknown kind {rules[-1].kind!r} in {part!r}")
    levels = sorted(r.level for r in rules)
    if levels != [1, 2, 3, 4]:
        raise ValueError(f"WALL_SLA must give levels 1-4 once each, got {levels}")
    return tuple(sorted(rules, key=lambda r: r.level))


def load_settings(environ: Mapping[str, str] = os.environ, **overrides) -> Settings:
    """Build Settings from `WALL_*` variables in `environ`, then explicit overrides."""
    values = {}
    for f in dataclasses.fields(Settings):
        raw = environ.get(f.metadata["env"])
        if raw is None or raw == "":
            continue
        if f.name == "sla":
            values[f.name] = parse_sla(raw)
        elif f.name == "wall_ticker_text" and raw not in TICKER_TEXTS:
            raise ValueError(f"WALL_TICKER_TEXT must be one of {', '.join(TICKER_TEXTS)}, "
                             f"got {raw!r}")
        elif f.name == "cadence":
            from pipelines.freshness import parse_cadence  # late: it reads the sources

            parse_cadence(raw)  # a typo fails at start, naming the part
            values[f.name] = raw
        elif f.type in ("Path", "Path | None"):
            values[f.name] = Path(raw)
        elif f.type == "int":
            values[f.name] = int(raw)
        elif f.type == "float":
            values[f.name] = float(raw)
        elif f.type == "bool":
            values[f.name] = _parse_bool(f.metadata["env"], raw)
        else:
            values[f.name] = raw
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values)


def _parse_bool(env: str, raw: str) -> bool:
    text = raw.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{env}: want 1 or 0 (true/false), got {raw!r}")


def parse_key_groups(text: str) -> dict[str, tuple[str, ...]]:
    """Parse ``'dibao=低保|最低生活保障,tekun=特困'`` into {code: (names...)}.

    Raises:
        ValueError: naming the part that does not parse.
    """
    vocabulary: dict[str, tuple[str, ...]] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        code, sep, names = part.partition("=")
        code = code.strip()
        if not sep or not code.isidentifier():
            raise ValueError(f"WALL_KEY_GROUPS: cannot parse {part!r} (want code=名称|别名)")
        vocabulary[code] = tuple(n.strip() for n in names.split("|") if n.strip())
    if not vocabulary:
        raise ValueError("WALL_KEY_GROUPS names no key group")
    return vocabulary


def local_now(settings: Settings) -> dt.datetime:
    """Now as local wall-clock time (naive), the convention of every stored timestamp."""
    return dt.datetime.now(ZoneInfo(settings.timezone)).replace(tzinfo=None)


def documented_settings() -> list[tuple[str, str]]:
    """(environment variable, help) for every setting, for README and its test."""
    return [(f.metadata["env"], f.metadata["help"]) for f in dataclasses.fields(Settings)]
