"""`geo-app build` computes once and writes many: three dissolves and one validation for a
Hokkaido build, whatever the number of files (it was 13 dissolves, 4 assigns and 2 validations)."""

from __future__ import annotations

import collections
import importlib

import openpyxl
import pandas as pd
import pytest

from geo_app.cli import main

HOKKAIDO_TOTAL = 5_224_614
#: Every module through which `build` and its writers reach the engine or the checks.
_MODULES = (
    "geo_app.core.dissolve",
    "geo_app.core.rules",
    "geo_app.cli",
    "geo_app.views.build",
    "geo_app.views.webmap",
    "geo_app.views.printmap",
    "geo_app.views.xlsx",
    "geo_app.views.layers",
    "geo_app.views.text",
)


@pytest.fixture
def calls(monkeypatch) -> collections.Counter:
    """Count dissolve, assign and validate, wherever a module took its own reference to them."""
    import geo_app.core.dissolve as dissolve_module
    import geo_app.core.rules as rules_module

    # A module imported while another is patched would keep the patched function for good.
    modules = [importlib.import_module(m) for m in _MODULES]
    counter: collections.Counter = collections.Counter()
    originals = {
        "dissolve": dissolve_module.dissolve,
        "assign": dissolve_module.assign,
        "validate": rules_module.validate,
    }

    def counting(name, fn):
        def wrapper(*args, **kwargs):
            counter[name] += 1
            return fn(*args, **kwargs)

        return wrapper

    for module in modules:
        for name, fn in originals.items():
            if getattr(module, name, None) is fn:
                monkeypatch.setattr(module, name, counting(name, fn))
    return counter


def test_hokkaido_build_dissolves_three_times_and_validates_once(calls, tmp_path, capsys):
    out = tmp_path / "b"
    code = main(["build", "--plan", "hokkaido-2024", "--out", str(out), "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert calls["dissolve"] == 3  # one per level, shared by map.html, map.png/pdf, xlsx, gpkg, csv, geojson
    assert calls["validate"] == 1  # the exit code and the 所見 sheet read the same findings
    assert calls["assign"] == 1

    # …and every file still has its figures.
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig")
    assert len(summary) == 33 and summary["人口"].sum() == HOKKAIDO_TOTAL
    wb = openpyxl.load_workbook(out / "summary.xlsx")
    for sheet, n in (("在宅医療圏", 33), ("二次医療圏", 21), ("三次医療圏", 6)):
        ws = wb[sheet]
        header = [c.value for c in ws[1]]
        assert ws.max_row == n + 2 and ws.cell(ws.max_row, header.index("人口") + 1).value == HOKKAIDO_TOTAL
    assert wb["所見"].max_row > 1
    html = (out / "map.html").read_text(encoding="utf-8")
    assert "5,224,614 人" in html  # the map's title box: the total of the shared areas


def test_writers_called_alone_compute_for_themselves(calls, tmp_path):
    """Without precomputed areas a writer still works on its own (the app's downloads)."""
    from geo_app.io.municipalities import municipalities_for_plan
    from geo_app.io.plans import load_plan
    from geo_app.views.layers import write_gpkg

    plan = load_plan("hokkaido-2024")
    munis = municipalities_for_plan(plan)
    write_gpkg(munis, plan, tmp_path / "a.gpkg")
    assert calls["dissolve"] == 3 and calls["assign"] == 1
