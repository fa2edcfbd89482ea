"""What the CLI writes, as a user runs it ("names are data"): CSV cells that a spreadsheet will not
run, a terminal that names cannot drive, notes and findings on stderr also when it is a pipe,
exit codes that tell a bug from an input problem, and a quiet end when `| head` closes stdout."""

from __future__ import annotations

import csv
import errno
import importlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from geo_app import load_plan
from geo_app.cli import main
from geo_app.io.datasets import boundaries_path
from geo_app.io.tables import as_text_frame, read_table

FORMULAS = ['=HYPERLINK("http://127.0.0.1:9","x")', "+1", "-2", "@SUM(A1)"]
#: ESC sequence, BEL, bidi override and isolate, a newline inside a name.
CONTROLS = ["\x1b[31mred", "ベル\x07鳴る", "abc\u202edcba", "左\u2066右", "東\n部"]
SHOWN = ["\\x1b[31mred", "ベル\\x07鳴る", "abc<U+202E>dcba", "左<U+2066>右", "東\\n部"]
RAW = ("\x1b", "\x07", "\u202e", "\u2066")
CLI = [sys.executable, "-m", "geo_app.cli"]


def csv_rows(out: str) -> list[dict[str, str]]:
    """Rows of a CSV as Excel would read them: the BOM the Japanese CSV starts with is no header."""
    return list(csv.DictReader(io.StringIO(out.removeprefix("\ufeff"))))


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def run_process(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The CLI in its own process, stdout and stderr both pipes (not a terminal)."""
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, encoding="utf-8", env={**os.environ, **(env or {})}, timeout=300
    )


def plan_with_area_names(
    tmp_path: Path, names: list[str], base: str = "secondary-2020:岩手県"
) -> tuple[Path, dict[str, str]]:
    """A plan file: `base` with home-care areas renamed to `names` (old → new), smallest areas
    first (the table reader refuses a file whose start is full of control characters)."""
    t = load_plan(base).to_frame()
    sizes = t.groupby("homecare", sort=False).size()
    areas = list(sizes.sort_values(kind="stable").index)
    assert len(areas) >= len(names)
    renamed = dict(zip(areas, names, strict=False))
    t["homecare"] = t["homecare"].map(lambda a: renamed.get(a, a))
    path = tmp_path / "plan.csv"
    t.to_csv(path, index=False, encoding="utf-8")
    return path, renamed


# ---- 1. CSV on stdout: formulas neutralised, as build's summary.csv ---------------------------
def test_summary_csv_neutralises_formulas_and_reads_back_literally(tmp_path, capsys):
    plan, _ = plan_with_area_names(tmp_path, FORMULAS)
    code, out, err = run(capsys, "summary", "--plan", str(plan), "--format", "csv")
    assert code == 0, err
    cells = [r["在宅医療圏名"] for r in csv_rows(out)]
    assert {"'" + n for n in FORMULAS} <= set(cells)  # Excel shows them as text, runs nothing
    assert not any(c.startswith(("=", "+", "-", "@")) for row in csv.reader(io.StringIO(out)) for c in row)
    (tmp_path / "out.csv").write_text(out, encoding="utf-8")
    back = as_text_frame(read_table(tmp_path / "out.csv"))  # as load_plan reads a table
    assert set(FORMULAS) <= set(back["在宅医療圏名"]) and len(back) == 9  # the reader takes the apostrophe off again
    assert int(back["人口"].astype(int).sum()) == 1_210_534  # 岩手県, figures untouched


def test_validate_csv_neutralises_formulas(tmp_path, capsys):
    plan, _ = plan_with_area_names(tmp_path, FORMULAS)
    code, out, err = run(capsys, "validate", "--plan", str(plan), "--population-floor", "100000000", "--format", "csv")
    assert code == 1  # every area is under the floor: warnings
    rows = [r for r in csv.DictReader(io.StringIO(out)) if r["rule"] == "population_floor"]
    assert {"'" + n for n in FORMULAS} <= {r["area"] for r in rows}
    (tmp_path / "findings.csv").write_text(out, encoding="utf-8")
    back = as_text_frame(read_table(tmp_path / "findings.csv"))
    assert set(FORMULAS) <= set(back["area"].dropna())


def test_csv_starting_with_tab_or_cr_is_neutralised_too():
    from geo_app.views.textsafe import spreadsheet_safe

    df = pd.DataFrame({"area": ["\t=1+1", "\r=1+1", "普通", "=A1"], "population": [1, 2, 3, 4]}).astype(
        {"area": "string"}
    )
    assert list(spreadsheet_safe(df)["area"]) == ["'\t=1+1", "'\r=1+1", "普通", "'=A1"]
    assert list(spreadsheet_safe(df)["population"]) == [1, 2, 3, 4]


def test_json_keeps_names_literal(tmp_path, capsys):
    plan, _ = plan_with_area_names(tmp_path, [*FORMULAS, *CONTROLS])
    code, out, _ = run(capsys, "summary", "--plan", str(plan), "--format", "json", "--quiet")
    assert code == 0
    assert {r["area"] for r in json.loads(out)} == {*FORMULAS, *CONTROLS}  # JSON is data, not a spreadsheet
    assert not any(ch in out for ch in RAW)  # yet printing it drives no terminal: \u001b, \u202e …
    assert "\\u202e" in out and "\\u001b" in out


# ---- 2. terminal: control and bidi characters shown, not obeyed -------------------------------
def test_table_output_escapes_control_and_bidi_characters(tmp_path, capsys):
    plan, _ = plan_with_area_names(tmp_path, CONTROLS)
    code, out, err = run(capsys, "summary", "--plan", str(plan))
    assert code == 0
    assert not any(ch in out + err for ch in RAW)
    for shown in SHOWN:
        assert shown in out
    lines = out.rstrip("\n").split("\n")
    assert len(lines) == 9 + 4  # 9 areas + header, two rules, total: the newline in 東\n部 made no line
    assert lines[-1].startswith("合計") and "1,210,534" in lines[-1]


def test_validate_text_output_escapes_names(tmp_path, capsys):
    plan, _ = plan_with_area_names(tmp_path, CONTROLS)
    code, out, _ = run(capsys, "validate", "--plan", str(plan), "--population-floor", "100000000")
    assert code == 1
    assert not any(ch in out for ch in RAW)
    assert "在宅医療圏「\\x1b[31mred」の人口は" in out and "在宅医療圏「abc<U+202E>dcba」" in out


def test_csv_is_data_in_a_pipe_but_escaped_on_a_terminal(tmp_path, capsys, monkeypatch):
    plan, _ = plan_with_area_names(tmp_path, CONTROLS)
    code, out, _ = run(capsys, "summary", "--plan", str(plan), "--format", "csv", "--quiet")
    assert code == 0
    assert set(CONTROLS) <= {r["在宅医療圏名"] for r in csv_rows(out)}  # a program gets the names
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)  # a person reads it (like `ls`)
    code, out, _ = run(capsys, "summary", "--plan", str(plan), "--format", "csv", "--quiet")
    assert not any(ch in out for ch in RAW)
    assert not out.startswith("\ufeff")  # no BOM for a person at a terminal
    assert set(SHOWN) <= {r["在宅医療圏名"] for r in csv_rows(out)}


def test_messages_on_stderr_escape_file_names(tmp_path, capsys):
    hostile = "\x1b]0;pwned\x07案\u202e"
    t = load_plan("secondary-2020:広島県").to_frame().drop(columns="code")  # names only: the reader assumes 広島県
    t.to_csv(tmp_path / f"{hostile}.csv", index=False)
    code, out, err = run(capsys, "summary", "--plan", str(tmp_path / f"{hostile}.csv"), "--format", "csv")
    assert code == 0
    assert "\\x1b]0;pwned\\x07案<U+202E>.csv: 都道府県の列がないため" in err  # the plan reader's note, escaped
    assert not any(ch in err for ch in RAW)
    code, _, err = run(capsys, "summary", "--plan", str(tmp_path / "\x1b[2J消えた.csv"))
    assert (
        code == 2
        and "エラー: ファイル「" in err
        and "\\x1b[2J消えた.csv」: ファイルが見つかりません" in err
        and "\x1b" not in err
    )


def test_argparse_errors_are_escaped(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["summary", "--level", "\x1b[31mx"])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert "エラー: コマンドの指定が正しくありません" in err and "\\x1b[31mx" in err and "\x1b" not in err


def test_terminal_text_escapes_every_control_and_bidi_character():
    from geo_app.views.textsafe import BIDI_CONTROLS, terminal_text

    controls = "".join(map(chr, [*range(0x20), *range(0x7F, 0xA0)]))
    shown = terminal_text("a" + controls + BIDI_CONTROLS + "\u2028\udcff" + "東部 ｶﾅ é")
    assert shown.isprintable()
    assert (
        shown.startswith("a\\x00\\x01") and "\\t" in shown and "\\n" in shown and "\\x1b" in shown and "\\x9b" in shown
    )
    assert "<U+202E>" in shown and "<U+061C>" in shown and "<U+2028>" in shown and "<U+DCFF>" in shown
    assert shown.endswith("東部 ｶﾅ é")
    assert terminal_text("一行目\n二行目\x1b", keep_newlines=True) == "一行目\n二行目\\x1b"


# ---- 3. notes and findings reach stderr also when it is a pipe; --quiet silences them ---------
@pytest.fixture(scope="module")
def plan_missing_nine(tmp_path_factory) -> Path:
    t = load_plan("hokkaido-2024").to_japanese_frame()
    path = tmp_path_factory.mktemp("plans") / "plan.csv"
    t.iloc[9:].to_csv(path, index=False)  # the first 9 municipalities (札幌市 …) left out
    return path


def test_csv_with_stderr_a_pipe_still_says_what_the_totals_leave_out(plan_missing_nine):
    p = run_process("summary", "--plan", str(plan_missing_nine), "--format", "csv", "--headers", "en")  # a script
    assert p.returncode == 1, p.stderr  # a total leaves municipalities out: output written, exit 1
    assert "北海道の9市町村が区域表にありません" in p.stderr
    assert "[1/3]" not in p.stderr  # progress lines are for a terminal only
    rows = list(csv.DictReader(io.StringIO(p.stdout)))  # stdout stays pure CSV
    assert p.stdout.startswith("area,parent,") and sum(int(r["municipalities"]) for r in rows) == 179 - 9
    q = run_process("summary", "--plan", str(plan_missing_nine), "--format", "csv", "--headers", "en", "--quiet")
    assert q.returncode == 1 and q.stderr == "" and q.stdout == p.stdout


def test_plan_reader_note_is_said_with_json_output(tmp_path):
    t = load_plan("secondary-2020:広島県").to_frame().drop(columns="code")  # a bare 府中市 among them
    t.to_csv(tmp_path / "hiroshima.csv", index=False)
    p = run_process("summary", "--plan", str(tmp_path / "hiroshima.csv"), "--format", "json")
    assert p.returncode == 0, p.stderr
    assert "hiroshima.csv: 都道府県の列がないため、ほかの行から広島県の市町村名とみなしました。" in p.stderr
    data = json.loads(p.stdout)
    assert sum(r["population"] for r in data) == 2_799_702  # 広島県 2020, 府中市 of 広島県 (not 東京都)


def test_population_reader_note_is_said(tmp_path, census):
    pop = census[census["code"].str.startswith("31")][["code", "name", "population"]]
    total = pd.DataFrame([{"code": None, "name": "合計", "population": int(pop["population"].sum())}])
    pd.concat([pop, total]).to_csv(tmp_path / "pop.csv", index=False)
    p = run_process(
        "summary", "--plan", "secondary-2020:鳥取県", "--population", str(tmp_path / "pop.csv"), "--format", "csv"
    )
    assert p.returncode == 0, p.stderr
    assert "合計の行（合計）は市区町村ではないので除きました" in p.stderr
    assert sum(int(r["人口"]) for r in csv_rows(p.stdout)) == 553_407  # 鳥取県 2020


# ---- 4. exit codes: input 2, bug 3 (traceback only with GEO_APP_DEBUG=1) ----------------------
DISSOLVE_MODULE = importlib.import_module("geo_app.core.dissolve")  # `geo_app.core.dissolve` is also the function


def _broken_dissolve(*args, **kwargs):
    raise KeyError("population")


def test_a_bug_is_called_a_bug_with_exit_3(capsys, monkeypatch):
    monkeypatch.delenv("GEO_APP_DEBUG", raising=False)
    monkeypatch.setattr(DISSOLVE_MODULE, "dissolve", _broken_dissolve)
    code, out, err = run(capsys, "summary", "--plan", "secondary-2020:鳥取県", "--quiet")
    assert code == 3 and out == ""
    assert "geo_app の不具合です（KeyError: 'population'）" in err and "ファイルや指定の問題ではありません" in err
    assert "GEO_APP_DEBUG=1 geo-app summary --plan 'secondary-2020:鳥取県' --quiet" in err  # how to report it
    assert "Traceback" not in err


def test_debug_shows_the_traceback_of_a_bug(capsys, monkeypatch):
    monkeypatch.setenv("GEO_APP_DEBUG", "1")
    monkeypatch.setattr(DISSOLVE_MODULE, "dissolve", _broken_dissolve)
    code, _, err = run(capsys, "summary", "--plan", "secondary-2020:鳥取県", "--quiet")
    assert code == 3
    assert "Traceback (most recent call last)" in err and "_broken_dissolve" in err and "geo_app の不具合です" in err

    def hostile(*args, **kwargs):
        raise ValueError("名前\x1b[2J")

    monkeypatch.setattr(DISSOLVE_MODULE, "dissolve", hostile)
    code, _, err = run(capsys, "summary", "--plan", "secondary-2020:鳥取県", "--quiet")
    assert code == 3 and "ValueError: 名前\\x1b[2J" in err and "\x1b" not in err  # the traceback quotes names too


def test_input_error_exit_2_and_its_cause_under_debug(capsys, monkeypatch):
    from geo_app.core.errors import InputError

    def refuse(*args, **kwargs):
        try:
            dict[str, str]()["列"]
        except KeyError as exc:
            raise InputError("人口の列がありません。") from exc

    monkeypatch.setattr(DISSOLVE_MODULE, "dissolve", refuse)
    monkeypatch.delenv("GEO_APP_DEBUG", raising=False)
    code, _, err = run(capsys, "summary", "--plan", "secondary-2020:鳥取県", "--quiet")
    assert (code, err) == (2, "エラー: 人口の列がありません。\n")
    monkeypatch.setenv("GEO_APP_DEBUG", "1")
    code, _, err = run(capsys, "summary", "--plan", "secondary-2020:鳥取県", "--quiet")
    assert (
        code == 2
        and "KeyError: '列'" in err
        and "direct cause" in err
        and err.endswith("エラー: 人口の列がありません。\n")
    )


def test_disk_full_is_not_called_a_bug(tmp_path, capsys, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "map.png"))

    monkeypatch.setattr("geo_app.views.build.build_outputs", full)
    code, _, err = run(capsys, "build", "--plan", "secondary-2020:鳥取県", "--out", str(tmp_path), "--quiet")
    assert code == 2 and "map.png" in err and "空き容量" in err and "不具合" not in err


# ---- 5. a closed pipe ends quietly -----------------------------------------------------------
def test_plans_piped_into_head_ends_quietly():
    for _ in range(3):  # unbuffered, the race with head is lost now and then: run it a few times
        p = subprocess.run(
            ["bash", "-c", f"set -o pipefail; {' '.join(CLI)} plans | head -3"],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            timeout=120,
        )
        assert p.stdout.splitlines() == ["hokkaido-2024", "secondary-2020:北海道", "secondary-2020:青森県"]
        assert p.stderr == ""
        assert p.returncode in (0, 141)  # 141 when geo-app wrote after head had gone, as `seq | head` does


@pytest.mark.parametrize(
    "args", [["plans"], ["summary", "--plan", "secondary-2020:鳥取県", "--format", "csv", "--quiet"]]
)
def test_stdout_closed_before_any_write_gives_141_and_silence(args):
    read, write = os.pipe()
    os.close(read)  # the reader is gone before geo-app writes anything
    try:
        p = subprocess.run([*CLI, *args], stdout=write, stderr=subprocess.PIPE, timeout=300)
    finally:
        os.close(write)
    assert p.returncode == 141
    assert p.stderr == b""


# ---- 6. missing members leave totals unknown, said on stderr with exit 1 ----------------------
@pytest.fixture(scope="module")
def tottori_without_tottori_city(tmp_path_factory) -> tuple[Path, Path]:
    """The 鳥取県 secondary plan and the embedded 鳥取県 boundaries without 鳥取市 (31201)."""
    folder = tmp_path_factory.mktemp("tottori")
    g = gpd.read_parquet(boundaries_path())
    g = g[(g["N03_001"] == "鳥取県") & (g["N03_007"] != "31201")]
    g.to_file(folder / "tottori.gpkg", driver="GPKG")
    load_plan("secondary-2020:鳥取県").to_frame().to_csv(folder / "plan.csv", index=False)
    return folder / "plan.csv", folder / "tottori.gpkg"


def test_summary_names_the_missing_member_and_exits_1(capsys, tottori_without_tottori_city):
    plan, boundaries = tottori_without_tottori_city
    code, out, err = run(capsys, "summary", "--plan", str(plan), "--boundaries", str(boundaries), "--format", "csv")
    assert code == 1
    assert "鳥取市（31201）" in err and "境界データにありません" in err
    assert sorted(r["在宅医療圏名"] for r in csv_rows(out)) == ["中部", "東部", "西部"]  # the output is still written


def test_summary_leaves_the_incomplete_area_unknown(capsys, tottori_without_tottori_city):
    plan, boundaries = tottori_without_tottori_city
    code, out, err = run(capsys, "summary", "--plan", str(plan), "--boundaries", str(boundaries), "--format", "csv")
    assert code == 1 and "鳥取市（31201）" in err
    rows = {r["在宅医療圏名"]: r for r in csv_rows(out)}
    east, west = rows["東部"], rows["西部"]
    assert east["人口"] == east["高齢化率"] == east["65歳以上"] == ""  # unknown, not 36,027 without 鳥取市
    assert west["人口"] == "229722"
    rate = int(west["65歳以上"]) / (int(west["人口"]) - int(west["年齢不詳"]))  # from the row's own counts
    assert west["高齢化率"] == f"{rate * 100:.1f}%"  # rounded as shown (32.5%), not 0.32481…


def test_build_says_the_finding_and_exits_1_with_files_written(tmp_path, tottori_without_tottori_city):
    plan, boundaries = tottori_without_tottori_city
    p = run_process("build", "--plan", str(plan), "--boundaries", str(boundaries), "--out", str(tmp_path / "out"))
    assert p.returncode == 1, p.stderr
    assert "鳥取市（31201）" in p.stderr
    assert (tmp_path / "out" / "summary.csv").stat().st_size > 0
    assert p.stdout.split()[0] == str(tmp_path / "out" / "map.html")
