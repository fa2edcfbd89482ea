"""Edits that cross a parent area, through the app (AppTest, real Hokkaido data).

The app says before a move or merge that it would change a 二次医療圏, and keeps the 二次医療圏 unless
the user chooses otherwise. Expected figures are summed here from the embedded census table.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import new_app, rerun

MAIN = str(Path(__file__).resolve().parents[2] / "geo_app" / "app" / "main.py")
CENSUS = Path(__file__).resolve().parents[2] / "data" / "population" / "census2020.csv"
BIEI = "01459"  # 美瑛町: home-care area 上川 in the 二次医療圏 上川中部
NOTICE = "美瑛町は二次医療圏も 上川中部 → 富良野 に変わります。"


@pytest.fixture(scope="module")
def expected() -> dict[str, int]:
    """Figures of hokkaido-2024 summed from the census table and the plan file, without geo_app."""
    pop = pd.read_csv(CENSUS, dtype={"code": str}, usecols=["code", "population"]).set_index("code")["population"]
    plan = pd.read_csv(Path(MAIN).parents[2] / "data" / "plans" / "hokkaido-2024.csv", dtype=str)
    assert {"code", "homecare", "secondary"} <= set(plan.columns), plan.columns
    by = pop.loc[plan["code"]].to_numpy()
    sec = pd.Series(by).groupby(plan["secondary"].to_numpy()).sum()
    home = pd.Series(by).groupby(plan["homecare"].to_numpy()).sum()
    return {
        "biei": int(pop[BIEI]),
        "上川中部": int(sec["上川中部"]),
        "二次富良野": int(sec["富良野"]),
        "上川": int(home["上川"]),
        "富良野": int(home["富良野"]),
    }


def pops(at) -> dict[str, int]:
    t = at.dataframe[0].value
    return dict(zip(t["圏域"], t["人口"].astype(int), strict=True))


def secondary_pops(at) -> dict[str, int]:
    at.radio(key="view_level").set_value("secondary")
    rerun(at)
    out = pops(at)
    at.radio(key="view_level").set_value("homecare")
    rerun(at)
    return out


def choose_move(at, code: str, target: str):
    at.selectbox(key="sel_muni").set_value(code)
    at.selectbox(key="move_target").set_value(target)
    return rerun(at)


def texts(elements) -> list[str]:
    return [str(e.value) for e in elements]


def crossings(at) -> pd.DataFrame:
    """The rows of the findings table (its 項目 and 説明 columns) about a home-care area crossing a 二次医療圏."""
    (frame,) = [d.value for d in at.dataframe if {"項目", "説明"} <= set(d.value.columns)]
    return frame[frame["項目"] == "在宅医療圏が二次医療圏をまたぐ"]


def test_move_across_a_secondary_is_told_first_and_keeps_it_by_default(db, expected):
    at = new_app()
    assert secondary_pops(at)["上川中部"] == expected["上川中部"]
    before = pops(at)
    choose_move(at, BIEI, "富良野")
    # the notice and the choice are on the page, and nothing has moved yet
    notices = [t for t in texts(at.warning) if "二次医療圏の境界をまたぎます" in t]
    assert len(notices) == 1 and NOTICE in notices[0].replace("\\", ""), notices
    choice = at.radio(key="move_parents")
    assert choice.value == "keep" and choice.options == ["二次医療圏は変えない（既定）", "二次医療圏も移す"]
    assert pops(at) == before
    # the notice is drawn before the button: the button comes after it in the page
    order = [n.key if n.type in ("button", "radio") else str(getattr(n, "value", "")) for n in _walk(at.main)]
    notice = next(i for i, v in enumerate(order) if "境界をまたぎます" in v)
    assert notice < order.index("move_parents") < order.index("btn_move")

    at.button(key="btn_move").click()
    rerun(at)
    success = " ".join(texts(at.success)).replace("\\", "")  # shown once, on the page after the click
    assert "二次医療圏は変えていません: 美瑛町は二次医療圏 上川中部 のままです。" in success, success
    assert "在宅医療圏「富良野」は2つの二次医療圏（富良野・上川中部）にまたがります" in success
    after = pops(at)
    assert after["上川"] == expected["上川"] - expected["biei"]
    assert after["富良野"] == expected["富良野"] + expected["biei"]
    sec = secondary_pops(at)
    assert sec["上川中部"] == expected["上川中部"] and sec["富良野"] == expected["二次富良野"]  # parents kept
    (found,) = crossings(at).to_dict(orient="records")
    assert found["市町村コード"] == BIEI and found["市町村名"] == "美瑛町", found
    assert "在宅医療圏「富良野」" in found["説明"] and "上川中部（美瑛町（01459））" in found["説明"]
    assert any(t.endswith("1. 美瑛町を 上川 から 富良野 へ移動") for t in texts(at.text))
    assert not [t for t in texts(at.warning) if "境界をまたぎます" in t]  # the next move starts afresh


def test_move_with_the_secondary_following(db, expected):
    at = choose_move(new_app(), BIEI, "富良野")
    at.radio(key="move_parents").set_value("follow")
    rerun(at)
    at.button(key="btn_move").click()
    rerun(at)
    success = " ".join(texts(at.success)).replace("\\", "")
    assert "美瑛町は二次医療圏も 上川中部 → 富良野 に変わりました。" in success, success
    assert "1. 美瑛町を 上川 から 富良野 へ移動（二次医療圏も 上川中部 → 富良野）" in texts(at.text)
    assert crossings(at).empty  # the home-care areas are nested again
    sec = secondary_pops(at)
    assert sec["上川中部"] == expected["上川中部"] - expected["biei"]
    assert sec["富良野"] == expected["二次富良野"] + expected["biei"]


def test_move_inside_its_secondary_asks_nothing(db):
    at = choose_move(new_app(), "01458", "上川")  # 東川町 is in 上川 already; 旭川市 shares its secondary
    assert not [t for t in texts(at.warning) if "境界をまたぎます" in t]
    at = choose_move(at, "01458", "旭川市")
    assert not [t for t in texts(at.warning) if "境界をまたぎます" in t]


def test_merge_across_secondaries_is_told_first_and_keeps_them_by_default(db, expected):
    at = new_app()
    at.radio(key="ed_level").set_value("homecare")
    at.multiselect(key="mg_areas").set_value(["上川", "富良野"])
    rerun(at)
    notices = [t.replace("\\", "") for t in texts(at.warning) if "境界をまたぎます" in t]
    assert len(notices) == 1 and "ほか2市町村は二次医療圏も 富良野 → 上川中部 に変わります。" in notices[0]
    assert at.radio(key="mg_parents").value == "keep"
    at.button(key="btn_merge").click()
    rerun(at)
    assert "二次医療圏は変えていません" in " ".join(texts(at.success))
    assert pops(at)["上川"] == expected["上川"] + expected["富良野"]
    sec = secondary_pops(at)
    assert sec["上川中部"] == expected["上川中部"] and sec["富良野"] == expected["二次富良野"]


def _walk(node):
    """The page's elements in drawing order (AppTest's tree, depth first)."""
    children = getattr(node, "children", None)
    if children is None:
        yield node
        return
    for key in sorted(children):
        yield from _walk(children[key])


def test_the_notice_shows_typed_names_as_text(db):
    from geo_app.app.text import md_escape

    hostile = "**富良野** [x](http://127.0.0.1:9/x.png) $y$ :red[z]"
    at = new_app()
    at.radio(key="ed_level").set_value("secondary")
    rerun(at)
    at.selectbox(key="rn_area").set_value("富良野")
    at.text_input(key="rn_new").set_value(hostile)
    at.button(key="btn_rename").click()
    rerun(at)
    choose_move(at, BIEI, "富良野")
    (notice,) = [t for t in texts(at.warning) if "境界をまたぎます" in t]
    assert f"美瑛町は二次医療圏も 上川中部 → {md_escape(hostile)} に変わります。" in notice, notice
    assert hostile not in notice
