"""Plans: built-in plans from the shared area tables, and the table format users keep in Excel."""

from __future__ import annotations

import pytest

from geo_app import PlanError, load_plan
from geo_app.core.codes import check_digit
from geo_app.io.plans import builtin_plans, plan_from_frame


def test_hokkaido_2024_structure(hokkaido_plan):
    t = hokkaido_plan.table
    assert len(t) == 179 and t["code"].is_unique
    assert len(hokkaido_plan.areas("homecare")) == 33
    assert len(hokkaido_plan.areas("secondary")) == 21
    assert len(hokkaido_plan.areas("tertiary")) == 6
    provisional = t[t["status"] == "未確定"]
    assert len(provisional) == 39  # 8 + 6 + 19 + 6 municipalities whose split is not published
    assert sorted(provisional["homecare"].unique()) == sorted(
        ["南渡島（未確定）", "札幌（未確定）", "後志（未確定）", "西胆振（未確定）"]
    )
    singles = t.groupby("homecare").size()
    assert set(singles[singles == 1].index) == {"函館市", "札幌市", "石狩市", "小樽市", "旭川市", "帯広市", "根室市"}
    assert hokkaido_plan.hubs()["北見"] == "北見在宅医療圏連携拠点センター"


def test_every_prefecture_has_a_secondary_plan():
    names = builtin_plans()
    assert len(names) == 96 and names[0] == "hokkaido-2024"  # + secondary-2020/2024 × 47, akita-2024
    kanagawa = load_plan("secondary-2020:神奈川県")
    # 川崎市 is split between two secondary areas by ward, so the plan lists its 7 wards
    kawasaki = kanagawa.table[kanagawa.table["code"].str.startswith("1413")]
    assert dict(zip(kawasaki["code"], kawasaki["secondary"], strict=True)) == {
        "14131": "川崎南部",
        "14132": "川崎南部",
        "14133": "川崎南部",
        "14134": "川崎北部",
        "14135": "川崎北部",
        "14136": "川崎北部",
        "14137": "川崎北部",
    }
    assert kanagawa.ward_cities == {"14130"}
    assert load_plan("secondary-2020:03").table.equals(load_plan("secondary-2020:岩手県").table)


def test_excel_mangled_and_check_digit_codes_round_trip(hokkaido_plan):
    df = hokkaido_plan.to_japanese_frame()
    mangled = df.copy()
    mangled["市町村コード"] = [int(c) for c in df["市町村コード"]]  # Excel: 01100 → 1100
    assert plan_from_frame(mangled).table.equals(hokkaido_plan.table)
    six = df.copy()
    six["市町村コード"] = [c + check_digit(c) for c in df["市町村コード"]]
    assert plan_from_frame(six).table.equals(hokkaido_plan.table)
    six.loc[0, "市町村コード"] = "011003"  # wrong check digit: 011002 is right
    with pytest.raises(PlanError, match="検査数字"):
        plan_from_frame(six)


def test_plan_file_round_trip_csv_cp932_and_xlsx(tmp_path, hokkaido_plan):
    csv = tmp_path / "plan.csv"
    hokkaido_plan.to_japanese_frame().to_csv(csv, index=False, encoding="cp932")
    assert load_plan(csv).table.equals(hokkaido_plan.table)
    xlsx = tmp_path / "plan.xlsx"
    hokkaido_plan.to_frame().to_excel(xlsx, index=False)
    assert load_plan(xlsx).table.equals(hokkaido_plan.table)


def test_unknown_builtin_name_is_a_japanese_error():
    with pytest.raises(PlanError, match="geo-app plans"):
        load_plan("secondary-2020:アトランティス県")
    with pytest.raises(PlanError):
        load_plan("no-such-plan")


def _tottori_table():
    from geo_app import load_plan

    return load_plan("secondary-2020:鳥取県").to_japanese_frame()


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_empty_homecare_column_is_an_error_never_the_secondary_areas(tmp_path, suffix):
    from geo_app import load_plan
    from geo_app.core.errors import PlanError

    df = _tottori_table().assign(在宅医療圏="")
    path = tmp_path / f"plan{suffix}"
    df.to_csv(path, index=False) if suffix == ".csv" else df.to_excel(path, index=False)
    with pytest.raises(PlanError, match="「在宅医療圏」列がすべて空です（2、3、4行目 ほか）"):
        load_plan(path)


def test_formula_cells_without_results_are_an_error(tmp_path):
    """A script-written xlsx keeps formulas but no cached values: openpyxl reads them as empty."""
    import openpyxl

    from geo_app import load_plan
    from geo_app.core.errors import PlanError

    df = _tottori_table()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(df.columns))
    for i, row in enumerate(df.itertuples(index=False), start=2):
        values = list(row)
        values[2] = f"=E{i}"  # 在宅医療圏 = 二次医療圏, as a formula with no stored result
        ws.append(values)
    wb.save(tmp_path / "formulas.xlsx")
    with pytest.raises(PlanError, match="数式で作った列なら"):
        load_plan(tmp_path / "formulas.xlsx")


def test_missing_homecare_column_starts_from_secondary_and_says_so(tmp_path):
    from geo_app import load_plan

    df = _tottori_table().drop(columns="在宅医療圏")
    df.to_csv(tmp_path / "plan.csv", index=False)
    plan = load_plan(tmp_path / "plan.csv")
    assert plan.table["homecare"].equals(plan.table["secondary"])
    assert any("「在宅医療圏」の列がない" in n for n in plan.table.attrs["notes"])
