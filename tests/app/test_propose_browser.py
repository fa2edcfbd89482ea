"""The 提案 page end to end in headless Chromium: `geo-app app` in a subprocess, every request that
does not go to this machine refused and recorded.

The planner opens /propose, sees the notice that a proposal is not the official plan and the
default scope (the four 未確定 secondary areas, K = 10), asks for 4 candidates of a few steps with
seed 7 and presses 「提案を計算する」. The ranked table is read from the grid's accessible table
(what a screen reader gets; the cells themselves are drawn on a canvas) and must be, row by row,
what the core ranks for the same inputs (`test_propose_app.core_candidates`). Opening candidate 1
must make it the plan named in the sidebar, with one unsaved edit.
"""

from __future__ import annotations

import pytest
from conftest import offline_page, start_server, stop_server
from test_app_browser import alert, click_button, free_port, settle
from test_propose_app import CANDIDATES, SCOPE, SEED, STEPS, K, allocation, core_candidates

from geo_app.core.propose import DISCLAIMER

pytestmark = pytest.mark.browser

#: The grid whose first header is 順位 (the ranked table): its header and body cells as text.
_RANKED_JS = """() => {
  const t = [...document.querySelectorAll("[data-testid='stDataFrame'] table[role='grid']")]
    .find(t => t.querySelector('th') && t.querySelector('th').textContent === '順位');
  if (!t) return null;
  return {head: [...t.querySelectorAll('th')].map(e => e.textContent),
          rows: [...t.querySelectorAll('tbody tr')].map(r => [...r.querySelectorAll('td')].map(e => e.textContent))};
}"""


def _number(page, key: str, value: int) -> None:
    field = page.locator(f".st-key-{key} input")
    field.fill(str(value))
    field.press("Enter")
    settle(page)


def test_propose_page_ranks_as_the_core_and_opens_a_candidate(tmp_path, browser, hokkaido_plan, hokkaido):
    problem, ranked, plans = core_candidates(hokkaido_plan, hokkaido)
    db, log = tmp_path / "plans.sqlite3", tmp_path / "server.log"
    port = free_port()
    blocked: list[str] = []
    proc = start_server(port, db, log)
    try:
        page = offline_page(browser, blocked, viewport=(1500, 1100))
        page.goto(f"http://localhost:{port}/propose")
        main = page.locator("[data-testid='stMain']")
        main.get_by_text("提案を計算する").wait_for(timeout=120_000)
        settle(page)
        notice = page.locator("[data-testid='stAlert']").filter(has_text="公式の区域案ではありません").first
        assert notice.inner_text().strip() == DISCLAIMER
        chips = page.locator(".st-key-propose_within [data-tag]")
        assert [chips.nth(i).get_attribute("aria-label") for i in range(chips.count())] == SCOPE
        assert page.locator(".st-key-propose_k input").input_value() == str(K)

        _number(page, "propose_candidates", CANDIDATES)
        _number(page, "propose_steps", STEPS)
        _number(page, "propose_seed", SEED)
        click_button(page, "提案を計算する")
        page.wait_for_function(_RANKED_JS, timeout=60_000)
        settle(page)
        table = page.evaluate(_RANKED_JS)
        assert table["head"][:4] == ["順位", "二次医療圏ごとの圏域数", "人口の偏り（%）", "最大の偏り（%）"]
        assert len(table["rows"]) == len(ranked)
        for no, (row, cand) in enumerate(zip(table["rows"], ranked, strict=True), start=1):
            assert int(row[0]) == no and row[1] == allocation(problem, cand)
            assert float(row[2]) == round(cand.balance["rms_pct"], 2)
            assert (int(row[4]), int(row[5])) == (min(cand.populations), max(cand.populations))
        assert DISCLAIMER in notice.inner_text()  # still there with the results

        click_button(page, "開いて編集")
        alert(page, "提案1を開きました")
        sidebar = page.locator("[data-testid='stSidebar']")
        page.wait_for_function(
            "name => document.querySelector(\"[data-testid='stSidebar']\").innerText.includes(name)",
            arg=plans[0].name,
            timeout=30_000,
        )
        assert "保存していない編集: 1件" in sidebar.inner_text()
        assert blocked == []
    finally:
        stop_server(proc)
