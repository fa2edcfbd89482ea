"""Municipality codes: the 6-digit form's check digit follows the official rule for every code."""

from __future__ import annotations

import pandas as pd
import pytest

from geo_app.core.codes import check_digit, normalize_code
from geo_app.io.datasets import population_path

# Published 6-digit 全国地方公共団体コード (総務省), including remainder-0 cases (digit 1).
OFFICIAL = {
    "011002": "札幌市",
    "011011": "札幌市中央区",
    "012025": "函館市",
    "131016": "千代田区",
    "141003": "横浜市",
    "271004": "大阪市",
    "472018": "那覇市",
}


def _official_digit(code5: str) -> str:
    """The rule as the ministry words it: weights 6-5-4-3-2, remainder mod 11, ones digit of 11 − remainder."""
    remainder = sum(int(d) * w for d, w in zip(code5, (6, 5, 4, 3, 2), strict=True)) % 11
    return str(11 - remainder)[-1]


@pytest.mark.parametrize("six", sorted(OFFICIAL))
def test_published_codes_are_accepted(six):
    assert check_digit(six[:5]) == six[5]
    assert normalize_code(six) == six[:5]


def test_every_embedded_municipality_and_ward_accepts_its_code_and_refuses_every_wrong_digit():
    census = pd.read_csv(population_path(), dtype=str, usecols=["code", "kind"])
    codes = census["code"].tolist()
    assert len(codes) == 1741 + 175
    remainder_zero = census[[sum(int(d) * w for d, w in zip(c, (6, 5, 4, 3, 2), strict=True)) % 11 == 0 for c in codes]]
    # the cases the old rule got wrong: 164 municipalities and 13 wards
    assert remainder_zero["kind"].value_counts().to_dict() == {"municipality": 164, "ward": 13}
    for code in codes:
        right = _official_digit(code)
        assert normalize_code(code + right) == code
        for wrong in set("0123456789") - {right}:
            with pytest.raises(ValueError, match=f"正しくは {code}{right}"):
                normalize_code(code + wrong)
