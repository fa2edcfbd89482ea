"""Property-based tests: whatever bytes, text, cells or headers a user brings, every public reader
returns a valid result or raises a GeoAppError with a Japanese message — never anything else."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import zipfile

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from geo_app import GeoAppError, Plan, load_municipalities, load_plan, load_population
from geo_app.core.codes import check_digit, normalize_code
from geo_app.io.boundaries import read_n03_units
from geo_app.io.names import census_names, resolve_names
from geo_app.io.plans import PLAN_ALIASES, plan_from_frame
from geo_app.io.tables import read_table

pytestmark = pytest.mark.filterwarnings("ignore:'crs' was not provided")

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FILES = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)

CODES = census_names()["code"].tolist()
NAMES = census_names()["name"].tolist()
JA = "北海道札幌市旭川函館伊達府中泊村町区郡県都ヶケ梼檮０１２３４５６７８９，、。・－―"
CELL_ALPHABET = st.sampled_from(list("0123456789-,.;\t\"' \n\r") + list(JA) + ["a", "X", "é", "\u3000", "\ufeff"])


def _japanese(err: BaseException) -> bool:
    text = str(err)
    return bool(text) and any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in text)


def outcome(fn, *args, **kwargs):
    """The reader's result, or None when it refused with a Japanese GeoAppError; anything else fails."""
    try:
        return fn(*args, **kwargs)
    except GeoAppError as err:
        assert _japanese(err), repr(err)
        return None


def check_population(pop: pd.DataFrame | None) -> None:
    if pop is None:
        return
    assert pop["code"].str.fullmatch(r"\d{5}").all() and pop["code"].is_unique
    assert str(pop["population"].dtype) == "Int64"
    assert (pop["population"].dropna() >= 0).all()


def check_plan(plan: Plan | None) -> None:
    if plan is None:
        return
    t = plan.table
    assert list(t.columns) == [
        *("code", "name", "homecare", "secondary", "tertiary", "status"),
        *("hub", "hub_facility", "hub_lat", "hub_lon"),
    ]
    assert t["code"].str.fullmatch(r"\d{5}").all()
    assert t["status"].isin(["確定", "未確定"]).all()
    # a hub's point is read as numbers inside Japan, or refused
    assert pd.to_numeric(t["hub_lat"].dropna()).between(20, 46).all()
    assert pd.to_numeric(t["hub_lon"].dropna()).between(122, 154).all()


def check_table(df: pd.DataFrame | None) -> None:
    if df is None:
        return
    assert len(df) > 0 and all(isinstance(c, str) for c in df.columns) and df.columns.is_unique


# ---- bytes and text ---------------------------------------------------------------------------
@FAST
@given(st.binary(max_size=3000))
def test_random_bytes(data):
    check_table(outcome(read_table, data, name="random.csv"))
    check_population(outcome(load_population, data, name="random.csv"))
    check_plan(outcome(load_plan, data, name="random.csv"))


@FAST
@given(
    rows=st.lists(st.lists(st.text(CELL_ALPHABET, max_size=12), min_size=1, max_size=6), min_size=0, max_size=8),
    sep=st.sampled_from([",", "\t", ";", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp932", "utf-16"]),
    header=st.sampled_from(
        [[], ["市町村コード", "人口"], ["code", "name", "homecare"], ["市町村名", "二次医療圏", "都道府県"]]
    ),
)
def test_random_csv_text_in_random_encodings(rows, sep, encoding, header):
    text = "\n".join(sep.join(r) for r in ([header] if header else []) + rows)
    data = text.encode(encoding, errors="replace")
    check_table(outcome(read_table, data, name="t.csv"))
    check_population(outcome(load_population, data, name="t.csv"))
    check_plan(outcome(load_plan, data, name="t.csv"))


# ---- cells ------------------------------------------------------------------------------------
code_cells = st.one_of(
    st.sampled_from(CODES),
    st.sampled_from(CODES).map(lambda c: int(c)),
    st.sampled_from(CODES).map(lambda c: float(int(c))),
    st.sampled_from(CODES).map(lambda c: c + check_digit(c)),
    st.sampled_from(CODES).map(lambda c: c + str((int(check_digit(c)) + 1) % 10)),
    st.sampled_from(CODES).map(lambda c: c.translate(str.maketrans("0123456789", "０１２３４５６７８９"))),
    st.integers(min_value=-10, max_value=10**8),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(CELL_ALPHABET, max_size=8),
    st.none(),
    st.booleans(),
)
count_cells = st.one_of(
    st.integers(min_value=-5, max_value=3_000_000),
    st.integers(min_value=0, max_value=3_000_000).map(lambda n: f"{n:,}"),
    st.sampled_from(["-", "－", "…", "X", "***", "", " ", "1.5", "△3", "1e3", "９９", "nan", "inf"]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
    st.text(CELL_ALPHABET, max_size=6),
)
name_cells = st.one_of(st.sampled_from(NAMES), st.text(CELL_ALPHABET, max_size=6), st.none())


@FAST
@given(st.lists(st.tuples(code_cells, name_cells, count_cells), min_size=1, max_size=12), st.booleans())
def test_random_cells_in_code_and_population_columns(rows, as_csv):
    df = pd.DataFrame(rows, columns=["市町村コード", "市町村名", "人口"])
    if as_csv:
        source = df.to_csv(index=False).encode("utf-8")
        pop = outcome(load_population, source, name="p.csv")
    else:
        pop = outcome(load_population, df)
    check_population(pop)
    if pop is not None:  # every accepted code is one the user wrote (re-padded or de-check-digited)
        written = set()
        for c in df["市町村コード"]:
            try:
                written.add(normalize_code(c))
            except ValueError:
                pass
        assert set(pop["code"]) <= written | set(CODES)


@FAST
@given(
    st.lists(
        st.tuples(
            code_cells, name_cells, st.text(CELL_ALPHABET, max_size=5), st.sampled_from(["確定", "未確定", "", "x"])
        ),
        min_size=1,
        max_size=10,
    ),
    st.sampled_from([None, "北海道", "東京都", "47", "アトランティス"]),
)
def test_random_cells_in_plan_tables(rows, prefecture):
    df = pd.DataFrame(rows, columns=["code", "市町村名", "在宅医療圏", "状態"])
    check_plan(outcome(load_plan, df, prefecture=prefecture))
    check_plan(outcome(plan_from_frame, df, prefecture=prefecture))


@FAST
@given(
    st.lists(name_cells, min_size=1, max_size=10),
    st.one_of(st.none(), st.text(JA, max_size=4), st.sampled_from(["北海道", "13", "広島"])),
)
def test_resolve_names_never_raises_for_names(names, prefecture):
    series = pd.Series(names, dtype=object)
    try:
        codes, problems = resolve_names(series, prefecture)
    except GeoAppError:
        raise
    except ValueError as err:  # an unknown prefecture argument is the caller's ValueError
        assert prefecture is not None and "都道府県" in str(err)
        return
    assert len(codes) == len(names)
    assert codes.dropna().isin(CODES).all()
    assert all(isinstance(p, str) and _japanese(p) for p in problems)


xlsx_values = st.one_of(
    st.none(),
    st.integers(min_value=-(10**6), max_value=10**9),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=10),
    st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2030, 1, 1)),
    st.sampled_from(CODES).map(lambda c: float(int(c))),
)


@FAST
@given(
    st.sampled_from([["市町村コード", "人口"], ["code", "name", "homecare", "secondary"], ["A", "B"], []]),
    st.lists(st.lists(xlsx_values, max_size=5), max_size=8),
)
def test_random_xlsx_cells(header, rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in ([header] if header else []) + rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    check_table(outcome(read_table, data, name="x.xlsx"))
    check_population(outcome(load_population, data, name="x.xlsx"))
    check_plan(outcome(load_plan, data, name="x.xlsx"))


# ---- valid files, reshuffled or cut -----------------------------------------------------------
_HEADERS = {
    k: [k, *v, k.upper()]
    for k, v in PLAN_ALIASES.items()
    if k in ("code", "name", "homecare", "secondary", "tertiary", "status", "hub")
}


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_random_header_permutations_give_the_same_plan(hokkaido_plan, data):
    t = hokkaido_plan.to_frame()
    order = data.draw(st.permutations(list(t.columns)))
    headers = {c: data.draw(st.sampled_from(_HEADERS[c])) for c in order}
    encoding = data.draw(st.sampled_from(["utf-8", "utf-8-sig", "cp932"]))
    df = t[order].rename(columns=headers)
    if data.draw(st.booleans()):
        df[headers["code"]] = df[headers["code"]].astype(int)
    plan = load_plan(df.to_csv(index=False).encode(encoding), name="perm.csv")
    assert plan.table.equals(hokkaido_plan.table)


@pytest.fixture(scope="module")
def plan_files(hokkaido_plan):
    df = hokkaido_plan.to_japanese_frame()
    csv = df.to_csv(index=False).encode("cp932")
    buf = io.BytesIO()
    df.to_excel(buf, index=False)
    return {"csv": csv, "xlsx": buf.getvalue()}


@settings(max_examples=120, deadline=None)
@given(kind=st.sampled_from(["csv", "xlsx"]), cut=st.floats(min_value=0, max_value=1, exclude_max=True))
def test_truncated_plan_files(plan_files, hokkaido_plan, kind, cut):
    data = plan_files[kind]
    part = data[: int(len(data) * cut)]
    plan = outcome(load_plan, part, name=f"cut.{kind}")
    check_plan(plan)
    if plan is not None:
        ref = hokkaido_plan.table.set_index("code")
        got = plan.table.set_index("code")
        assert set(got.index) <= set(ref.index)
        assert got[["secondary", "tertiary"]].iloc[:-1].equals(ref.loc[got.index[:-1], ["secondary", "tertiary"]])


# ---- boundary files ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def boundary_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz_boundaries")


@pytest.fixture(scope="module")
def small_zip(boundary_dir):
    g = gpd.read_parquet(__import__("geo_app.io.datasets", fromlist=["x"]).boundaries_path())
    g = g[g["N03_007"].isin(["01204", "01458", "01202", "01101", "01102"])]
    g.to_file(boundary_dir / "small.shp", encoding="utf-8")
    path = boundary_dir / "small.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for s in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
            zf.write(boundary_dir / f"small{s}", f"small{s}")
    return path


_counter = itertools.count()


@FILES
@given(
    cut=st.floats(min_value=0, max_value=1, exclude_max=True),
    suffix=st.sampled_from([".zip", ".geojson", ".shp", ".gpkg"]),
)
def test_truncated_and_renamed_boundary_files(boundary_dir, small_zip, cut, suffix):
    data = small_zip.read_bytes()
    path = boundary_dir / f"cut{next(_counter)}{suffix}"
    path.write_bytes(data[: int(len(data) * cut)])
    result = outcome(read_n03_units, path)
    if result is not None:
        units, _ = result
        assert set(units["code"]) <= {"01204", "01458", "01202", "01101", "01102"}


@FILES
@given(
    st.one_of(
        st.binary(max_size=500),
        st.text(max_size=300).map(str.encode),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=5),
            lambda c: (
                st.lists(c, max_size=3)
                | st.dictionaries(
                    st.sampled_from(["type", "features", "geometry", "properties", "coordinates", "N03_007"]),
                    c,
                    max_size=3,
                )
            ),
            max_leaves=12,
        ).map(lambda v: json.dumps(v).encode()),
    )
)
def test_random_geojson_bytes(boundary_dir, data):
    path = boundary_dir / f"rand{next(_counter)}.geojson"
    path.write_bytes(data)
    outcome(read_n03_units, path)


geometries = st.one_of(
    st.tuples(st.floats(120, 155), st.floats(20, 46), st.floats(0.001, 1)).map(
        lambda t: shapely.box(t[0], t[1], t[0] + t[2], t[1] + t[2])
    ),
    st.tuples(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6)).map(lambda t: shapely.box(t[0], t[1], t[0] + 1, t[1] + 1)),
    st.just(shapely.Polygon([(141, 43), (141.2, 43.2), (141.2, 43), (141, 43.2), (141, 43)])),  # bowtie
    st.just(shapely.Point(141, 43)),
    st.just(shapely.Polygon()),
)


@FILES
@given(
    st.lists(
        st.tuples(
            st.one_of(st.sampled_from(CODES), st.integers(-5, 99999), st.text(CELL_ALPHABET, max_size=6), st.none()),
            st.one_of(st.sampled_from(NAMES), st.none()),
            geometries,
        ),
        min_size=1,
        max_size=6,
    ),
    st.sampled_from([None, 6668, 4326, 3857, 6680]),
    st.sampled_from(["N03_007", "code", "other"]),
)
def test_random_boundary_attributes_and_geometries(boundary_dir, rows, crs, code_column):
    g = gpd.GeoDataFrame(
        {
            code_column: [r[0] if r[0] is None else str(r[0]) for r in rows],
            "N03_004": [r[1] for r in rows],
            "N03_001": "北海道",
        },
        geometry=[r[2] for r in rows],
        crs=crs,
    )
    path = boundary_dir / f"attr{next(_counter)}.gpkg"
    try:
        g.to_file(path, driver="GPKG")
    except Exception:  # noqa: BLE001 - a file GDAL cannot write is no input we could be given
        assume(False)
    result = outcome(read_n03_units, path)
    if result is not None:
        units, _ = result
        assert units["code"].str.fullmatch(r"\d{5}").all() and units["code"].is_unique
        assert units.is_valid.all()
    outcome(load_municipalities, path, population=None)
