"""Starting points on the data page: the 8th-plan secondary areas first, each reference where it belongs."""

from __future__ import annotations

import pandas as pd
import pytest

from geo_app.app import workspace as ops
from geo_app.core.errors import InputError
from geo_app.io import datasets


def test_options_per_prefecture():
    assert ops.start_options("岩手県")[0] == "secondary"  # the default: 8th-plan secondary areas
    assert "hokkaido" not in ops.start_options("岩手県") and "akita" not in ops.start_options("岩手県")
    assert "hokkaido" in ops.start_options("北海道") and "akita" in ops.start_options("秋田県")
    assert "2024" in ops.START_OPTIONS["secondary"] and "第8次" in ops.START_OPTIONS["secondary"]


def test_akita_starts_on_its_three_8th_plan_areas():
    cache = ops.MapCache()
    ws, origin = ops.start_plan(
        "秋田県", "secondary", boundaries=None, population=None, load=ops.build_data, cache=cache
    )
    assert sorted(ws.plan.areas("secondary")) == sorted(["県北", "県央", "県南"])
    assert "2024" in origin and ws.titled_plan.reference
    census = pd.read_csv(datasets.population_path(), dtype={"code": str})
    akita = census[(census["code"].str[:2] == "05") & (census["kind"] == "municipality")]["population"].sum()
    assert ws.areas("secondary")["population"].sum() == akita  # nobody lost in the merge of 8 into 3

    old, _ = ops.start_plan(
        "秋田県", "secondary_2020", boundaries=None, population=None, load=ops.build_data, cache=cache
    )
    assert len(old.plan.areas("secondary")) == 8

    ref, _ = ops.start_plan("秋田県", "akita", boundaries=None, population=None, load=ops.build_data, cache=cache)
    assert len(ref.plan.areas("homecare")) == 8 and len(ref.plan.areas("secondary")) == 3
    assert "素案の報道による" in ref.titled_plan.source


def test_reference_of_another_prefecture_is_refused():
    with pytest.raises(InputError, match="北海道"):
        ops.start_plan(
            "岩手県", "hokkaido", boundaries=None, population=None, load=ops.build_data, cache=ops.MapCache()
        )
