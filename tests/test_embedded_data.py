"""The committed embedded data equals what scripts/build_data.py makes from ../shared/data."""

from __future__ import annotations

import importlib.util

import geopandas as gpd
import pytest
import shapely
from conftest import ROOT, SHARED

pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data is not beside this checkout")


def _build_module():
    spec = importlib.util.spec_from_file_location("build_data", ROOT / "scripts" / "build_data.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_rebuild_equals_committed(tmp_path):
    built = _build_module().build_all(SHARED, tmp_path)
    for path in built:
        rel = path.relative_to(tmp_path)
        committed = ROOT / "data" / rel
        assert committed.exists(), rel
        if path.suffix == ".csv":
            assert path.read_bytes() == committed.read_bytes(), rel
        else:  # GeoParquet: compare content (the writer stamps library versions into metadata)
            a, b = gpd.read_parquet(path), gpd.read_parquet(committed)
            assert a.drop(columns="geometry").equals(b.drop(columns="geometry")), rel
            assert shapely.equals_exact(a.geometry.values, b.geometry.values, tolerance=0).all(), rel
            assert a.crs == b.crs


def test_embedded_package_is_small():
    total = sum(p.stat().st_size for p in (ROOT / "data").rglob("*") if p.is_file())
    assert total < 15 * 1024 * 1024
