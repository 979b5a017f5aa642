"""Demo inputs: deterministic CSV files for a fictional sub-district (云塔街道).

The sub-district has the shape in docs/domain.md: 3 zones, 14 communities, 54 grids
of 200-300 households, 30 compounds. `write_demo` writes one CSV per source in the
canonical formats the loaders read (UTF-8, header, comma; empty cell = missing) and
returns their paths.

Everything is drawn from one `np.random.default_rng(seed)` with vectorised numpy, so
the same seed, `today` and `clock` give byte-identical files. Python loops run only
over small dimensions (communities, grids, compounds, votes, months), never over rows.

The demo's clock stops at `clock` on `today`: nothing is reported, closed or cast
after it.
"""

from __future__ import annotations

import datetime
import json
import logging
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from pipelines.sources import SOURCES as SOURCE_REGISTRY

logger = logging.getLogger(__name__)

# ---------------------------------------- places
ZONES = ("东片区", "中片区", "西片区")
# (community, zone index, grid count, ticket intensity: older estates report more)
COMMUNITIES = (
    ("龙塔社区", 0, 5, 1.30),
    ("望江社区", 0, 4, 1.10),
    ("金竹社区", 0, 4, 0.90),
    ("滨河社区", 0, 3, 0.80),
    ("桂湖社区", 0, 4, 1.00),
    ("长嘉社区", 1, 4, 1.20),
    ("和平社区", 1, 5, 1.40),
    ("新华社区", 1, 3, 0.70),
    ("翠屏社区", 1, 4, 0.95),
    ("南坪社区", 2, 4, 1.05),
    ("枫林社区", 2, 3, 0.75),
    ("玉峰社区", 2, 4, 0.85),
    ("青龙社区", 2, 4, 1.15),
    ("鹿山社区", 2, 3, 0.60),
)
# 30 compounds, two or three per community (in COMMUNITIES order)
COMPOUNDS = (
    ("龙塔社区", "金桂苑"),
    ("龙塔社区", "龙塔新村"),
    ("龙塔社区", "锦绣华庭"),
    ("望江社区", "滨江花园"),
    ("望江社区", "望江名苑"),
    ("金竹社区", "金竹苑"),
    ("金竹社区", "翠竹园"),
    ("滨河社区", "滨河湾"),
    ("滨河社区", "河畔人家"),
    ("桂湖社区", "桂湖雅居"),
    ("桂湖社区", "丹桂小区"),
    ("长嘉社区", "长嘉汇"),
    ("长嘉社区", "嘉禾苑"),
    ("和平社区", "和平里"),
    ("和平社区", "幸福家园"),
    ("和平社区", "阳光小区"),
    ("新华社区", "新华苑"),
    ("新华社区", "书香门第"),
    ("翠屏社区", "翠屏山庄"),
    ("翠屏社区", "云栖府"),
    ("南坪社区", "南坪花园"),
    ("南坪社区", "明珠苑"),
    ("枫林社区", "枫林绿洲"),
    ("枫林社区", "红枫苑"),
    ("玉峰社区", "玉峰家园"),
    ("玉峰社区", "锦江华府"),
    ("青龙社区", "青龙湾"),
    ("青龙社区", "御景天成"),
    ("鹿山社区", "鹿山小区"),
    ("鹿山社区", "山水雅苑"),
)
ROADS = (
    "龙塔大道",
    "滨江路",
    "望江路",
    "金竹街",
    "长嘉路",
    "和平路",
    "新华街",
    "南坪路",
)
GRID_WORKERS_TOTAL = 178

# ---------------------------------------- people
SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘蒋蔡余杜叶程"
)
GIVEN_CHARS = list(
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂兰建国华玉梅红志海云飞鹏宇浩欣怡子涵"
)
MOBILE_PREFIXES = (
    "138",
    "139",
    "135",
    "136",
    "150",
    "151",
    "158",
    "186",
    "187",
    "177",
    "199",
)
HOME_REGION = "500112"
OTHER_REGIONS = ("500103", "500105", "510104", "420106", "430102", "520102", "530102")
ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
ID_CHECK = np.array(list("10X98765432"))
HOUSEHOLD_SIZES = (np.arange(1, 7), [0.14, 0.28, 0.28, 0.18, 0.08, 0.04])
RESIDENCE = (("registered", "resident", "floating"), [0.56, 0.26, 0.18])

# ---------------------------------------- tickets
LEVEL_SHARE = [0.947, 0.016, 0.034, 0.003]
PROPERTY_DISPUTE = "物业纠纷"
# category: (share, handler shares property/community/department/self_governance,
#            is a street problem (often without compound), phrases)
CATEGORIES = {
    "城市管理": (
        0.25,
        [0.10, 0.55, 0.30, 0.05],
        True,
        [
            "花坛边堆放垃圾",
            "流动摊贩占道经营",
            "垃圾桶满溢",
            "井盖位移",
            "路灯不亮",
            "广告牌破损",
            "绿化带被毁",
        ],
    ),
    "物业维修": (
        0.22,
        [0.85, 0.08, 0.00, 0.07],
        False,
        [
            "单元门损坏",
            "电梯故障停运",
            "楼道灯不亮",
            "水管漏水",
            "屋顶渗水",
            "化粪池堵塞",
            "外墙瓷砖脱落",
        ],
    ),
    "交通安全": (
        0.10,
        [0.05, 0.25, 0.70, 0.00],
        True,
        [
            "共享单车占道",
            "路口信号灯故障",
            "机动车违停",
            "电动车逆行",
            "斑马线标线模糊",
        ],
    ),
    "治安隐患": (
        0.08,
        [0.20, 0.40, 0.40, 0.00],
        False,
        ["监控摄像头损坏", "单元门禁失灵", "围墙破损", "楼道有可疑人员"],
    ),
    "邻里纠纷": (
        0.08,
        [0.05, 0.45, 0.00, 0.50],
        False,
        ["楼上漏水引发纠纷", "噪音扰民", "宠物扰民", "杂物占用公共楼道"],
    ),
    "安全生产": (
        0.07,
        [0.30, 0.30, 0.40, 0.00],
        False,
        ["电动车楼道充电", "消防通道堵塞", "灭火器过期", "燃气管道有异味"],
    ),
    PROPERTY_DISPUTE: (
        0.07,
        [0.60, 0.30, 0.00, 0.10],
        False,
        ["物业费收费争议", "停车位纠纷", "物业服务不到位", "公共收益不公开"],
    ),
    "环境卫生": (
        0.09,
        [0.30, 0.50, 0.10, 0.10],
        True,
        ["餐馆油烟扰民", "污水外溢", "建筑垃圾乱倒", "积水发臭"],
    ),
    "食品卫生": (
        0.04,
        [0.00, 0.20, 0.80, 0.00],
        True,
        ["无证餐饮经营", "过期食品销售", "后厨卫生差"],
    ),
}
HANDLERS = np.array(["property", "community", "department", "self_governance"])
SOURCES = (
    (
        "居民APP随手拍",
        "12345热线",
        "网格员巡查",
        "物联感知设备",
        "社区来访",
        "微信群反映",
    ),
    [0.36, 0.20, 0.30, 0.05, 0.06, 0.03],
)
# reports per hour of day (relative)
HOURLY = np.array(
    [
        0.2,
        0.1,
        0.1,
        0.1,
        0.1,
        0.3,
        0.8,
        1.8,
        3.0,
        3.5,
        3.5,
        3.0,
        2.5,
        2.8,
        3.2,
        3.2,
        3.0,
        2.8,
        2.2,
        1.8,
        1.5,
        1.2,
        0.8,
        0.4,
    ]
)
WEEKDAY = np.array([1.08, 1.05, 1.02, 1.0, 1.0, 0.88, 0.85])  # Monday first
# Realistic anomalies so a first start shows early warnings (docs/warnings.md):
# (community, grid number, category, days back from today, share of each of those
# days' reports moved into this cell). A burst water main in one grid all week; a pile
# of dumped rubbish reported again and again this morning.
SURGES = (
    ("龙塔社区", 2, "物业维修", range(0, 6), 0.04),
    ("和平社区", 1, "城市管理", range(0, 1), 0.20),
)
SURGE_SEED = 15  # a generator of its own: the rest of the demo draws as before

# ---------------------------------------- key groups
KEY_GROUPS = (
    "低保",
    "特困",
    "高龄",
    "独居老人",
    "残疾人",
    "退役军人",
    "留守儿童",
    "大病",
    "低收入家庭",
)

# ---------------------------------------- participation
VOTE_TITLES = (
    ("使用维修资金更换电梯", "major"),
    ("选举业主委员会", "ordinary"),
    ("增设充电桩", "ordinary"),
    ("外墙翻新改造", "major"),
    ("续聘物业服务企业", "ordinary"),
    ("调整停车收费标准", "ordinary"),
    ("使用维修资金修缮屋面防水", "major"),
    ("增设健身器材", "ordinary"),
    ("消防设施改造", "major"),
    ("修订管理规约", "ordinary"),
)
ENGAGEMENT_KINDS = (
    (
        "questionnaire",
        "opinion",
        "suggestion",
        "praise",
        "complaint",
        "volunteer",
        "registration",
    ),
    [0.34, 0.20, 0.14, 0.08, 0.06, 0.10, 0.08],
)
LAUNCH_MONTHS_AGO = 8
PARTICIPATION = (0.18, 0.32, 0.46, 0.60)  # launch month, +1, +2, +3 and after

# ---------------------------------------- ledger
# (direction, category, probability per compound-month, fen low, fen high, fen step,
#  counterparty, note); a zero range means a fixed amount
LEDGER_LINES = (
    ("income", "摊位租金", 0.55, 100000, 100000, 1, "便民早餐摊位", "摊位租金收入"),
    (
        "income",
        "电梯广告",
        0.70,
        180000,
        360000,
        60000,
        "新潮传媒有限公司",
        "电梯广告位租金",
    ),
    ("income", "停车费", 0.95, 250000, 900000, 100, "临时停车收费", "公共车位停车费"),
    (
        "income",
        "快递柜场地费",
        0.40,
        30000,
        60000,
        10000,
        "丰巢科技",
        "快递柜场地使用费",
    ),
    ("expense", "广告印刷", 0.35, 37320, 37320, 1, "彩虹图文印刷店", "公示栏海报印刷"),
    ("expense", "维修", 0.60, 20000, 450000, 10, "安居维修服务部", "公共设施维修"),
    ("expense", "保洁", 0.50, 150000, 300000, 5000, "洁美保洁公司", "公共区域保洁"),
    (
        "expense",
        "改造",
        0.03,
        2000000,
        8000000,
        100,
        "城建装饰工程有限公司",
        "公共部位改造",
    ),
)


# When the demo's data stops on its last day, unless told otherwise.
DEMO_CLOCK = datetime.time(9, 0)


def write_demo(
    out_dir: Path,
    seed: int = 20261123,
    years: int = 2,
    today: datetime.date | None = None,
    tickets_per_year: int = 110_000,
    clock: datetime.time = DEMO_CLOCK,
) -> dict[str, Path]:
    """Write demo inputs for a fictional sub-district into out_dir.

    Args:
        out_dir: directory to write into (created if missing).
        seed: seed of the generator; same seed, today and clock give the same bytes.
        years: how many years of tickets and ledger to generate, ending today.
        today: the demo's current date (default: date.today()).
        tickets_per_year: ticket volume; ~110,000 is a sub-district's (docs/domain.md).
        clock: time of day on `today` at which the demo's data stops (nothing later).

    Returns:
        {source_name: path} for every source of pipelines/sources.py, and "geo": the
        sub-district's fictional map (GeoJSON).
    """
    today = today or datetime.date.today()
    now = np.datetime64(datetime.datetime.combine(today, clock), "s")
    rng = np.random.default_rng(seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    grids = _grids(rng)
    people = _population(rng, grids, today, now)
    frames = {"grids": grids.drop(columns=["compound", "building_base", "buildings"])}
    frames["compounds"] = _compounds(grids)
    frames["population"] = people.drop(columns=["area_fen", "member", "size"])
    frames["tickets"] = _tickets(rng, grids, now, years, tickets_per_year)
    frames["votes"], frames["ballots"] = _votes_and_ballots(rng, people, today, now)
    frames["engagement"] = _engagement(rng, people, frames["ballots"], today, now)
    frames["ledger"], frames["ledger_balances"] = _ledger(rng, today, years)

    paths = {}
    con = duckdb.connect()
    try:
        for name in SOURCE_REGISTRY:  # one file per load source
            paths[name] = out_dir / f"{name}.csv"
            con.register("frame", frames[name])
            con.execute(
                "copy (select * from frame) to $path (header, delimiter ',')",
                {"path": str(paths[name])},
            )
            con.unregister("frame")
            logger.info("demo %s: %d rows -> %s", name, len(frames[name]), paths[name])
    finally:
        con.close()
    paths["geo"] = out_dir / "geo.geojson"  # the map: loaded after the names it uses
    paths["geo"].write_text(json.dumps(_map(grids), ensure_ascii=False), encoding="utf-8")
    return paths


# ---------------------------------------- helpers
def _pick(rng: np.random.Generator, values, p, size: int) -> np.ndarray:
    """Draw `size` values with probabilities `p` (normalised)."""
    p = np.asarray(p, dtype=float)
    return np.asarray(values)[rng.choice(len(p), size=size, p=p / p.sum())]


def _digits(rng: np.random.Generator, n: int, width: int) -> pd.Series:
    """n random zero-padded digit strings of `width` digits."""
    return pd.Series(rng.integers(0, 10**width, n)).astype(str).str.zfill(width)


def _names(rng: np.random.Generator, n: int) -> pd.Series:
    """Fictional Chinese names of two or three characters."""
    surname = pd.Series(_pick(rng, SURNAMES, np.ones(len(SURNAMES)), n))
    first = _pick(rng, GIVEN_CHARS, np.ones(len(GIVEN_CHARS)), n)
    second = np.where(
        rng.random(n) < 0.7, _pick(rng, GIVEN_CHARS, np.ones(len(GIVEN_CHARS)), n), ""
    )
    return surname + first + second


def _phones(rng: np.random.Generator, n: int) -> pd.Series:
    """Fictional mobile numbers: a real-looking prefix and 8 random digits."""
    prefix = pd.Series(_pick(rng, MOBILE_PREFIXES, np.ones(len(MOBILE_PREFIXES)), n))
    return prefix + _digits(rng, n, 8)


def _fen_text(fen) -> pd.Series:
    """Integer hundredths as exact two-decimal text: 37320 -> '373.20'."""
    fen = pd.Series(np.asarray(fen, dtype=np.int64))
    return (fen // 100).astype(str) + "." + (fen % 100).astype(str).str.zfill(2)


def national_id_check(first17: np.ndarray) -> np.ndarray:
    """ISO 7064 MOD 11-2 check characters for an (n, 17) array of digits."""
    return ID_CHECK[(first17 * ID_WEIGHTS).sum(axis=1) % 11]


def _month_start(day: datetime.date, back: int = 0) -> datetime.date:
    """First day of the month `back` months before `day`'s month."""
    index = day.year * 12 + day.month - 1 - back
    return datetime.date(index // 12, index % 12 + 1, 1)


# ---------------------------------------- grids
def _grids(rng: np.random.Generator) -> pd.DataFrame:
    """One row per grid, with its compound and building range (kept for population)."""
    rows = []
    for community, zone, n_grids, _ in COMMUNITIES:
        compounds = [c for owner, c in COMPOUNDS if owner == community]
        for i in range(n_grids):
            rows.append(
                {
                    "zone": ZONES[zone],
                    "community": community,
                    "grid": f"{community}第{i + 1}网格",
                    "compound": compounds[i % len(compounds)],
                    # grids sharing a compound get separate building numbers
                    "building_base": (i // len(compounds)) * 20,
                }
            )
    grids = pd.DataFrame(rows)
    n = len(grids)
    grids["grid_head"] = "网格长" + _names(rng, n)
    workers = np.full(n, GRID_WORKERS_TOTAL // n)
    workers[rng.permutation(n)[: GRID_WORKERS_TOTAL - workers.sum()]] += 1
    grids["grid_workers"] = workers
    grids["households_served"] = rng.integers(200, 301, n)
    grids["buildings"] = rng.integers(8, 19, n)
    return grids[
        [
            "zone",
            "community",
            "grid",
            "grid_head",
            "grid_workers",
            "households_served",
            "compound",
            "building_base",
            "buildings",
        ]
    ]


def _map(grids: pd.DataFrame) -> dict:
    """A fictional GeoJSON map of the communities, their grids and compounds."""
    from pipelines.geo import demo_geojson

    communities = [(c, list(grids.loc[grids["community"] == c, "grid"]))
                   for c, *_ in COMMUNITIES]
    return demo_geojson(communities, {compound: c for c, compound in COMPOUNDS})


def _compounds(grids: pd.DataFrame) -> pd.DataFrame:
    """The center's compounds list: each compound's community, and its grid when it lies
    in one grid only (a compound shared by grids leaves the grid empty)."""
    rows = []
    for community, compound in COMPOUNDS:
        in_grids = grids.loc[grids["compound"] == compound, "grid"].tolist()
        grid = in_grids[0] if len(in_grids) == 1 else ""
        rows.append({"compound": compound, "community": community, "grid": grid})
    return pd.DataFrame(rows, columns=["compound", "community", "grid"])


# ---------------------------------------- population
def _population(rng, grids: pd.DataFrame, today: datetime.date, now) -> pd.DataFrame:
    """Residents of every grid's households; owners carry their area (area_fen)."""
    hh_grid = np.repeat(np.arange(len(grids)), grids["households_served"].to_numpy())
    n_hh = len(hh_grid)
    hh_size = _pick(rng, *HOUSEHOLD_SIZES, n_hh)
    hh_building = grids["building_base"].to_numpy()[hh_grid] + rng.integers(
        1, grids["buildings"].to_numpy()[hh_grid] + 1
    )
    hh_residence = _pick(rng, *RESIDENCE, n_hh)
    hh_owner = (hh_residence != "floating") & (rng.random(n_hh) < 0.85)
    hh_area = rng.integers(5000, 18001, n_hh)  # m2 in hundredths
    hh_poor = rng.random(n_hh) < 0.012  # 低保
    hh_low_income = ~hh_poor & (rng.random(n_hh) < 0.015)
    # heads: adults; people living alone are often elderly
    head_age = np.clip(rng.normal(50, 15, n_hh), 22, 96)
    alone_old = (hh_size == 1) & (rng.random(n_hh) < 0.45)
    head_age = np.where(alone_old, rng.integers(65, 97, n_hh), head_age).astype(int)

    hh = np.repeat(np.arange(n_hh), hh_size)
    n = len(hh)
    first = np.cumsum(hh_size) - hh_size
    member = np.arange(n) - first[hh]
    size = hh_size[hh]
    base = head_age[hh]
    role = rng.random(n)
    age = np.where(
        member == 0,
        base,
        np.where(
            member == 1,
            base + rng.integers(-5, 6, n),
            np.where(
                role < 0.72,
                np.clip(base - rng.integers(22, 34, n), 0, None),
                np.clip(base + rng.integers(24, 34, n), None, 101),
            ),
        ),
    )
    age = np.clip(age, 0, 101)
    head_sex = rng.random(n) < 0.5
    male = np.where(
        member == 1, ~head_sex, np.where(member == 0, head_sex, rng.random(n) < 0.5)
    )
    birth = (
        np.datetime64(today, "D") - (age * 365.25).astype(int) - rng.integers(1, 365, n)
    ).astype("datetime64[D]")

    residence = hh_residence[hh]
    region = np.where(
        residence == "floating",
        _pick(rng, OTHER_REGIONS, np.ones(len(OTHER_REGIONS)), n),
        np.where(
            rng.random(n) < 0.9,
            HOME_REGION,
            _pick(rng, OTHER_REGIONS, np.ones(len(OTHER_REGIONS)), n),
        ),
    )
    birth_text = pd.Series(np.datetime_as_string(birth, unit="D"))
    ymd = birth_text.str.replace("-", "")
    # the sequence makes ids unique: odd for men, even for women
    rank = (
        pd.DataFrame({"r": region, "b": ymd, "m": male})
        .groupby(["r", "b", "m"])
        .cumcount()
        .to_numpy()
    )
    seq = pd.Series(2 * rank + np.where(male, 1, 2) + 10 * rng.integers(0, 20, n))
    first17 = pd.Series(region) + ymd + seq.astype(str).str.zfill(3)
    digits = (
        np.frombuffer(first17.str.cat().encode(), dtype=np.uint8).reshape(n, 17) - 48
    )
    person_id = first17 + national_id_check(digits.astype(int))

    grid_idx = hh_grid[hh]
    groups = {
        "低保": hh_poor[hh],
        "特困": (age >= 60) & (size == 1) & (rng.random(n) < 0.03),
        "高龄": age >= 80,
        "独居老人": (age >= 65) & (size == 1) & (rng.random(n) < 0.9),
        "残疾人": rng.random(n) < 0.018,
        "退役军人": male & (age >= 25) & (age <= 85) & (rng.random(n) < 0.03),
        "留守儿童": (age < 16) & (rng.random(n) < 0.02),
        "大病": rng.random(n) < 0.006,
        "低收入家庭": hh_low_income[hh],
    }
    key_groups = pd.Series([""] * n)
    for name in KEY_GROUPS:
        key_groups = key_groups + np.where(groups[name], name + ";", "")
    updated = now - rng.integers(3600, 365 * 86400, n).astype("timedelta64[s]")

    return pd.DataFrame(
        {
            "person_id": person_id,
            "household_id": pd.Series(hh + 1).astype(str).str.zfill(6).radd("H"),
            "community": grids["community"].to_numpy()[grid_idx],
            "grid": grids["grid"].to_numpy()[grid_idx],
            "compound": grids["compound"].to_numpy()[grid_idx],
            "building": pd.Series(hh_building[hh]).astype(str) + "栋",
            "birth_date": birth_text,
            "sex": np.where(male, "男", "女"),
            "residence": residence,
            "is_owner": ((member == 0) & hh_owner[hh]).astype(int),
            "key_groups": key_groups.str.rstrip(";").replace("", None),
            "name": _names(rng, n),
            "phone": np.where(age >= 14, _phones(rng, n), None),
            "updated_at": updated,
            "area_fen": hh_area[hh],
            "member": member,
            "size": size,
        }
    )


# ---------------------------------------- tickets
def _tickets(rng, grids: pd.DataFrame, now, years: int, per_year: int) -> pd.DataFrame:
    """Tickets over `years` up to `now`, with a closed-loop lifecycle per level."""
    n = per_year * years
    today = now.astype("datetime64[D]")
    days = np.arange(today - 365 * years + 1, today + 1)
    # minute-of-day distribution; today only up to the clock
    minute_cdf = np.cumsum(np.repeat(HOURLY / 60, 60))
    minute_cdf /= minute_cdf[-1]
    elapsed = (
        minute_cdf[int((now - today).astype(int) // 60) - 1] if now > today else 0.0
    )
    doy = (days - days.astype("datetime64[Y]")).astype(int)
    weekday = (days.astype(int) + 3) % 7  # 1970-01-01 was a Thursday
    weight = (
        WEEKDAY[weekday]
        * (1 + 0.15 * np.sin(2 * np.pi * (doy - 100) / 365))
        * np.linspace(0.92, 1.08, len(days))
    )
    weight[-1] *= elapsed
    day = days[np.sort(rng.choice(len(days), n, p=weight / weight.sum()))]
    u = rng.random(n) * np.where(day == today, elapsed, 1.0)
    minute = np.minimum(np.searchsorted(minute_cdf, u), 1439)
    reported = day.astype("datetime64[s]") + minute * 60 + rng.integers(0, 60, n)
    reported = np.sort(np.minimum(reported, now - 1))

    g_weight = grids["households_served"].to_numpy() * np.repeat(
        [c[3] for c in COMMUNITIES], [c[2] for c in COMMUNITIES]
    )
    g = rng.choice(len(grids), n, p=g_weight / g_weight.sum())
    level = rng.choice(4, n, p=LEVEL_SHARE) + 1
    names = list(CATEGORIES)
    category = _pick(rng, names, [CATEGORIES[c][0] for c in names], n)
    # property-dispute complaints this calendar year are ~25% fewer than in the same
    # period last year (docs/domain.md); 30% offsets the ~8% yearly growth above
    this_year = reported.astype("datetime64[Y]") == today.astype("datetime64[Y]")
    category = np.where(
        (category == PROPERTY_DISPUTE) & this_year & (rng.random(n) < 0.30),
        "物业维修",
        category,
    )

    g, category = _inject_surges(grids, day, today, g, category)

    handler = np.empty(n, dtype=object)
    phrase = np.empty(n, dtype=object)
    street = np.zeros(n, dtype=bool)
    for name, (_, handler_p, is_street, phrases) in CATEGORIES.items():
        rows = category == name
        k = int(rows.sum())
        handler[rows] = _pick(rng, HANDLERS, handler_p, k)
        phrase[rows] = _pick(rng, phrases, np.ones(len(phrases)), k)
        street[rows] = is_street
    # street problems often belong to no compound and are placed on a road
    on_road = street & (rng.random(n) < 0.6)
    compound = np.where(on_road, None, grids["compound"].to_numpy()[g])
    road = _pick(rng, ROADS, np.ones(len(ROADS)), n)
    building = (
        grids["compound"].to_numpy()[g] + rng.integers(1, 19, n).astype(str) + "栋"
    )
    place = np.where(on_road, road, building)
    description = pd.Series(place) + pd.Series(phrase)
    with_phone = rng.random(n) < 0.01
    # a full-width comma before the contact number, as residents type it
    contact = "\uff0c联系电话" + _phones(rng, n)[with_phone]
    description[with_phone] = description[with_phone] + contact

    minutes = np.timedelta64(60, "s")
    accepted = reported + (rng.exponential(8, n) * 60 + 30).astype("timedelta64[s]")
    # responded within 6 hours of the report mostly; late ones are often escalated
    late_p = np.where(handler == "property", 0.12, 0.05)
    late = rng.random(n) < late_p
    late_hours = np.where(level == 1, rng.uniform(6.1, 9, n), rng.uniform(6.2, 30, n))
    response_s = np.where(
        late,
        late_hours * 3600,
        np.minimum(rng.lognormal(np.log(3600), 0.9, n), 5.5 * 3600),
    )
    responded = accepted + response_s.astype("timedelta64[s]")
    late = responded > reported + np.timedelta64(6 * 3600, "s")
    # escalated to the community soon after the 6 hours ran out, before the response
    overdue_s = (responded - reported).astype(float) - 6 * 3600
    escalated = np.where(
        late & (rng.random(n) < 0.5),
        reported
        + (6 * 3600 + rng.random(n) * np.minimum(overdue_s, 1800)).astype(
            "timedelta64[s]"
        ),
        np.datetime64("NaT"),
    )

    # closing: hours after acceptance by level; about 3-5% finish late
    day_left = (
        (accepted.astype("datetime64[D]") + 1).astype("datetime64[s]") - accepted
    ).astype(float)
    slow = rng.random(n) < 0.04
    l1 = np.where(
        slow,
        day_left + rng.uniform(1, 30, n) * 3600,
        np.minimum(
            rng.lognormal(np.log(2.5 * 3600), 0.8, n),
            day_left * rng.uniform(0.5, 0.98, n),
        ),
    )
    l2 = np.where(slow, rng.uniform(3.2, 6, n), rng.uniform(0.2, 2.9, n)) * 86400
    l3 = np.where(slow, rng.uniform(8, 14, n), rng.uniform(1, 6.5, n)) * 86400
    l4 = (
        np.where(
            slow | (rng.random(n) < 0.15),
            rng.uniform(21, 30, n),
            rng.uniform(12, 20, n),
        )
        * 86400
    )
    close_s = np.choose(level - 1, [l1, l2, l3, l4])
    closed = accepted + close_s.astype("timedelta64[s]")
    # a timely response comes before closing; a late one delays the closing
    responded = np.where(
        ~late & (responded >= closed),
        accepted
        + ((closed - accepted).astype(float) * rng.uniform(0.2, 0.8, n)).astype(
            "timedelta64[s]"
        ),
        responded,
    )
    closed = np.maximum(closed, responded + rng.integers(5, 90, n) * minutes)
    # a few recent tickets are stuck: open now and past their time limit
    stuck = (reported > now - np.timedelta64(90, "D")) & (rng.random(n) < 0.01)
    closed = np.where(stuck | (closed > now), np.datetime64("NaT"), closed)
    is_closed = ~np.isnat(closed)
    rated = is_closed & (rng.random(n) < 0.6)
    satisfaction = np.where(
        rated, np.where(rng.random(n) < 0.976, "satisfied", "unsatisfied"), None
    )

    def upto_now(ts):
        return np.where(ts > now, np.datetime64("NaT"), ts)

    accepted, responded, escalated = (
        upto_now(accepted),
        upto_now(responded),
        upto_now(escalated),
    )
    stamps = np.stack([reported, accepted, responded, escalated, closed])
    updated = np.where(np.isnat(stamps), np.datetime64(0, "s"), stamps).max(axis=0)

    year = reported.astype("datetime64[Y]").astype(int) + 1970
    first_of_year = np.searchsorted(year, year)
    width = max(6, len(str(per_year * 2)))
    ticket_id = (
        "T"
        + pd.Series(year).astype(str)
        + pd.Series(np.arange(n) - first_of_year + 1).astype(str).str.zfill(width)
    )
    return pd.DataFrame(
        {
            "ticket_id": ticket_id,
            "reported_at": reported,
            "accepted_at": accepted,
            "responded_at": responded,
            "escalated_at": escalated,
            "closed_at": closed,
            "level": level,
            "category": category,
            "community": grids["community"].to_numpy()[g],
            "grid": grids["grid"].to_numpy()[g],
            "compound": compound,
            "source": _pick(rng, *SOURCES, n),
            "handler": handler,
            "satisfaction": satisfaction,
            "description": description,
            "updated_at": updated,
        }
    )


def _inject_surges(grids: pd.DataFrame, day, today, g: np.ndarray, category: np.ndarray):
    """Move some of a surge day's reports from other cells into each SURGES cell (the
    day's total stays as drawn), with a generator of its own."""
    rng = np.random.default_rng(SURGE_SEED)
    g, category = g.copy(), category.copy()
    community = grids["community"].to_numpy()
    for name, grid_no, cat, days_back, share in SURGES:
        target = int(np.flatnonzero(grids["grid"].to_numpy() == f"{name}第{grid_no}网格")[0])
        for back in days_back:
            on_day = np.flatnonzero((day == today - back) & (community[g] != name))
            k = min(len(on_day), round(share * (day == today - back).sum()))
            moved = rng.choice(on_day, k, replace=False)
            g[moved], category[moved] = target, cat
    return g, category


# ---------------------------------------- votes
def _votes_and_ballots(rng, people: pd.DataFrame, today: datetime.date, now):
    """~40 votes after the launch: closed ones passed or failed, five still open."""
    owners = people[people["is_owner"] == 1]
    compounds = [c for _, c in COMPOUNDS]
    launch = np.datetime64(_month_start(today, LAUNCH_MONTHS_AGO), "D")
    day0 = np.datetime64(today, "D")
    n_closed, n_open = 36, 5
    # closed votes open from launch+3 months to 5 weeks ago; open ones in 3 weeks
    span = int((day0 - 35 - (launch + 90)).astype(int))
    opens = np.concatenate(
        [
            launch + 90 + np.sort(rng.integers(0, max(span, 1), n_closed)),
            day0 - rng.integers(3, 21, n_open),
        ]
    ).astype("datetime64[s]") + np.timedelta64(9 * 3600, "s")
    closes_on = np.concatenate(
        [
            opens[:n_closed].astype("datetime64[D]") + rng.integers(14, 31, n_closed),
            day0 + rng.integers(1, 8, n_open),
        ]
    )
    closes = closes_on.astype("datetime64[s]") + np.timedelta64(20 * 3600, "s")
    # turnout of owners: most above 2/3; five closed votes fall short of it, four more
    # lack approval, and the last open vote is at risk of failing its turnout
    n = n_closed + n_open
    compound = _pick(rng, compounds, np.ones(len(compounds)), n)
    title_idx = rng.integers(0, len(VOTE_TITLES), n)
    turnout = rng.uniform(0.70, 0.86, n)
    yes_share = rng.uniform(0.80, 0.93, n)
    failing = rng.permutation(n_closed)
    turnout[failing[:5]] = rng.uniform(0.45, 0.62, 5)
    yes_share[failing[5:9]] = rng.uniform(0.30, 0.46, 4)
    turnout[-1] = 0.28
    votes, ballots = [], []
    for i in range(n):
        vote_id = f"V{str(opens[i])[:4]}{i + 1:03d}"
        mine = owners[owners["compound"] == compound[i]]
        title, matter = VOTE_TITLES[title_idx[i]]
        votes.append(
            {
                "vote_id": vote_id,
                "compound": compound[i],
                "title": title,
                "matter": matter,
                "opens_at": opens[i],
                "closes_at": closes[i],
                "eligible_owners": len(mine),
                "eligible_area_m2": _fen_text([mine["area_fen"].sum()])[0],
            }
        )
        end = min(closes[i], now)
        # an open vote has collected only the elapsed part of its turnout
        done = (end - opens[i]) / (closes[i] - opens[i])
        voted = mine[rng.random(len(mine)) < turnout[i] * min(1.0, done**0.7 * 1.1)]
        k = len(voted)
        window = (end - opens[i]).astype(int)
        cast = opens[i] + (rng.random(k) ** 1.6 * window).astype("timedelta64[s]")
        choice = np.where(
            rng.random(k) < yes_share[i],
            "yes",
            np.where(rng.random(k) < 0.7, "no", "abstain"),
        )
        one = pd.DataFrame(
            {
                "vote_id": vote_id,
                "owner_id": voted["person_id"].to_numpy(),
                "area_m2": _fen_text(voted["area_fen"]).to_numpy(),
                "choice": choice,
                "cast_at": cast,
            }
        )
        # a few owners change their mind: a later ballot replaces the earlier one
        again = one[rng.random(k) < 0.02].copy()
        again["cast_at"] = np.minimum(
            again["cast_at"].to_numpy()
            + rng.integers(3600, 3 * 86400, len(again)).astype("timedelta64[s]"),
            end,
        )
        again["choice"] = np.where(again["choice"] == "yes", "no", "yes")
        ballots.append(pd.concat([one, again]).sort_values(["cast_at", "owner_id"]))
    return pd.DataFrame(votes), pd.concat(ballots, ignore_index=True)


# ---------------------------------------- engagement
def _engagement(
    rng, people: pd.DataFrame, ballots: pd.DataFrame, today: datetime.date, now
) -> pd.DataFrame:
    """Events that take monthly household participation from 18% to 60% after launch."""
    heads = people[people["member"] == 0]  # index = position in people
    owner_household = dict(
        zip(people["person_id"], people["household_id"], strict=True)
    )
    voted = pd.DataFrame(
        {
            "household_id": ballots["owner_id"].map(owner_household),
            "month": ballots["cast_at"].to_numpy().astype("datetime64[M]"),
        }
    ).drop_duplicates()
    compound_code, _ = pd.factorize(heads["compound"])
    size = np.bincount(compound_code)
    events = []
    for m in range(LAUNCH_MONTHS_AGO + 1):
        month = np.datetime64(_month_start(today, LAUNCH_MONTHS_AGO - m), "M")
        month_end = min((month + 1).astype("datetime64[s]"), now)
        length = (month_end - month.astype("datetime64[s]")).astype(int)
        full = ((month + 1) - month.astype("datetime64[D]")).astype(int) * 86400
        # the current month has only run part of its course
        target = PARTICIPATION[min(m, len(PARTICIPATION) - 1)] * min(
            1.0, 1.3 * length / full
        )
        already = (
            heads["household_id"]
            .isin(voted.loc[voted["month"] == month, "household_id"])
            .to_numpy()
        )
        need = np.round(target * size * rng.uniform(0.95, 1.05, len(size)))
        need -= np.bincount(compound_code, weights=already, minlength=len(size))
        # households that voted already take part; pick the rest at random per compound
        key = pd.Series(rng.random(len(heads)) + 2 * already)
        rank = key.groupby(compound_code).rank(method="first").to_numpy() - 1
        chosen = heads[~already & (rank < need[compound_code])]
        per = rng.choice([1, 2, 3], len(chosen), p=[0.6, 0.3, 0.1])
        rows = chosen.loc[chosen.index.repeat(per)]
        k = len(rows)
        # the head or, in larger households, the partner acts
        partner = (rng.random(k) < 0.4) & (rows["size"].to_numpy() > 1)
        day = rng.integers(0, max(1, length // 86400 + (length % 86400 > 0)), k)
        offset = day * 86400 + rng.integers(7 * 3600, 22 * 3600, k)
        offset = np.where(offset >= length, rng.integers(0, length, k), offset)
        events.append(
            pd.DataFrame(
                {
                    "compound": rows["compound"].to_numpy(),
                    "kind": _pick(rng, *ENGAGEMENT_KINDS, k),
                    "occurred_at": month.astype("datetime64[s]")
                    + offset.astype("timedelta64[s]"),
                    "person_id": people["person_id"].to_numpy()[
                        rows.index.to_numpy() + partner
                    ],
                    "household_id": rows["household_id"].to_numpy(),
                }
            )
        )
    out = pd.concat(events, ignore_index=True).sort_values(
        ["occurred_at", "household_id"], kind="stable", ignore_index=True
    )
    out.insert(
        0,
        "event_id",
        pd.Series(np.arange(1, len(out) + 1)).astype(str).str.zfill(7).radd("E"),
    )
    return out


# ---------------------------------------- ledger
def _ledger(rng, today: datetime.date, years: int):
    """Monthly income and expense lines per compound, and opening balances."""
    compounds = np.array([c for _, c in COMPOUNDS])
    first = _month_start(today, 12 * years - 1)
    months = np.arange(np.datetime64(first, "M"), np.datetime64(today, "M") + 1)
    kinds = len(LEDGER_LINES)
    c, m, k = (
        a.ravel()
        for a in np.meshgrid(
            np.arange(len(compounds)),
            np.arange(len(months)),
            np.arange(kinds),
            indexing="ij",
        )
    )
    prob = np.array([line[2] for line in LEDGER_LINES])[k]
    # some compounds have no stall or advertising at all
    has_line = rng.random((len(compounds), kinds)) < 0.8
    has_line[:, 2] = True  # every compound lets parking spaces
    keep = (rng.random(len(c)) < prob) & has_line[c, k]
    # one compound-month with no income at all (tests and the wall must handle it)
    keep &= ~((c == 5) & (m == len(months) - 3) & (k < 4))
    c, m, k = c[keep], m[keep], k[keep]
    low = np.array([line[3] for line in LEDGER_LINES])[k]
    high = np.array([line[4] for line in LEDGER_LINES])[k]
    step = np.array([line[5] for line in LEDGER_LINES])[k]
    fen = low + rng.integers(0, (high - low) // step + 1) * step

    month_days = (months + 1).astype("datetime64[D]") - months.astype("datetime64[D]")
    day = rng.integers(0, month_days.astype(int)[m])
    booked = months.astype("datetime64[D]")[m] + day
    booked = np.minimum(booked, np.datetime64(today, "D"))
    order = np.lexsort((k, booked, c))
    c, m, k, fen, booked = c[order], m[order], k[order], fen[order], booked[order]
    ledger = pd.DataFrame(
        {
            "entry_id": pd.Series(np.arange(1, len(c) + 1))
            .astype(str)
            .str.zfill(6)
            .radd("L"),
            "compound": compounds[c],
            "booked_on": np.datetime_as_string(booked, unit="D"),
            "direction": np.array([line[0] for line in LEDGER_LINES])[k],
            "category": np.array([line[1] for line in LEDGER_LINES])[k],
            "amount": _fen_text(fen),
            "counterparty": np.array([line[6] for line in LEDGER_LINES])[k],
            "voucher_no": (
                "PZ"
                + pd.Series(months[m].astype(str)).str.replace("-", "")
                + "-"
                + pd.Series(c + 1).astype(str).str.zfill(2)
                + pd.Series(k + 1).astype(str).str.zfill(2)
            ),
            "note": pd.Series(months[m].astype("datetime64[M]").astype(str))
            .str[5:7]
            .astype(int)
            .astype(str)
            + "月"
            + np.array([line[7] for line in LEDGER_LINES])[k],
        }
    )
    # the opening balance is large enough that no month ends below zero
    signed = np.where(ledger["direction"] == "income", fen, -fen)
    lowest = pd.Series(signed).groupby(c).cumsum().groupby(c).min()
    need = np.maximum(
        0, -lowest.reindex(range(len(compounds)), fill_value=0).to_numpy()
    )
    opening = need + rng.integers(2_000_000, 9_000_000, len(compounds))
    balances = pd.DataFrame(
        {
            "compound": compounds,
            "month": str(months[0]),
            "opening_balance": _fen_text(opening),
        }
    )
    return ledger, balances
