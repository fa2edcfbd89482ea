"""Golden files: every user-visible output of `geo-app` for two built-in plans, unchanged.

For each plan, `tests/golden/harness.snapshot` runs `geo-app summary` (csv/json/table × three
levels), `geo-app validate` (csv/text), `geo-app plans` and one `geo-app build`, reads back
map.html, map.png, map.pdf, summary.xlsx, summary.csv, areas.gpkg and areas.geojson, and
compares the normalised result with `tests/golden/<slug>.json`. A mismatch lists the first
differences as `path: golden != now` (e.g. `summary.xlsx/所見!B2: '重大度' != '重要度'`).

After an intended change of output, regenerate the files and review their git diff:

    GEO_APP_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py

With GEO_APP_UPDATE_GOLDEN=1 the tests rewrite the golden files instead of comparing (and pass).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from golden.harness import BUILD_FILES, LEVELS, diff, dumps, snapshot

pytestmark = pytest.mark.slow

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
#: plan name → golden file name (no ':' or non-ASCII in file names)
PLANS = {"hokkaido-2024": "hokkaido-2024", "secondary-2020:東京都": "secondary-2020-tokyo"}
MAX_SHOWN = 30


def _updating() -> bool:
    return os.environ.get("GEO_APP_UPDATE_GOLDEN", "") not in ("", "0")


@pytest.fixture(scope="module", params=list(PLANS), ids=list(PLANS.values()))
def plan_snapshot(request, tmp_path_factory):
    """One snapshot (one build) per plan, shared by the tests of this module."""
    workdir = tmp_path_factory.mktemp(f"golden-{PLANS[request.param]}")
    return request.param, snapshot(request.param, workdir)


def test_snapshot_is_complete(plan_snapshot):
    """The harness saw every output: all build files, all levels and formats."""
    plan, snap = plan_snapshot
    assert snap["build"]["exit_code"] in (0, 1), snap["build"]["stderr"]
    for name in BUILD_FILES:
        assert name in snap["build"]["files"], f"{plan}: build did not write {name}"
        assert not snap[name].get("missing"), f"{plan}: {name} not read"
    assert set(snap["summary"]) == set(LEVELS)
    assert snap["map.html"]["topology"] and snap["map.html"]["live"], "map.html: no topology or map state found"
    assert snap["areas.gpkg"]["layers"], "areas.gpkg: no layers"


def test_matches_golden(plan_snapshot):
    plan, snap = plan_snapshot
    path = GOLDEN_DIR / f"{PLANS[plan]}.json"
    if _updating():
        path.write_text(dumps(snap) + "\n", encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(
            f"{path.name} がありません。"
            "GEO_APP_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py で作成してください。"
        )
    golden = json.loads(path.read_text(encoding="utf-8"))
    differences = []
    for d in diff(golden, snap):
        differences.append(d)
        if len(differences) > MAX_SHOWN:
            break
    if differences:
        more = len(list(diff(golden, snap))) - MAX_SHOWN
        shown = "\n  ".join(differences[:MAX_SHOWN])
        tail = f"\n  … and {more} more" if more > 0 else ""
        pytest.fail(
            f"{plan}: outputs differ from tests/golden/{path.name} (golden != now):\n  {shown}{tail}\n"
            "If every difference is intended, regenerate: "
            "GEO_APP_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py",
            pytrace=False,
        )
