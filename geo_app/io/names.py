"""Municipality names → codes, for tables that have 市町村名 but no code.

Planners often keep only names. A name decides a code only when it is unique within the
prefecture; otherwise the row is reported, never guessed: 府中市 is in 東京都 and 広島県,
伊達市 in 北海道 and 福島県. Names are compared after NFKC, without spaces, and with a few
spelling variants that the census names need (鎌ヶ谷市 / 鎌ケ谷市, 梼原町 / 檮原町, 竜ヶ崎市 /
龍ケ崎市, 塩釜市 / 塩竈市 …). Unknown names get the closest real names as suggestions.
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from geo_app.core.codes import (
    DESIGNATED_CITIES,
    PREFECTURES,
    city_of,
    normalize_codes,
    prefecture_code,
)
from geo_app.core.errors import GeoAppError, InputError
from geo_app.io.known_codes import known_codes, unknown_code_reason

__all__ = [
    "resolve_names",
    "codes_for_rows",
    "name_key",
    "census_names",
    "named_codes",
    "describe_unit_count",
    "VARIANTS",
    "CODE_HEADERS",
]

#: Headers that mean 市町村コード in the tables people bring (plans, population, e-Stat downloads).
CODE_HEADERS = (
    "市町村コード",
    "市区町村コード",
    "団体コード",
    "全国地方公共団体コード",
    "地域コード",
    "コード",
    "jiscode",
    "municipality_code",
)

#: Spelling variants seen in practice for characters of official names (both sides are folded).
#: Only characters that occur in the 2020 census names, or that NFKC leaves apart (﨑, 髙), are listed.
VARIANTS = {
    "ヶ": "ケ",
    "ヵ": "ケ",  # 鎌ヶ谷 / 鎌ケ谷, 六ヵ所 / 六ヶ所
    "梼": "檮",  # 檮原町
    "鯵": "鰺",  # 鰺ヶ沢町
    "竜": "龍",  # 龍ケ崎市 (竜ヶ崎), 天龍村
    "桧": "檜",  # 檜枝岐村, 檜原村
    "舘": "館",  # 飯舘村
    "驒": "騨",  # 飛騨市
    "條": "条",  # 下條村, 四條畷市, 五條市
    "釜": "竈",  # 塩竈市 (塩釜市)
    "篭": "籠",  # 聖籠町
    "﨑": "崎",
    "髙": "高",
}
_TRANS = str.maketrans({k: v for k, v in VARIANTS.items() if k != v})
_PREF_NAMES = sorted(PREFECTURES.values(), key=len, reverse=True)
_GUN = re.compile(r"^(.+?郡)(.+[町村])$")
_MAX_SHOWN = 3
_MAX_PROBLEMS = 10  # listed in one message; the rest are counted


def name_key(name: object) -> str:
    """Comparison key of a name: NFKC, no spaces, variants folded."""
    text = unicodedata.normalize("NFKC", str(name))
    return "".join(text.split()).translate(_TRANS)


@dataclass(frozen=True)
class _Index:
    """Name keys → codes, per prefecture code and nationwide."""

    by_key: dict[tuple[str, str], tuple[str, ...]]  # (pref_code, key) → codes
    ward_tail: dict[tuple[str, str], tuple[str, ...]]  # (pref_code, ward key without city) → codes
    names: dict[str, str]  # code → official name
    keys_in_pref: dict[str, tuple[str, ...]]


def _build_index(table: pd.DataFrame) -> _Index:
    t = table.dropna(subset=["code", "name"])
    codes = t["code"].astype(str).tolist()
    names = t["name"].astype(str).tolist()
    by_key: dict[tuple[str, str], list[str]] = {}
    keys_in_pref: dict[str, list[str]] = {}
    for code, name in zip(codes, names, strict=True):
        k = (code[:2], name_key(name))
        by_key.setdefault(k, []).append(code)
        keys_in_pref.setdefault(code[:2], []).append(k[1])
    ward_tail: dict[tuple[str, str], list[str]] = {}
    if "parent_code" in t.columns:
        name_of = dict(zip(codes, names, strict=True))
        for code, name, parent in zip(codes, names, t["parent_code"].tolist(), strict=True):
            if isinstance(parent, str) and parent in name_of and name.startswith(name_of[parent]):
                tail = name_key(name[len(name_of[parent]) :])
                if tail:
                    ward_tail.setdefault((code[:2], tail), []).append(code)
    return _Index(
        by_key={k: tuple(v) for k, v in by_key.items()},
        ward_tail={k: tuple(v) for k, v in ward_tail.items()},
        names=dict(zip(codes, names, strict=True)),
        keys_in_pref={k: tuple(dict.fromkeys(v)) for k, v in keys_in_pref.items()},
    )


@functools.lru_cache(maxsize=1)
def census_names() -> pd.DataFrame:
    """code, name, prefecture, parent_code of the embedded 2020 census (municipalities and wards)."""
    from geo_app.io import datasets

    return pd.read_csv(datasets.population_path(), dtype=str, usecols=["code", "name", "prefecture", "parent_code"])


@functools.lru_cache(maxsize=1)
def _census_index() -> _Index:
    return _build_index(census_names())


def named_codes(codes: Iterable[str], names: Mapping[str, str] | None = None, *, limit: int = _MAX_PROBLEMS) -> str:
    """「鳥取市（31201）、米子市（31202） ほか3件」: codes as people recognise them, cut short when long.

    Names come from `names` (e.g. the boundary file's), else the embedded census; a code that
    neither knows is shown bare, so that nothing is invented.
    """
    given = names or {}
    census = _census_index().names
    listed = list(dict.fromkeys(str(c) for c in codes))
    shown = []
    for c in listed[:limit]:
        name = given.get(c) or census.get(c)
        shown.append(f"{name}（{c}）" if name and isinstance(name, str) else c)
    more = f" ほか{len(listed) - limit}件" if len(listed) > limit else ""
    return "、".join(shown) + more


def describe_unit_count(codes: Iterable[str], names: Mapping[str, str] | None = None) -> str:
    """「33市町村（川崎市は7区に分けて数えています）」: the municipality count of loaded units.

    A designated city planned by ward is one municipality, however many wards it brings; the
    wards are said, not counted, so that 神奈川県 is 33 municipalities and not 39.
    """
    units = pd.Series(list(dict.fromkeys(str(c) for c in codes)), dtype="string")
    if units.empty:
        return "0市町村"
    cities = city_of(units)
    ward_counts = cities[cities != units].value_counts(sort=False)
    text = f"{cities.nunique()}市町村"
    if ward_counts.empty:
        return text
    given = names or {}
    census = _census_index().names
    split = "、".join(
        f"{given.get(str(city)) or census.get(str(city), str(city))}は{n}区" for city, n in sorted(ward_counts.items())
    )
    return f"{text}（{split}に分けて数えています）"


def _row_of(label: object) -> int | None:
    from geo_app.io.tables import file_row

    return file_row(label)


def _split_prefecture(key: str) -> tuple[str | None, str]:
    """'北海道札幌市' → ('01', '札幌市'); names without a prefecture prefix are returned as they are."""
    for pname in _PREF_NAMES:
        if key.startswith(pname) and len(key) > len(pname):
            return prefecture_code(pname), key[len(pname) :]
    return None, key


def _lookup(index: _Index, prefs: list[str], key: str) -> list[str]:
    """Codes for a key in the given prefectures: exact or a ward without its city, then 郡 removed,
    then the key with 市/町/村 added. The first rule that finds anything decides."""

    def exact(k: str) -> list[str]:
        return [c for p in prefs for c in index.by_key.get((p, k), ())]

    # A ward written without its city competes with a same-named municipality (中央区: 東京都中央区
    # and 札幌市中央区 …), so both are collected before deciding.
    wards = [c for p in prefs for c in index.ward_tail.get((p, key), ())]
    hits = exact(key) + wards
    if hits:
        return hits
    m = _GUN.match(key)
    if m:
        hits = exact(m.group(2))
        if hits:
            return hits
    if key and key[-1] not in "市町村区":
        hits = [c for suffix in "市町村" for c in exact(key + suffix)]
    return hits


def _describe(index: _Index, codes: list[str]) -> str:
    shown = "・".join(f"{PREFECTURES.get(c[:2], '')}の{index.names.get(c, c)}（{c}）" for c in codes[:6])
    return shown + (f" ほか{len(codes) - 6}件" if len(codes) > 6 else "")


def _suggest(index: _Index, prefs: list[str], key: str) -> list[str]:
    pool = [k for p in prefs for k in index.keys_in_pref.get(p, ())]
    close = difflib.get_close_matches(key, pool, n=_MAX_SHOWN, cutoff=0.5)
    out = []
    for k in close:
        for p in prefs:
            for c in index.by_key.get((p, k), ()):
                where = PREFECTURES.get(c[:2], "") if len(prefs) > 1 else ""
                out.append(f"{where}{index.names[c]}（{c}）")
    return list(dict.fromkeys(out))[:_MAX_SHOWN]


def _pref_codes(value: object) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    if not text:
        return None
    return prefecture_code(text)


def resolve_names(
    names: pd.Series,
    prefecture: str | pd.Series | None = None,
    *,
    table: pd.DataFrame | None = None,
) -> tuple[pd.Series, list[str]]:
    """Codes for municipality names, and a Japanese problem per row that has no single code.

    `prefecture` limits the search: one name or code for all rows, a Series per row (a
    `都道府県` column; empty cells fall back to the whole country), or None (the whole country).
    A prefecture written in the name itself (北海道札幌市) is used too. `table` has columns
    code, name and optionally parent_code (for ward names without their city, e.g. 中央区);
    the default is the embedded 2020 census. Rows with an empty name get NA and no problem.
    Problems name the row as the user sees it in the file (header = row 1).
    """
    codes, problems = _resolve(names, prefecture, table=table)
    return codes, [f"{row}行目: {text}" if row is not None else text for row, text in problems]


def _resolve(
    names: pd.Series,
    prefecture: str | pd.Series | None,
    *,
    table: pd.DataFrame | None = None,
    suggest: bool = True,
) -> tuple[pd.Series, list[tuple[int | None, str]]]:
    index = _census_index() if table is None else _build_index(table)
    problems: list[tuple[int | None, str]] = []
    if isinstance(prefecture, pd.Series):
        per_row = prefecture.reindex(names.index)
    else:
        per_row = pd.Series(prefecture, index=names.index, dtype=object)
    all_prefs = sorted(PREFECTURES)
    out: list[object] = []
    for label, raw, pref_value in zip(names.index, names.tolist(), per_row.tolist(), strict=True):
        if raw is None or raw is pd.NA or (isinstance(raw, float) and raw != raw) or not str(raw).strip():
            out.append(pd.NA)
            continue
        where = _row_of(label)
        shown = str(raw).strip()
        try:
            pref = _pref_codes(pref_value)
        except ValueError as exc:
            problems.append((where, f"{exc}。"))
            out.append(pd.NA)
            continue
        key_pref, key = _split_prefecture(name_key(raw))
        if key_pref and pref and key_pref != pref:
            problems.append(
                (
                    where,
                    f"市町村名「{shown}」は{PREFECTURES[key_pref]}の名前ですが、都道府県は{PREFECTURES[pref]}です。どちらかを直してください。",
                )
            )
            out.append(pd.NA)
            continue
        pref = pref or key_pref
        prefs = [pref] if pref else all_prefs
        hits = list(dict.fromkeys(_lookup(index, prefs, key)))
        if len(hits) == 1:
            out.append(hits[0])
            continue
        out.append(pd.NA)
        scope = PREFECTURES[pref] if pref else "全国"
        if len(hits) > 1:
            fix = (
                "都道府県の列を加えるか、市町村コードを入れてください。"
                if not pref
                else "市町村コードを入れてください。"
            )
            problems.append(
                (where, f"市町村名「{shown}」は{scope}に{len(hits)}件あります（{_describe(index, hits)}）。{fix}")
            )
            continue
        elsewhere = list(dict.fromkeys(_lookup(index, all_prefs, key))) if pref else []
        if elsewhere:
            problems.append(
                (
                    where,
                    f"市町村名「{shown}」は{scope}にありません（{_describe(index, elsewhere)}にあります）。"
                    "都道府県か市町村名を確かめてください。",
                )
            )
            continue
        near = _suggest(index, prefs, key) if suggest and len(problems) < _MAX_PROBLEMS else []
        hint = f"近い名前: {'、'.join(near)}。" if near else ""
        problems.append(
            (
                where,
                f"市町村名「{shown}」は{scope}の市区町村（2020年10月1日時点）にありません。{hint}"
                "合併前の旧市町村名なら、今の市町村名か市町村コードにしてください。",
            )
        )
    return pd.Series(out, index=names.index, dtype="string"), problems


# ---- whole tables ----------------------------------------------------------------------------
_TOTAL_NAMES = {"合計", "計", "総計", "総数", "全体", "全国", "小計", *PREFECTURES.values()}


def _blank(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip()
    return (text.isna() | (text == "")).fillna(True).astype(bool)


def _fail(problems: list[tuple[int | None, str]], *, label: str | None, error: type[GeoAppError], what: str) -> None:
    problems = sorted(problems, key=lambda p: (p[0] is None, p[0] or 0))
    if len(problems) == 1:
        row, text = problems[0]
        raise error(text, source=label, row=row)
    lines = [f"・{row}行目: {text}" if row is not None else f"・{text}" for row, text in problems[:_MAX_PROBLEMS]]
    more = f"\n（ほかに {len(problems) - _MAX_PROBLEMS} 件）" if len(problems) > _MAX_PROBLEMS else ""
    raise error(f"{what}に直すところが {len(problems)} 件あります。\n" + "\n".join(lines) + more, source=label)


def codes_for_rows(
    df: pd.DataFrame,
    *,
    label: str | None,
    prefecture: str | None = None,
    error: type[GeoAppError] = InputError,
    unknown: str = "error",
    drop_totals: bool = False,
    check_names: bool = True,
    check_duplicates: bool = True,
    check_wards: bool = True,
    what: str = "表",
) -> tuple[pd.Series, pd.Series, list[str]]:
    """The 5-digit code of every row of a plan or population table, from `code` or else `name`.

    Columns (already renamed): code and/or name, optionally prefecture. Returns (codes, keep,
    notes): `keep` is False for total rows dropped when `drop_totals` (全国, 北海道, 13100 特別区部,
    合計). Every problem of every row is collected and raised at once as `error`: bad or wrong
    check digits, ambiguous or unknown names, codes that are no 2020 municipality (maybe a
    pre-merger code; `unknown="note"` only notes them, "ignore" lets them pass), and, each
    behind its flag, a name that contradicts its code, the same municipality twice, and a
    designated city listed together with its own wards.
    """
    notes: list[str] = []
    problems: list[tuple[int | None, str]] = []
    index = df.index
    has_code, has_name = "code" in df.columns, "name" in df.columns
    names = df["name"].astype("string").str.strip() if has_name else pd.Series(pd.NA, index=index, dtype="string")
    raw_codes = df["code"] if has_code else pd.Series(pd.NA, index=index, dtype="string")
    blank = _blank(raw_codes) if has_code else pd.Series(True, index=index)
    codes, errors = (
        normalize_codes(raw_codes.where(~blank, None), known_codes())
        if has_code
        else (pd.Series(pd.NA, index=index, dtype="string"), pd.Series(pd.NA, index=index, dtype="string"))
    )
    for label_, err in errors[~blank & errors.notna()].items():
        problems.append((_row_of(label_), f"{err}。"))
    keep = pd.Series(True, index=index)
    if drop_totals:
        total = codes.notna() & ((codes.str[2:] == "000") | (codes == "13100"))
        total |= blank & names.isin(_TOTAL_NAMES).fillna(False).astype(bool)
        if total.any():
            shown = "、".join(
                dict.fromkeys(
                    str(n) if pd.notna(n) else str(c) for n, c in zip(names[total], codes[total], strict=True)
                )
            )
            notes.append(f"{label}: 合計の行（{shown}）は市区町村ではないので除きました。")
            keep &= ~total
        # e-Stat re-tabulations on 2000 boundaries: 「（旧：…）」 rows with codes such as 0120B
        old = names.str.match(r"^\s*[（(]旧").fillna(False).astype(bool) & ~total
        if old.any():
            notes.append(f"{label}: 2000年の旧市町村の組み替え行「（旧：…）」{int(old.sum())} 行を除きました。")
            keep &= ~old
            problems[:] = [(r, t) for r, t in problems if r not in {_row_of(i) for i in index[old]}]

    # prefecture for names: the row's own column, else the argument, else the one implied by codes
    try:
        pref_arg = prefecture_code(prefecture) if prefecture not in (None, "") else None
    except ValueError as exc:
        raise error(f"{exc}。", source=label) from None
    if pref_arg is None:
        implied = set(codes[keep & codes.notna()].str[:2]) & set(PREFECTURES)
        if len(implied) == 1:
            pref_arg = implied.pop()
    per_row = df["prefecture"].astype("string").str.strip() if "prefecture" in df.columns else None
    if per_row is not None:
        prefs = per_row.where(~_blank(per_row), pref_arg)
    else:
        prefs = pd.Series(pref_arg, index=index, dtype=object)

    need = keep & blank & names.notna() & (names != "")
    if need.any():
        found, name_problems = _resolve(names[need], prefs[need], suggest=False)
        if pref_arg is None and per_row is None:
            # No prefecture anywhere: the one all other rows lie in decides the ambiguous names.
            implied = set(found.dropna().str[:2]) | set(codes[keep & codes.notna()].str[:2])
            if len(implied) == 1 and name_problems:
                pref_arg = implied.pop()
                prefs = pd.Series(pref_arg, index=index, dtype=object)
                notes.append(
                    f"{label}: 都道府県の列がないため、ほかの行から{PREFECTURES[pref_arg]}の市町村名とみなしました。"
                )
        if name_problems:
            found, name_problems = _resolve(names[need], prefs[need])
        codes = codes.copy()
        codes[need] = found
        problems.extend(name_problems)
    neither = keep & blank & ~need
    for label_ in index[neither]:
        problems.append(
            (_row_of(label_), "市町村コードも市町村名もありません。この行を消すか、どちらかを入れてください。")
        )

    given = keep & ~blank & codes.notna()
    census = _census_index()
    if given.any() and unknown != "ignore":
        reasons = {c: unknown_code_reason(c) for c in set(codes[given])}
        bad = given & codes.map(lambda c: reasons.get(c) is not None if pd.notna(c) else False).astype(bool)
        if bad.any():
            if unknown == "error":
                for label_, c in codes[bad].items():
                    problems.append((_row_of(label_), f"{reasons[c]}。"))
            else:
                listed = sorted(set(codes[bad]))
                own = {c: str(n) for c, n in zip(codes[bad], names[bad], strict=True) if pd.notna(n) and str(n)}
                notes.append(
                    f"{label}: 2020年の市区町村にないコード {len(listed)} 件（{named_codes(listed, own)}）。"
                    "合併前の旧コードかもしれません。"
                )
        # a 都道府県 cell that contradicts the code
        if check_names and per_row is not None:
            for label_ in index[given & ~bad & ~_blank(per_row)]:
                try:
                    stated = prefecture_code(per_row[label_])
                except ValueError as exc:
                    problems.append((_row_of(label_), f"{exc}。"))
                    continue
                c = codes[label_]
                if stated != c[:2]:
                    problems.append(
                        (
                            _row_of(label_),
                            f"市町村コード {c} は{PREFECTURES.get(c[:2], '別の都道府県')}のコードですが、"
                            f"都道府県は「{per_row[label_]}」です。"
                            "コードか都道府県のどちらかを直してください。",
                        )
                    )
        # a name that clearly means another municipality than the code: a typo in one of them
        check = given & ~bad & names.notna() & (names != "")
        if check_names and check.any():
            by_name, _ = _resolve(names[check], codes[check].str[:2], suggest=False)
            differs = by_name.notna() & (city_of(by_name.fillna("")) != city_of(codes[check]))
            for label_ in by_name.index[differs.fillna(False).astype(bool)]:
                c, n = codes[label_], by_name[label_]
                problems.append(
                    (
                        _row_of(label_),
                        f"市町村コード {c} は{census.names.get(c, '別の市町村')}ですが、"
                        f"市町村名は「{names[label_]}」（{n}）です。"
                        "コードか市町村名のどちらかを直してください。",
                    )
                )

    valid = keep & codes.notna()
    dup = valid & codes.duplicated(keep=False) & check_duplicates
    for c in dict.fromkeys(codes[dup]):
        rows = [_row_of(i) for i in index[valid & (codes == c)]]
        shown = "行目と".join(str(r) for r in rows if r is not None)
        where = f"（{shown}行目）" if shown else ""
        problems.append(
            (
                rows[0],
                f"市町村コード {c}（{census.names.get(c, c)}）が {len(rows)} 行あります{where}。"
                "1行にまとめてください。",
            )
        )
    if check_wards and valid.any():
        cities = city_of(codes[valid].fillna(""))
        in_table = set(codes[valid])
        for city in sorted(set(cities[cities != codes[valid]]) & in_table & set(DESIGNATED_CITIES)):
            row = _row_of(index[valid & (codes == city)][0])
            problems.append(
                (
                    row,
                    f"{census.names.get(city, city)}（{city}）が、市全体の行と区ごとの行の両方にあります。"
                    "市全体の1行か、区ごとの行のどちらかにしてください。",
                )
            )
    if problems:
        _fail(problems, label=label, error=error, what=what)
    return codes, keep, notes
