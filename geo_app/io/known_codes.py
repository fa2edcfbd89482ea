"""Which codes are municipalities at all: the embedded 2020 census's codes (data, so it lives in io)."""

from __future__ import annotations

import functools

import pandas as pd

from geo_app.core.codes import NORTHERN_TERRITORIES, PREFECTURES
from geo_app.io import datasets

__all__ = ["known_codes", "unknown_code_reason"]


@functools.lru_cache(maxsize=1)
def _census_codes() -> frozenset[str]:
    try:
        df = pd.read_csv(datasets.population_path(), dtype=str, usecols=["code"])
    except (OSError, ValueError):  # data folder missing: every code counts as known
        return frozenset()
    return frozenset(df["code"].dropna())


def known_codes() -> frozenset[str]:
    """Codes of the embedded 2020 census (municipalities and wards) plus the Northern Territories."""
    census = _census_codes()
    return census | frozenset(NORTHERN_TERRITORIES) if census else frozenset()


def unknown_code_reason(code: str) -> str | None:
    """Why a 5-digit code is no municipality of 2020 (None if it is one), in Japanese."""
    known = known_codes()
    if not known or code in known:
        return None
    if code[:2] not in PREFECTURES:
        return f"市町村コード {code} の先頭2桁「{code[:2]}」は都道府県コード（01〜47）ではありません"
    if code[2:] == "000":
        return f"{code} は{PREFECTURES[code[:2]]}全体を表すコードで、市町村のコードではありません"
    return (
        f"市町村コード {code} は{PREFECTURES[code[:2]]}の市区町村（2020年10月1日時点）にありません。"
        "合併前の旧市町村のコードかもしれません。今の市町村コードに直してください"
    )
