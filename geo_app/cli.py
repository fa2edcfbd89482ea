"""`geo-app`: summary, build, validate, propose, plans, app — a thin layer over the core.

Exit codes: 0 done; 1 findings (validate; for summary/build: a total is wrong or unknown, the
output is still written); 2 the input or the command line must be fixed (`エラー: …`); 3 a bug
in geo_app (the message says how to report it); 141 stdout was closed early (`| head`), as a
tool killed by SIGPIPE. Messages are Japanese, never a traceback unless GEO_APP_DEBUG=1.

Stdout holds only the result (table, CSV, JSON, written paths); everything said to a person
goes to stderr, with user text escaped (`textsafe.terminal_text`).
"""

from __future__ import annotations

import argparse
import codecs
import errno
import os
import shlex
import sys
import time
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pandas as pd

from geo_app.core.errors import GeoAppError, InputError
from geo_app.core.metrics import MAP_METRICS, label
from geo_app.views.textsafe import spreadsheet_safe, terminal_text

if TYPE_CHECKING:
    from geo_app.core.rules import Finding

__all__ = ["main", "say", "TOTAL_RULES"]

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT, EXIT_BUG = 0, 1, 2, 3
EXIT_BROKEN_PIPE = 128 + 13  # what a shell reports for a tool killed by SIGPIPE (`cat`, `ls` …)
#: Findings that make a figure of `summary`/`build` wrong or unknown: said on stderr, exit 1.
TOTAL_RULES = ("unknown_code", "missing_count", "duplicate_code", "unassigned")
#: Said with them, but the figures are still right: exit code unchanged.
_TOTAL_WARNINGS = ("several_prefectures",)
#: Errors of the environment, not of geo_app: the user can free space or fix permissions.
_ENVIRONMENT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS}


def say(message: str, *, keep_newlines: bool = False) -> None:
    """A message for a person on stderr, with user text in it escaped (names are data).

    A closed stderr is not a reason to stop the work: the message is dropped.
    """
    try:
        print(terminal_text(message, keep_newlines=keep_newlines), file=sys.stderr, flush=True)
    except BrokenPipeError:
        pass


def _debug() -> bool:
    return os.environ.get("GEO_APP_DEBUG", "") not in ("", "0")


def _traceback(exc: BaseException) -> None:
    """With GEO_APP_DEBUG: the whole traceback, chained causes included (escaped: it quotes names)."""
    if _debug():
        say("".join(traceback.format_exception(exc)).rstrip("\n"), keep_newlines=True)


class Progress:
    """Step messages on stderr, so stdout stays clean for CSV/JSON."""

    def __init__(self, total: int, quiet: bool = False):
        self.total, self.step, self.quiet, self.t0 = total, 0, quiet, time.perf_counter()

    def __call__(self, message: str) -> None:
        self.step += 1
        if not self.quiet:
            say(f"[{self.step}/{self.total}] {message}（{time.perf_counter() - self.t0:.1f} 秒）")


def _add_inputs(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--plan",
        default="hokkaido-2024",
        help="組み込みの区域案の名前（geo-app plans）または区域表 CSV/XLSX（既定: hokkaido-2024）",
    )
    p.add_argument(
        "--boundaries",
        nargs="+",
        help="N03 行政区域ファイル（.zip/.shp/.geojson/TopoJSON/.gpkg、複数可）。既定: 内蔵の2021年版",
    )
    p.add_argument("--population", help="人口表 CSV/XLSX（市町村コード・人口・年齢階級）。既定: 内蔵の令和2年国勢調査")
    p.add_argument(
        "--population-date",
        metavar="時点",
        help="--population の人口表の時点（例: 2024年1月1日）。"
        "出典の行に「利用者の人口表「ファイル名」（時点）」と書きます",
    )
    p.add_argument(
        "--title",
        help="区域案の名前（地図・印刷・Excel・GeoPackage の題名）。既定: 保存名・区域表の名前・ファイル名",
    )
    p.add_argument(
        "--sea-links",
        metavar="FILE",
        help="航路・橋の追加表 CSV/XLSX（列: code_a, code_b, name, kind, note）。内蔵の航路に加えて使います",
    )
    p.add_argument(
        "--sea-distance-km",
        type=_positive_km,
        default=None,
        metavar="KM",
        help="航路のない離島・県の飛び地を、圏域内のいちばん近い陸地と結ぶ距離の上限（km。既定: 400）",
    )
    p.add_argument(
        "--quiet",
        action="store_true",
        help="進み具合・読み込み時の注意・集計に影響する所見を表示しない（終了コードは変わりません）",
    )


def _positive_km(text: str) -> float:
    """--sea-distance-km: a positive number of km (argparse turns the error into exit 2)."""
    try:
        km = float(text)
    except ValueError:
        km = float("nan")
    if not (0 < km < float("inf")):
        raise argparse.ArgumentTypeError(f"--sea-distance-km は0より大きい km の数にしてください（{text}）")
    return km


def _count(text: str) -> int:
    """--areas, --candidates, --steps, --workers: a whole number of at least 1 (else exit 2)."""
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"1以上の整数にしてください（{text}）")
    return n


def _options(args: argparse.Namespace, plan=None, **kwargs):
    """ValidationOptions from the command line (the sea-distance limit; the routes ride on the municipalities),
    with the facility points a plan's hubs name (loaded only when a hub names a facility id)."""
    from geo_app.core.rules import ValidationOptions
    from geo_app.io.plans import hub_facilities

    if args.sea_distance_km is not None:
        kwargs["sea_distance_km"] = args.sea_distance_km
    if plan is not None:
        kwargs["facilities"] = hub_facilities(plan)
    return ValidationOptions(**kwargs)


def _notes(args: argparse.Namespace, notes: Sequence[str]) -> None:
    """What a reader assumed (a bare 府中市 taken as 広島県's, wards merged …): always said, on
    stderr, also when stdout is CSV/JSON for a program; only --quiet silences it."""
    if not args.quiet:
        for note in notes:
            say(f"  ・{note}")


def _load(args: argparse.Namespace, progress: Progress):
    """Plan, population and boundaries, each reader's notes said as soon as it has read."""
    from geo_app.io.municipalities import municipalities_for_plan
    from geo_app.io.plans import load_plan
    from geo_app.io.population import load_population

    progress("区域案を読み込み中")
    plan = load_plan(args.plan)
    sea_links = None
    if args.sea_links:  # read first: a bad routes file is said before the long boundary load
        from geo_app.io.sea_links import load_user_sea_links

        sea_links = load_user_sea_links(args.sea_links)
    if args.title is not None:  # the user's own title: the plan is now theirs, not the reference
        title = args.title.strip()
        if not title:
            raise InputError("--title が空です。「案A」のように区域案の名前を入れてください。")
        plan = plan.with_name(title)
    _notes(args, plan.table.attrs.get("notes", []))
    progress("境界と人口を読み込み中")
    population: str | pd.DataFrame = "census2020"
    if args.population:  # read here: the boundary loader keeps the table, not its notes
        population = load_population(args.population)
        _notes(args, population.attrs.get("notes", []))
    if args.population_date and not args.population:
        raise InputError("--population-date は --population（利用者の人口表）と一緒に指定してください。")
    munis = municipalities_for_plan(
        plan, boundaries=args.boundaries, population=population, population_date=args.population_date
    )
    if sea_links is not None:  # the user's routes with the embedded ones: every check reads them from here
        munis.attrs["sea_links"] = sea_links
    report = munis.attrs.get("report")
    _notes(args, report.notes if report is not None else [])
    return plan, munis


def _check_totals(args: argparse.Namespace, plan, munis, findings: Sequence[Finding] | None = None) -> int:
    """Findings that make totals wrong or unknown, said on stderr before the figures.

    EXIT_FINDINGS when one of TOTAL_RULES fires, so that a script notices a total it must not
    use, although the output is still written. Rules not registered in this version are skipped.
    `findings`: those of every rule, when the caller ran them anyway (`build`: one validation).
    """
    from geo_app.core.rules import RULES, SEVERITY_JA, ValidationOptions, validate

    names = [r for r in (*TOTAL_RULES, *_TOTAL_WARNINGS) if r in RULES]
    if findings is None:
        findings = validate(munis, plan, ValidationOptions(rules=names))
    else:
        findings = [f for f in findings if f.rule in names]
    if not args.quiet:
        for f in findings:
            say(
                f"  ！{SEVERITY_JA.get(f.severity, f.severity)}: {f.message}"
                "（集計に影響します。geo-app validate で詳しく確認できます）"
            )
    return EXIT_FINDINGS if any(f.rule in TOTAL_RULES for f in findings) else EXIT_OK


def _write_csv(frame: pd.DataFrame, *, bom: bool = False) -> None:
    """CSV on stdout: formula starts neutralised as in build's summary.csv, other text kept as data.

    On a terminal (a person reads it, no program) names are escaped as in the table view,
    like `ls` shows odd file names only on a terminal. `bom`: Japanese headers for Excel, which
    reads a redirected file (`> summary.csv`) as UTF-8 only after a BOM; never on a terminal, and
    only when stdout is UTF-8 (Windows' cp932 is what Japanese Excel reads without one).
    """
    safe = spreadsheet_safe(frame)
    tty = sys.stdout.isatty()
    if tty:
        for col in safe.columns:
            if safe[col].dtype == object or isinstance(safe[col].dtype, pd.StringDtype):
                safe[col] = safe[col].map(terminal_text, na_action="ignore")
    text = safe.to_csv(index=False, lineterminator="\n")
    if bom and not tty and _is_utf8(getattr(sys.stdout, "encoding", None)):
        text = "\ufeff" + text
    sys.stdout.write(text)


def _is_utf8(encoding: str | None) -> bool:
    try:
        return codecs.lookup(encoding or "").name == "utf-8"
    except LookupError:
        return False


def cmd_plans(args: argparse.Namespace) -> int:
    from geo_app.io.plans import builtin_plans

    for name in builtin_plans():
        print(name)
    return EXIT_OK


def _progress_quiet(args: argparse.Namespace) -> bool:
    """Progress lines are for a person watching: with CSV/JSON and stderr not a terminal they
    are left out. Notes and findings are not (see `_notes`)."""
    return args.quiet or (getattr(args, "format", "table") in ("csv", "json") and not sys.stderr.isatty())


def cmd_summary(args: argparse.Namespace) -> int:
    from geo_app.core.dissolve import dissolve
    from geo_app.io.plans import plan_hub_points
    from geo_app.views.text import csv_frame, format_table, summary_frame, to_json_records

    progress = Progress(3, _progress_quiet(args))
    plan, munis = _load(args, progress)
    status = _check_totals(args, plan, munis)
    progress("圏域に集計中")
    areas = dissolve(munis, plan, args.level)
    hubs = plan_hub_points(plan) if args.format in ("csv", "json") and args.level == "homecare" else None
    table = summary_frame(areas, hubs=hubs)
    if args.format == "csv":  # Japanese headers and figures as shown, unless --headers en (scripts)
        _write_csv(csv_frame(table, args.level, headers=args.headers), bom=args.headers == "ja")
    elif args.format == "json":
        print(to_json_records(table))  # literal names; json_text escapes what could drive a terminal
    else:
        print(format_table(table, areas))
        from geo_app.io.names import describe_unit_count

        units = describe_unit_count(plan.table.dropna(subset=[args.level])["code"])
        if "区" in units:  # the 市町村数 column counts a ward-planned city's wards; say it under the table
            print(f"市町村数は区も1つと数えています。市町村としては {units}。")
    return status


def cmd_build(args: argparse.Namespace) -> int:
    from geo_app.core.rules import validate
    from geo_app.views.build import build_outputs

    progress = Progress(5, args.quiet)
    plan, munis = _load(args, progress)
    findings = validate(munis, plan, _options(args, plan))  # once: for the exit code here and for the 所見 sheet
    status = _check_totals(args, plan, munis, findings)
    written = build_outputs(
        munis,
        plan,
        Path(args.out),
        level=args.level,
        metric=args.metric,
        basemap=args.basemap,
        paper=args.paper,
        progress=progress,
        findings=findings,
        csv_headers=args.headers,
    )
    for path in written:
        print(terminal_text(path))
    return status


def cmd_validate(args: argparse.Namespace) -> int:
    from geo_app.core.rules import SEVERITY_JA, exit_code, findings_frame, validate

    progress = Progress(3, _progress_quiet(args))
    plan, munis = _load(args, progress)
    progress("検査中")
    findings = validate(munis, plan, _options(args, plan, population_floor=args.population_floor))
    frame = findings_frame(findings)
    if args.format == "csv":
        _write_csv(frame)
    else:
        for f in findings:
            print(terminal_text(f"[{SEVERITY_JA.get(f.severity, f.severity)}] {f.rule}: {f.message}"))
        counts = frame["severity"].value_counts().to_dict() if len(frame) else {}
        print(
            f"所見 {len(findings)} 件（エラー {counts.get('error', 0)}・警告 {counts.get('warning', 0)}"
            f"・情報 {counts.get('info', 0)}）"
        )
    return exit_code(findings)


def _bar(done: int, total: int, width: int = 20) -> str:
    """A text progress bar for stderr: 「[########------------] 4/10」."""
    filled = round(width * done / total) if total else width
    return f"[{'#' * filled}{'-' * (width - filled)}] {done}/{total}"


def cmd_propose(args: argparse.Namespace) -> int:
    import json

    from geo_app.core.adjacency import build_adjacency
    from geo_app.core.propose import DISCLAIMER, RANKING_COLUMNS, candidate_plan, make_problem, rank, ranking_frame
    from geo_app.core.propose_run import run_candidates
    from geo_app.core.rules import ValidationOptions, validate
    from geo_app.io.plan_writer import write_plan_csv

    progress = Progress(4, args.quiet)
    plan, munis = _load(args, progress)
    progress("範囲と市町村のつながりを調べています")
    graph = build_adjacency(munis)
    kwargs = {"sea_distance_km": args.sea_distance_km} if args.sea_distance_km is not None else {}
    problem = make_problem(
        munis,
        plan,
        graph,
        within=args.within,
        k=args.areas,
        floor=args.population_floor,
        locks=args.lock or (),
        redraw_confirmed=args.redraw_confirmed,
        candidates=args.candidates,
        **kwargs,
    )
    where = "ローカル" if not args.scheduler else f"クラスター {args.scheduler}"
    progress(f"{args.candidates} 案を計算しています（Dask、{where}、乱数の種 {args.seed}）")
    t0 = time.perf_counter()

    def tick(done: int, total: int) -> None:
        if not args.quiet:
            say(f"  {_bar(done, total)} 案（{time.perf_counter() - t0:.1f} 秒）")

    found = run_candidates(
        problem,
        candidates=args.candidates,
        seed=args.seed,
        steps=args.steps,
        workers=args.workers,
        scheduler=args.scheduler,
        progress=tick,
    )
    ranked = rank(found)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names = dict(zip(munis["code"].astype(str), munis["name"].astype(str), strict=True))
    checks = ValidationOptions(rules=["unassigned", "multipart", "crosses_secondary"], graph=graph, **kwargs)
    files = []
    mine = set(problem.codes)
    for no, cand in enumerate(ranked, start=1):
        proposal = candidate_plan(plan, problem, cand, no, names)
        path = out / f"提案{no}.csv"
        write_plan_csv(proposal, path)
        print(terminal_text(str(path)))
        files.append(path.name)
        findings = [f for f in validate(munis, proposal, checks) if f.severity != "info" and mine & set(f.codes or ())]
        if findings:  # a proposal must be contiguous and nested: anything else is ours to fix
            raise AssertionError(f"提案{no} に所見があります: {[f.message for f in findings]}")
    table = ranking_frame(problem, ranked)
    table.insert(1, "file", files)
    summary = out / "提案一覧.csv"
    japanese = table.rename(columns={**RANKING_COLUMNS, "file": "ファイル"})
    spreadsheet_safe(japanese).to_csv(summary, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    print(terminal_text(str(summary)))
    method = problem.method(seed=args.seed, steps=args.steps, candidates=args.candidates)
    method.update(plan=plan.name, distinct_plans=len(ranked), disclaimer=DISCLAIMER)
    meta = out / "提案の方法.json"
    meta.write_text(json.dumps(method, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(terminal_text(str(meta)))
    if not args.quiet:
        say(
            f"{args.candidates} 案を計算し、異なる案は {len(ranked)} 件でした"
            f"（{time.perf_counter() - t0:.1f} 秒）。人口の偏りが小さい順:"
        )
        for r in table.itertuples():
            say(
                f"  提案{r.rank}: 偏り {r.rms_deviation_pct:.1f}%（最大 {r.max_deviation_pct:.1f}%）、"
                f"人口 {r.smallest:,}〜{r.largest:,}、{r.areas_per_secondary}"
            )
        say(DISCLAIMER)
    return EXIT_OK


def cmd_app(args: argparse.Namespace) -> int:
    from geo_app.app.launch import launch

    return launch(port=args.port, headless=args.headless)


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors (which quote what was typed) are escaped, with a Japanese lead."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        say(f"エラー: コマンドの指定が正しくありません（{message}）。`{self.prog} --help` で使い方を確認できます。")
        self.exit(EXIT_INPUT)


def _add_headers(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--headers",
        choices=["ja", "en"],
        default="ja",
        help="CSV の列名: ja（日本語、数値は表示どおりに丸める。既定）/ "
        "en（英語の列名・丸めない数値、スクリプト向け）。JSON はいつも英語の列名です",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="geo-app", description="在宅医療圏の設計支援: 市町村の境界と人口から圏域を集計・地図化します。"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("plans", help="組み込みの区域案を一覧表示").set_defaults(func=cmd_plans)

    s = sub.add_parser("summary", help="圏域ごとの人口などを表示（1=集計に影響する所見あり・出力は書く, 2=入力を直す）")
    _add_inputs(s)
    s.add_argument("--level", choices=["homecare", "secondary", "tertiary"], default="homecare")
    s.add_argument("--format", choices=["table", "csv", "json"], default="table")
    _add_headers(s)
    s.set_defaults(func=cmd_summary)

    b = sub.add_parser(
        "build",
        help="地図（HTML/PNG/PDF）・表（CSV/XLSX）・GIS レイヤーを書き出す"
        "（1=集計に影響する所見あり・ファイルは書く, 2=入力を直す）",
    )
    _add_inputs(b)
    b.add_argument("--out", required=True, help="書き出し先のフォルダー")
    b.add_argument("--level", choices=["homecare", "secondary", "tertiary"], default="homecare")
    b.add_argument(
        "--metric",
        default="population",
        choices=MAP_METRICS,
        help="地図の色分けの指標: " + "、".join(f"{k}（{label(k)}）" for k in MAP_METRICS),
    )
    b.add_argument("--basemap", default="none", choices=["none", "gsi_pale"])
    b.add_argument("--paper", default="A4", choices=["A4", "A3"])
    _add_headers(b)
    b.set_defaults(func=cmd_build)

    v = sub.add_parser("validate", help="区域案を検査（0=問題なし, 1=所見あり, 2=入力を読めない）")
    _add_inputs(v)
    v.add_argument(
        "--population-floor", type=int, default=None, help="在宅医療圏の人口の下限（これ未満を警告として報告）"
    )
    v.add_argument("--format", choices=["text", "csv"], default="text")
    v.set_defaults(func=cmd_validate)

    pr = sub.add_parser(
        "propose",
        help="在宅医療圏の案を計算して提案（二次医療圏の中で、つながった・人口の釣り合った圏域。公式の案ではありません）",
    )
    _add_inputs(pr)
    pr.add_argument(
        "--within",
        nargs="+",
        required=True,
        metavar="範囲",
        help="範囲: 提案する二次医療圏の名前（複数可）か都道府県名。確定した在宅医療圏はそのまま残します",
    )
    pr.add_argument("--areas", type=_count, required=True, metavar="K", help="圏域の数: 範囲に作る在宅医療圏の数")
    pr.add_argument(
        "--population-floor", type=_count, default=None, metavar="N", help="人口の下限: どの圏域もこの人口以上に"
    )
    pr.add_argument(
        "--lock",
        nargs="+",
        action="append",
        metavar="CODE",
        help="まとめる市町村: 同じ圏域にする市町村コード（--lock を繰り返すと別のまとまり）",
    )
    pr.add_argument("--seed", type=int, default=1, help="乱数の種（同じ種なら同じ案。既定: 1）")
    pr.add_argument("--candidates", type=_count, default=8, metavar="M", help="計算する案の数（既定: 8）")
    pr.add_argument("--steps", type=_count, default=1000, help="1案あたりの ReCom のステップ数（既定: 1000）")
    pr.add_argument(
        "--workers",
        type=_count,
        default=None,
        help="ローカルで使うプロセス数（既定: CPU の数。1 ならこのプロセスだけ）",
    )
    pr.add_argument("--scheduler", metavar="ADDRESS", help="Dask distributed のスケジューラー（例: tcp://host:8786）")
    pr.add_argument(
        "--redraw-confirmed",
        action="store_true",
        help="確定した圏域も引き直す: 範囲の確定した在宅医療圏も外して提案（既定: 未確定の市町村だけ）",
    )
    pr.add_argument("--out", required=True, help="提案を書き出すフォルダー")
    pr.set_defaults(func=cmd_propose)

    a = sub.add_parser("app", help="ブラウザーで使うアプリを起動")
    a.add_argument("--port", type=int, default=8501)
    a.add_argument("--headless", action="store_true", help="ブラウザーを自動で開かない")
    a.set_defaults(func=cmd_app)
    return parser


def _silence_stdout() -> None:
    """After a closed pipe: stdout points at devnull, so the interpreter's final flush of what
    is still buffered cannot raise (and print) a second BrokenPipeError."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout without a file descriptor (captured in tests)
        pass


def _bug_message(exc: BaseException, argv: Sequence[str]) -> str:
    rerun = shlex.join(["GEO_APP_DEBUG=1", "geo-app", *argv])
    return (
        f"エラー: geo_app の不具合です（{type(exc).__name__}: {exc}）。お使いのファイルや指定の問題ではありません。"
        "お手数ですが、次のように同じコマンドを GEO_APP_DEBUG=1 を付けて再実行し、"
        f"表示された内容全体を geo_app の開発者に送ってください: {rerun}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every outcome is an exit code and, on stderr, a Japanese message."""
    warnings.filterwarnings("ignore", message="Numba not installed")
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's flush at exit
        return code
    except BrokenPipeError:  # `geo-app plans | head -3`: the reader has what it wanted
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except GeoAppError as exc:
        _traceback(exc)  # with the chained cause, e.g. the parser's own error
        say(f"エラー: {exc}", keep_newlines=True)  # messages may list problems line by line
        return EXIT_INPUT
    except KeyboardInterrupt:
        say("中断しました。")
        return 130
    except OSError as exc:
        _traceback(exc)
        if exc.errno not in _ENVIRONMENT_ERRNOS:
            say(_bug_message(exc, argv))
            return EXIT_BUG
        where = f"「{exc.filename}」" if exc.filename else ""
        say(
            f"エラー: ファイル{where}を読み書きできません（{exc.strerror or exc}）。"
            "空き容量と書き込みの権限を確かめてください。"
        )
        return EXIT_INPUT
    except Exception as exc:  # noqa: BLE001 - anything else is ours: say so, and how to report it
        _traceback(exc)
        say(_bug_message(exc, argv))
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
