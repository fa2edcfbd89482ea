"""Future figures per municipality, ready to add up over areas: IPSS projections and JMAP's demand weights.

The medical and care demand indices of 日本医師会 JMAP (地域医療情報システム) weigh the population by age
group (medical: 0–14 × 0.6, 15–39 × 0.4, 40–64 × 1.0, 65–74 × 2.3, 75+ × 3.9; care: 40–64 × 1.0,
65–74 × 9.7, 75+ × 87.3) and compare a year with 2020 (= 100). A weighted sum adds up over municipalities,
so an area's index is the ratio of its members' summed weighted populations (core.metrics, `ratio`),
never an average of their indices. The weights are kept ×10 as integers (the tally adds integers; the
ratio is the same). The age groups come from the 2018 edition of the IPSS projections, the only one
with 5-year bands; the 2023 edition gives population and 65+ (see io.projections).
"""

from __future__ import annotations

import pandas as pd

from geo_app.core.metrics import PROJECTION_YEARS, PROJECTION_YEARS_2018

__all__ = ["MEDICAL_WEIGHTS", "CARE_WEIGHTS", "future_columns"]

#: JMAP's weights ×10 by age group of the 2018 edition (the source's column names).
MEDICAL_WEIGHTS = {"age_0_14": 6, "age_15_39": 4, "age_40_64": 10, "age_65_74": 23, "age_75_plus": 39}
CARE_WEIGHTS = {"age_40_64": 10, "age_65_74": 97, "age_75_plus": 873}


def future_columns(projections: pd.DataFrame) -> pd.DataFrame:
    """Per municipality (the rows of `projections`, `io.projections.load_projections`): the summable
    future columns of the registry. A group the source lacks makes the weighted sum unknown (NA)."""
    out: dict[str, pd.Series] = {}
    for y in PROJECTION_YEARS:
        out[f"population_{y}"] = projections[f"population_{y}"]
        out[f"age_65_plus_{y}"] = projections[f"age_65_plus_{y}"]
    for y in PROJECTION_YEARS_2018:
        for kind, weights in (("medical", MEDICAL_WEIGHTS), ("care", CARE_WEIGHTS)):
            parts = [projections[f"ipss2018_{g}_{y}"].astype("Int64") * w for g, w in weights.items()]
            total = parts[0]
            for p in parts[1:]:
                total = total + p  # NA + x is NA: never a partial sum
            out[f"demand_{kind}_weight_{y}"] = total
        if y != 2020:
            out[f"age_75_plus_{y}"] = projections[f"ipss2018_age_75_plus_{y}"]
    return pd.DataFrame(out, index=projections.index).astype("Int64")
