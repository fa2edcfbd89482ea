"""One registry for every figure a user sees: key, Japanese label, unit, format, aggregation, source.

Views (CLI table and CSV, app tables and legends, HTML map, print map, Excel, GeoPackage) take
labels, units and formats from here and nowhere else, so a label cannot drift between outputs.
Aggregation says how an area's value follows from its members':

* ``sum`` — the members' values added; unknown when any member's is unknown (never a partial total);
* ``ratio`` — one sum over another, computed from the sums (never an average of members' ratios).

No file format and no UI library is imported here: this is core.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from geo_app.core.plan import HUB_LABELS, LEVEL_JA

__all__ = [
    "Metric",
    "Field",
    "METRICS",
    "FIELDS",
    "metric",
    "header",
    "label",
    "MAP_METRICS",
    "format_value",
    "UNKNOWN_TEXT",
    "AREA_LEVELS",
    "ALL_LEVELS",
    "level_header",
    "PROJECTION_YEARS",
    "PROJECTION_YEARS_2018",
    "TARGET_YEAR",
    "FUTURE_COUNTS",
    "FUTURE_COLUMNS",
    "FUTURE_KEYS",
    "SUPPLY_KEYS",
    "SUPPLY_COUNTS",
    "ADDED_KEYS",
    "ADDED_COUNTS",
]

Aggregation = Literal["sum", "ratio"]
Kind = Literal["count", "percent", "decimal"]

CENSUS = "population"  # the population table in use (2020 census by default, or the user's own)
BOUNDARIES = "boundaries"  # the N03 boundaries in use (km² on an equal-area projection)
#: Levels of areas (municipalities grouped), and the same with single municipalities.
AREA_LEVELS: tuple[str, ...] = ("homecare", "secondary", "tertiary")
ALL_LEVELS: tuple[str, ...] = ("municipality", *AREA_LEVELS)
#: Units a header leaves out: a count of people is plainly 人, and a percentage carries its own %.
_SELF_EVIDENT_UNITS = ("人", "", "%")


@dataclass(frozen=True)
class Metric:
    """A figure. `numerator`/`denominator` name the metrics a ratio is computed from.

    `levels`: where the figure exists (a municipality has no 市町村数).
    """

    key: str
    label: str
    unit: str
    kind: Kind
    aggregation: Aggregation
    source: str
    decimals: int = 0
    numerator: str | None = None
    denominator: tuple[str, ...] = ()  # denominator = first − the rest (e.g. population − age unknown)
    note: str = ""
    levels: tuple[str, ...] = ALL_LEVELS
    scale: float = 1.0  # a ratio times this: an index with the base year = 100
    short: str = ""  # a label short enough for a map label line (the label when empty)
    listed: bool = True  # False: an input of other figures (a weighted sum), not a column of its own

    @property
    def header(self) -> str:
        """Column header, with its unit when the cells do not show it: 「面積（km²）」, 「人口」, 「高齢化率」."""
        return self.label if self.unit in _SELF_EVIDENT_UNITS else f"{self.label}（{self.unit}）"

    @property
    def brief(self) -> str:
        """The short label of a map's area label line: 「2040年医療需要」 for 「医療需要指数（2040年、2020年=100）」."""
        return self.short or self.label

    @property
    def excel_format(self) -> str:
        """Excel number format: the cell keeps the number, the format shows it as `format` does."""
        if self.kind == "percent":
            return "0." + "0" * max(self.decimals, 1) + "%"
        return "#,##0" if self.decimals == 0 else "#,##0." + "0" * self.decimals

    def format(self, value: object, *, unit: bool = True) -> str:
        """Text for a person: 1,973,395 人 · 27.9% · 190.2 人/km²; unknown is 「—」.

        `unit=False` is the text of a table cell under `header` (which names the unit):
        1,973,395 · 27.9% · 190.2 — a percentage keeps its sign, as its header has no unit.
        """
        return format_value(self, value, unit=unit)


@dataclass(frozen=True)
class Field:
    """A column that is not a figure: names, parents, status."""

    key: str
    label: str


#: How every view writes a figure that is not known (a member without a count, say). A word, not a
#: dash: in Japanese statistical tables「—」「-」 mean 該当なし (zero), and readers take them so.
UNKNOWN_TEXT = "不明"


def format_value(m: Metric, value: object, *, unit: bool = True) -> str:
    """Shared by `Metric.format`: one rule for rounding and units across every view."""
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return UNKNOWN_TEXT
    if math.isnan(v):
        return UNKNOWN_TEXT
    if m.kind == "percent":
        return f"{v * 100:.{max(m.decimals, 1)}f}%"
    text = f"{round(v):,}" if m.decimals == 0 else f"{v:,.{m.decimals}f}"
    return f"{text} {m.unit}" if unit and m.unit else text


_M = [
    Metric("population", "人口", "人", "count", "sum", CENSUS),
    Metric("age_0_14", "0〜14歳", "人", "count", "sum", CENSUS),
    Metric("age_15_64", "15〜64歳", "人", "count", "sum", CENSUS),
    Metric("age_65_plus", "65歳以上", "人", "count", "sum", CENSUS),
    Metric("age_75_plus", "75歳以上", "人", "count", "sum", CENSUS),
    Metric("age_85_plus", "85歳以上", "人", "count", "sum", CENSUS),
    Metric("age_unknown", "年齢不詳", "人", "count", "sum", CENSUS),
    Metric("municipalities", "市町村数", "", "count", "sum", "plan", levels=AREA_LEVELS),
    Metric(
        "aging_rate",
        "高齢化率",
        "%",
        "percent",
        "ratio",
        CENSUS,
        1,
        "age_65_plus",
        ("population", "age_unknown"),
        "65歳以上 ÷（人口 − 年齢不詳）。国勢調査の算出方法に合わせています。",
    ),
    Metric(
        "share_75_plus",
        "75歳以上の割合",
        "%",
        "percent",
        "ratio",
        CENSUS,
        1,
        "age_75_plus",
        ("population", "age_unknown"),
        "75歳以上 ÷（人口 − 年齢不詳）。",
    ),
    Metric("area_km2", "面積", "km²", "decimal", "sum", BOUNDARIES, 1),
    Metric("density", "人口密度", "人/km²", "decimal", "ratio", CENSUS, 1, "population", ("area_km2",)),
]
# ---- future population (IPSS projections) and demand indices ---------------------------------------
IPSS2023 = "ipss2023"  # 国立社会保障・人口問題研究所『日本の地域別将来推計人口（令和5（2023）年推計）』
IPSS2018 = "ipss2018"  # 同（平成30（2018）年推計）: 5-year bands, so 75+ and the demand indices
#: Years of the 2023 edition (2020 is its base: the census count) and of the 2018 edition.
PROJECTION_YEARS: tuple[int, ...] = (2020, 2025, 2030, 2035, 2040, 2045, 2050)
PROJECTION_YEARS_2018: tuple[int, ...] = (2020, 2025, 2030, 2035, 2040, 2045)
#: The year the national guidance plans for: the app's map and table offer its figures.
TARGET_YEAR = 2040


def _future_metrics() -> list[Metric]:
    """Per year: population, 65+, aging rate and 2020 = 100 (2023 edition); 75+ and JMAP's medical and
    care demand indices (2018 edition, its bands weighted; see core.demand). Every figure says its year
    and, where it is from the older edition, that edition."""
    out: list[Metric] = []
    for y in PROJECTION_YEARS:
        base = "（2020年、推計の基準）" if y == 2020 else f"（{y}年推計）"
        out += [
            Metric(f"population_{y}", f"人口{base}", "人", "count", "sum", IPSS2023, short=f"{y}年人口"),
            Metric(f"age_65_plus_{y}", f"65歳以上{base}", "人", "count", "sum", IPSS2023, short=f"{y}年65歳以上"),
        ]
        if y == 2020:
            continue
        out += [
            Metric(
                f"aging_rate_{y}",
                f"高齢化率（{y}年推計）",
                "%",
                "percent",
                "ratio",
                IPSS2023,
                1,
                f"age_65_plus_{y}",
                (f"population_{y}",),
                "65歳以上 ÷ 人口（国立社会保障・人口問題研究所の推計、年齢不詳は按分済み）。",
                short=f"{y}年高齢化率",
            ),
            Metric(
                f"population_index_{y}",
                f"人口（{y}年、2020年=100）",
                "",
                "decimal",
                "ratio",
                IPSS2023,
                1,
                f"population_{y}",
                ("population_2020",),
                "推計人口 ÷ 2020年の人口 × 100。",
                scale=100.0,
                short=f"{y}年人口指数",
            ),
        ]
    for y in PROJECTION_YEARS_2018:
        for kind, ja in (("medical", "医療"), ("care", "介護")):
            out.append(
                Metric(
                    f"demand_{kind}_weight_{y}",
                    f"{ja}需要の重み付き人口（{y}年、2018年推計、重み×10）",
                    "",
                    "count",
                    "sum",
                    IPSS2018,
                    listed=False,
                )
            )
        if y == 2020:
            continue
        out.append(
            Metric(
                f"age_75_plus_{y}",
                f"75歳以上（{y}年、2018年推計）",
                "人",
                "count",
                "sum",
                IPSS2018,
                short=f"{y}年75歳以上",
            )
        )
        for kind, ja in (("medical", "医療"), ("care", "介護")):
            out.append(
                Metric(
                    f"demand_{kind}_index_{y}",
                    f"{ja}需要指数（{y}年、2020年=100）",
                    "",
                    "decimal",
                    "ratio",
                    IPSS2018,
                    1,
                    f"demand_{kind}_weight_{y}",
                    (f"demand_{kind}_weight_2020",),
                    f"年齢階級別人口に日本医師会 JMAP の{ja}需要の重みを掛けた和の、2020年に対する比 × 100"
                    "（国立社会保障・人口問題研究所 2018年推計）。",
                    scale=100.0,
                    short=f"{y}年{ja}需要",
                )
            )
    return out


# ---- supply: facilities per area and per 1,000 people aged 75+ (io.facilities) ----------------------
NURSING = "mhlw_kaigo_130"  # 厚生労働省 介護サービス情報公表システム（訪問看護）
HOSPITALS = "mhlw_navii"  # 厚生労働省 医療情報ネット（病院）
ZAITAKU = "kouseikyoku_hokkaido"  # 北海道厚生局 在宅療養支援診療所・病院の届出（北海道のみ）
#: Facility counts: key → (label, source, short label for map lines).
SUPPLY = {
    "home_nursing_stations": ("訪問看護ステーション数", NURSING, "訪問看護"),
    "hospitals": ("病院数", HOSPITALS, "病院"),
    "zaitaku_shien": ("在宅療養支援診療所・病院数", ZAITAKU, "在宅療養支援"),
}


def _supply_metrics() -> list[Metric]:
    """Per area the facilities, and per 1,000 people aged 75+ now (the population table's 75+) and in
    2040 (the 2018 edition's 75+): supply beside demand. A ratio is of the sums, unknown when either is."""
    out: list[Metric] = []
    for key, (ja, source, short) in SUPPLY.items():
        out.append(Metric(key, ja, "か所", "count", "sum", source, short=short))
        for suffix, base, when in (
            ("", "age_75_plus", ""),
            (f"_{TARGET_YEAR}", f"age_75_plus_{TARGET_YEAR}", f"{TARGET_YEAR}年の"),
        ):
            out.append(
                Metric(
                    f"{key}_per_1000_75{suffix}",
                    f"{ja.removesuffix('数')}（{when}75歳以上千人あたり）",
                    "か所",
                    "decimal",
                    "ratio",
                    source,
                    2,
                    key,
                    (base,),
                    f"{ja} ÷ {when}75歳以上人口 × 1,000。",
                    scale=1000.0,
                    short=f"{short}/{when}75歳以上千人",
                )
            )
    return out


_M += _future_metrics()
_M += _supply_metrics()
METRICS: dict[str, Metric] = {m.key: m for m in _M}
#: Future figures that add up over municipalities (the tally sums them), and every future column.
FUTURE_COUNTS: tuple[str, ...] = tuple(m.key for m in _M if m.source in (IPSS2023, IPSS2018) and m.aggregation == "sum")
FUTURE_COLUMNS: tuple[str, ...] = tuple(m.key for m in _M if m.source in (IPSS2023, IPSS2018) and m.listed)
FUTURE_KEYS: tuple[str, ...] = tuple(m.key for m in _M if m.source in (IPSS2023, IPSS2018))
#: Facility figures (counts and per 1,000 aged 75+), and every figure added to the census's.
SUPPLY_KEYS: tuple[str, ...] = tuple(m.key for m in _M if m.source in (NURSING, HOSPITALS, ZAITAKU))
SUPPLY_COUNTS: tuple[str, ...] = tuple(SUPPLY)
ADDED_KEYS: tuple[str, ...] = FUTURE_KEYS + SUPPLY_KEYS
ADDED_COUNTS: tuple[str, ...] = FUTURE_COUNTS + SUPPLY_COUNTS

#: Metrics a map can be coloured by, in the order offered to users.
MAP_METRICS = (
    "population",
    "age_65_plus",
    "age_75_plus",
    "aging_rate",
    "share_75_plus",
    "density",
    f"population_{TARGET_YEAR}",
    f"population_index_{TARGET_YEAR}",
    f"aging_rate_{TARGET_YEAR}",
    f"demand_medical_index_{TARGET_YEAR}",
    f"demand_care_index_{TARGET_YEAR}",
    "home_nursing_stations_per_1000_75",
    f"home_nursing_stations_per_1000_75_{TARGET_YEAR}",
    "zaitaku_shien_per_1000_75",
)

FIELDS: dict[str, Field] = {
    f.key: f
    for f in [
        Field("area", "圏域"),
        Field("parent", "上位の圏域"),
        Field("code", "市町村コード"),
        Field("name", "市町村名"),
        Field("homecare", "在宅医療圏"),
        Field("secondary", "二次医療圏"),
        Field("tertiary", "三次医療圏"),
        Field("status", "状態"),
        *(Field(k, v) for k, v in HUB_LABELS.items()),  # the plan table's own headers (core.plan)
        Field("hub_located_by", "位置の根拠"),
        Field("members", "構成市町村"),
    ]
}


def metric(key: str) -> Metric:
    """The registry entry; a KeyError here is a bug (a view asked for a figure nobody defined)."""
    return METRICS[key]


def header(key: str, level: str | None = None) -> str:
    """The column header of any column a view shows (figure or field).

    With a `level`, the name and parent columns say which areas they are: 「在宅医療圏名」, 「二次医療圏」.
    """
    if level is not None and key in ("area", "parent"):
        return level_header(key, level)
    if key in METRICS:
        return METRICS[key].header
    return FIELDS[key].label if key in FIELDS else key


def level_header(key: str, level: str) -> str:
    """「在宅医療圏名」 for the area column of homecare areas, 「二次医療圏」 for their parent column."""
    if key == "area":
        return f"{LEVEL_JA[level]}名" if level in LEVEL_JA else FIELDS["area"].label
    parent = {"homecare": "secondary", "secondary": "tertiary"}.get(level)
    if parent is not None:
        return LEVEL_JA[parent]
    return "都道府県" if level == "tertiary" else FIELDS["parent"].label


def label(key: str) -> str:
    """The short name (no unit): legends and map titles put the unit elsewhere."""
    if key in METRICS:
        return METRICS[key].label
    return FIELDS[key].label if key in FIELDS else key
