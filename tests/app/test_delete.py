"""保存・読み込み: 一覧から削除 names the plan, asks first, deletes exactly that plan, and can be undone.

AppTest (no browser) on a temporary SQLite store (the `db` fixture), real Hokkaido data.
"""

from __future__ import annotations

from conftest import new_app, rerun

from geo_app.io.store import PlanStore

BIEI = "01459"  # 美瑛町


def plans_page(at):
    at.switch_page("page_plans.py")
    return rerun(at)


def save_as(at, name: str):
    at.text_input(key="save_as_name").set_value(name)
    at.button(key="btn_save_as").click()
    return rerun(at)


def move_to(at, code: str, target: str):
    at.switch_page("page_map.py")
    rerun(at)
    at.selectbox(key="sel_muni").set_value(code)
    at.selectbox(key="move_target").set_value(target)
    rerun(at)
    at.button(key="btn_move").click()
    return rerun(at)


def texts(elements) -> str:
    return " ".join(str(e.value) for e in elements)


def test_delete_asks_then_deletes_exactly_the_named_plan_and_undo_restores_it(db):
    at = plans_page(new_app())
    save_as(at, "案A")
    save_as(at, "案B")
    store = PlanStore(path=db)
    b_v1 = store.load("案B")[0]
    move_to(at, BIEI, "富良野")  # 案B gets a second version: 美瑛町 moved to 富良野, saved over version 1
    at.sidebar.button(key="btn_quick_save").click()
    rerun(at)
    plans_page(at)
    assert [h.version for h in store.history("案B")] == [2, 1]
    b_history = store.history("案B")
    b_latest = store.load("案B")[0]
    a_plan = store.load("案A")[0]
    assert b_latest.area_of(BIEI) == "富良野" and a_plan.area_of(BIEI) == "上川"

    # the selection follows the plan just saved (it used to stay on 案A, which was then deleted)
    assert at.selectbox(key="open_name").value == "案B"
    button = at.button(key="btn_delete")
    assert button.label == "案B を一覧から削除"

    # first press: a question, nothing deleted yet
    button.click()
    rerun(at)
    assert "区域案「案B」（版2）を一覧から削除しますか" in texts(at.warning)
    assert [p.name for p in store.list_plans()] == ["案A", "案B"]
    # やめる: still nothing deleted, the question is gone
    at.button(key="btn_delete_cancel").click()
    rerun(at)
    assert not any("削除しますか" in str(w.value) for w in at.warning)
    assert [p.name for p in store.list_plans()] == ["案A", "案B"]

    # ask again and confirm
    at.button(key="btn_delete").click()
    rerun(at)
    at.button(key="btn_delete_confirm").click()
    rerun(at)
    assert [p.name for p in store.list_plans()] == ["案A"]
    assert store.load("案A")[0].table.equals(a_plan.table)  # 案A untouched
    assert "案B を削除しました" in texts(at.success)
    assert at.selectbox(key="open_name").options == ["案A"]
    assert "保存先" not in texts(at.sidebar.caption)  # the session no longer points at a deleted plan
    assert "最近削除した区域案（1）" in [e.label for e in at.expander]

    # 元に戻す: 案B is back, with both versions, and the session saves over it again
    at.button(key="btn_undelete").click()
    rerun(at)
    assert [p.name for p in store.list_plans()] == ["案A", "案B"]
    assert store.history("案B") == b_history
    assert store.load("案B")[0].table.equals(b_latest.table)
    assert store.load("案B", version=1)[0].table.equals(b_v1.table)
    assert "区域案「案B」を元に戻しました（版2" in texts(at.success)
    assert not any("を削除しました" in str(s.value) for s in at.success)
    assert "保存先: 「案B」版2" in texts(at.sidebar.caption)
    move_to(at, "01472", "上川北部")  # 幌加内町
    at.sidebar.button(key="btn_quick_save").click()
    rerun(at)
    assert store.load("案B")[1] == 3 and store.load("案B")[0].area_of("01472") == "上川北部"


def test_deleting_the_plan_picked_in_the_list_and_restoring_from_recently_deleted(db):
    at = plans_page(new_app())
    save_as(at, "案A")
    save_as(at, "案B")
    store = PlanStore(path=db)
    # the user's report: right after saving 案B the list still pointed at 案A, and deleted it
    assert at.selectbox(key="open_name").value == "案B"
    assert at.button(key="btn_delete").label == "案B を一覧から削除"
    # the user picks 案A (not the plan just saved): the button now names 案A and deletes 案A
    at.selectbox(key="open_name").set_value("案A")
    rerun(at)
    assert at.button(key="btn_delete").label == "案A を一覧から削除"
    at.button(key="btn_delete").click()
    rerun(at)
    # changing the selection withdraws the question, so no confirmation can delete a plan not shown
    at.selectbox(key="open_name").set_value("案B")
    rerun(at)
    assert not any(b.key == "btn_delete_confirm" for b in at.button)
    at.selectbox(key="open_name").set_value("案A")
    rerun(at)
    at.button(key="btn_delete").click()
    rerun(at)
    at.button(key="btn_delete_confirm").click()
    rerun(at)
    assert [p.name for p in store.list_plans()] == ["案B"]
    assert "保存先: 「案B」版1" in texts(at.sidebar.caption)  # the session's own plan is still linked

    # another session deleted nothing; a fresh session sees 案A under 最近削除した区域案 and restores it
    other = plans_page(new_app())
    assert "最近削除した区域案（1）" in [e.label for e in other.expander]
    assert "案A（版1、179市町村" in texts(other.text)
    other.button(key="btn_restore_0").click()
    rerun(other)
    assert [p.name for p in store.list_plans()] == ["案A", "案B"]
    assert "区域案「案A」を元に戻しました（版1" in texts(other.success)
    # the first session's 元に戻す now says it is back already, and changes nothing
    rerun(at)
    at.button(key="btn_undelete").click()
    rerun(at)
    assert "区域案「案A」は一覧にあります" in texts(at.error)
    assert [p.name for p in store.list_plans()] == ["案A", "案B"]


def test_a_hostile_plan_name_on_the_delete_button_is_text(db):
    name = "**案** [x](http://example.com) :red[赤]"
    at = plans_page(new_app())
    save_as(at, name)
    button = at.button(key="btn_delete")
    assert "\\*\\*" in button.label and "\\[x\\]" in button.label  # Markdown escaped in the label
    button.click()
    rerun(at)
    at.button(key="btn_delete_confirm").click()
    rerun(at)
    assert PlanStore(path=db).list_plans() == []
    assert "\\*\\*案\\*\\*" in texts(at.success)
