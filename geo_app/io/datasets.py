"""Where the embedded default data lives (built by scripts/build_data.py from ../shared/data)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["credits_for", "data_dir", "boundaries_path", "population_path", "plans_dir", "VINTAGE", "CREDITS"]

VINTAGE = (
    "行政区域: 2021年1月1日（国土数値情報 N03）／人口: 令和2年国勢調査（2020年10月1日）／"
    "医療圏: 北海道医療計画（2024）・国土数値情報 医療圏データ A38-20"
)
CREDITS = (
    "「国土数値情報（行政区域データ）（国土交通省）を加工して作成」",
    "「国土数値情報（医療圏データ）（国土交通省）を加工して作成」",
    "出典：総務省統計局「令和2年国勢調査 人口等基本集計」（e-Stat 表番号2-7-1）を加工して作成",
    "北海道医療計画（2024〜2029）在宅医療の体制 をもとに作成（未公表の4圏域は「未確定」）",
)


def data_dir() -> Path:
    """GEO_APP_DATA_DIR, else the copy inside an installed wheel, else the repository's data/."""
    env = os.environ.get("GEO_APP_DATA_DIR")
    if env:
        return Path(env)
    package = Path(__file__).resolve().parents[1]  # geo_app/
    packaged = package / "_data"
    if packaged.is_dir():
        return packaged
    return package.parent / "data"


def boundaries_path() -> Path:
    return data_dir() / "boundaries" / "n03_2021_japan.parquet"


def population_path() -> Path:
    return data_dir() / "population" / "census2020.csv"


def plans_dir() -> Path:
    return data_dir() / "plans"


def credits_for(plan_name: str | None) -> tuple[str, list[str]]:
    """Vintage line and the credits that apply to a plan (not the Hokkaido plan on a Tokyo map)."""
    name = plan_name or ""
    credits = [CREDITS[0], CREDITS[2]]
    if "A38" in name:
        credits.insert(1, CREDITS[1])
    if name.startswith("北海道 2024"):
        credits.append(CREDITS[3])
    elif "A38" not in name:
        credits.append(f"区域案「{name or '（名前なし）'}」は利用者の作成")
    parts = [p for p in VINTAGE.split("／") if not p.startswith("医療圏")]
    return "／".join(parts) + f"／区域案: {name or '（名前なし）'}", credits
