"""The committed embedded data equals what scripts/build_data.py makes from ../shared/data."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from conftest import ROOT, SHARED, build_data_module

pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data is not beside this checkout")


def test_rebuild_equals_committed(tmp_path):
    built = build_data_module().build_all(SHARED, tmp_path)
    assert tmp_path / "facilities" / "points.csv" in built  # the map's facility points too
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


def test_rebuild_is_deterministic(tmp_path):
    """The plan, reading and facility-point tables come out byte for byte the same on every run."""
    from functools import partial

    mod = build_data_module()
    builders = (
        mod.build_secondary_plans,
        mod.build_secondary_2024_plans,
        mod.build_akita_plan,
        mod.build_readings,
        partial(mod.build_facility_points, report=False),
    )
    first = [f(SHARED, tmp_path / "a") for f in builders]
    second = [f(SHARED, tmp_path / "b") for f in builders]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert [p.relative_to(tmp_path / "a").as_posix() for p in first] == [
        "plans/secondary-2020.csv",
        "plans/secondary-2024.csv",
        "plans/akita-2024.csv",
        "municipalities/readings.csv",
        "facilities/points.csv",
    ]


def test_build_refuses_8th_plan_changes_that_contradict_a38(tmp_path):
    """A changes row whose old area is not A38-20's is a broken input, never silently applied."""
    import shutil

    shared = tmp_path / "shared"
    (shared / "areas").mkdir(parents=True)
    shutil.copy(SHARED / "areas" / "japan_secondary_areas.csv", shared / "areas")
    changes = (SHARED / "areas" / "secondary_2024_changes.csv").read_text(encoding="utf-8")
    assert "05201,秋田市,秋田県,0504,秋田周辺," in changes
    tampered = changes.replace("05201,秋田市,秋田県,0504,秋田周辺,", "05201,秋田市,秋田県,0504,横手,")
    (shared / "areas" / "secondary_2024_changes.csv").write_text(tampered, encoding="utf-8")
    with pytest.raises(SystemExit, match="05201"):
        build_data_module().build_secondary_2024_plans(shared, tmp_path / "out")


def test_embedded_package_is_small():
    total = sum(p.stat().st_size for p in (ROOT / "data").rglob("*") if p.is_file())
    assert total < 15 * 1024 * 1024
