"""The app's pages through Streamlit's AppTest (no browser): real Hokkaido data, real figures.

Each test is a fresh user session on a temporary SQLite plan store (GEO_APP_DB_PATH).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

MAIN = str(Path(__file__).resolve().parents[2] / "geo_app" / "app" / "main.py")
TOTAL = 5_224_614
# 美瑛町 (9,668) moves from 上川 (9 towns, 51,990) to 富良野 (39,894).
BIEI, BIEI_POP, KAMIKAWA, FURANO = "01459", 9_668, 51_990, 39_894
# The same in 2040 (IPSS 2023 edition, data/projections/ipss2023.csv): 美瑛町 6,851; 上川 39,290; 富良野 27,540.
BIEI_2040, KAMIKAWA_2040, FURANO_2040 = 6_851, 39_290, 27_540
POP_2040 = "人口（2040年推計）"


def new_app(**query):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(MAIN, default_timeout=120)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def table(at) -> pd.DataFrame:
    """The table of areas on the map page (the first dataframe there)."""
    return at.dataframe[0].value


def pops(at, column: str = "人口") -> dict[str, int]:
    t = table(at)
    return dict(zip(t["圏域"], t[column].astype(int), strict=True))


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


#: The app's pages (st.navigation, one URL each): title → page script, relative to main.py.
PAGES = {
    "地図と編集": "page_map.py",
    "案の比較": "page_compare.py",
    "保存・読み込み": "page_plans.py",
    "都道府県・データ": "page_data.py",
}


def go(at, page: str):
    """Open a page by its title, as a click on its link in the sidebar does."""
    at.switch_page(PAGES[page])
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def move(at, code: str, target: str):
    at.selectbox(key="sel_muni").set_value(code)
    at.selectbox(key="move_target").set_value(target)
    at.run()
    at.button(key="btn_move").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_starts_on_hokkaido_2024(db):
    at = new_app()
    t = table(at)
    assert len(t) == 33
    assert int(t["人口"].sum()) == TOTAL
    assert metric(at, "在宅医療圏の数") == "33"
    assert metric(at, "市町村の数") == "179"
    assert metric(at, "人口（合計）") == "5,224,614 人"
    assert pops(at)["上川"] == KAMIKAWA
    assert int((t["状態"] == "未確定").sum()) == 4
    sidebar = " ".join(str(c.value) for c in at.sidebar.caption)
    assert "令和2年国勢調査" in sidebar and "国土数値情報" in sidebar
    assert not at.error


def test_levels_and_table(db):
    at = new_app()
    at.radio(key="view_level").set_value("secondary")
    at.run()
    assert len(table(at)) == 21 and int(table(at)["人口"].sum()) == TOTAL
    at.radio(key="view_level").set_value("tertiary")
    at.run()
    assert len(table(at)) == 6 and int(table(at)["人口"].sum()) == TOTAL


def test_move_changes_two_areas_by_the_population_and_undo_restores(db):
    at = new_app()
    before = pops(at)
    move(at, BIEI, "富良野")
    after = pops(at)
    assert after["上川"] == KAMIKAWA - BIEI_POP == before["上川"] - BIEI_POP
    assert after["富良野"] == FURANO + BIEI_POP
    assert {a: p for a, p in after.items() if a not in ("上川", "富良野")} == {
        a: p for a, p in before.items() if a not in ("上川", "富良野")
    }
    assert sum(after.values()) == TOTAL
    assert any(
        "「上川」51,990人 → 42,322人" in s.value and "「富良野」39,894人 → 49,562人" in s.value for s in at.success
    )
    # the 2040 column follows the same edit: the municipality's projected population moves with it
    future = pops(at, POP_2040)
    assert (future["上川"], future["富良野"]) == (KAMIKAWA_2040 - BIEI_2040, FURANO_2040 + BIEI_2040)

    at.button(key="btn_undo").click()
    at.run()
    assert pops(at) == before
    assert (pops(at, POP_2040)["上川"], pops(at, POP_2040)["富良野"]) == (KAMIKAWA_2040, FURANO_2040)
    at.button(key="btn_redo").click()
    at.run()
    assert pops(at) == after


def test_move_to_a_new_area_and_bad_name(db):
    at = new_app()
    at.selectbox(key="sel_muni").set_value(BIEI)
    at.selectbox(key="move_target").set_value("__new__")
    at.run()
    at.text_input(key="move_new_name").set_value("美瑛")
    at.button(key="btn_move").click()
    at.run()
    p = pops(at)
    assert p["美瑛"] == BIEI_POP and p["上川"] == KAMIKAWA - BIEI_POP and len(p) == 34
    # an area name that is only spaces is refused in Japanese; nothing changes
    at.selectbox(key="sel_muni").set_value("01458")
    at.selectbox(key="move_target").set_value("__new__")
    at.run()
    at.text_input(key="move_new_name").set_value("   ")
    at.button(key="btn_move").click()
    at.run()
    assert pops(at) == p
    assert any("名前を入れてください" in e.value for e in at.error)


def test_rename_merge_split(db):
    at = new_app()
    at.radio(key="ed_level").set_value("homecare")
    at.selectbox(key="rn_area").set_value("富良野")
    at.text_input(key="rn_new").set_value("富良野圏")
    at.button(key="btn_rename").click()
    at.run()
    assert "富良野圏" in pops(at) and "富良野" not in pops(at)

    at.multiselect(key="mg_areas").set_value(["上川", "富良野圏"])
    at.text_input(key="mg_into").set_value("上川・富良野")
    at.button(key="btn_merge").click()
    at.run()
    assert pops(at)["上川・富良野"] == KAMIKAWA + FURANO and len(pops(at)) == 32

    at.selectbox(key="sp_area").set_value("上川・富良野")
    at.run()
    at.multiselect(key="sp_codes").set_value(["01229", "01460", "01461", "01462", "01463"])
    at.text_input(key="sp_new").set_value("富良野")
    at.button(key="btn_split").click()
    at.run()
    assert pops(at)["富良野"] == FURANO and pops(at)["上川・富良野"] == KAMIKAWA


def test_save_and_reopen_from_another_session(db):
    at = move(new_app(), BIEI, "富良野")
    go(at, "保存・読み込み")
    at.text_input(key="save_as_name").set_value("案A")
    at.button(key="btn_save_as").click()
    at.run()
    assert any("「案A」を保存しました（版1）" in s.value for s in at.success)
    assert at.query_params["plan"] == ["案A"] or at.query_params["plan"] == "案A"

    from geo_app.io.store import PlanStore

    plan, version = PlanStore(path=db).load("案A")
    assert version == 1 and plan.area_of(BIEI) == "富良野"
    history = PlanStore(path=db).history("案A")
    assert "美瑛町" in history[0].note  # the edit log is kept with the version

    other = new_app(plan="案A")  # a reload / another browser: the saved edit is there
    assert pops(other)["富良野"] == FURANO + BIEI_POP
    assert "保存先: 「案A」版1" in " ".join(str(c.value) for c in other.sidebar.caption)


def test_save_conflict_keeps_the_edits(db):
    at = new_app()
    go(at, "保存・読み込み")
    at.text_input(key="save_as_name").set_value("案A")
    at.button(key="btn_save_as").click()
    at.run()
    go(at, "地図と編集")
    move(at, BIEI, "富良野")

    # someone else saves 案A first
    from geo_app.io.store import PlanStore

    store = PlanStore(path=db)
    theirs, v = store.load("案A")
    store.save(theirs, expected_version=v, note="別の人の保存")

    at.sidebar.button(key="btn_quick_save").click()
    at.run()
    assert any("ほかの画面（または別の人）が保存しました" in e.value for e in at.error)
    assert pops(at)["富良野"] == FURANO + BIEI_POP  # nothing lost
    assert store.load("案A")[1] == 2  # and nothing overwritten
    # save under another name instead
    go(at, "保存・読み込み")
    at.text_input(key="save_as_name").set_value("案B")
    at.button(key="btn_save_as").click()
    at.run()
    assert store.load("案B")[0].area_of(BIEI) == "富良野"
    # save as an existing name is refused in Japanese, too
    at.text_input(key="save_as_name").set_value("案A")
    at.button(key="btn_save_as").click()
    at.run()
    assert any("区域案「案A」はすでにあります" in e.value for e in at.error)


def test_compare_shows_the_moved_municipality(db):
    at = move(new_app(), BIEI, "富良野")
    go(at, "案の比較")
    assert any("1市町村の所属が変わります" in i.value for i in at.info)
    moved = at.dataframe[0].value
    assert list(moved["市町村"]) == ["美瑛町"] and list(moved["コード"]) == [BIEI]
    assert int(moved["人口"].iloc[0]) == BIEI_POP
    assert list(moved["在宅医療圏（A）"]) == ["上川"] and list(moved["在宅医療圏（B）"]) == ["富良野"]
    areas = at.dataframe[1].value.set_index("圏域")
    assert int(areas.loc["上川", "差（B−A）"]) == -BIEI_POP and int(areas.loc["富良野", "差（B−A）"]) == BIEI_POP
    assert (
        int(areas.loc["富良野", "人口（A）"]) == FURANO and int(areas.loc["富良野", "人口（B）"]) == FURANO + BIEI_POP
    )


def test_bad_plan_upload_shows_japanese_error_and_keeps_the_plan(db):
    at = move(new_app(), BIEI, "富良野")
    go(at, "保存・読み込み")
    at.file_uploader(key="import_file").upload("bad.csv", "名前,人口\n札幌,100\n".encode(), "text/csv")
    at.run()
    at.button(key="btn_import").click()
    at.run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert errors and "市町村コード" in errors[0] and "Traceback" not in errors[0]
    go(at, "地図と編集")
    assert pops(at)["富良野"] == FURANO + BIEI_POP  # the edited plan is still there


def test_good_plan_upload_and_csv_export(db):
    from geo_app.app.workspace import plan_csv_bytes
    from geo_app.io.plans import load_plan

    plan = load_plan("hokkaido-2024")
    data = plan_csv_bytes(plan)
    assert data.startswith(b"\xef\xbb\xbf") and "市町村コード".encode() in data[:40]
    at = new_app()
    go(at, "保存・読み込み")
    at.file_uploader(key="import_file").upload("現行.csv", data, "text/csv")
    at.run()
    at.button(key="btn_import").click()
    at.run()
    assert any("179市町村" in s.value for s in at.success), [e.value for e in at.error]
    go(at, "地図と編集")
    assert len(table(at)) == 33 and int(table(at)["人口"].sum()) == TOTAL


def test_other_prefecture_from_secondary_areas(db):
    at = new_app()
    go(at, "都道府県・データ")
    at.selectbox(key="start_pref").set_value("岩手県")
    at.run()
    at.radio(key="start_how").set_value("per_muni")
    at.button(key="btn_start").click()
    at.run()
    assert not at.error, [e.value for e in at.error]
    go(at, "地図と編集")
    t = table(at)
    assert len(t) == int(metric(at, "市町村の数")) and (t["市町村数"] == 1).all()
    assert (t["状態"] == "未確定").all()


def test_bad_boundary_upload_shows_japanese_error(db):
    at = new_app()
    go(at, "都道府県・データ")
    at.file_uploader(key="up_boundaries").upload("N03.geojson", b"{not json", "application/geo+json")
    at.run()
    at.button(key="btn_upload_data").click()
    at.run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert errors and "Traceback" not in errors[0]
    assert any(ch >= "\u3040" for ch in errors[0])  # Japanese text
    go(at, "地図と編集")
    assert len(table(at)) == 33  # the plan and data are as before


def test_undo_survives_a_reload_of_a_saved_plan(db):
    """Named plans are saved with their edit history: a new session on ?plan=案A undoes the move made
    before the save."""
    import sqlalchemy as sa

    from geo_app.app.workspace import restore_history
    from geo_app.core.edits import EditHistory
    from geo_app.io.plans import load_plan
    from geo_app.io.store import PlanStore

    at = move(new_app(), BIEI, "富良野")
    go(at, "保存・読み込み")
    at.text_input(key="save_as_name").set_value("案A")
    at.button(key="btn_save_as").click()
    at.run()
    assert any("「案A」を保存しました（版1）" in s.value for s in at.success)
    store = PlanStore(path=db)
    assert "美瑛町" in store.history("案A")[0].note  # the human-readable note is still written
    assert store.load_edit_log("案A") is not None

    other = new_app(plan="案A")  # a reload / another browser: a NEW session
    assert pops(other)["富良野"] == FURANO + BIEI_POP and pops(other)["上川"] == KAMIKAWA - BIEI_POP
    assert any("保存前の編集 1件の履歴も読み込みました" in i.value for i in other.info)
    assert "保存先: 「案A」版1" in " ".join(str(c.value) for c in other.sidebar.caption)
    assert not other.button(key="btn_undo").disabled
    other.button(key="btn_undo").click()
    other.run()
    assert not other.exception, [e.value for e in other.exception]
    undone = pops(other)
    assert undone["上川"] == KAMIKAWA and undone["富良野"] == FURANO and sum(undone.values()) == TOTAL
    assert any("元に戻しました: 美瑛町を 上川 から 富良野 へ移動" in i.value for i in other.info)
    assert other.button(key="btn_undo").disabled  # nothing older than the session that saved
    other.button(key="btn_redo").click()
    other.run()
    assert pops(other)["富良野"] == FURANO + BIEI_POP

    # A corrupt log never blocks opening: the plan opens as saved, with a fresh history and a Japanese warning.
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE geo_app_plan_versions SET edit_log = '{壊れた履歴'"))
    broken = new_app(plan="案A")
    assert pops(broken)["富良野"] == FURANO + BIEI_POP and pops(broken)["上川"] == KAMIKAWA - BIEI_POP
    assert any("編集履歴が壊れていて読み取れないため、編集履歴なしで開きました" in w.value for w in broken.warning)
    assert broken.button(key="btn_undo").disabled and not broken.error

    # A log that ends at another plan is not used either (undo would jump to a plan never saved here).
    saved, _ = store.load("案A")
    foreign = restore_history(saved, EditHistory(load_plan("hokkaido-2024")).to_json(), label="区域案「案A」版1")
    assert not foreign.restored and foreign.kind == "warning" and "一致しない" in foreign.message
    assert len(foreign.history) == 0 and foreign.history.current is saved
    none = restore_history(saved, None, label="区域案「案A」版1")
    assert not none.restored and none.kind == "info" and "編集履歴が保存されていない" in none.message
    store.close()


def test_population_floor_flags_exactly_the_small_home_care_areas(db):
    at = new_app()
    assert not any("population_floor" in str(v) for v in at.dataframe[-1].value.to_numpy().ravel())
    at.number_input(key="population_floor").set_value(30_000)
    at.run()
    assert not at.exception
    findings = at.dataframe[-1].value
    flagged = findings[findings.apply(lambda r: "population_floor" in r.to_string(), axis=1)]
    t = table(at)
    expected = set(t.loc[t["人口"].astype(int) < 30_000, "圏域"])
    assert expected == {"根室市", "北空知", "南檜山", "南十勝"}  # from the census, via the area table
    assert {a for a in expected if flagged.apply(lambda r, a=a: a in r.to_string(), axis=1).any()} == expected
    assert len(flagged) == len(expected)


def test_starting_another_plan_asks_before_dropping_unsaved_edits(db):
    at = move(new_app(), BIEI, "富良野")
    go(at, "都道府県・データ")
    at.selectbox(key="start_pref").set_value("岩手県")
    at.run()
    at.radio(key="start_how").set_value("per_muni")
    at.button(key="btn_start").click()
    at.run()
    assert any("保存していない編集が1件あります" in w.value for w in at.warning)
    go(at, "地図と編集")
    assert pops(at)["富良野"] == FURANO + BIEI_POP  # nothing was dropped
    go(at, "都道府県・データ")
    at.selectbox(key="start_pref").set_value("岩手県")
    at.run()
    at.radio(key="start_how").set_value("per_muni")
    at.checkbox(key="discard_start").check()
    at.button(key="btn_start").click()
    at.run()
    assert not at.error, [e.value for e in at.error]
    go(at, "地図と編集")
    assert "富良野" not in pops(at) and (table(at)["市町村数"] == 1).all()  # 岩手県, one area per municipality


def test_imported_plan_says_what_the_reader_assumed(db):
    """A table without a 在宅医療圏 column starts from its secondary areas, and the app says so."""
    from geo_app.io.plans import load_plan

    frame = load_plan("secondary-2020:鳥取県").to_japanese_frame().drop(columns="在宅医療圏")
    data = frame.to_csv(index=False).encode("utf-8")
    at = new_app()
    go(at, "保存・読み込み")
    at.file_uploader(key="import_file").upload("鳥取.csv", data, "text/csv")
    at.run()
    at.button(key="btn_import").click()
    at.run()
    shown = " ".join(s.value for s in at.success)
    assert "19市町村" in shown and "「在宅医療圏」の列がない" in shown, [e.value for e in at.error]


def test_workspace_operations_run_without_streamlit(db):
    """Open, move, save, conflict and reopen through geo_app.app.workspace alone: no Streamlit loaded."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from geo_app.app import workspace as ops\n"
        "from geo_app.io.plans import load_plan\n"
        "from geo_app.io.store import PlanStore\n"
        "store = PlanStore()\n"
        "ws = ops.open_plan(load_plan('hokkaido-2024'), load=ops.build_data, cache=ops.MapCache(), origin='t')\n"
        "kind, text = ops.move_municipality(ws, '01459', '富良野', '美瑛町（01459）')\n"
        "assert kind == 'success' and '「上川」51,990人 → 42,322人' in text, text\n"
        "assert '「富良野」39,894人 → 49,562人' in text, text\n"
        "saved = ops.save(ws, store, '案A')\n"
        "assert (saved.name, saved.version) == ('案A', 1) and not ws.dirty\n"
        "theirs, v = store.load('案A'); store.save(theirs, expected_version=v, note='other')\n"
        "ws.undo()\n"
        "try:\n"
        "    ops.save(ws, store)\n"
        "    raise SystemExit('conflict not detected')\n"
        "except ops.GeoAppError:\n"
        "    pass\n"
        "assert ws.plan.area_of('01459') == '上川'  # the edit is kept\n"
        "old, msgs = ops.open_version(store, '案A', 1, load=ops.build_data, cache=ops.MapCache())\n"
        "assert old.saved_version == 2 and old.saved_plan is None  # rebased on the latest\n"
        "assert msgs[0][0] == 'success'\n"
        "assert len(old.history) == 1  # the saved edit history came back\n"
        "assert ops.plan_csv_bytes(old.plan).startswith(b'\\xef\\xbb\\xbf')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('streamlit', 'streamlit_folium')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
