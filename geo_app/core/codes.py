"""Municipality codes (全国地方公共団体コード, JIS X 0402).

The code is a 5-digit string (`01100`). Users bring it as an integer that Excel stripped of its
leading zero (`1100`), in full-width digits, or as the 6-digit form with a check digit (`011002`);
all are normalised here so that the rest of the package only ever sees 5-digit strings.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

__all__ = [
    "city_of",
    "prefecture_code",
    "PREFECTURES",
    "check_digit",
    "normalize_code",
    "normalize_codes",
    "NORTHERN_TERRITORIES",
    "DESIGNATED_CITIES",
]

#: 色丹村, 泊村, 留夜別村, 留別村, 紗那村, 蘂取村: in N03 but with no census population.
NORTHERN_TERRITORIES = ("01695", "01696", "01697", "01698", "01699", "01700")

#: The 20 designated cities (政令指定都市) as of 2020-10-01 and 2021-01-01.
DESIGNATED_CITIES = (
    "01100",
    "04100",
    "11100",
    "12100",
    "14100",
    "14130",
    "14150",
    "15100",
    "22100",
    "22130",
    "23100",
    "26100",
    "27100",
    "27140",
    "28100",
    "33100",
    "34100",
    "40100",
    "40130",
    "43100",
)

_WEIGHTS = (6, 5, 4, 3, 2)


def check_digit(code5: str) -> str:
    """Check digit of a 5-digit code (総務省「全国地方公共団体コード」: weights 6-5-4-3-2, modulus 11).

    The digit is the ones digit of 11 − remainder: remainder 0 gives 11 → 1 (札幌市中央区 011011),
    remainder 1 gives 10 → 0.
    """
    total = sum(int(d) * w for d, w in zip(code5, _WEIGHTS, strict=True))
    return str((11 - total % 11) % 10)


_FLOAT_RE = re.compile(r"^(\d+)\.0*$")
_QUOTES = "'\"`‘’“”"


def _show(value: object, limit: int = 20) -> str:
    """A user's value, shortened so that a message stays one line."""
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _clean_code_text(value: object) -> str:
    """NFKC, no spaces, no quotes Excel users type to keep zeros ('01100), no float tail (1100.0)."""
    text = unicodedata.normalize("NFKC", str(value)).strip().strip(_QUOTES).strip()
    text = "".join(text.split())
    m = _FLOAT_RE.match(text)
    return m.group(1) if m else text


def normalize_code(value: object) -> str:
    """Return the 5-digit code or raise ValueError with a Japanese reason.

    Accepts 01100, 1100 (Excel dropped the zero), 1100.0 (Excel's float), ０１１００ (full-width),
    '01100 (text marker) and 011002 (6 digits with a check digit, which must be right).
    """
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        raise ValueError("市町村コードが空です")
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"市町村コード「{value}」は数字ではありません")
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value) or not float(value).is_integer():
            raise ValueError(f"市町村コード「{_show(value)}」は整数ではありません")
        value = int(value)
    text = _clean_code_text(value)
    if not text:
        raise ValueError("市町村コードが空です")
    if not text.isdigit() or not text.isascii():
        raise ValueError(f"市町村コード「{_show(value)}」は数字ではありません")
    if len(text) == 6:
        body, digit = text[:5], text[5]
        if check_digit(body) != digit:
            raise ValueError(
                f"6桁の市町村コード「{text}」の検査数字（6桁目）が合いません。"
                f"{body} の検査数字は {check_digit(body)} です"
                f"（正しくは {body}{check_digit(body)}、または5桁の {body}）"
            )
        return body
    if len(text) == 5:
        return text
    if len(text) == 4:  # Excel dropped the leading zero (北海道〜茨城県: 01〜09)
        return "0" + text
    raise ValueError(f"市町村コード「{_show(value)}」は5桁（または検査数字付きの6桁）ではありません")


def normalize_codes(values: pd.Series, known: frozenset[str] = frozenset()) -> tuple[pd.Series, pd.Series]:
    """Vectorised wrapper: (codes, errors) with one Japanese reason per bad row (else NA).

    A column of 6-digit codes stored as numbers loses the zero of 01〜09 and shows 5 digits
    (011002 → 11002). When the column holds 6-digit codes, or when most such 5-digit values are
    no code at all while every one of them is a valid, existing 6-digit code once the zero is put
    back, they are read as 6-digit. `known`: the codes that exist (`geo_app.io.known_codes`);
    empty, a lost zero is only put back in a column of 6-digit codes.
    """
    codes: list[object] = []
    errors: list[object] = []
    texts: list[str | None] = []
    for v in values.tolist():  # strings, not geometries: the per-value rules need Python
        try:
            codes.append(normalize_code(v))
            errors.append(pd.NA)
            texts.append(_clean_code_text(int(v) if isinstance(v, (float, np.floating)) else v))
        except ValueError as exc:
            codes.append(pd.NA)
            errors.append(str(exc))
            texts.append(None)
    # a lost zero leaves 5 digits that do not start with 0 (01〜09 → 1〜9)
    five_digit = {i: t for i, t in enumerate(texts) if t is not None and len(t) == 5 and t[0] != "0"}
    five = list(five_digit)
    if five:
        padded = {i: "0" + t for i, t in five_digit.items()}
        valid6 = {i: p[:5] for i, p in padded.items() if check_digit(p[:5]) == p[5] and (not known or p[:5] in known)}
        if len(valid6) == len(five):
            six_column = any(t is not None and len(t) == 6 for t in texts)
            unknown_as5 = sum(codes[i] not in known for i in five) * 2 > len(five)  # most are no code
            if six_column or (unknown_as5 and bool(known)):
                for i, body in valid6.items():
                    codes[i] = body
    return (
        pd.Series(codes, index=values.index, dtype="string"),
        pd.Series(errors, index=values.index, dtype="string"),
    )


#: The 47 prefectures by 2-digit code (JIS X 0401).
PREFECTURES = {
    "01": "北海道",
    "02": "青森県",
    "03": "岩手県",
    "04": "宮城県",
    "05": "秋田県",
    "06": "山形県",
    "07": "福島県",
    "08": "茨城県",
    "09": "栃木県",
    "10": "群馬県",
    "11": "埼玉県",
    "12": "千葉県",
    "13": "東京都",
    "14": "神奈川県",
    "15": "新潟県",
    "16": "富山県",
    "17": "石川県",
    "18": "福井県",
    "19": "山梨県",
    "20": "長野県",
    "21": "岐阜県",
    "22": "静岡県",
    "23": "愛知県",
    "24": "三重県",
    "25": "滋賀県",
    "26": "京都府",
    "27": "大阪府",
    "28": "兵庫県",
    "29": "奈良県",
    "30": "和歌山県",
    "31": "鳥取県",
    "32": "島根県",
    "33": "岡山県",
    "34": "広島県",
    "35": "山口県",
    "36": "徳島県",
    "37": "香川県",
    "38": "愛媛県",
    "39": "高知県",
    "40": "福岡県",
    "41": "佐賀県",
    "42": "長崎県",
    "43": "熊本県",
    "44": "大分県",
    "45": "宮崎県",
    "46": "鹿児島県",
    "47": "沖縄県",
}


def prefecture_code(name_or_code: str) -> str:
    """'岩手県', '岩手', '03' or '3' → '03'; ValueError with a Japanese reason otherwise."""
    text = "".join(unicodedata.normalize("NFKC", str(name_or_code)).split())
    if text.isdigit() and text.zfill(2) in PREFECTURES:
        return text.zfill(2)
    if text.isdigit() and len(text) == 5 and text[:2] in PREFECTURES and text[2:] == "000":
        return text[:2]  # 01000: the prefecture's own 団体コード
    for code, name in PREFECTURES.items():
        short = name if name == "北海道" else name[:-1]
        if text in (name, short):
            return code
    raise ValueError(f"都道府県「{_show(name_or_code)}」が分かりません。例: 北海道、岩手県、03")


def city_of(codes: pd.Series) -> pd.Series:
    """Designated-city code of each ward code (else the code itself), the census's rule:
    outside Tokyo, a code ending 101–199 that is not itself a city belongs to the nearest
    designated city below it in the same prefecture."""
    codes = codes.astype("string")
    designated = np.array(sorted(DESIGNATED_CITIES))
    pos = np.searchsorted(designated, codes.to_numpy(dtype=str), side="right") - 1
    nearest = pd.Series(np.where(pos >= 0, designated[np.clip(pos, 0, None)], ""), index=codes.index, dtype="string")
    tail = pd.to_numeric(codes.str[2:], errors="coerce")
    is_ward = (
        (codes.str[:2] != "13") & tail.between(101, 199) & ~codes.isin(designated) & (nearest.str[:2] == codes.str[:2])
    )
    return nearest.where(is_ward, codes)
