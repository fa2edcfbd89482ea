"""Routes a user uploads on the data page join their islands as the embedded routes do.

Workspace operations without Streamlit (the data page calls exactly these) on the embedded
沖縄県 8th-plan areas: 渡嘉敷村 is joined by the nearest distance until the user's route file
names its ferry, which the findings then quote. A bad file is refused before anything changes.
"""

from __future__ import annotations

import pytest

from geo_app.app import workspace as ops
from geo_app.core.errors import InputError
from geo_app.io.plans import load_plan

ROUTE = "フェリーとかしき 那覇（泊）–渡嘉敷"


def _island_text(ws, code: str) -> str:
    return "\n".join(f.message for f in ws.findings() if f.rule == "island" and code in f.codes)


def test_uploaded_route_is_used_and_quoted(tmp_path):
    cache = ops.MapCache()
    ws = ops.open_plan(load_plan("secondary-2024:沖縄県"), load=ops.build_data, cache=cache, origin="テスト")
    before = _island_text(ws, "47353")
    assert "約 18 km" in before and ROUTE not in before

    routes = tmp_path / "航路.csv"
    routes.write_text(f"code_a,code_b,name,kind\n47201,47353,{ROUTE},sea\n", encoding="utf-8")
    ws2 = ops.with_data(ws, None, None, load=ops.build_data, sea_links=str(routes))
    assert ws2.sea_links == str(routes) and ws2.data.label == "アップロードしたデータ"
    assert ROUTE in _island_text(ws2, "47353")
    assert len(ws2.munis.attrs["sea_links"]) == len(ws.munis.attrs["sea_links"]) + 1  # added, none hidden
    assert ws2.plan == ws.plan  # the plan and its history are kept


def test_bad_route_file_is_refused_in_japanese(tmp_path):
    bad = tmp_path / "航路.csv"
    bad.write_text("code_a,code_b\n47201,99999\n", encoding="utf-8")
    ws = ops.open_plan(load_plan("secondary-2024:沖縄県"), load=ops.build_data, cache=ops.MapCache(), origin="t")
    with pytest.raises(InputError, match="99999"):
        ops.with_data(ws, None, None, load=ops.build_data, sea_links=str(bad))
