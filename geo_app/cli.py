"""`geo-app`: summary, build, validate, plans, app — a thin layer over the core.

Errors reach the user as a Japanese message and a non-zero exit code, never a traceback
(set GEO_APP_DEBUG=1 to see one).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Sequence

from .errors import GeoAppError

__all__ = ["main"]

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT, EXIT_BUG = 0, 1, 2, 3


class Progress:
    """Step messages on stderr, so stdout stays clean for CSV/JSON."""

    def __init__(self, total: int, quiet: bool = False):
        self.total, self.step, self.quiet, self.t0 = total, 0, quiet, time.perf_counter()

    def __call__(self, message: str) -> None:
        self.step += 1
        if not self.quiet:
            print(f"[{self.step}/{self.total}] {message}（{time.perf_counter() - self.t0:.1f} 秒）", file=sys.stderr, flush=True)


def _add_inputs(p: argparse.ArgumentParser) -> None:
    p.add_argument("--plan", default="hokkaido-2024", help="組み込みの区域案の名前（geo-app plans）または区域表 CSV/XLSX（既定: hokkaido-2024）")
    p.add_argument("--boundaries", nargs="+", help="N03 行政区域ファイル（.zip/.shp/.geojson/TopoJSON/.gpkg、複数可）。既定: 内蔵の2021年版")
    p.add_argument("--population", help="人口表 CSV/XLSX（市町村コード・人口・年齢階級）。既定: 内蔵の令和2年国勢調査")
    p.add_argument("--quiet", action="store_true", help="進み具合を表示しない")


def _load(args: argparse.Namespace, progress: Progress):
    from .inputs import municipalities_for_plan
    from .plans import load_plan

    progress("区域案を読み込み中")
    plan = load_plan(args.plan)
    progress("境界と人口を読み込み中")
    munis = municipalities_for_plan(plan, boundaries=args.boundaries, population=args.population or "census2020")
    report = munis.attrs.get("report")
    if report and not args.quiet:
        for note in report.notes:
            print(f"  ・{note}", file=sys.stderr)
    return plan, munis


def _warn_left_out(args: argparse.Namespace, plan, munis) -> None:
    """Municipalities a total leaves out, or areas that a shared name merges, said before the figures."""
    if args.quiet:
        return
    from .validate import ValidationOptions, validate

    for f in validate(munis, plan, ValidationOptions(rules=["unassigned", "several_prefectures"])):
        print(f"  ！{f.message}（集計に影響します。geo-app validate で詳しく確認できます）", file=sys.stderr)


def cmd_plans(args: argparse.Namespace) -> int:
    from .plans import builtin_plans

    for name in builtin_plans():
        print(name)
    return EXIT_OK


def _machine_output(args: argparse.Namespace) -> bool:
    """CSV/JSON on stdout is often captured together with stderr (`2>&1`): keep it pure unless
    a person is watching the terminal."""
    return getattr(args, "format", "table") in ("csv", "json") and not sys.stderr.isatty()


def cmd_summary(args: argparse.Namespace) -> int:
    from .dissolve import dissolve
    from .summary import format_table, summary_frame, to_json_records

    args.quiet = args.quiet or _machine_output(args)
    progress = Progress(3, args.quiet)
    plan, munis = _load(args, progress)
    _warn_left_out(args, plan, munis)
    progress("圏域に集計中")
    table = summary_frame(dissolve(munis, plan, args.level))
    if args.format == "csv":
        sys.stdout.write(table.to_csv(index=False, lineterminator="\n"))
    elif args.format == "json":
        print(to_json_records(table))
    else:
        print(format_table(table))
    return EXIT_OK


def cmd_build(args: argparse.Namespace) -> int:
    from .export import build_outputs

    progress = Progress(5, args.quiet)
    plan, munis = _load(args, progress)
    _warn_left_out(args, plan, munis)
    written = build_outputs(munis, plan, Path(args.out), level=args.level, metric=args.metric,
                            basemap=args.basemap, paper=args.paper, progress=progress)
    for path in written:
        print(path)
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    from .validate import SEVERITY_JA, ValidationOptions, exit_code, findings_frame, validate

    args.quiet = args.quiet or _machine_output(args)
    progress = Progress(3, args.quiet)
    plan, munis = _load(args, progress)
    progress("検査中")
    options = ValidationOptions(population_floor=args.population_floor)
    if args.sea_links:
        from .validate import load_sea_links

        options.sea_links = load_sea_links(args.sea_links)
    findings = validate(munis, plan, options)
    frame = findings_frame(findings)
    if args.format == "csv":
        sys.stdout.write(frame.to_csv(index=False, lineterminator="\n"))
    else:
        for f in findings:
            print(f"[{SEVERITY_JA.get(f.severity, f.severity)}] {f.rule}: {f.message}")
        counts = frame["severity"].value_counts().to_dict() if len(frame) else {}
        print(f"所見 {len(findings)} 件（エラー {counts.get('error', 0)}・警告 {counts.get('warning', 0)}・情報 {counts.get('info', 0)}）")
    return exit_code(findings)


def cmd_app(args: argparse.Namespace) -> int:
    from .app.launch import launch

    return launch(port=args.port, headless=args.headless)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="geo-app", description="在宅医療圏の設計支援: 市町村の境界と人口から圏域を集計・地図化します。")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("plans", help="組み込みの区域案を一覧表示").set_defaults(func=cmd_plans)

    s = sub.add_parser("summary", help="圏域ごとの人口などを表示")
    _add_inputs(s)
    s.add_argument("--level", choices=["homecare", "secondary", "tertiary"], default="homecare")
    s.add_argument("--format", choices=["table", "csv", "json"], default="table")
    s.set_defaults(func=cmd_summary)

    b = sub.add_parser("build", help="地図（HTML/PNG/PDF）・表（CSV/XLSX）・GIS レイヤーを書き出す")
    _add_inputs(b)
    b.add_argument("--out", required=True, help="書き出し先のフォルダー")
    b.add_argument("--level", choices=["homecare", "secondary", "tertiary"], default="homecare")
    b.add_argument("--metric", default="population", choices=["population", "age_65_plus", "age_75_plus", "aging_rate", "share_75_plus", "density"])
    b.add_argument("--basemap", default="none", choices=["none", "gsi_pale"])
    b.add_argument("--paper", default="A4", choices=["A4", "A3"])
    b.set_defaults(func=cmd_build)

    v = sub.add_parser("validate", help="区域案を検査（0=問題なし, 1=所見あり, 2=入力を読めない）")
    _add_inputs(v)
    v.add_argument("--population-floor", type=int, default=None, help="在宅医療圏の人口の下限（これ未満を警告として報告）")
    v.add_argument("--sea-links", help="航路（離島の接続）の追加 CSV: code_a, code_b, name")
    v.add_argument("--format", choices=["text", "csv"], default="text")
    v.set_defaults(func=cmd_validate)

    a = sub.add_parser("app", help="ブラウザーで使うアプリを起動")
    a.add_argument("--port", type=int, default=8501)
    a.add_argument("--headless", action="store_true", help="ブラウザーを自動で開かない")
    a.set_defaults(func=cmd_app)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    warnings.filterwarnings("ignore", message="Numba not installed")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except GeoAppError as exc:
        print(f"エラー: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("中断しました。", file=sys.stderr)
        return 130
    except Exception as exc:  # last resort: still no traceback for the user
        if os.environ.get("GEO_APP_DEBUG"):
            raise
        print(
            f"エラー: 予期しない問題が起きました（{type(exc).__name__}: {exc}）。"
            "入力ファイルを確かめ、解決しない場合は GEO_APP_DEBUG=1 を付けて再実行した出力を開発者に送ってください。",
            file=sys.stderr,
        )
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
