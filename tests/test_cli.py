"""The CLI as a user runs it: figures, files, and Japanese errors with exit codes."""

from __future__ import annotations

import csv
import io
import json

import pytest

from geo_app.cli import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_summary_csv_homecare(capsys):
    code, out, err = run(capsys, "summary", "--plan", "hokkaido-2024", "--level", "homecare", "--format", "csv")
    assert code == 0
    ja = list(csv.DictReader(io.StringIO(out.lstrip("\ufeff"))))  # for Excel users: Japanese headers
    assert len(ja) == 33 and sum(int(r["人口"]) for r in ja) == 5_224_614
    code, out, err = run(
        capsys, "summary", "--plan", "hokkaido-2024", "--level", "homecare", "--format", "csv", "--headers", "en"
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 33
    assert sum(int(r["population"]) for r in rows) == 5_224_614
    assert sum(int(r["municipalities"]) for r in rows) == 179
    assert {
        "area",
        "parent",
        "municipalities",
        "population",
        "aging_rate",
        "share_75_plus",
        "area_km2",
        "density",
    } <= rows[0].keys()
    # stdout is pure CSV; the loader's decisions still go to stderr (not a terminal here), progress does not
    assert "北方領土の6村" in err and "[1/3]" not in err
    quiet = ("summary", "--plan", "hokkaido-2024", "--format", "csv", "--headers", "en", "--quiet")
    assert run(capsys, *quiet) == (0, out, "")


def test_table_output_says_the_data_decisions(capsys):
    code, out, err = run(capsys, "summary", "--plan", "hokkaido-2024")
    assert code == 0
    assert "北方領土の6村" in err and "政令指定都市の区 10 区" in err  # the decisions are said, on stderr


@pytest.mark.parametrize("level,n", [("secondary", 21), ("tertiary", 6)])
def test_summary_json_levels(capsys, level, n):
    code, out, _ = run(capsys, "summary", "--plan", "hokkaido-2024", "--level", level, "--format", "json", "--quiet")
    data = json.loads(out)
    assert code == 0 and len(data) == n
    assert sum(r["population"] for r in data) == 5_224_614


def test_summary_table_has_total_row(capsys):
    code, out, _ = run(capsys, "summary", "--plan", "secondary-2020:岩手県", "--level", "secondary", "--quiet")
    assert code == 0
    last = out.strip().splitlines()[-1]
    assert last.startswith("合計") and "1,210,534" in last  # 岩手県 2020 census total


def test_plans_lists_all_builtins(capsys):
    code, out, _ = run(capsys, "plans")
    assert code == 0
    assert out.splitlines()[0] == "hokkaido-2024" and "secondary-2020:沖縄県" in out


def test_build_writes_files(tmp_path, capsys):
    code, out, _ = run(capsys, "build", "--plan", "hokkaido-2024", "--out", str(tmp_path), "--quiet")
    assert code == 0
    for name in ("map.html", "map.png", "map.pdf", "summary.xlsx", "summary.csv", "areas.gpkg", "areas.geojson"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert out.split() == [
        str(tmp_path / n)
        for n in ("map.html", "map.png", "map.pdf", "summary.xlsx", "summary.csv", "areas.gpkg", "areas.geojson")
    ]
    import pyogrio

    assert sorted(name for name, _ in pyogrio.list_layers(tmp_path / "areas.gpkg")) == [
        "homecare",
        "hubs",  # hokkaido-2024 names its two designated hubs
        "municipalities",
        "secondary",
        "tertiary",
    ]
    rows = list(csv.DictReader(io.StringIO((tmp_path / "summary.csv").read_text(encoding="utf-8-sig"))))
    assert sum(int(r["人口"]) for r in rows) == 5_224_614


@pytest.mark.parametrize(
    "args,expect",
    [
        (["summary", "--plan", "no-such-plan"], "組み込みの名前でもファイルでもありません"),
        (["summary", "--plan", "secondary-2020:ナルニア"], "都道府県"),
        (["summary", "--plan", "missing.csv"], "見つかりません"),
    ],
)
def test_errors_are_japanese_without_traceback(capsys, args, expect):
    code, out, err = run(capsys, *args)
    assert code == 2
    assert expect in err and "Traceback" not in err


def test_bad_plan_file_names_row(tmp_path, capsys):
    bad = tmp_path / "plan.csv"
    bad.write_text("市町村コード,在宅医療圏\n01100,札幌市\nabc,どこか\n", encoding="utf-8")
    code, _, err = run(capsys, "summary", "--plan", str(bad))
    assert code == 2
    assert "3行目" in err and "abc" in err


def test_summary_says_which_municipalities_the_totals_leave_out(tmp_path, capsys, hokkaido_plan):
    plan = tmp_path / "plan.csv"
    hokkaido_plan.to_japanese_frame().query("市町村コード != '01100'").to_csv(plan, index=False)  # 札幌市 left out
    code, out, err = run(capsys, "summary", "--plan", str(plan))
    assert code == 1  # a total leaves a municipality out: figures written, exit 1
    assert "札幌市" in err and "区域表にありません" in err
    assert "3,251,219" in out.strip().splitlines()[-1]  # 5,224,614 − 札幌市 1,973,395


def test_summary_says_how_wards_are_counted(capsys):
    """神奈川県's areas split 川崎市 by ward: the table's 39 units are 33 municipalities, said under it."""
    import pandas as pd

    from geo_app.io import datasets

    census = pd.read_csv(datasets.population_path(), dtype={"code": str, "parent_code": str})
    kanagawa = census[(census["code"].str[:2] == "14") & (census["kind"] == "municipality")]
    kawasaki_wards = census[census["parent_code"] == "14130"]
    code, out, _ = run(capsys, "summary", "--plan", "secondary-2024:神奈川県", "--level", "secondary", "--quiet")
    assert code == 0
    total = next(line for line in out.splitlines() if line.startswith("合計"))
    assert total.split()[1] == str(len(kanagawa) - 1 + len(kawasaki_wards))  # 33 − 川崎市 + its 7 wards
    assert f"{len(kanagawa)}市町村（川崎市は{len(kawasaki_wards)}区に分けて数えています）" in out
