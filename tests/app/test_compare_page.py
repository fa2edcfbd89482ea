"""案の比較 through AppTest: areas paired by members — renames are renames, moves are moves.

Real Hokkaido data, a temporary SQLite store (the `db` fixture); expected figures come from
`dissolve` and the census, not from the page.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from geo_app import dissolve, load_plan
from geo_app.core.edits import move, rename_area
from geo_app.io.municipalities import municipalities_for_plan
from geo_app.io.store import PlanStore

MAIN = str(Path(__file__).resolve().parents[2] / "geo_app" / "app" / "main.py")
TOKACHI = ["北十勝", "西十勝", "南十勝", "東十勝"]
BIEI = "01459"  # 美瑛町


@pytest.fixture(scope="module")
def hokkaido_pops() -> dict[str, int]:
    plan = load_plan("hokkaido-2024")
    areas = dissolve(municipalities_for_plan(plan), plan, "homecare")
    return {str(a): int(p) for a, p in zip(areas["area"], areas["population"], strict=True)}


def compare_page(a: str, b: str):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(MAIN, default_timeout=120)
    at.run()
    at.switch_page("page_compare.py")
    at.run()
    at.selectbox(key="cmp_a").set_value(a)
    at.selectbox(key="cmp_b").set_value(b)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def frame(at, first_column: str):
    return next(d.value for d in at.dataframe if d.value.columns[0] == first_column)


def test_four_renamed_areas_are_renames_not_moves(db, hokkaido_pops):
    plan = load_plan("hokkaido-2024")
    renamed = plan
    for old in TOKACHI:
        renamed = rename_area(renamed, "homecare", old, f"{old}圏")
    PlanStore(path=db).save(renamed.with_name("改名案"), expected_version=None)

    at = compare_page("builtin:hokkaido-2024", "saved:改名案")
    info = " ".join(i.value for i in at.info)
    assert "0市町村の所属が変わります" in info and "名前だけ変わる在宅医療圏 4" in info
    assert "構成が変わる" not in info
    assert "所属が変わる市町村はありません。" in [c.value for c in at.caption]
    assert any(s.value == "名前だけが変わる在宅医療圏（4）" for s in at.subheader)

    table = frame(at, "名前（A）")
    assert list(table["名前（A）"]) == TOKACHI and list(table["名前（B）"]) == [f"{x}圏" for x in TOKACHI]
    for old, pa, pb in zip(table["名前（A）"], table["人口（A）"], table["人口（B）"], strict=True):
        assert int(pa) == int(pb) == hokkaido_pops[old]  # side by side, never 0 → N
    areas = frame(at, "圏域").set_index("圏域")
    assert len(areas) == 33 and (areas["差（B−A）"] == 0).all() and (areas["人口（A）"] > 0).all()
    assert areas.at["西十勝圏", "Aでの名前"] == "西十勝" and areas.at["西十勝圏", "変化"] == "名前だけ変更"


def test_moved_town_shows_who_joined_and_left(db, hokkaido_pops):
    plan = load_plan("hokkaido-2024")
    PlanStore(path=db).save(move(plan, BIEI, "富良野").with_name("美瑛移動"), expected_version=None)

    at = compare_page("builtin:hokkaido-2024", "saved:美瑛移動")
    assert any("1市町村の所属が変わります" in i.value for i in at.info)
    moved = frame(at, "市町村")
    assert list(moved["コード"]) == [BIEI] and list(moved["市町村"]) == ["美瑛町"]
    areas = frame(at, "圏域").set_index("圏域")  # only the areas whose members changed, by default
    assert sorted(areas.index) == sorted(["上川", "富良野"])
    assert areas.at["富良野", "加わる市町村"] == "美瑛町" and areas.at["富良野", "抜ける市町村"] == ""
    assert areas.at["上川", "抜ける市町村"] == "美瑛町" and areas.at["上川", "加わる市町村"] == ""
    biei = hokkaido_pops["上川"] - int(areas.at["上川", "人口（B）"])
    assert int(areas.at["富良野", "人口（B）"]) == hokkaido_pops["富良野"] + biei
    assert int(areas.at["上川", "人口（A）"]) == hokkaido_pops["上川"]
    assert not any(s.value.startswith("名前だけが変わる") for s in at.subheader)


def test_hostile_area_names_are_plain_cells(db):
    name = "**太字** :red[赤] <b>x</b>"
    plan = load_plan("hokkaido-2024")
    PlanStore(path=db).save(rename_area(plan, "homecare", "上川", name).with_name("改名"), expected_version=None)
    at = compare_page("builtin:hokkaido-2024", "saved:改名")
    table = frame(at, "名前（A）")
    assert list(table["名前（B）"]) == [name]  # a dataframe cell: the exact text, no Markdown
    assert not any("<b>" in str(m.value) or ":red[" in str(m.value) for m in at.markdown)
