"""Sea links: the embedded routes, the user's own (CLI --sea-links, the app's upload), and the
prefectures a municipality borders, read from the national boundaries."""

from __future__ import annotations

import pytest
import shapely

from geo_app import load_municipalities
from geo_app.cli import main
from geo_app.core.errors import InputError
from geo_app.io.sea_links import add_sea_links, bordering_prefectures, load_sea_links, load_user_sea_links


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_user_routes_add_to_the_embedded_ones(tmp_path):
    embedded = load_sea_links()
    p = tmp_path / "routes.csv"
    p.write_text("航路名,市町村コードA,市町村コードB\n久米島航路,47201,47361\n", encoding="cp932")
    both = load_user_sea_links(p)
    assert len(both) == len(embedded) + 1
    assert both.iloc[-1][["code_a", "code_b", "name", "kind"]].tolist() == ["47201", "47361", "久米島航路", "sea"]
    assert add_sea_links(embedded, embedded).equals(embedded)  # the same routes twice are one
    # bytes, as the app's uploader hands them over, named for the message
    assert len(load_user_sea_links(p.read_bytes(), name="routes.csv")) == len(both)


@pytest.mark.parametrize(
    ("text", "row"),
    [
        ("code_a,code_b,name\n47201,47361,ok\n47201,99999,壊れた行\n", 3),  # no such prefecture
        ("code_a,code_b,name\n47201,47999,ない町\n", 2),  # no such municipality
        ("code_a,code_b,kind\n47201,47361,飛行機\n", 2),  # unknown kind
    ],
)
def test_bad_user_routes_are_refused_with_the_row(tmp_path, text, row):
    p = tmp_path / "routes.csv"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_user_sea_links(p)
    assert err.value.row == row


def test_cli_sea_links_user_file_and_bad_file(tmp_path, capsys):
    good = tmp_path / "routes.csv"
    good.write_text("code_a,code_b,name\n47201,47361,久米島航路（利用者）\n", encoding="utf-8")
    code, out, err = run(capsys, "validate", "--plan", "secondary-2020:沖縄県", "--quiet", "--sea-links", str(good))
    assert code == 0, err
    named = [line for line in out.splitlines() if "久米島航路（利用者）" in line]
    assert named and all("47361" in line for line in named)

    bad = tmp_path / "bad.csv"
    bad.write_text("code_a,code_b,name\n47201,47999,ない町\n", encoding="utf-8")
    for command in ("validate", "summary"):
        code, out, err = run(capsys, command, "--plan", "secondary-2020:沖縄県", "--quiet", "--sea-links", str(bad))
        assert code == 2 and out == ""
        assert err.startswith("エラー:") and "bad.csv" in err and "2行目" in err

    with pytest.raises(SystemExit) as stop:  # a usage error: argparse stops with exit 2
        main(["validate", "--plan", "secondary-2020:沖縄県", "--sea-distance-km", "0"])
    assert stop.value.code == 2 and "--sea-distance-km は0より大きい" in capsys.readouterr().err


def test_cli_sea_distance_limit(capsys):
    code, out, err = run(capsys, "validate", "--plan", "secondary-2020:沖縄県", "--quiet", "--sea-distance-km", "100")
    assert code == 1
    warned = [line for line in out.splitlines() if line.startswith("[警告] multipart")]
    assert warned and all("南大東村" in line and "上限 100 km" in line for line in warned)
    assert "data/sea_links.csv" not in out


def test_bordering_prefectures_of_wakayama_match_the_geometry():
    """Read from the national data although 和歌山県 is loaded alone; checked against the shapes
    of 和歌山県 and its neighbours loaded together."""
    wakayama = load_municipalities(prefectures=["和歌山県"])
    found = {(c, p) for c, p in bordering_prefectures(wakayama).itertuples(index=False)}
    region = load_municipalities(prefectures=["和歌山県", "三重県", "奈良県", "大阪府"])
    geoms, codes = region.geometry.to_numpy(), region["code"].to_numpy()
    expected = set()
    for i, c in enumerate(codes):
        if not c.startswith("30"):
            continue
        shared = shapely.relate_pattern(geoms, geoms[i], "****1****")
        expected |= {(c, o[:2]) for o in codes[shared] if not o.startswith("30")}
    assert found == expected and ("30427", "24") in found and ("30427", "29") in found
