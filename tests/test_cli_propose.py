"""`geo-app propose` as users run it: files a user opens, the method stated, Japanese errors."""

from __future__ import annotations

import csv
import json

from geo_app import load_plan
from geo_app.cli import main

FOUR = ["南渡島", "札幌", "後志", "西胆振"]


def test_propose_writes_ranked_plans_that_open_as_plans(tmp_path, capsys):
    out = tmp_path / "提案"
    args = ["propose", "--within", *FOUR, "--areas", "10", "--candidates", "3", "--steps", "100", "--workers", "1"]
    assert main([*args, "--seed", "5", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    written = captured.out.split()
    assert written[-2:] == [str(out / "提案一覧.csv"), str(out / "提案の方法.json")]
    assert "公式の区域案ではありません" in captured.err and "[####################] 3/3" in captured.err
    with (out / "提案一覧.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    # Japanese headers for Excel, as every CSV for people
    assert list(rows[0])[:4] == ["順位", "ファイル", "二次医療圏ごとの圏域数", "人口の偏り（%）"]
    assert [int(r["順位"]) for r in rows] == list(range(1, len(rows) + 1))
    assert [float(r["人口の偏り（%）"]) for r in rows] == sorted(float(r["人口の偏り（%）"]) for r in rows)
    method = json.loads((out / "提案の方法.json").read_text(encoding="utf-8"))
    assert method["seed"] == 5 and method["areas"] == 10 and method["scope"] == FOUR
    assert "ReCom" in method["algorithm"] and "公式の区域案ではありません" in method["disclaimer"]
    published = load_plan("hokkaido-2024").table
    for r in rows:
        plan = load_plan(str(out / r["ファイル"]))  # the file reads back as a plan, as a user imports it
        t = plan.table.set_index("code")
        scope = published[published["secondary"].isin(FOUR) & published["status"].eq("未確定")]["code"]
        assert t.loc[scope, "homecare"].nunique() == 10
        kept = published.set_index("code").drop(index=scope)
        assert t.loc[kept.index, "homecare"].equals(kept["homecare"])
    # the same seed again: the same files
    again = tmp_path / "again"
    assert main([*args, "--seed", "5", "--out", str(again), "--quiet"]) == 0
    for r in rows:
        assert (again / r["ファイル"]).read_bytes() == (out / r["ファイル"]).read_bytes()


def test_propose_input_errors_exit_2_in_japanese(tmp_path, capsys):
    code = main(["propose", "--within", "どこにもない", "--areas", "3", "--out", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert "エラー:" in err and "二次医療圏にも都道府県にもありません" in err and "Traceback" not in err
    assert main(["propose", "--within", *FOUR, "--areas", "2", "--out", str(tmp_path)]) == 2
    assert "少なくとも 4 圏域" in capsys.readouterr().err
