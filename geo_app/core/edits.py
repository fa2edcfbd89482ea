"""Edits of a plan — move, rename, merge, split — each returning a NEW Plan, plus undo/redo.

A Plan is immutable, so an edit is just a function old plan → new plan and undo is keeping the
old one. Every refusal is a `PlanError` in Japanese that says what to do instead; nothing here
imports Streamlit, so the app, the CLI and the tests share exactly the same rules.

Hierarchy rule (so that areas stay nested): a municipality moved into an existing home-care
area takes that area's 二次・三次医療圏 unless told otherwise; a municipality moved into a new
area keeps its own. `merge_areas` follows the same rule at every level. `keep_parents=True`
(both edits) leaves every municipality's 二次・三次医療圏 as it was — what the app does by
default, since the medical plan fixes them — and the area may then cross a parent's border,
which the crosses_* rules report. `parent_changes_of_move` / `parent_changes_of_merge` say
which parents an edit would change, so that a user can be told before it happens.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from geo_app.core.codes import normalize_code
from geo_app.core.errors import PlanError
from geo_app.core.hubs import CoordinateError, format_coordinate, hub_location_of, parse_coordinate
from geo_app.core.plan import (
    CONFIRMED,
    HUB_COLUMNS,
    LEVEL_JA,
    LEVELS,
    PLAN_COLUMNS,
    TABLE_COLUMNS,
    UNCONFIRMED,
    Level,
    Plan,
)

__all__ = [
    "move",
    "rename_area",
    "ParentChange",
    "parent_changes",
    "parent_changes_of_move",
    "parent_changes_of_merge",
    "describe_parent_changes",
    "describe_kept_parents",
    "merge_areas",
    "split_area",
    "set_hub",
    "Edit",
    "EditHistory",
    "describe_change",
    "changed_codes",
    "check_level",
]

_COLUMNS = TABLE_COLUMNS
#: Columns of an edit history saved before hub locations existed (its rows have these cells only).
_OLD_COLUMNS = [*PLAN_COLUMNS, "hub"]
_LEVEL_ALIASES = {
    **{lv: lv for lv in LEVELS},
    **{ja: lv for lv, ja in LEVEL_JA.items()},
    "在宅": "homecare",
    "二次": "secondary",
    "三次": "tertiary",
}
_MAX_NAMES = 3  # municipalities named in a label before "ほかN市町村"
#: Municipality codes as callers have them: one or several, text or the integer Excel left (1303).
Codes = str | int | Iterable[str | int]


# ---- argument checks -------------------------------------------------------------------------
def check_level(level: str) -> Level:
    """'homecare' / 'secondary' / 'tertiary' (or the Japanese names) → the English key."""
    key = _LEVEL_ALIASES.get(str(level).strip())
    if key is None:
        raise PlanError(
            f"圏域の単位「{level}」が分かりません。在宅医療圏（homecare）・二次医療圏（secondary）・三次医療圏（tertiary）のいずれかです。"
        )
    return key  # type: ignore[return-value]


def _area_name(value: object, what: str) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        raise PlanError(f"{what}の名前が空です。名前を入れてください。")
    text = str(value).strip()
    if not text:
        raise PlanError(f"{what}の名前が空です。名前を入れてください。")
    return text


def _codes(plan: Plan, codes: Codes, *, what: str = "移動する市町村") -> list[str]:
    """Normalised, de-duplicated codes that all exist in the plan."""
    raw = [codes] if isinstance(codes, (str, int)) else list(codes)
    out: list[str] = []
    for value in raw:
        try:
            code = normalize_code(value)
        except ValueError as exc:
            raise PlanError(f"{exc}。") from None
        if code not in out:
            out.append(code)
    if not out:
        raise PlanError(f"{what}を1つ以上選んでください。")
    missing = [c for c in out if c not in set(plan.table["code"])]
    if missing:
        raise PlanError(
            f"市町村コード {', '.join(missing[:10])} は区域案「{plan.name or '区域案'}」にありません。"
            "区域案の市町村コードを確かめてください。"
        )
    return out


def _require_area(plan: Plan, level: Level, name: str) -> None:
    if name not in set(plan.table[level].dropna()):
        known = plan.areas(level)
        hint = (
            f"（今ある{LEVEL_JA[level]}: {'、'.join(known[:8])}{' ほか' if len(known) > 8 else ''}）" if known else ""
        )
        raise PlanError(f"{LEVEL_JA[level]}「{name}」は区域案にありません。名前を確かめてください{hint}。")


def _mode(values: pd.Series) -> Any:
    """Most common non-missing value (first seen wins a tie), or NA.

    Any: a cell of a plan column (a name, str) or pd.NA, which the callers test for.
    """
    v = values.dropna()
    if v.empty:
        return pd.NA
    return Counter(v.tolist()).most_common(1)[0][0]


def _new(plan: Plan, table: pd.DataFrame) -> Plan:
    return plan.edited(table.reset_index(drop=True))


def _table(plan: Plan) -> pd.DataFrame:
    """A copy of the plan's table to edit, with every hub column (a table built before hub
    locations existed gets them empty), so that the hub's fields always move together."""
    t = plan.table.copy()
    for col in HUB_COLUMNS:
        if col not in t.columns:
            t[col] = pd.array([pd.NA] * len(t), dtype="string")
    return t


def _set_hub(t: pd.DataFrame, sel: pd.Series, fields: dict[str, object]) -> None:
    """Write one hub's fields (HUB_COLUMNS: name, facility, point) on the rows `sel`, all together."""
    for col in HUB_COLUMNS:
        t.loc[sel, col] = fields.get(col, pd.NA)


def _names(plan: Plan, codes: Sequence[str]) -> str:
    names = plan.table.set_index("code")["name"]
    return _listing([str(names.get(c)) if pd.notna(names.get(c)) else c for c in codes])


# ---- edits -----------------------------------------------------------------------------------
def move(
    plan: Plan,
    codes: Codes,
    homecare: str,
    *,
    secondary: str | None = None,
    tertiary: str | None = None,
    status: str | None = None,
    keep_parents: bool = False,
) -> Plan:
    """Move municipalities to a home-care area, existing or new.

    To an existing area: the municipalities take its 二次・三次医療圏 (unless `keep_parents`),
    its status (未確定 when any of its other members is) and its hub. To a new name: the area
    is created and each municipality keeps its own 二次・三次医療圏 and status. `secondary` /
    `tertiary` / `status` override; a given `secondary` that exists brings its 三次医療圏 along.
    `keep_parents=True` keeps each municipality's own 二次・三次医療圏 (the medical plan fixes
    them); the default follows the target so that areas stay nested, as callers always had.
    """
    moving = _codes(plan, codes)
    homecare = _area_name(homecare, "移動先の在宅医療圏")
    if secondary is not None:
        secondary = _area_name(secondary, "二次医療圏")
    if tertiary is not None:
        tertiary = _area_name(tertiary, "三次医療圏")
    if status is not None and status not in (CONFIRMED, UNCONFIRMED):
        raise PlanError(f"状態「{status}」が分かりません。「確定」か「未確定」にしてください。")

    t = _table(plan)
    sel = t["code"].isin(moving)
    in_target = t["homecare"] == homecare
    others = t[in_target.fillna(False) & ~sel]
    existing = bool(in_target.fillna(False).any())
    ref = others if not others.empty else t[in_target.fillna(False)]

    follow = existing and not keep_parents
    if secondary is None and follow:
        secondary = _mode(ref["secondary"])
    if tertiary is None and secondary is not None:
        of_secondary = t.loc[(t["secondary"] == secondary).fillna(False) & ~sel, "tertiary"]
        if not of_secondary.dropna().empty:
            tertiary = _mode(of_secondary)
        elif follow:
            tertiary = _mode(ref["tertiary"])
    if secondary is not None and secondary is not pd.NA:
        t.loc[sel, "secondary"] = secondary
    if tertiary is not None and tertiary is not pd.NA:
        t.loc[sel, "tertiary"] = tertiary
    if status is None and existing and not others.empty:
        status = UNCONFIRMED if (others["status"] == UNCONFIRMED).any() else CONFIRMED
    if status is not None:
        t.loc[sel, "status"] = status
    # The target's hub with its location (a new area has none); moving a whole area onto its own
    # name changes nothing.
    hub = hub_location_of(others, _mode(others["hub"])) if existing and not others.empty else {}
    if not (existing and others.empty):
        _set_hub(t, sel, hub)
    t.loc[sel, "homecare"] = homecare
    return _new(plan, t)


def rename_area(plan: Plan, level: str, old: str, new: str) -> Plan:
    """Give an area a new name; the new name must not be taken at that level."""
    lv = check_level(level)
    old = _area_name(old, f"変更前の{LEVEL_JA[lv]}")
    new = _area_name(new, f"新しい{LEVEL_JA[lv]}")
    _require_area(plan, lv, old)
    if new == old:
        return plan
    if new in set(plan.table[lv].dropna()):
        raise PlanError(
            f"{LEVEL_JA[lv]}「{new}」はすでにあります。別の名前にするか、2つを1つにするなら「統合」を使ってください。"
        )
    t = plan.table.copy()
    t.loc[t[lv] == old, lv] = new
    return _new(plan, t)


def merge_areas(plan: Plan, level: str, names: Sequence[str], into: str, *, keep_parents: bool = False) -> Plan:
    """Make several areas one, named `into` (one of `names`, an existing area, or a new name).

    The merged area takes the parent areas (二次・三次医療圏) of `into` when it exists, else of
    the first of `names`, so that the hierarchy stays nested; `keep_parents=True` leaves each
    municipality's parents as they were.
    """
    lv = check_level(level)
    if isinstance(names, str):
        names = [names]
    wanted = list(dict.fromkeys(_area_name(n, LEVEL_JA[lv]) for n in names))
    if not wanted:
        raise PlanError(f"統合する{LEVEL_JA[lv]}を選んでください。")
    for n in wanted:
        _require_area(plan, lv, n)
    into = _area_name(into, f"統合後の{LEVEL_JA[lv]}")
    existing = set(plan.table[lv].dropna())
    if len(wanted) < 2 and (into not in existing or into in wanted):
        raise PlanError(f"統合するには{LEVEL_JA[lv]}を2つ以上選ぶか、統合先に今ある{LEVEL_JA[lv]}を指定してください。")
    t = _table(plan)
    anchor = into if into in existing else wanted[0]
    sel = t[lv].isin(set(wanted) | {into}).fillna(False)
    if not keep_parents:
        ref = t[(t[lv] == anchor).fillna(False)]
        for upper in LEVELS[LEVELS.index(lv) + 1 :]:
            value = _mode(ref[upper])
            if value is not pd.NA:
                t.loc[sel, upper] = value
    t.loc[sel, lv] = into
    if lv == "homecare":
        anchor_rows = t[sel & (plan.table["homecare"] == anchor).fillna(False)]
        hub = _mode(anchor_rows["hub"])
        if hub is not pd.NA:  # the anchor's hub, with its location, serves the merged area
            _set_hub(t, sel, hub_location_of(anchor_rows, hub))
    return _new(plan, t)


def split_area(plan: Plan, level: str, area: str, codes: Iterable[str], new_name: str) -> Plan:
    """Take some municipalities out of `area` into a new area with the same parents."""
    lv = check_level(level)
    area = _area_name(area, LEVEL_JA[lv])
    _require_area(plan, lv, area)
    taken = _codes(plan, codes, what="切り出す市町村")
    new_name = _area_name(new_name, f"新しい{LEVEL_JA[lv]}")
    t = _table(plan)
    members = set(t.loc[(t[lv] == area).fillna(False), "code"])
    outside = [c for c in taken if c not in members]
    if outside:
        raise PlanError(
            f"{_names(plan, outside)}は{LEVEL_JA[lv]}「{area}」に入っていません。「{area}」の市町村を選んでください。"
        )
    if set(taken) == members:
        raise PlanError(f"「{area}」の市町村をすべて選んでいます。名前を変えるだけなら「名前の変更」を使ってください。")
    if new_name in set(t[lv].dropna()):
        raise PlanError(
            f"{LEVEL_JA[lv]}「{new_name}」はすでにあります。新しい名前にするか、今ある圏域へ移すなら「移動」を使ってください。"
        )
    sel = t["code"].isin(taken)
    t.loc[sel, lv] = new_name
    if lv == "homecare":
        _set_hub(t, sel, {})  # the hub (and its location) served the old area
    return _new(plan, t)


def _text(value: object) -> str | None:
    """A typed value, stripped; None when empty."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    return text or None


def set_hub(
    plan: Plan,
    homecare: str,
    hub: str | None,
    *,
    facility: str | None = None,
    lat: object = None,
    lon: object = None,
) -> Plan:
    """Name home-care area `homecare`'s hub and where it is, on every member's row (`hub` None: no hub).

    Where: `facility`, the id of a facility of the embedded tables (`load_facility_points`), or
    `lat`/`lon`, a named point in degrees (a municipality office is given this way), or neither (the
    location is unknown, a finding). Both may be given; the facility's point is the one drawn.
    A coordinate that is not a number or lies outside Japan is refused with the reason.
    """
    area = _area_name(homecare, "在宅医療圏")
    _require_area(plan, "homecare", area)
    name = _text(hub)
    facility_id, lat_text, lon_text = _text(facility), _text(lat), _text(lon)
    if name is None:
        if facility_id or lat_text or lon_text:
            raise PlanError("連携拠点の名前が空です。拠点の名前を入れてください（場所だけでは拠点になりません）。")
        fields: dict[str, object] = {}
    else:
        if (lat_text is None) != (lon_text is None):
            raise PlanError(
                f"連携拠点「{name}」の{'緯度' if lat_text is None else '経度'}が空です。"
                "地点で示すときは緯度と経度の両方を入れてください。"
            )
        point: dict[str, object] = {}
        if lat_text is not None and lon_text is not None:
            try:
                point = {
                    "hub_lat": format_coordinate(parse_coordinate(lat_text, "lat")),
                    "hub_lon": format_coordinate(parse_coordinate(lon_text, "lon")),
                }
            except CoordinateError as exc:
                raise PlanError(f"連携拠点「{name}」の{exc}") from None
        fields = {"hub": name, "hub_facility": facility_id if facility_id else pd.NA, **point}
    t = _table(plan)
    _set_hub(t, (t["homecare"] == area).fillna(False), fields)
    return _new(plan, t)


# ---- parent areas an edit changes -------------------------------------------------------------
_PARENTS: tuple[Level, ...] = ("secondary", "tertiary")


@dataclass(frozen=True)
class ParentChange:
    """One municipality whose 二次・三次医療圏 differ between two plans (old == new on a level that did not change)."""

    code: str
    name: str
    old_secondary: str | None
    new_secondary: str | None
    old_tertiary: str | None
    new_tertiary: str | None

    def changed(self, level: Level) -> bool:
        """Whether `level` ("secondary" / "tertiary") changed for this municipality."""
        return getattr(self, f"old_{level}") != getattr(self, f"new_{level}")

    def old(self, level: Level) -> str | None:
        return getattr(self, f"old_{level}")

    def new(self, level: Level) -> str | None:
        return getattr(self, f"new_{level}")


def _cell(value: object) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def parent_changes(before: Plan, after: Plan) -> tuple[ParentChange, ...]:
    """Municipalities (in `before`'s order) whose 二次 or 三次医療圏 differ in `after`."""
    cols = ["code", "name", *_PARENTS]
    a = before.table[cols].drop_duplicates("code")
    b = after.table[["code", *_PARENTS]].drop_duplicates("code")
    m = a.merge(b, on="code", how="inner", suffixes=("_old", "_new"))  # keeps `before`'s order
    diff = pd.concat([_differs(m[f"{lv}_old"], m[f"{lv}_new"]) for lv in _PARENTS], axis=1).any(axis=1)
    return tuple(
        ParentChange(
            code=str(r.code),
            name=_cell(r.name) or str(r.code),
            old_secondary=_cell(r.secondary_old),
            new_secondary=_cell(r.secondary_new),
            old_tertiary=_cell(r.tertiary_old),
            new_tertiary=_cell(r.tertiary_new),
        )
        for r in m[diff.to_numpy()].itertuples(index=False)
    )


def parent_changes_of_move(
    plan: Plan,
    codes: Codes,
    homecare: str,
    *,
    secondary: str | None = None,
    tertiary: str | None = None,
) -> tuple[ParentChange, ...]:
    """The parents `move` would change if they followed the target (empty: the move stays inside them).

    Asked before the move, so that the user can choose to keep them (`keep_parents=True`).
    Refuses what `move` refuses, with the same message.
    """
    return parent_changes(plan, move(plan, codes, homecare, secondary=secondary, tertiary=tertiary))


def parent_changes_of_merge(plan: Plan, level: str, names: Sequence[str], into: str) -> tuple[ParentChange, ...]:
    """The parents `merge_areas` would change if they followed the merged area (see `parent_changes_of_move`).

    Only the levels above `level` count: merging 二次医療圏 changes their members' 二次医療圏 by design.
    """
    uppers = _uppers(check_level(level))
    changes = parent_changes(plan, merge_areas(plan, level, names, into))
    return tuple(c for c in changes if any(c.changed(u) for u in uppers))


def _uppers(level: Level) -> tuple[Level, ...]:
    return LEVELS[LEVELS.index(level) + 1 :]


def _listing(names: Sequence[str]) -> str:
    shown = "・".join(names[:_MAX_NAMES])
    return shown + (f"ほか{len(names) - _MAX_NAMES}市町村" if len(names) > _MAX_NAMES else "")


def _side(value: str | None) -> str:
    return "（なし）" if value is None else value


def _groups(
    changes: Iterable[ParentChange], levels: Sequence[Level] = _PARENTS
) -> list[tuple[list[ParentChange], list[Level]]]:
    """Changes grouped by the same old → new parents, with the levels (of `levels`) that change."""
    groups: dict[tuple[tuple[str, str | None, str | None], ...], list[ParentChange]] = {}
    for c in changes:
        key = tuple((lv, c.old(lv), c.new(lv)) for lv in levels if c.changed(lv))
        if key:
            groups.setdefault(key, []).append(c)
    return [(cs, [lv for lv in levels if cs[0].changed(lv)]) for cs in groups.values()]


def _arrows(c: ParentChange, levels: Sequence[Level]) -> str:
    """「二次医療圏も 上川中部 → 富良野、三次医療圏も 道北 → 道央」"""
    return "、".join(f"{LEVEL_JA[lv]}も {_side(c.old(lv))} → {_side(c.new(lv))}" for lv in levels)


def describe_parent_changes(changes: Iterable[ParentChange], *, level: str = "homecare", done: bool = False) -> str:
    """「美瑛町は二次医療圏も 上川中部 → 富良野 に変わります。」 ('' when nothing changes).

    `level` is the level edited (only the levels above it are told); `done=False` for the
    notice shown before the edit, `done=True` for the message after it.
    """
    verb = "変わりました" if done else "変わります"
    groups = _groups(changes, _uppers(check_level(level)))
    return "".join(f"{_listing([c.name for c in cs])}は{_arrows(cs[0], levels)} に{verb}。" for cs, levels in groups)


def describe_kept_parents(after: Plan, changes: Iterable[ParentChange], level: str = "homecare") -> str:
    """What an edit with `keep_parents=True` left as it was, and the borders its area now crosses.

    `changes` are those the edit would have made had the parents followed
    (`parent_changes_of_move` / `parent_changes_of_merge`, asked before it); '' when none.
    """
    lv = check_level(level)
    groups = _groups(changes, _uppers(lv))
    if not groups:
        return ""
    kept = list(dict.fromkeys(p for _, levels in groups for p in levels))
    text = f"{'・'.join(LEVEL_JA[p] for p in kept)}は変えていません: " + "".join(
        f"{_listing([c.name for c in cs])}は"
        f"{'・'.join(f'{LEVEL_JA[p]} {_side(cs[0].old(p))}' for p in levels)} のままです。"
        for cs, levels in groups
    )
    t = after.table
    codes = {c.code for cs, _ in groups for c in cs}
    areas = list(dict.fromkeys(t.loc[t["code"].isin(codes), lv].dropna()))
    for area in areas:
        rows = t[(t[lv] == area).fillna(False)]
        for upper in _uppers(lv):
            parents = list(dict.fromkeys(rows[upper].dropna()))
            if len(parents) > 1:
                text += (
                    f"{LEVEL_JA[lv]}「{area}」は{len(parents)}つの{LEVEL_JA[upper]}（{'・'.join(parents)}）に"
                    "またがります（所見に出ます）。"
                )
                break
    return text


# ---- describing a change ---------------------------------------------------------------------
def _aligned(before: Plan, after: Plan) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    a, b = _full(before.table), _full(after.table)
    if len(a) != len(b) or not a["code"].reset_index(drop=True).equals(b["code"].reset_index(drop=True)):
        return None
    return a.reset_index(drop=True), b.reset_index(drop=True)


def _full(table: pd.DataFrame) -> pd.DataFrame:
    """`table` with every column of _COLUMNS (a table built before hub locations existed lacks some)."""
    return table if all(c in table.columns for c in _COLUMNS) else table.reindex(columns=_COLUMNS)


def _differs(a: pd.Series, b: pd.Series) -> pd.Series:
    both_na = a.isna() & b.isna()
    return ~both_na & (a.isna() | b.isna() | (a.astype(object) != b.astype(object)))


def changed_codes(before: Plan, after: Plan) -> tuple[str, ...]:
    """Codes whose row differs between two plans (added and removed rows included)."""
    pair = _aligned(before, after)
    if pair is None:
        a = _full(before.table).set_index("code")
        b = _full(after.table).set_index("code")
        out = set(a.index) ^ set(b.index)
        common = a.index.intersection(b.index)
        a, b = a.loc[common], b.loc[common]
        diff = pd.concat([_differs(a[c], b[c]) for c in _COLUMNS[1:]], axis=1).any(axis=1)
        return tuple(sorted(out | set(common[diff.to_numpy()])))
    a, b = pair
    diff = pd.concat([_differs(a[c], b[c]) for c in _COLUMNS[1:]], axis=1).any(axis=1)
    return tuple(a.loc[diff, "code"])


def describe_change(before: Plan, after: Plan) -> str:
    """A one-line Japanese label for the history list, e.g. 「当別町を 札幌（未確定） から 石狩市 へ移動」.

    Parents that followed the edit are said in brackets:
    「美瑛町を 上川 から 富良野 へ移動（二次医療圏も 上川中部 → 富良野）」.
    """
    pair = _aligned(before, after)
    if pair is None:
        return f"区域案を「{after.name or '区域案'}」に置き換え（{len(after)}市町村）"
    a, b = pair
    parts: list[str] = []
    done_levels: set[str] = set()  # parents follow a move or a rename: said once, in brackets
    first: Level | None = None
    for lv in LEVELS:
        diff = _differs(a[lv], b[lv])
        if not diff.any() or lv in done_levels:
            continue
        first = first or lv
        pairs = pd.DataFrame({"code": a.loc[diff, "code"], "old": a.loc[diff, lv], "new": b.loc[diff, lv]})
        moves = []
        for (old, new), g in pairs.groupby(["old", "new"], sort=False, dropna=False):
            # A rename: all members of an old name, and only they, carry a name that did not exist.
            whole = (a[lv] == old).fillna(False)
            if (
                pd.notna(old)
                and pd.notna(new)
                and not (a[lv] == new).fillna(False).any()
                and ((b[lv] == new).fillna(False) == whole).all()
            ):
                parts.append(f"{LEVEL_JA[lv]}「{old}」を「{new}」に名前変更")
            else:
                moves.append(g)
        if moves:
            groups = pd.concat(moves).fillna({"old": "（なし）", "new": "（なし）"})
            for new, g in groups.groupby("new", sort=False):
                olds = list(dict.fromkeys(g["old"]))
                existed = bool((a[lv] == new).fillna(False).any())
                whole = [o for o in olds if not ((a[lv] == o).fillna(False) & (b[lv] != new).fillna(True)).any()]
                quoted = "".join(f"「{o}」" for o in olds[:_MAX_NAMES]) + ("ほか" if len(olds) > _MAX_NAMES else "")
                if new != "（なし）" and len(whole) == len(olds) and (len(olds) >= 2 or existed):
                    parts.append(f"{LEVEL_JA[lv]}{quoted}を「{new}」に統合")
                elif new != "（なし）" and len(olds) == 1 and not existed and not whole:
                    parts.append(f"{LEVEL_JA[lv]}{quoted}から{_names(after, list(g['code']))}を「{new}」として分割")
                else:
                    src = "・".join(olds[:_MAX_NAMES]) + ("ほか" if len(olds) > _MAX_NAMES else "")
                    text = f"{_names(after, list(g['code']))}を {src} から {new} へ移動"
                    parts.append(text if lv == "homecare" else f"{LEVEL_JA[lv]}: {text}")
        done_levels.update(LEVELS[LEVELS.index(lv) :])
    hub_diff = pd.concat([_differs(a[c], b[c]) for c in HUB_COLUMNS if c in a and c in b], axis=1).any(axis=1)
    other = [c for c in ("status", "name") if _differs(a[c], b[c]).any()]
    if not parts and not other and hub_diff.any():
        parts.append(_describe_hubs(b[hub_diff.to_numpy()]))
    elif not parts and (other or hub_diff.any()):
        n = int(pd.concat([*(_differs(a[c], b[c]) for c in other), hub_diff], axis=1).any(axis=1).sum())
        what = {"status": "状態", "name": "市町村名"}
        names = [what[c] for c in other] + (["拠点"] if hub_diff.any() else [])
        parts.append(f"{'・'.join(names)}を変更（{n}市町村）")
    if not parts:
        return "変更なし" if before.name == after.name else f"区域案の名前を「{after.name}」に変更"
    label = "、".join(parts)
    if first is not None and first != "tertiary":
        moved = set(a.loc[_differs(a[first], b[first]), "code"])
        label += _parents_note(moved, parent_changes(before, after), _uppers(first))
    return label


def _describe_hubs(rows: pd.DataFrame) -> str:
    """「在宅医療圏「北見」の連携拠点を「…センター」（施設 0155080039）に設定」 for the areas whose hub changed."""
    out = []
    for area, g in rows.groupby(rows["homecare"].fillna("（在宅医療圏なし）"), sort=False):
        fields = hub_location_of(g, _mode(g["hub"]))
        if pd.isna(fields["hub"]):
            out.append(f"在宅医療圏「{area}」の連携拠点を外す")
            continue
        where = (
            f"施設 {fields['hub_facility']}"
            if pd.notna(fields["hub_facility"])
            else f"北緯{fields['hub_lat']}・東経{fields['hub_lon']}"
            if pd.notna(fields["hub_lat"])
            else "位置は不明"
        )
        out.append(f"在宅医療圏「{area}」の連携拠点を「{fields['hub']}」（{where}）に設定")
    return "、".join(out[:_MAX_NAMES]) + (f" ほか{len(out) - _MAX_NAMES}圏域" if len(out) > _MAX_NAMES else "")


def _parents_note(moved: set[str], changes: Sequence[ParentChange], levels: Sequence[Level]) -> str:
    """「（二次医療圏も 上川中部 → 富良野）」 for the parents that followed an edit ('' when none).

    Names the municipalities unless the note is about every municipality the edit moved.
    """
    groups = _groups(changes, levels)
    if not groups:
        return ""
    if len(groups) == 1 and {c.code for c in groups[0][0]} == moved:
        return f"（{_arrows(groups[0][0][0], groups[0][1])}）"
    return "（" + "、".join(f"{_listing([c.name for c in cs])}の{_arrows(cs[0], lvs)}" for cs, lvs in groups) + "）"


# ---- history -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Edit:
    """One step of the history: what it was called, the plans on both sides, the codes it touched."""

    label: str
    before: Plan
    after: Plan
    codes: tuple[str, ...] = ()


class EditHistory:
    """Undo / redo over immutable plans. Undo hands back the very Plan object from before."""

    def __init__(self, plan: Plan, *, limit: int | None = None):
        self._base = plan
        self._done: list[Edit] = []
        self._undone: list[Edit] = []  # most recently undone last
        self.limit = limit

    @property
    def current(self) -> Plan:
        return self._done[-1].after if self._done else self._base

    @property
    def base(self) -> Plan:
        """The plan the history started from (moves forward when `limit` drops old steps)."""
        return self._base

    def apply(self, edit_fn_result: Plan, label: str | None = None, codes: Iterable[str] = ()) -> Plan:
        """Record `edit_fn_result` as the next plan; an unchanged plan records nothing."""
        if not isinstance(edit_fn_result, Plan):
            raise PlanError("区域案（Plan）ではないものを履歴に記録しようとしました。")
        before = self.current
        if edit_fn_result == before and edit_fn_result.name == before.name:
            return before
        touched = tuple(codes) or changed_codes(before, edit_fn_result)
        self._done.append(Edit(label or describe_change(before, edit_fn_result), before, edit_fn_result, touched))
        self._undone.clear()
        if self.limit is not None and len(self._done) > self.limit:
            dropped = self._done.pop(0)
            self._base = dropped.after
        return edit_fn_result

    def undo(self) -> Plan | None:
        """Step back; None when there is nothing to undo."""
        if not self._done:
            return None
        edit = self._done.pop()
        self._undone.append(edit)
        return edit.before

    def redo(self) -> Plan | None:
        """Step forward again; None when there is nothing to redo."""
        if not self._undone:
            return None
        edit = self._undone.pop()
        self._done.append(edit)
        return edit.after

    @property
    def can_undo(self) -> bool:
        return bool(self._done)

    @property
    def can_redo(self) -> bool:
        return bool(self._undone)

    @property
    def entries(self) -> list[Edit]:
        """Applied edits, oldest first."""
        return list(self._done)

    @property
    def redo_entries(self) -> list[Edit]:
        """Undone edits in the order redo would bring them back."""
        return list(reversed(self._undone))

    @property
    def undo_label(self) -> str | None:
        return self._done[-1].label if self._done else None

    @property
    def redo_label(self) -> str | None:
        return self._undone[-1].label if self._undone else None

    def __len__(self) -> int:
        return len(self._done)

    # ---- persistence: the base plan and each step as the cells it changed ------------------------
    def to_json(self) -> str:
        """JSON with the base plan and each edit as changed cells (small enough to keep with the plan)."""
        chain = [*self._done, *reversed(self._undone)]
        steps = []
        for e in chain:
            step: dict[str, object] = {"label": e.label, "codes": list(e.codes), "name": e.after.name}
            pair = _aligned(e.before, e.after)
            if pair is None:
                step["rows"] = _rows(e.after.table)
            else:
                a, b = pair
                changes: dict[str, dict[str, object]] = {}
                for col in _COLUMNS[1:]:
                    diff = _differs(a[col], b[col])
                    for code, value in zip(b.loc[diff, "code"], b.loc[diff, col], strict=True):
                        changes.setdefault(str(code), {})[col] = None if pd.isna(value) else str(value)
                step["changes"] = changes
            steps.append(step)
        doc = {
            "format": "geo_app.edit_history",
            "version": 1,
            "columns": _COLUMNS,  # absent in logs saved before hub locations: their rows are _OLD_COLUMNS
            "base": {"name": self._base.name, "rows": _rows(self._base.table)},
            "steps": steps,
            "position": len(self._done),
            "limit": self.limit,
        }
        return json.dumps(doc, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> EditHistory:
        """Rebuild a history saved by `to_json` (undo and redo both work afterwards)."""
        try:
            doc = json.loads(text)
            if doc.get("format") != "geo_app.edit_history":
                raise ValueError
            columns = list(doc.get("columns", _OLD_COLUMNS))
            if not set(columns) <= set(_COLUMNS) or columns[: len(PLAN_COLUMNS)] != PLAN_COLUMNS:
                raise ValueError
            base = _plan_from_rows(doc["base"]["name"], doc["base"]["rows"], columns)
            hist = cls(base, limit=doc.get("limit"))
            plans = [base]
            edits: list[Edit] = []
            for step in doc["steps"]:
                before = plans[-1]
                if "rows" in step:
                    after = _plan_from_rows(step["name"], step["rows"], columns)
                else:
                    t = before.table.copy()
                    pos = pd.Series(range(len(t)), index=t["code"].to_numpy())
                    for code, cells in step["changes"].items():
                        for col, value in cells.items():
                            if col not in _COLUMNS[1:]:
                                raise ValueError
                            t.iat[int(pos[code]), t.columns.get_loc(col)] = pd.NA if value is None else value
                    after = Plan(name=step["name"], table=t)
                edits.append(Edit(step["label"], before, after, tuple(step.get("codes", ()))))
                plans.append(after)
            position = int(doc["position"])
            if not 0 <= position <= len(edits):
                raise ValueError
        except (ValueError, KeyError, TypeError, AttributeError, IndexError):
            raise PlanError(
                "編集履歴のファイルが壊れているか、このアプリの形式ではありません。履歴なしで区域案だけを読み込んでください。"
            ) from None
        hist._done = edits[:position]
        hist._undone = list(reversed(edits[position:]))
        return hist


def _rows(table: pd.DataFrame) -> list[list[object]]:
    t = table.reindex(columns=_COLUMNS)
    return [[None if pd.isna(v) else str(v) for v in row] for row in t.itertuples(index=False)]


def _plan_from_rows(name: str, rows: list[list[object]], columns: list[str] = _COLUMNS) -> Plan:
    """A plan from saved rows of `columns` (an older log's rows lack the hub location: empty)."""
    df = pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame(columns=columns)
    table = pd.DataFrame({c: (df[c] if c in df else pd.Series([None] * len(df))).astype("string") for c in _COLUMNS})
    return Plan(name=name, table=table)
