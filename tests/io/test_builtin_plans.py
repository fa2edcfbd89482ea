"""Built-in plans: the 8th plan's secondary areas (secondary-2024), 秋田県's reference plan, their identity.

Expected figures are computed here from data/population/census2020.csv and from the secondary-2020 plans,
and the 秋田県 grouping is the one published (県北 = 大館・鹿角 + 北秋田 + 能代・山本; 県央 = 秋田周辺 +
由利本荘・にかほ; 県南 = 大仙・仙北 + 横手 + 湯沢・雄勝), not read back from the file under test.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import ROOT

from geo_app import load_plan
from geo_app.core.codes import PREFECTURES
from geo_app.core.dissolve import dissolve
from geo_app.io.plans import builtin_plans, one_area_per_municipality

#: 秋田県's 8 areas of A38-20 (7th plan) → its 3 areas of the 8th plan, as published (秋田テレビ, July 2023).
AKITA_2024 = {
    "大館・鹿角": "県北",
    "北秋田": "県北",
    "能代・山本": "県北",
    "秋田周辺": "県央",
    "由利本荘・にかほ": "県央",
    "大仙・仙北": "県南",
    "横手": "県南",
    "湯沢・雄勝": "県南",
}


@pytest.fixture(scope="module")
def census_csv() -> pd.DataFrame:
    """The embedded census read directly (not through geo_app's loader)."""
    return pd.read_csv(ROOT / "data" / "population" / "census2020.csv", dtype={"code": str, "parent_code": str})


def test_builtin_names_list_both_vintages_and_akita():
    names = builtin_plans()
    assert len(names) == 2 + 2 * 47 and len(set(names)) == len(names)
    # the list only grows at its end: `geo-app plans | head -3` shows what it always showed
    assert names[:3] == ["hokkaido-2024", "secondary-2020:北海道", "secondary-2020:青森県"]
    assert {f"secondary-2024:{p}" for p in PREFECTURES.values()} <= set(names)
    assert "akita-2024" in names


def test_geo_app_plans_lists_them(capsys):
    from geo_app.cli import main

    assert main(["plans"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == builtin_plans()
    assert "secondary-2024:秋田県" in out and "akita-2024" in out


def test_secondary_2024_has_330_areas_and_only_akita_changed():
    total = 0
    for pref in PREFECTURES.values():
        new, old = load_plan(f"secondary-2024:{pref}"), load_plan(f"secondary-2020:{pref}")
        total += len(new.areas("secondary"))
        assert list(new.table["code"]) == list(old.table["code"]), pref
        if pref != "秋田県":
            assert new.table.equals(old.table), pref
    assert total == 330  # the 8th plan's count; A38-20 had 335
    akita_new, akita_old = load_plan("secondary-2024:秋田県").table, load_plan("secondary-2020:秋田県").table
    assert len(akita_new) == 25 and sorted(akita_new["secondary"].unique()) == ["県北", "県南", "県央"]
    assert list(akita_new["secondary"]) == list(akita_old["secondary"].map(AKITA_2024))
    assert akita_new["homecare"].equals(akita_new["secondary"])
    assert (akita_new["tertiary"] == "秋田県").all() and (akita_new["status"] == "確定").all()


@pytest.mark.slow
def test_secondary_2024_areas_sum_to_each_prefectures_census_total(japan, census_csv):
    munis = census_csv[census_csv["kind"] == "municipality"]
    totals = munis.groupby(munis["code"].str[:2])["population"].sum()
    for code, pref in PREFECTURES.items():
        plan = load_plan(f"secondary-2024:{pref}")
        areas = dissolve(japan, plan, "secondary")
        assert len(areas) == len(plan.areas("secondary")), pref
        assert int(areas["population"].sum()) == int(totals[code]), pref
        assert int(areas["municipalities"].sum()) == len(plan.table), pref
    # 秋田県's new areas hold exactly their old areas' census populations
    akita = dissolve(japan, load_plan("secondary-2024:秋田県"), "secondary").set_index("area")["population"]
    old = load_plan("secondary-2020:秋田県").table
    by_code = census_csv.set_index("code")["population"]
    expected = by_code.reindex(old["code"]).groupby(old["secondary"].map(AKITA_2024).to_numpy()).sum()
    assert akita.sort_index().astype(int).to_dict() == expected.sort_index().astype(int).to_dict()


def test_akita_2024_home_care_areas_nested_in_three_secondary_areas(census_csv):
    plan = load_plan("akita-2024")
    t = plan.table
    assert len(t) == 25 and t["code"].is_unique
    assert sorted(plan.areas("homecare")) == sorted(AKITA_2024)  # the 8 former secondary areas
    assert sorted(plan.areas("secondary")) == ["県北", "県南", "県央"]
    parents = t.groupby("homecare")["secondary"].agg(set)
    assert all(len(p) == 1 for p in parents)  # nested: one secondary area per home-care area
    assert {h: next(iter(p)) for h, p in parents.items()} == AKITA_2024
    old = load_plan("secondary-2020:秋田県").table.set_index("code")["secondary"]
    assert list(t["homecare"]) == list(old.reindex(t["code"]))  # each municipality in its former area
    assert (t["status"] == "未確定").all()  # a press report of the draft, not the final table
    akita = census_csv[(census_csv["kind"] == "municipality") & (census_csv["prefecture"] == "秋田県")]
    assert set(t["code"]) == set(akita["code"])


def test_akita_2024_is_labelled_with_its_source_never_as_official():
    plan = load_plan("akita-2024")
    assert plan.name == "秋田県 在宅医療圏 2024（第8次医療計画 素案の報道による）"
    assert plan.reference
    assert "素案の報道による" in plan.source and "秋田魁新報 2023年11月17日" in plan.source
    assert "公式の区域表ではありません" in plan.source
    assert "公式" not in plan.source.replace("公式の区域表ではありません", "")
    edited = plan.edited(plan.table)
    assert not edited.reference and edited.name != plan.name  # an edit is never shown under this title


@pytest.mark.parametrize(
    ("name", "title", "source"),
    [
        (
            "hokkaido-2024",
            "北海道 2024（第8次医療計画）",
            "北海道医療計画（2024〜2029）在宅医療の体制 をもとに作成（未公表の4圏域は「未確定」）",
        ),
        (
            "secondary-2020:東京都",
            "東京都 二次医療圏 2020（第7次医療計画）",
            "国土数値情報（医療圏データ A38-20）（国土交通省）を加工して作成",
        ),
        (
            "secondary-2024:東京都",
            "東京都 二次医療圏 2024（第8次医療計画）",
            "国土数値情報（医療圏データ A38-20）（国土交通省）を加工して作成",
        ),
    ],
)
def test_builtin_identity(name, title, source):
    plan = load_plan(name)
    assert (plan.name, plan.source, plan.reference) == (title, source, True)


def test_every_builtin_is_a_reference_with_a_credit_and_no_code_in_its_title():
    for name in builtin_plans():
        plan = load_plan(name)
        assert plan.reference and plan.source, name
        assert "A38" not in plan.name, name
    akita = load_plan("secondary-2024:秋田県").source
    assert akita.startswith("国土数値情報（医療圏データ A38-20）") and "県北・県央・県南" in akita
    assert "中医協 総会 2024年6月25日" in akita
    assert "秋田" not in load_plan("secondary-2020:秋田県").source  # the 2020 areas are A38-20's alone


def test_starting_plan_uses_the_8th_plan_secondary_areas(census_csv):
    akita = census_csv[(census_csv["kind"] == "municipality") & (census_csv["prefecture"] == "秋田県")]
    start = one_area_per_municipality(akita[["code", "name"]], prefecture="秋田県")
    assert len(start.areas("homecare")) == 25
    assert sorted(start.areas("secondary")) == ["県北", "県南", "県央"]
