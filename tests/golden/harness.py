"""Golden snapshots of everything `geo-app` shows or writes for a built-in plan.

`snapshot(plan, workdir)` runs the commands the way users run them — the CLI in-process through
`geo_app.cli.main([...])`, stdout and stderr captured (not terminals, so progress is left
out of CSV/JSON runs as in a pipe) — and reduces each output to a
normalised, deterministic, JSON-serialisable structure:

- `plans`, `summary/<level>/{csv,json,table}`, `validate/{csv,text}`, `build`: exit code,
  stdout (CSV → rows, JSON → parsed, text → lines) and stderr lines;
- the files of `geo-app build`: `summary.xlsx` (every sheet: headers, cell values as written,
  number formats, column widths, frozen panes, filter), `summary.csv` (rows, BOM),
  `areas.gpkg` (every layer: fields and dtypes, attribute rows, a geometry fingerprint per
  feature), `areas.geojson` (properties and the same fingerprint), `map.html` (the static data
  and the state the map's renderer receives, a fingerprint of the TopoJSON topology, the page's
  code with the data cut out), `map.png` (pixel size), `map.pdf` (pages and page size).

Normalised (see `_normalise_text`, `_number`): floats to 6 significant digits (NaN, which is
how pandas reads a NULL, as null); the build folder to `<out>`; progress timings
(`（1.2 秒）`) to `（… 秒）`; the xlsx 作成日時 (now) to `<timestamp>`; folium's random
element ids (`map_<32 hex>`), uuid-like ids and the tooltip table key (`t<12 hex>`) to
numbered placeholders in order of first appearance; Leaflet's inlined CSS/JS (and any other
<script>/<style> block over 2,000 characters) to its length and sha256. Geometry is
kept only as a fingerprint: area in m² (equal-area EPSG:6933, rounded to 1,000 m²), number of
parts and bounds rounded to 4 decimals; on the HTML map, the topology's counts (geometries by
type, arcs, arc points) and its quantisation.

This module imports nothing from geo_app but the function behind the `geo-app` command (found
through pyproject.toml's [project.scripts], today `geo_app.cli:main`), so it survives the
package being reorganised.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import html
import io
import json
import math
import re
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = ["LEVELS", "diff", "dumps", "run_cli", "snapshot"]

LEVELS = ("homecare", "secondary", "tertiary")
BUILD_FILES = ("map.html", "map.png", "map.pdf", "summary.xlsx", "summary.csv", "areas.gpkg", "areas.geojson")
EQUAL_AREA_CRS = "EPSG:6933"  # WGS 84 / NSIDC EASE-Grid 2.0 Global (equal-area), for m² fingerprints
SIG_DIGITS = 6


# ---- values --------------------------------------------------------------------------------------
def _number(x: float) -> float | str:
    """A float rounded to 6 significant digits; NaN/±inf as text (JSON has none)."""
    if math.isnan(x) or math.isinf(x):
        return str(x)
    if x == 0:
        return 0.0
    return float(f"{x:.{SIG_DIGITS}g}")


_FLOAT_TEXT = re.compile(r"-?(?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?|-?\d+[eE][-+]?\d+")


def _cell_text(text: str) -> Any:
    """A CSV cell: float-looking text becomes a rounded number, everything else stays text
    (codes such as 01100 and integers keep their exact spelling)."""
    if _FLOAT_TEXT.fullmatch(text):
        return _number(float(text))
    return text


def _value(v: Any) -> Any:
    """Any scalar or container from pandas/numpy/openpyxl/json as plain JSON, floats rounded."""
    import numpy as np
    import pandas as pd

    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) else _number(float(v))  # pandas reads NULL as NaN
    if isinstance(v, str):
        return v
    if isinstance(v, dict):
        return {str(k): _value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_value(x) for x in v]
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


class _Ids:
    """Random ids → numbered placeholders, in order of first appearance (stable across runs)."""

    FOLIUM = re.compile(r"(?<=_)[0-9a-f]{32}(?![0-9A-Za-z])")  # map_…, geo_json_…, layer_control_…
    UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
    TIPS = re.compile(r"(?<=[\"'])t([0-9a-f]{12})(?=[\"'])")

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}

    def _ph(self, kind: str, raw: str) -> str:
        if raw not in self.seen:
            self.seen[raw] = f"{kind}{sum(1 for v in self.seen.values() if v.startswith(kind)) + 1}"
        return self.seen[raw]

    def __call__(self, text: str) -> str:
        text = self.FOLIUM.sub(lambda m: self._ph("ID", m.group(0)), text)
        text = self.UUID.sub(lambda m: self._ph("UUID", m.group(0).lower()), text)
        return self.TIPS.sub(lambda m: "t" + self._ph("KEY", m.group(1)), text)


_SECONDS = re.compile(r"（\s*[0-9]+(?:\.[0-9]+)?\s*秒）")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")


def _normalise_text(text: str, out_dir: Path | None = None) -> str:
    if out_dir is not None:
        text = text.replace(str(out_dir), "<out>")
    return _SECONDS.sub("（… 秒）", text)


def _lines(text: str, out_dir: Path | None = None) -> list[str]:
    return [_normalise_text(line, out_dir) for line in text.splitlines()]


# ---- the command line ----------------------------------------------------------------------------
def _entry_point():
    """The function behind the `geo-app` command, as pyproject.toml names it ([project.scripts]),
    so the harness follows the command if its module moves; `geo_app.cli:main` without one."""
    import importlib
    import tomllib

    target = "geo_app.cli:main"
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    if pyproject.is_file():
        target = (
            tomllib.loads(pyproject.read_text(encoding="utf-8"))
            .get("project", {})
            .get("scripts", {})
            .get("geo-app", target)
        )
    module, _, func = target.partition(":")
    return getattr(importlib.import_module(module), func or "main")


def run_cli(argv: Sequence[str]) -> tuple[int, str, str]:
    """`geo-app ARGV` in this process: exit code, stdout, stderr (warnings of libraries are
    kept out of stderr: they show once per process, so they would depend on test order)."""
    main = _entry_point()
    out, err = io.StringIO(), io.StringIO()
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(argv))
            except SystemExit as exc:  # argparse (usage errors, --help)
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    return int(code), out.getvalue(), err.getvalue()


def _command(argv: Sequence[str], kind: str, out_dir: Path | None = None) -> dict[str, Any]:
    code, stdout, stderr = run_cli(argv)
    result: dict[str, Any] = {"argv": [_normalise_text(a, out_dir) for a in argv], "exit_code": code}
    if kind == "csv":
        result["stdout"] = [[_cell_text(c) for c in row] for row in csv.reader(io.StringIO(stdout))]
    elif kind == "json":
        try:
            result["stdout"] = _value(json.loads(stdout))
        except json.JSONDecodeError as exc:
            result["stdout"] = {"not_json": str(exc), "text": _lines(stdout, out_dir)}
    else:
        result["stdout"] = _lines(stdout, out_dir)
    result["stderr"] = _lines(stderr, out_dir)
    return result


# ---- build outputs -------------------------------------------------------------------------------
def _xlsx(path: Path) -> dict[str, Any]:
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    wb = load_workbook(path, data_only=False)
    sheets: dict[str, Any] = {}
    for ws in wb.worksheets:
        rows = []
        formats: dict[str, list[str]] = {}
        for row in ws.iter_rows():
            values = []
            for cell in row:
                v = cell.value
                if isinstance(v, str) and _TIMESTAMP.match(v):
                    v = "<timestamp>"  # 出典!作成日時 is the time of the build
                values.append(_value(v))
                if cell.row > 1 and v is not None:
                    formats.setdefault(get_column_letter(cell.column), [])
                    if cell.number_format not in formats[get_column_letter(cell.column)]:
                        formats[get_column_letter(cell.column)].append(cell.number_format)
            rows.append(values)
        sheets[ws.title] = {
            "dimensions": ws.dimensions,
            "headers": rows[0] if rows else [],
            "rows": rows[1:],
            "number_formats": formats,
            "column_widths": {k: _value(d.width) for k, d in sorted(ws.column_dimensions.items()) if d.width},
            "freeze_panes": ws.freeze_panes,
            "auto_filter": ws.auto_filter.ref,
        }
    return {"sheet_names": wb.sheetnames, "sheets": sheets}


def _csv_file(path: Path) -> dict[str, Any]:
    raw = path.read_bytes()
    text = raw.decode("utf-8-sig")
    return {
        "bom": raw.startswith(b"\xef\xbb\xbf"),
        "rows": [[_cell_text(c) for c in row] for row in csv.reader(io.StringIO(text))],
    }


def _fingerprints(geoms, crs) -> list[Any]:
    """Per geometry: [area m² (equal-area, to 1,000 m²), parts, [minx, miny, maxx, maxy] to 4 decimals]."""
    import geopandas as gpd
    import shapely

    series = gpd.GeoSeries(list(geoms), crs=crs)
    areas = series.to_crs(EQUAL_AREA_CRS).area
    out = []
    for g, a in zip(series, areas, strict=True):
        if g is None or g.is_empty:
            out.append(None)
            continue
        out.append(
            [int(round(float(a), -3)), int(shapely.get_num_geometries(g)), [round(float(b), 4) for b in g.bounds]]
        )
    return out


def _gpkg(path: Path) -> dict[str, Any]:
    import pyogrio

    layers: dict[str, Any] = {}
    listed = [[str(n), str(t)] for n, t in pyogrio.list_layers(path)]
    for name, _ in listed:
        info = pyogrio.read_info(path, layer=name)
        gdf = pyogrio.read_dataframe(path, layer=name)
        attrs = gdf.drop(columns=gdf.geometry.name)
        layers[name] = {
            "crs": str(info["crs"]),
            "geometry_type": info["geometry_type"],
            "geometry_name": info["geometry_name"],
            "features": int(info["features"]),
            "fields": [
                [str(f), str(d), str(o)]
                for f, d, o in zip(info["fields"], info["dtypes"], info["ogr_types"], strict=True)
            ],
            "rows": [[_value(v) for v in row] for row in attrs.itertuples(index=False, name=None)],
            "geometry": _fingerprints(gdf.geometry.values, gdf.crs),
        }
    return {"layers": listed, "layer": layers}


def _geojson(path: Path) -> dict[str, Any]:
    import shapely.geometry

    doc = json.loads(path.read_text(encoding="utf-8"))
    features = doc.get("features", [])
    geoms = [None if f.get("geometry") is None else shapely.geometry.shape(f["geometry"]) for f in features]
    return {
        "members": sorted(k for k in doc if k != "features"),
        "type": doc.get("type"),
        "bbox": None if doc.get("bbox") is None else [round(float(b), 4) for b in doc["bbox"]],
        "feature_count": len(features),
        "feature_keys": sorted({k for f in features for k in f}),
        "properties": [_value(f.get("properties")) for f in features],
        "geometry": _fingerprints(geoms, "EPSG:4326"),
    }


def _png(path: Path) -> dict[str, Any]:
    from PIL import Image

    with Image.open(path) as im:
        return {"size_px": list(im.size)}


def _pdf(path: Path) -> dict[str, Any]:
    """Page count and page sizes, read from the page objects (matplotlib writes them plainly)."""
    raw = path.read_bytes()
    pages = re.findall(rb"/Type\s*/Page(?![A-Za-z])", raw)
    boxes = [[round(float(x), 2) for x in m.split()[2:4]] for m in re.findall(rb"/MediaBox\s*\[\s*([^\]]*)\]", raw)]
    return {"pages": len(pages), "page_size_pt": boxes}


# ---- map.html ------------------------------------------------------------------------------------
_DECODER = json.JSONDecoder()
_TOPOLOGY = re.compile(r"\bvar (topo_json_ID\d+)_data = ")
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_LIVE_INFO = re.compile(rf"GeoAppLive\.attach\(({_NAME}), ({_NAME}), {_NAME}, ")
_LIVE_STATE = re.compile(r"<<live_info\[\d+\]>>\),\s*")
_LONG_FLOAT = re.compile(r"-?\d+\.\d{6,}")
_ESCAPED = re.compile(r"\\u([0-9a-fA-F]{4})")
_BLOCK = re.compile(r"(<(script|style)\b[^>]*>)(.*?)(</\2>)", re.DOTALL)
_URL_ATTR = re.compile(r"""\b(?:src|href)\s*=\s*["']([^"']*)["']""", re.IGNORECASE)


def _topology_print(topo: Any) -> dict[str, Any] | None:
    """Counts of a TopoJSON topology (its coordinates are left out): geometries by type, arcs and
    arc points per object, the quantisation transform."""
    if not isinstance(topo, dict):
        return None
    arcs = topo.get("arcs") or []
    objects = {}
    for name, obj in (topo.get("objects") or {}).items():
        geoms = obj.get("geometries", []) if isinstance(obj, dict) else []
        types: dict[str, int] = {}
        for g in geoms:
            types[str(g.get("type"))] = types.get(str(g.get("type")), 0) + 1
        objects[name] = {"geometries": len(geoms), "types": types, "ids": [g.get("id") for g in geoms][:5]}
    return {
        "type": topo.get("type"),
        "objects": objects,
        "arcs": len(arcs),
        "arc_points": sum(len(a) for a in arcs),
        "transform": _value(topo.get("transform")),
    }


def _cut_json(text: str, pattern: re.Pattern[str], found: list[tuple[re.Match[str], Any]], label: str) -> str:
    """Every JSON value right after `pattern` decoded into `found` and cut out of the text."""
    parts, pos = [], 0
    for m in pattern.finditer(text):
        if m.end() < pos:
            continue
        try:
            obj, end = _DECODER.raw_decode(text, m.end())
        except json.JSONDecodeError:
            continue
        found.append((m, obj))
        parts.append(text[pos : m.end()])
        parts.append(f"<<{label}[{len(found) - 1}]>>")  # the index in the snapshot
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


def _skeleton(text: str) -> list[str]:
    """Code lines of the page without blank lines, indentation, long float noise or \\u escapes."""
    text = _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)
    text = _LONG_FLOAT.sub(lambda m: repr(_number(float(m.group()))), text)
    return [line.strip() for line in text.splitlines() if line.strip()]


def _map_html(path: Path) -> dict[str, Any]:
    page = _Ids()(path.read_text(encoding="utf-8"))
    split = page.find("<body")
    head, body = (page[:split], page[split:]) if split >= 0 else ("", page)

    title = re.search(r"<title>(.*?)</title>", head, re.DOTALL)
    big = []

    def block(m: re.Match[str]) -> str:
        content = m.group(3)
        if len(content) <= 2000:
            return m.group(0)
        big.append(content)
        return (
            f"{m.group(1)}[{len(content)} chars sha256:{hashlib.sha256(content.encode()).hexdigest()[:16]}]{m.group(4)}"
        )

    head_skeleton = _skeleton(_BLOCK.sub(block, head))
    external = sorted(
        {
            u
            for u in _URL_ATTR.findall(_BLOCK.sub(lambda m: m.group(1) + m.group(4), page))
            if not u.startswith(("data:", "#")) and u
        }
    )

    topo_found: list[tuple[re.Match[str], Any]] = []
    info_found: list[tuple[re.Match[str], Any]] = []
    state_found: list[tuple[re.Match[str], Any]] = []
    code = _cut_json(body, _TOPOLOGY, topo_found, "topology")
    code = _cut_json(code, _LIVE_INFO, info_found, "live_info")
    code = _cut_json(code, _LIVE_STATE, state_found, "live_state")
    live = [
        {"map": m.group(1), "layer": m.group(2), "info": _value(info), "state": _value(state)}
        for (m, info), (_, state) in zip(info_found, state_found, strict=False)
    ]
    return {
        "title": html.unescape(title.group(1)) if title else None,
        "external_urls": external,
        "head": head_skeleton,
        "topology": [{"var": m.group(1), "print": _topology_print(t)} for m, t in topo_found],
        "live": live,
        "code": _skeleton(code),
    }


# ---- all of it -----------------------------------------------------------------------------------
def snapshot(plan_name: str, workdir: Path) -> dict[str, object]:
    """Every output of `geo-app` for `plan_name`, normalised (one `build` into `workdir/out`)."""
    workdir = Path(workdir)
    out_dir = workdir / "out"
    snap: dict[str, Any] = {"plan": plan_name}
    snap["plans"] = _command(["plans"], "text")
    snap["summary"] = {
        level: {
            fmt: _command(["summary", "--plan", plan_name, "--level", level, "--format", fmt], fmt)
            for fmt in ("csv", "json", "table")
        }
        for level in LEVELS
    }
    snap["validate"] = {
        "csv": _command(["validate", "--plan", plan_name, "--format", "csv"], "csv"),
        "text": _command(["validate", "--plan", plan_name], "text"),
    }
    snap["build"] = _command(["build", "--plan", plan_name, "--out", str(out_dir)], "text", out_dir)
    written = sorted(p.name for p in out_dir.iterdir()) if out_dir.is_dir() else []
    snap["build"]["files"] = written
    readers = {
        "summary.xlsx": _xlsx,
        "summary.csv": _csv_file,
        "areas.gpkg": _gpkg,
        "areas.geojson": _geojson,
        "map.html": _map_html,
        "map.png": _png,
        "map.pdf": _pdf,
    }
    for name, read in readers.items():
        path = out_dir / name
        snap[name] = read(path) if path.exists() else {"missing": True}
    return json.loads(json.dumps(snap, ensure_ascii=False, allow_nan=False))


# ---- files and differences -----------------------------------------------------------------------
def _flat(x: Any) -> bool:
    """Scalars and lists of them, at any depth (no objects)."""
    return not isinstance(x, (dict, list)) or (isinstance(x, list) and all(_flat(y) for y in x))


def dumps(obj: Any, indent: int = 0) -> str:
    """JSON with one line per list of scalars (a table row): small, and readable as a git diff."""
    pad, inner = " " * indent, " " * (indent + 1)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{inner}{json.dumps(k, ensure_ascii=False)}: {dumps(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list):
        line = json.dumps(obj, ensure_ascii=False)
        if all(not isinstance(x, (dict, list)) for x in obj) or (_flat(obj) and len(line) <= 120):
            return line
        return "[\n" + ",\n".join(inner + dumps(x, indent + 1) for x in obj) + "\n" + pad + "]"
    return json.dumps(obj, ensure_ascii=False)


def _col(j: int) -> str:
    s = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        s = chr(65 + r) + s
    return s


def _lookup(root: Any, parts: Sequence[Any]) -> Any:
    for x in parts:
        root = root[x]
    return root


def _path(parts: Sequence[Any], root: Any = None) -> str:
    """`summary.xlsx/所見!B3` for workbook cells, `areas.gpkg/homecare[3]/population` for layer
    rows, `…/stdout[2]/population` for CSV cells; else keys joined by / and [i] for list items."""
    p = list(parts)
    if len(p) >= 5 and p[0] == "summary.xlsx" and p[1] == "sheets" and p[3] in ("rows", "headers"):
        sheet, what, rest = p[2], p[3], p[4:]
        if what == "headers" and len(rest) == 1:
            return f"summary.xlsx/{sheet}!{_col(rest[0])}1"
        if what == "rows" and len(rest) == 2:
            return f"summary.xlsx/{sheet}!{_col(rest[1])}{rest[0] + 2}"
        if what == "rows" and len(rest) == 1:
            return f"summary.xlsx/{sheet}!row {rest[0] + 2}"
    column = None
    try:
        if len(p) == 6 and p[0] == "areas.gpkg" and p[1] == "layer" and p[3] == "rows":
            column = _lookup(root, ["areas.gpkg", "layer", p[2], "fields"])[p[5]][0]
            return f"areas.gpkg/{p[2]}[{p[4]}]/{column}"
        if (
            len(p) >= 3
            and p[-3] in ("stdout", "rows")
            and p[0] in ("summary", "validate", "summary.csv")
            and isinstance(p[-2], int)
            and isinstance(p[-1], int)
            and p[-2] > 0
        ):
            column = _lookup(root, p[:-2])[0][p[-1]]
    except (KeyError, IndexError, TypeError):
        column = None
    out = ""
    for x in p[:-1] if column is not None else p:
        out += f"[{x}]" if isinstance(x, int) else (f"/{x}" if out else str(x))
    return f"{out}/{column}" if column is not None else out


def _short(v: Any, limit: int = 80) -> str:
    text = repr(v) if not isinstance(v, (dict, list)) else json.dumps(v, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def diff(expected: Any, actual: Any, path: tuple[Any, ...] = (), root: Any = None) -> Iterator[str]:
    """Differences as `path: expected != actual`, depth first, in document order."""
    root = expected if root is None else root
    if isinstance(expected, dict) and isinstance(actual, dict):
        for k in expected:
            if k not in actual:
                yield f"{_path((*path, k), root)}: missing now (was {_short(expected[k])})"
            else:
                yield from diff(expected[k], actual[k], (*path, k), root)
        for k in actual:
            if k not in expected:
                yield f"{_path((*path, k), root)}: new ({_short(actual[k])})"
    elif isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            yield f"{_path(path, root)}: length {len(expected)} != {len(actual)}"
        for i, (e, a) in enumerate(zip(expected, actual, strict=False)):  # the common part; length said above
            yield from diff(e, a, (*path, i), root)
    elif expected != actual or type(expected) is not type(actual):
        if (
            isinstance(expected, (int, float))
            and isinstance(actual, (int, float))
            and not isinstance(expected, bool)
            and not isinstance(actual, bool)
            and expected == actual
        ):
            return
        yield f"{_path(path, root)}: {_short(expected)} != {_short(actual)}"
