"""Uploads are cleaned up: refused at once, replaced when replaced, with the session, after a restart.

The lifecycle lives in geo_app/app/uploads.py (no Streamlit), tested directly; the app's use of it
through Streamlit's AppTest with real data (the 2020 census of Hokkaido as the user's own table).
"""

from __future__ import annotations

import gc
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from geo_app.app import uploads
from geo_app.core.errors import InputError

MAIN = str(Path(__file__).resolve().parents[2] / "geo_app" / "app" / "main.py")


class Named(io.BytesIO):
    """What Streamlit's UploadedFile is: a BytesIO with a name."""

    def __init__(self, name: str, data: bytes):
        super().__init__(data)
        self.name = name


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    """A fresh uploads root for this test, and a fresh server folder in it."""
    path = tmp_path / "geo_app_uploads"
    monkeypatch.setenv("GEO_APP_UPLOAD_DIR", str(path))
    monkeypatch.setattr(uploads, "_server", None)
    return path


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file() and p.name != ".lock")


# ---- the module ---------------------------------------------------------------------------------
def test_saved_files_keep_their_bytes_and_a_refused_upload_is_removed(root):
    folder = uploads.session_dir("s1")
    assert folder.parent.parent == root and folder.name == "s1"
    big = os.urandom(3 << 20)  # more than one 1 MB piece
    paths = uploads.save([Named("N03.zip", big), Named("../../etc/x.prj", b"GEOGCS")], folder, "boundaries")
    assert [Path(p).name for p in paths] == ["N03.zip", "x.prj"]  # no path from the browser is followed
    assert Path(paths[0]).read_bytes() == big and Path(paths[1]).parent == Path(paths[0]).parent
    assert uploads.folder_size(root) == len(big) + 6
    uploads.discard(paths, folder)
    assert files_under(root) == [] and folder.is_dir()


def test_a_write_that_fails_leaves_nothing(root):
    class Broken(Named):
        def read(self, size=-1):
            if self.tell() >= 1 << 20:
                raise OSError(28, "No space left on device")
            return super().read(size)

    folder = uploads.session_dir("s1")
    with pytest.raises(InputError, match="空き容量"):
        uploads.save([Broken("N03.zip", b"x" * (3 << 20))], folder, "boundaries")
    assert files_under(root) == []


def test_files_the_workspace_no_longer_reads_are_removed(root):
    folder = uploads.session_dir("s1")
    old = uploads.save([Named("pop.csv", b"a")], folder, "population")[0]
    shp = uploads.save([Named("a.shp", b"1"), Named("a.dbf", b"2")], folder, "boundaries")
    new = uploads.save([Named("pop.csv", b"b")], folder, "population")[0]
    assert old != new
    assert uploads.keep_only(folder, [*shp, new, None]) == 1
    assert files_under(root) == sorted(map(Path, [*shp, new]))
    assert uploads.keep_only(folder, []) == 2 and files_under(root) == []


def test_the_session_folder_goes_with_the_session_object(root):
    state: dict = {}
    path = uploads.session_folder(state, "abc-123")
    uploads.save([Named("pop.csv", b"x")], path, "population")
    assert uploads.session_folder(state, "abc-123") == path  # the same folder on the next upload
    state.clear()  # Streamlit drops the session state
    gc.collect()
    assert not path.exists() and path.parent.is_dir()  # the server's folder stays


def test_sweep_removes_sessions_that_are_gone_and_keeps_live_ones(root):
    live, gone, recent = (uploads.session_dir(s) for s in ("live", "gone", "recent"))
    for p in (live, gone, recent):
        uploads.save([Named("pop.csv", b"x")], p, "population")
    hour_ago = time.time() - 3600
    os.utime(live, (hour_ago, hour_ago))
    os.utime(gone, (hour_ago, hour_ago))
    swept_at = time.time()
    removed = uploads.sweep(alive=lambda sid: sid == "live", grace=1800)
    assert removed == [gone]
    assert live.is_dir() and recent.is_dir() and not gone.exists()
    assert live.stat().st_mtime >= swept_at - 1  # seen alive: touched by the sweep, its age counts from now


def test_sweep_at_start_removes_folders_of_servers_that_are_gone(root, tmp_path):
    script = (
        "import sys, time; from geo_app.app import uploads; print(uploads.server_dir(), flush=True); time.sleep(120)"
    )
    other = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        other_dir = Path(other.stdout.readline().strip())
        (other_dir / "s" / "boundaries").mkdir(parents=True)
        (other_dir / "s" / "boundaries" / "N03.zip").write_bytes(b"x" * 1000)
        earlier = root / "1234-earlier"  # a run that ended (its lock file is free)
        (earlier / "s").mkdir(parents=True)
        (earlier / ".lock").touch()
        (earlier / "s" / "pop.csv").write_bytes(b"x")
        mine = uploads.server_dir()
        assert uploads.sweep() == [earlier]  # the live server's folder and our own stay
        assert other_dir.is_dir() and mine.is_dir()
    finally:
        other.kill()
        other.wait()
    assert uploads.sweep() == [other_dir]  # killed: its lock went with it
    assert files_under(root) == [] and mine.is_dir()


def test_sweep_removes_old_folders_of_earlier_versions(tmp_path, monkeypatch):
    monkeypatch.delenv("GEO_APP_UPLOAD_DIR", raising=False)
    monkeypatch.setattr(uploads, "_server", None)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    old, new = tmp_path / "geo_app_upload_abc", tmp_path / "geo_app_upload_def"
    for p in (old, new):
        (p / "boundaries").mkdir(parents=True)
    day_ago = time.time() - 24 * 3600
    os.utime(old, (day_ago, day_ago))
    assert uploads.sweep() == [old] and new.is_dir()


def test_nothing_outside_the_uploads_root_is_removed(root, tmp_path):
    outside = tmp_path / "keep"
    outside.mkdir()
    (outside / "a.txt").write_text("x")
    uploads._remove(outside)
    uploads.discard([outside / "a.txt"], uploads.session_dir("s1"))
    assert uploads.keep_only(tmp_path / "missing", []) == 0
    assert (outside / "a.txt").exists()


def test_uploader_keys_change_after_each_use():
    state: dict = {}
    assert uploads.uploader_key(state, "up_population") == "up_population"
    uploads.next_uploader(state, "up_population")
    uploads.next_uploader(state, "up_population")
    assert uploads.uploader_key(state, "up_population") == "up_population_2"
    assert uploads.uploader_key(state, "import_file") == "import_file"


def test_the_server_accepts_no_more_than_the_limit():
    from geo_app.app.launch import streamlit_flags

    assert streamlit_flags()["server.maxUploadSize"] == uploads.MAX_UPLOAD_MB == 200


# ---- the app (AppTest, real data) -----------------------------------------------------------------
@pytest.fixture
def app_env(root, tmp_path, monkeypatch):
    monkeypatch.setenv("GEO_APP_DB_PATH", str(tmp_path / "plans.sqlite3"))
    monkeypatch.delenv("GEO_APP_DATABASE_URL", raising=False)
    return root


def new_app():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(MAIN, default_timeout=180)
    at.run()
    at.switch_page("page_data.py")  # 都道府県・データ (st.navigation: page scripts next to main.py)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def upload_population(at, name: str, data: bytes):
    key = uploads.uploader_key(at.session_state, "up_population")
    at.file_uploader(key=key).upload(name, data, "text/csv")
    at.run()
    at.button(key="btn_upload_data").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return key


def test_app_refused_upload_leaves_no_file_and_a_fresh_uploader(app_env, census):
    at = new_app()
    at.file_uploader(key="up_boundaries").upload("N03.geojson", b"{not json" * 1000, "application/geo+json")
    at.run()
    at.button(key="btn_upload_data").click()
    at.run()
    assert not at.exception and at.error and "境界ファイルを読めません" in at.error[0].value
    assert files_under(app_env) == []  # refused: nothing on disk
    keys = {w.key for w in at.file_uploader}
    assert "up_boundaries_1" in keys and "up_boundaries" not in keys  # a new, empty uploader
    assert not at.file_uploader(key="up_boundaries_1").value


def test_app_replaced_table_is_removed_and_reset_removes_the_last(app_env, census):
    hokkaido = census[census["code"].str.startswith("01")][["code", "name", "population"]]
    first = hokkaido.to_csv(index=False).encode("utf-8")
    second = hokkaido.assign(population=hokkaido["population"] + 1).to_csv(index=False).encode("cp932")
    at = new_app()
    upload_population(at, "pop.csv", first)
    assert at.success and not at.error, [e.value for e in at.error]
    [kept] = files_under(app_env)
    assert kept.read_bytes() == first
    used = upload_population(at, "pop.csv", second)
    assert used == "up_population_1" and at.success
    [kept2] = files_under(app_env)
    assert kept2 != kept and kept2.read_bytes() == second  # the replaced table went
    at.button(key="btn_reset_data").click()
    at.run()
    assert at.success and files_under(app_env) == []  # back on the embedded data
    folder = next(p for p in app_env.rglob("*") if p.is_dir() and p.parent.parent == app_env)
    del at
    gc.collect()
    assert not folder.exists()  # the session's folder went with the session


def test_app_plan_import_clears_the_uploader_each_time(app_env):
    from geo_app.app.workspace import plan_csv_bytes
    from geo_app.io.plans import load_plan

    at = new_app()
    at.switch_page("page_plans.py")  # 保存・読み込み
    at.run()
    at.file_uploader(key="import_file").upload("bad.csv", "名前,人口\n札幌,100\n".encode(), "text/csv")
    at.run()
    at.button(key="btn_import").click()
    at.run()
    assert at.error and "市町村コード" in at.error[0].value
    assert {w.key for w in at.file_uploader} == {"import_file_1"}  # consumed: a new, empty uploader
    at.file_uploader(key="import_file_1").upload("現行.csv", plan_csv_bytes(load_plan("hokkaido-2024")), "text/csv")
    at.run()
    at.button(key="btn_import").click()
    at.run()
    assert any("179市町村" in s.value for s in at.success), [e.value for e in at.error]
    assert {w.key for w in at.file_uploader} == {"import_file_2"}
    assert files_under(app_env) == []  # a plan table is read from memory, never written
