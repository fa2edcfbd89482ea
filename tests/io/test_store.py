"""Plan store: named plans with history in SQLite and PostgreSQL, safe against lost updates.

Every behavioural test runs on both backends. PostgreSQL comes from GEO_APP_TEST_POSTGRES_URL
(`scripts/start_postgres.sh` prints one); without it those tests skip locally but FAIL under CI=true.
Each PostgreSQL test uses its own table prefix and drops its tables afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import uuid
from datetime import UTC
from pathlib import Path

import pytest
import sqlalchemy as sa

from geo_app import load_plan
from geo_app.core import edits
from geo_app.core.edits import EditHistory
from geo_app.core.errors import GeoAppError, PlanError
from geo_app.core.plan import Plan
from geo_app.io.plans import plan_from_frame
from geo_app.io.store import ConflictError, PlanInfo, PlanStore, _snapshot, _UTCDateTime, default_db_path

PG_ENV = "GEO_APP_TEST_POSTGRES_URL"
REPO = Path(__file__).resolve().parents[2]


# ---- fixtures ---------------------------------------------------------------------------------
def _postgres_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{PG_ENV} is not set under CI=true: run scripts/start_postgres.sh and export its URL")
        pytest.skip(f"{PG_ENV} not set (start one with scripts/start_postgres.sh)")
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path):
    """(url, prefix) for one isolated store; PostgreSQL tables are dropped afterwards."""
    if request.param == "sqlite":
        yield str(tmp_path / "データ" / "plans.sqlite3"), "geo_app_"  # Japanese folder name on purpose
        return
    url, prefix = _postgres_url(), f"t{uuid.uuid4().hex[:12]}_"
    yield url, prefix
    cleanup = PlanStore(url, table_prefix=prefix)
    cleanup.metadata.drop_all(cleanup.engine)
    cleanup.close()


@pytest.fixture
def open_store(backend):
    """Factory: every call is a separate PlanStore (own engine and pool), like another process."""
    url, prefix = backend
    stores: list[PlanStore] = []

    def make() -> PlanStore:
        s = PlanStore(url, table_prefix=prefix)
        stores.append(s)
        return s

    yield make
    for s in stores:
        s.close()


@pytest.fixture
def store(open_store) -> PlanStore:
    return open_store()


@pytest.fixture(scope="module")
def hokkaido() -> Plan:
    return load_plan("hokkaido-2024").with_name("現行")


def moved(plan: Plan, code: str, homecare: str) -> Plan:
    """A planner's edit: put one municipality in another home-care area."""
    t = plan.table.copy()
    assert (t["code"] == code).sum() == 1
    t.loc[t["code"] == code, "homecare"] = homecare
    return Plan(name=plan.name, table=t)


def homecare_of(plan: Plan, code: str) -> str:
    return str(plan.table.loc[plan.table["code"] == code, "homecare"].iloc[0])


# ---- round trip & history ------------------------------------------------------------------
def test_hokkaido_plan_round_trips_exactly(store: PlanStore, hokkaido: Plan):
    assert store.save(hokkaido, expected_version=None, note="第8次医療計画のとおり") == 1
    loaded, version = store.load("現行")
    assert version == 1 and loaded.name == "現行"
    assert loaded.table.equals(hokkaido.table)
    assert plan_from_frame(loaded.to_frame()).table.equals(hokkaido.table)
    assert len(loaded) == 179
    assert len(loaded.areas("homecare")) == 33
    assert len(loaded.areas("secondary")) == 21 and len(loaded.areas("tertiary")) == 6
    assert sorted(a for a in loaded.areas("homecare") if a.endswith("（未確定）")) == [
        "南渡島（未確定）",
        "後志（未確定）",
        "札幌（未確定）",
        "西胆振（未確定）",
    ]
    assert set(loaded.table.loc[loaded.table["homecare"].str.endswith("（未確定）"), "status"]) == {"未確定"}
    assert loaded.hubs() == hokkaido.hubs() and loaded.hubs()["北見"] == "北見在宅医療圏連携拠点センター"
    assert int(loaded.table["hub"].isna().sum()) == 156  # missing hubs stay missing, not "None" or ""
    assert sorted(loaded.table.loc[loaded.table["homecare"] == "上川", "name"]) == sorted(
        ["鷹栖町", "東神楽町", "当麻町", "比布町", "愛別町", "上川町", "東川町", "美瑛町", "幌加内町"]
    )

    [info] = store.list_plans()
    assert isinstance(info, PlanInfo)
    assert (info.name, info.version, info.rows, info.prefectures, info.note) == (
        "現行",
        1,
        179,
        ["北海道"],
        "第8次医療計画のとおり",
    )
    assert info.updated_at.tzinfo is not None


def test_versions_increment_and_old_versions_reload(store: PlanStore, hokkaido: Plan):
    v1 = hokkaido
    v2 = moved(v1, "01459", "旭川市")  # 美瑛町 → 旭川市
    v3 = moved(v2, "01472", "旭川市")  # 幌加内町 → 旭川市
    assert store.save(v1, expected_version=None, note="初版") == 1
    assert store.save(v2, expected_version=1, note="美瑛町を旭川市へ", author="保健福祉部 田中") == 2
    assert store.save(v3, expected_version=2, note="幌加内町を旭川市へ") == 3

    hist = store.history("現行")
    assert [h.version for h in hist] == [3, 2, 1]
    assert [h.note for h in hist] == ["幌加内町を旭川市へ", "美瑛町を旭川市へ", "初版"]
    assert hist[1].author == "保健福祉部 田中"
    assert hist[0].saved_at >= hist[1].saved_at >= hist[2].saved_at

    latest, version = store.load("現行")
    assert version == 3 and latest.table.equals(v3.table)
    old, version = store.load("現行", version=1)
    assert version == 1 and old.table.equals(v1.table) and homecare_of(old, "01459") == "上川"
    mid, _ = store.load("現行", version=2)
    assert homecare_of(mid, "01459") == "旭川市" and homecare_of(mid, "01472") == "上川"
    with pytest.raises(PlanError, match="版9はありません"):
        store.load("現行", version=9)
    # Re-saving an old version makes a new version; history is never rewritten.
    assert store.save(old, expected_version=3, note="版1に戻す") == 4
    assert store.load("現行")[0].table.equals(v1.table)
    assert [h.version for h in store.history("現行")] == [4, 3, 2, 1]


def test_unknown_plan_says_which_plans_exist(store: PlanStore, hokkaido: Plan):
    store.save(hokkaido.with_name("案A"), expected_version=None)
    with pytest.raises(PlanError, match="区域案「案Z」は保存されていません。保存済みの案: 案A"):
        store.load("案Z")
    with pytest.raises(PlanError):
        store.history("案Z")
    assert store.exists("案A") and not store.exists("案Z")


# ---- optimistic locking ----------------------------------------------------------------------
def test_stale_save_is_refused_and_keeps_the_newer_plan(store: PlanStore, hokkaido: Plan):
    store.save(hokkaido, expected_version=None)
    mine = moved(hokkaido, "01459", "旭川市")
    theirs = moved(hokkaido, "01453", "旭川市")
    assert store.save(theirs, expected_version=1, note="東神楽町を旭川市へ", author="佐藤") == 2
    with pytest.raises(ConflictError) as err:
        store.save(mine, expected_version=1)
    msg = str(err.value)
    assert "区域案「現行」" in msg and "版1" in msg and "現在は版2" in msg and "佐藤" in msg
    assert "開き直して" in msg and "まだ保存されていません" in msg
    assert (err.value.expected_version, err.value.current_version) == (1, 2)
    loaded, version = store.load("現行")
    assert version == 2 and loaded.table.equals(theirs.table)


def test_create_refuses_an_existing_name(store: PlanStore, hokkaido: Plan):
    store.save(hokkaido, expected_version=None)
    with pytest.raises(ConflictError, match="区域案「現行」はすでにあります"):
        store.save(moved(hokkaido, "01459", "旭川市"), expected_version=None)
    assert store.load("現行")[0].table.equals(hokkaido.table)


def _race(*jobs):
    """Run the jobs in threads released at the same instant; return each one's result or exception."""
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = jobs[i]()
        except Exception as exc:  # collected and asserted on below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return results


def test_concurrent_saves_of_one_plan_exactly_one_wins(open_store, hokkaido: Plan):
    tab1, tab2 = open_store(), open_store()
    tab1.save(hokkaido, expected_version=None, note="初版")
    for round_ in range(5):
        p1, v1 = tab1.load("現行")
        p2, v2 = tab2.load("現行")
        assert v1 == v2 == round_ + 1
        edit1 = moved(p1, "01459", f"tab1-{round_}")
        edit2 = moved(p2, "01472", f"tab2-{round_}")
        r1, r2 = _race(
            # the loop's values bound now: both saves run (and finish) within this round
            lambda e=edit1, v=v1, r=round_: tab1.save(e, expected_version=v, note=f"tab1 {r}"),
            lambda e=edit2, v=v2, r=round_: tab2.save(e, expected_version=v, note=f"tab2 {r}"),
        )
        outcomes = sorted([type(r1).__name__, type(r2).__name__])
        assert outcomes == ["ConflictError", "int"], (r1, r2)
        winner, new_version = (edit1, r1) if isinstance(r1, int) else (edit2, r2)
        assert new_version == v1 + 1
        stored, version = tab2.load("現行")
        assert version == new_version
        assert stored.table.equals(winner.table)  # nothing lost, nothing mixed
    assert [h.version for h in tab1.history("現行")] == [6, 5, 4, 3, 2, 1]


def test_concurrent_creates_of_one_name_exactly_one_wins(open_store, hokkaido: Plan):
    a, b = open_store(), open_store()
    plan_a = moved(hokkaido, "01459", "旭川市").with_name("案A")
    plan_b = hokkaido.with_name("案A")
    r1, r2 = _race(lambda: a.save(plan_a, expected_version=None), lambda: b.save(plan_b, expected_version=None))
    assert sorted([type(r1).__name__, type(r2).__name__]) == ["ConflictError", "int"], (r1, r2)
    winner = plan_a if isinstance(r1, int) else plan_b
    stored, version = b.load("案A")
    assert version == 1 and stored.table.equals(winner.table)


def test_concurrent_saves_of_different_plans_both_succeed(open_store, hokkaido: Plan):
    tab1, tab2 = open_store(), open_store()
    tab1.save(hokkaido.with_name("案A"), expected_version=None)
    tab2.save(hokkaido.with_name("案B"), expected_version=None)
    edit_a = moved(hokkaido, "01459", "旭川市").with_name("案A")
    edit_b = moved(hokkaido, "01472", "名寄").with_name("案B")
    r1, r2 = _race(lambda: tab1.save(edit_a, expected_version=1), lambda: tab2.save(edit_b, expected_version=1))
    assert (r1, r2) == (2, 2)
    assert tab2.load("案A")[0].table.equals(edit_a.table)
    assert tab1.load("案B")[0].table.equals(edit_b.table)


WORKER = textwrap.dedent("""
    import sys
    from geo_app.io.store import ConflictError, PlanStore
    from geo_app.core.plan import Plan
    url, prefix, tag, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    store = PlanStore(url, table_prefix=prefix)
    conflicts = 0
    for i in range(n):
        for attempt in range(500):
            plan, version = store.load("共有案")
            t = plan.table.copy()
            t.loc[t["code"] == "01459", "hub"] = f"{tag}-{i}"
            try:
                store.save(Plan(name=plan.name, table=t), expected_version=version, note=f"{tag}-{i}")
                break
            except ConflictError:
                conflicts += 1
        else:
            sys.exit(f"{tag}: gave up on edit {i}")
    print(conflicts)
""")


def test_two_processes_editing_one_plan_lose_no_update(store: PlanStore, backend, hokkaido: Plan):
    """Real separate processes, each retrying on ConflictError: every edit lands exactly once."""
    url, prefix = backend
    store.save(hokkaido.with_name("共有案"), expected_version=None, note="初版")
    n = 8
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, url, prefix, tag, str(n)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("p1", "p2")
    ]
    for proc in procs:
        out, errout = proc.communicate(timeout=300)
        assert proc.returncode == 0, errout[-2000:]
    history = store.history("共有案")
    assert [h.version for h in history] == list(range(2 * n + 1, 0, -1))
    notes = [h.note for h in history if h.note != "初版"]
    assert sorted(notes) == sorted(f"{tag}-{i}" for tag in ("p1", "p2") for i in range(n))
    latest, version = store.load("共有案")
    assert version == 2 * n + 1
    assert latest.table.loc[latest.table["code"] == "01459", "hub"].iloc[0] == history[0].note


# ---- delete & copy ------------------------------------------------------------------------------
def test_delete_needs_the_current_version(store: PlanStore, hokkaido: Plan):
    store.save(hokkaido.with_name("案A"), expected_version=None)
    store.save(moved(hokkaido, "01459", "旭川市").with_name("案A"), expected_version=1)
    with pytest.raises(ConflictError, match="削除はまだ行っていません") as err:
        store.delete("案A", expected_version=1)
    assert err.value.current_version == 2
    assert store.exists("案A") and store.load("案A")[1] == 2

    store.delete("案A", expected_version=2)
    assert not store.exists("案A") and store.list_plans() == []
    with pytest.raises(PlanError, match="保存されていません"):
        store.load("案A")
    with pytest.raises(PlanError):
        store.delete("案A", expected_version=2)
    # A tab that still holds version 2 cannot resurrect it by saving…
    with pytest.raises(ConflictError, match="削除しました"):
        store.save(hokkaido.with_name("案A"), expected_version=2)
    # …and a new plan under the same name continues the numbering, so old tabs stay locked out.
    assert store.save(hokkaido.with_name("案A"), expected_version=None, note="作り直し") == 3
    with pytest.raises(ConflictError):
        store.save(hokkaido.with_name("案A"), expected_version=2)
    assert store.load("案A", version=2)[0].table.equals(moved(hokkaido, "01459", "旭川市").table)


def test_copy_is_save_as(store: PlanStore, hokkaido: Plan):
    edited = moved(hokkaido, "01459", "旭川市").with_name("案A")
    store.save(hokkaido.with_name("案A"), expected_version=None)
    store.save(edited, expected_version=1)
    assert store.copy("案A", "案B") == 1
    copy, version = store.load("案B")
    assert version == 1 and copy.name == "案B" and copy.table.equals(edited.table)
    assert store.history("案B")[0].note == "「案A」の版2からコピー"
    assert [i.name for i in store.list_plans()] == ["案A", "案B"]
    with pytest.raises(ConflictError, match="案B"):
        store.copy("案A", "案B")
    # The copy is independent.
    store.save(moved(copy, "01472", "旭川市"), expected_version=1)
    assert store.load("案A")[0].table.equals(edited.table)


# ---- edit history kept with each version (undo after a reload) ---------------------------------
def _history_moving_biei(plan: Plan) -> EditHistory:
    """What the app holds after a planner moved 美瑛町 (9,668人) from 上川 to 富良野 and 幌加内町 to 上川北部."""
    h = EditHistory(plan)
    h.apply(edits.move(plan, "01459", "富良野"))
    h.apply(edits.move(h.current, "01472", "上川北部"))
    return h


def test_edit_log_round_trips_with_its_version(store: PlanStore, hokkaido: Plan):
    assert store.save(hokkaido.with_name("案A"), expected_version=None, note="初版") == 1
    h = _history_moving_biei(hokkaido)
    log = h.to_json()
    assert "美瑛町を 上川 から 富良野 へ移動" in log  # Japanese labels stored as text, not \u escapes
    assert store.save(h.current.with_name("案A"), expected_version=1, note="編集2件", edit_log=log) == 2

    assert store.load_edit_log("案A") == log
    assert store.load_edit_log("案A", version=2) == log
    assert store.load_edit_log("案A", version=1) is None  # a version saved without a log
    with pytest.raises(PlanError, match="版9はありません"):
        store.load_edit_log("案A", version=9)
    with pytest.raises(PlanError, match="区域案「案Z」は保存されていません"):
        store.load_edit_log("案Z")

    plan, version = store.load("案A")
    restored = EditHistory.from_json(store.load_edit_log("案A", version))
    assert restored.current == plan and [e.label for e in restored.entries] == [
        "美瑛町を 上川 から 富良野 へ移動（二次医療圏も 上川中部 → 富良野）",
        "幌加内町を 上川 から 上川北部 へ移動（二次医療圏も 上川中部 → 上川北部）",
    ]
    back = restored.undo()
    assert homecare_of(back, "01472") == "上川" and homecare_of(back, "01459") == "富良野"
    assert restored.undo().table.equals(hokkaido.table)
    assert store.history("案A")[0].note == "編集2件"  # the human-readable note is unchanged

    # save-as carries the log of the version it copies; a save without one stores none
    assert store.copy("案A", "案B") == 1
    assert store.load_edit_log("案B") == log
    assert store.save(hokkaido.with_name("案A"), expected_version=2) == 3
    assert store.load_edit_log("案A") is None and store.load_edit_log("案A", 2) == log
    with pytest.raises(PlanError, match="編集履歴が文字列ではない"):
        store.save(hokkaido.with_name("案A"), expected_version=3, edit_log=b"{}")  # type: ignore[arg-type]
    assert store.load("案A")[1] == 3


def _schema_before_edit_log(prefix: str) -> tuple[sa.MetaData, sa.Table, sa.Table]:
    """The tables exactly as geo_app created them before the edit_log column existed (commit 23d23b7)."""
    md = sa.MetaData()
    plans = sa.Table(
        f"{prefix}plans",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", _UTCDateTime, nullable=False),
        sa.Column("updated_at", _UTCDateTime, nullable=False),
        sa.Column("deleted_at", _UTCDateTime, nullable=True),
        sa.UniqueConstraint("name", name=f"{prefix}plans_name_key"),
    )
    versions = sa.Table(
        f"{prefix}plan_versions",
        md,
        sa.Column(
            "plan_id",
            sa.Integer,
            sa.ForeignKey(plans.c.id, ondelete="CASCADE", name=f"{prefix}plan_versions_plan_fk"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("saved_at", _UTCDateTime, nullable=False),
        sa.Column("note", sa.Text, nullable=False, default=""),
        sa.Column("author", sa.String(100), nullable=False, default=""),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("prefectures", sa.Text, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("plan_id", "version", name=f"{prefix}plan_versions_pkey"),
    )
    return md, plans, versions


def _old_database(url: str, prefix: str, hokkaido: Plan) -> Plan:
    """A database as the previous geo_app left it: 現行 in versions 1 and 2 (美瑛町 moved in 2); returns v2."""
    from datetime import datetime

    v2 = moved(hokkaido, "01459", "旭川市")
    md, plans, versions = _schema_before_edit_log(prefix)
    db_url = PlanStore._resolve_url(url, None)
    if db_url.get_backend_name() == "sqlite":
        Path(db_url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(db_url)
    try:
        md.create_all(engine)
        with engine.begin() as conn:
            t1, t2 = datetime(2024, 4, 1, 0, 0, tzinfo=UTC), datetime(2024, 5, 1, 0, 0, tzinfo=UTC)
            plan_id = conn.execute(
                sa.insert(plans).values(name="現行", version=2, created_at=t1, updated_at=t2)
            ).inserted_primary_key[0]
            for version, plan, when, note in (
                (1, hokkaido, t1, "初版"),
                (2, v2, t2, "編集1件: 美瑛町を 上川 から 旭川市 へ移動"),
            ):
                data, rows, prefectures = _snapshot(plan)
                conn.execute(
                    sa.insert(versions).values(
                        plan_id=plan_id,
                        version=version,
                        saved_at=when,
                        note=note,
                        author="保健福祉部 田中",
                        rows=rows,
                        prefectures=json.dumps(prefectures, ensure_ascii=False),
                        data=data,
                    )
                )
        assert "edit_log" not in {c["name"] for c in sa.inspect(engine).get_columns(f"{prefix}plan_versions")}
    finally:
        engine.dispose()
    return v2


def _columns(store: PlanStore) -> set[str]:
    return {c["name"] for c in sa.inspect(store.engine).get_columns(f"{store.table_prefix}plan_versions")}


def test_database_from_before_edit_log_gets_the_column_and_loses_nothing(backend, hokkaido: Plan):
    url, prefix = backend
    v2 = _old_database(url, prefix, hokkaido)
    with PlanStore(url, table_prefix=prefix) as store:
        assert "edit_log" in _columns(store)
        [info] = store.list_plans()
        assert (info.name, info.version, info.rows, info.prefectures) == ("現行", 2, 179, ["北海道"])
        assert info.updated_at.isoformat() == "2024-05-01T00:00:00+00:00"
        hist = store.history("現行")
        assert [(h.version, h.note, h.author) for h in hist] == [
            (2, "編集1件: 美瑛町を 上川 から 旭川市 へ移動", "保健福祉部 田中"),
            (1, "初版", "保健福祉部 田中"),
        ]
        latest, version = store.load("現行")
        assert version == 2 and latest.table.equals(v2.table) and homecare_of(latest, "01459") == "旭川市"
        assert store.load("現行", version=1)[0].table.equals(hokkaido.table)
        assert store.load_edit_log("現行") is None and store.load_edit_log("現行", 1) is None
        # the optimistic lock still holds, and a save now keeps its log
        with pytest.raises(ConflictError):
            store.save(hokkaido, expected_version=1)
        h = EditHistory(latest)
        h.apply(edits.move(latest, "01472", "上川北部"))
        assert store.save(h.current.with_name("現行"), expected_version=2, edit_log=h.to_json()) == 3
    with PlanStore(url, table_prefix=prefix) as again:  # opening an up-to-date database changes nothing
        assert [v.version for v in again.history("現行")] == [3, 2, 1]
        restored = EditHistory.from_json(again.load_edit_log("現行"))
        assert restored.current == again.load("現行")[0] and restored.undo().table.equals(v2.table)


def test_two_servers_opening_an_old_database_at_once_both_work(backend, hokkaido: Plan):
    url, prefix = backend
    v2 = _old_database(url, prefix, hokkaido)
    stores = _race(lambda: PlanStore(url, table_prefix=prefix), lambda: PlanStore(url, table_prefix=prefix))
    assert all(isinstance(s, PlanStore) for s in stores), stores
    try:
        for s in stores:
            assert "edit_log" in _columns(s) and s.load("現行")[0].table.equals(v2.table)
        assert stores[0].save(v2, expected_version=2, edit_log=EditHistory(v2).to_json()) == 3
        assert stores[1].load_edit_log("現行") == EditHistory(v2).to_json()
    finally:
        for s in stores:
            s.close()


def test_old_sqlite_database_busy_at_start_up_says_so_and_keeps_the_plans(tmp_path: Path, hokkaido: Plan):
    """Another program writing while the column is added: a Japanese 'busy' message, nothing changed."""
    import sqlite3

    path = tmp_path / "plans.sqlite3"
    v2 = _old_database(str(path), "geo_app_", hokkaido)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(
            GeoAppError, match="他の保存で使用中のため、データベースの準備ができませんでした。少し待ってから"
        ):
            PlanStore(path=path, sqlite_timeout=0.2)
        assert "edit_log" not in {r[1] for r in other.execute("PRAGMA table_info(geo_app_plan_versions)")}
    finally:
        other.execute("ROLLBACK")
        other.close()
    with PlanStore(path=path) as store:
        assert "edit_log" in _columns(store) and store.load("現行")[0].table.equals(v2.table)


@pytest.mark.postgres
def test_postgres_user_who_may_not_alter_the_table_is_told_what_to_do(hokkaido: Plan):
    """A team server where geo_app logs in as a user that may write rows but not change tables."""
    url, prefix, role = _postgres_url(), f"t{uuid.uuid4().hex[:12]}_", f"geo_app_writer_{uuid.uuid4().hex[:8]}"
    v2 = _old_database(url, prefix, hokkaido)
    admin = sa.create_engine(PlanStore._resolve_url(url, None))
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
            conn.exec_driver_sql(f"GRANT SELECT, INSERT, UPDATE ON {prefix}plans, {prefix}plan_versions TO {role}")
        limited = PlanStore._resolve_url(url, None).set(username=role)
        with pytest.raises(GeoAppError) as err:
            PlanStore(limited.render_as_string(hide_password=False), table_prefix=prefix)
        msg = str(err.value)
        assert "must be owner of table" in msg and "表を作成したユーザー（または管理者）で geo_app を一度起動" in msg
        assert "保存済みの区域案は変わっていません" in msg
        with PlanStore(url, table_prefix=prefix) as owner:  # the owner's start-up adds it; nothing was lost
            assert "edit_log" in _columns(owner) and owner.load("現行")[0].table.equals(v2.table)
    finally:
        cleanup = PlanStore(url, table_prefix=prefix)
        cleanup.metadata.drop_all(cleanup.engine)
        cleanup.close()
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
        admin.dispose()


# ---- names -----------------------------------------------------------------------------------
JAPANESE_NAMES = [
    "現行",
    "案A",
    "案Ｂ（全角）",
    "道北・上川 第２版",
    "令和6年度　検討用（未確定を含む）",
    "🏥在宅医療圏案",
]


def test_japanese_plan_names_are_kept_exactly(store: PlanStore, hokkaido: Plan):
    for i, name in enumerate(JAPANESE_NAMES):
        store.save(moved(hokkaido, "01459", f"圏{i}").with_name(name), expected_version=None)
    assert sorted(i.name for i in store.list_plans()) == sorted(JAPANESE_NAMES)
    for i, name in enumerate(JAPANESE_NAMES):
        plan, _ = store.load(name)
        assert plan.name == name and homecare_of(plan, "01459") == f"圏{i}"
    assert not store.exists("案B")  # half-width B is a different name from full-width Ｂ
    long_ok = "案" * 100
    store.save(hokkaido.with_name(long_ok), expected_version=None)
    assert store.load(long_ok)[0].name == long_ok


@pytest.mark.parametrize(
    "name, message",
    [
        ("案" * 101, "名前が長すぎます（101文字）。100文字以内"),
        ("", "名前が空です"),
        ("　", "名前が空です"),
        ("案A\n", "改行や制御文字"),
        (" 案A", "前後に空白"),
    ],
)
def test_unusable_plan_names_get_a_japanese_message(store: PlanStore, hokkaido: Plan, name: str, message: str):
    with pytest.raises(PlanError, match=message):
        store.save(hokkaido.with_name(name), expected_version=None)
    assert store.list_plans() == []


# ---- failures leave the saved plan intact ------------------------------------------------------
def test_unserializable_plan_is_refused_before_touching_the_database(store: PlanStore, hokkaido: Plan):
    store.save(hokkaido, expected_version=None)
    t = hokkaido.table.astype(object)
    t.at[5, "homecare"] = 42  # e.g. an area number typed into a cell as a number
    with pytest.raises(PlanError, match="6行目「homecare」の値（42）が文字ではない"):
        store.save(Plan(name="現行", table=t), expected_version=1)
    broken = Plan(name="現行", table=hokkaido.table.drop(columns=["hub"]))
    with pytest.raises(PlanError, match="列 hub がない"):
        store.save(broken, expected_version=1)
    loaded, version = store.load("現行")
    assert version == 1 and loaded.table.equals(hokkaido.table)
    assert [h.version for h in store.history("現行")] == [1]


def test_exception_mid_save_rolls_back(store: PlanStore, hokkaido: Plan, monkeypatch: pytest.MonkeyPatch):
    """The version counter is already bumped when writing the snapshot fails: all of it must roll back."""
    store.save(hokkaido, expected_version=None)
    edited = moved(hokkaido, "01459", "旭川市")

    def crash(*args, **kwargs):
        raise RuntimeError("simulated crash while writing the snapshot")

    monkeypatch.setattr(store, "_insert_version", crash)
    with pytest.raises(RuntimeError, match="simulated"):
        store.save(edited, expected_version=1)
    monkeypatch.undo()
    loaded, version = store.load("現行")
    assert version == 1 and loaded.table.equals(hokkaido.table)
    assert [h.version for h in store.history("現行")] == [1]
    assert store.list_plans()[0].version == 1
    # The tab that hit the failure can simply save again with the version it had.
    assert store.save(edited, expected_version=1) == 2
    assert store.load("現行")[0].table.equals(edited.table)


def test_database_error_mid_save_rolls_back_with_japanese_message(
    store: PlanStore, hokkaido: Plan, monkeypatch: pytest.MonkeyPatch
):
    store.save(hokkaido, expected_version=None)
    original = store._insert_version

    def duplicate_row(conn, **kwargs):
        original(conn, **{**kwargs, "version": 1})  # primary key clash → IntegrityError from the database

    monkeypatch.setattr(store, "_insert_version", duplicate_row)
    with pytest.raises(GeoAppError, match="保存に失敗しました.*保存済みの区域案は変わっていません") as err:
        store.save(moved(hokkaido, "01459", "旭川市"), expected_version=1)
    assert not isinstance(err.value, ConflictError)
    monkeypatch.undo()
    loaded, version = store.load("現行")
    assert version == 1 and loaded.table.equals(hokkaido.table)


# ---- configuration & connection errors --------------------------------------------------------
def test_store_reopens_with_saved_plans(backend, hokkaido: Plan):
    url, prefix = backend
    with PlanStore(url, table_prefix=prefix) as first:
        first.save(hokkaido, expected_version=None)
    with PlanStore(url, table_prefix=prefix) as again:
        assert again.load("現行")[0].table.equals(hokkaido.table)


def test_default_location_and_env_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hokkaido: Plan):
    from platformdirs import user_data_dir

    monkeypatch.delenv("GEO_APP_DATABASE_URL", raising=False)
    monkeypatch.delenv("GEO_APP_DB_PATH", raising=False)
    assert default_db_path() == Path(user_data_dir("geo_app")) / "plans.sqlite3"

    target = tmp_path / "共有" / "plans.db"
    monkeypatch.setenv("GEO_APP_DB_PATH", str(target))
    with PlanStore() as s:
        assert s.backend == "sqlite" and str(target) in s.url
        s.save(hokkaido, expected_version=None)
    assert target.is_file()

    other = tmp_path / "other.sqlite3"
    monkeypatch.setenv("GEO_APP_DATABASE_URL", f"sqlite:///{other}")
    with PlanStore() as s:  # a database URL beats the file path
        assert s.list_plans() == []
    with PlanStore(path=target) as s:  # an explicit argument beats both
        assert s.exists("現行")


def test_unreachable_postgres_names_url_without_password():
    with pytest.raises(GeoAppError) as err:
        PlanStore("postgresql://planner:s3cret-pw@127.0.0.1:1/plans")
    msg = str(err.value)
    assert "postgresql+psycopg://planner:***@127.0.0.1:1/plans" in msg
    assert "s3cret-pw" not in msg and "接続できない" in msg and "GEO_APP_DATABASE_URL" in msg


def test_unopenable_sqlite_file_gets_japanese_message(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(GeoAppError, match="保存先フォルダ.*GEO_APP_DB_PATH"):
        PlanStore(path=blocker / "plans.sqlite3")
    bad = tmp_path / "not-a-db.sqlite3"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(GeoAppError, match="not-a-db.sqlite3」は区域案のデータベースではないか、壊れています"):
        PlanStore(path=bad)


def test_sqlite_save_waits_then_reports_a_busy_database(tmp_path: Path, hokkaido: Plan):
    """Another program holding the write lock too long: a Japanese 'busy' message, saved plan untouched."""
    import sqlite3

    path = tmp_path / "plans.sqlite3"
    store = PlanStore(path=path, sqlite_timeout=0.2)
    store.save(hokkaido, expected_version=None)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(GeoAppError, match="他の保存で使用中.*少し待ってから.*保存済みの区域案は変わっていません"):
            store.save(moved(hokkaido, "01459", "旭川市"), expected_version=1)
        assert store.load("現行")[1] == 1  # reading still works while someone else writes
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert store.save(moved(hokkaido, "01459", "旭川市"), expected_version=1) == 2
    store.close()


def test_bad_url_gets_japanese_message():
    with pytest.raises(GeoAppError, match="読み取れません"):
        PlanStore("postgresql+psycopg://u:pw@host:notaport/db")
    with pytest.raises(GeoAppError, match="ドライバーがありません"):
        PlanStore("nosuchdb://somewhere/x")


def test_postgres_url_is_required_under_ci(monkeypatch: pytest.MonkeyPatch):
    """CI must never silently skip the PostgreSQL half."""
    if os.environ.get("CI") == "true":
        url = os.environ.get(PG_ENV, "")
        assert url, f"{PG_ENV} must be set in CI"
    else:
        monkeypatch.setenv("CI", "true")
        monkeypatch.delenv(PG_ENV, raising=False)
        with pytest.raises(pytest.fail.Exception):
            _postgres_url()


def test_snapshot_is_plain_json_text(store: PlanStore, hokkaido: Plan):
    """Snapshots stay readable by other tools (and by a person) with no pickle involved."""
    import sqlalchemy as sa

    store.save(hokkaido, expected_version=None)
    with store.engine.connect() as conn:
        data = conn.execute(sa.text(f"SELECT data FROM {store.table_prefix}plan_versions")).scalar_one()
    doc = json.loads(data)
    assert doc["columns"] == [
        *("code", "name", "homecare", "secondary", "tertiary", "status"),
        *("hub", "hub_facility", "hub_lat", "hub_lon"),
    ]
    assert doc["rows"][0] == ["01100", "札幌市", "札幌市", "札幌", "道央", "確定", None, None, None, None]
    assert len(doc["rows"]) == 179


# ---- restore (元に戻す after a delete) -----------------------------------------------------------
def test_restore_brings_back_exactly_the_deleted_plan_with_its_versions(open_store, hokkaido: Plan):
    store = open_store()
    a = hokkaido.with_name("案A")
    b1, b2 = hokkaido.with_name("案B"), moved(hokkaido, "01459", "富良野").with_name("案B")
    store.save(a, expected_version=None, note="案Aの版1")
    store.save(b1, expected_version=None, note="案Bの版1")
    store.save(b2, expected_version=1, note="美瑛町を富良野へ", edit_log='{"x": 1}')
    before = store.history("案B")

    store.delete("案B", expected_version=2)
    assert [i.name for i in store.list_plans()] == ["案A"]
    gone = store.deleted_plans()
    assert [(i.name, i.version, i.note) for i in gone] == [("案B", 2, "美瑛町を富良野へ")]
    assert gone[0].deleted_at is not None and gone[0].deleted_at >= gone[0].updated_at

    other = open_store()  # another tab / process restores it
    assert other.restore("案B") == 2
    assert [i.name for i in store.list_plans()] == ["案A", "案B"] and store.deleted_plans() == []
    assert store.history("案B") == before  # every version, note and time as they were
    assert store.load("案B")[0].table.equals(b2.table) and store.load("案B", version=1)[0].table.equals(b1.table)
    assert store.load_edit_log("案B") == '{"x": 1}'
    assert store.load("案A")[0].table.equals(a.table)  # the other plan untouched
    # a tab still holding version 2 can save again: it holds the current plan
    assert store.save(moved(b2, "01472", "上川北部"), expected_version=2) == 3


def test_restore_refuses_a_plan_that_is_listed_or_never_saved(store: PlanStore, hokkaido: Plan):
    with pytest.raises(PlanError, match="保存されたことがない"):
        store.restore("案Z")
    store.save(hokkaido.with_name("案A"), expected_version=None)
    with pytest.raises(PlanError, match="一覧にあります（版1"):
        store.restore("案A")
    store.delete("案A", expected_version=1)
    store.save(moved(hokkaido, "01459", "富良野").with_name("案A"), expected_version=None)  # a new 案A (版2)
    with pytest.raises(PlanError, match="一覧にあります（版2"):
        store.restore("案A")
    assert store.load("案A", version=1)[0].table.equals(hokkaido.table)  # the deleted one is still in history
    assert store.deleted_plans() == []


def test_deleted_plans_newest_first_and_limited(store: PlanStore, hokkaido: Plan):
    for name in ["案1", "案2", "案3"]:
        store.save(hokkaido.with_name(name), expected_version=None)
    for name in ["案2", "案1", "案3"]:
        store.delete(name, expected_version=1)
    assert [i.name for i in store.deleted_plans()] == ["案3", "案1", "案2"]
    assert [i.name for i in store.deleted_plans(limit=2)] == ["案3", "案1"]


# ---- hub locations (issue 12): plans saved before them read back without loss ---------------------
#: The snapshot columns of geo_app before hub locations: what its saved plans and edit logs hold.
OLD_SNAPSHOT_COLUMNS = ["code", "name", "homecare", "secondary", "tertiary", "status", "hub"]


def _old_edit_log(history: EditHistory) -> str:
    """`history` as the previous geo_app wrote it: rows of 7 cells, no "columns" member."""
    doc = json.loads(history.to_json())
    del doc["columns"]
    doc["base"]["rows"] = [row[: len(OLD_SNAPSHOT_COLUMNS)] for row in doc["base"]["rows"]]
    for step in doc["steps"]:
        if "rows" in step:
            step["rows"] = [row[: len(OLD_SNAPSHOT_COLUMNS)] for row in step["rows"]]
    return json.dumps(doc, ensure_ascii=False)


def test_plans_saved_before_hub_locations_read_back_without_loss(open_store, hokkaido: Plan, monkeypatch):
    import geo_app.io.store as store_module
    from geo_app.core.hubs import hub_points

    v2 = moved(hokkaido, "01459", "富良野")
    history = EditHistory(hokkaido)
    history.apply(v2)
    with monkeypatch.context() as old_geo_app:  # the previous version's save, byte for byte
        old_geo_app.setattr(store_module, "SNAPSHOT_COLUMNS", OLD_SNAPSHOT_COLUMNS)
        old = open_store()
        assert old.save(hokkaido, expected_version=None, note="初版") == 1
        assert old.save(v2, expected_version=1, edit_log=_old_edit_log(history)) == 2
        old.close()
    store = open_store()
    with store.engine.connect() as conn:
        stored = conn.execute(sa.text(f"SELECT data FROM {store.table_prefix}plan_versions")).scalars().all()
    assert [json.loads(d)["columns"] for d in stored] == [OLD_SNAPSHOT_COLUMNS] * 2  # written the old way
    loaded, version = store.load("現行")
    assert version == 2 and loaded.table.equals(v2.table) and homecare_of(loaded, "01459") == "富良野"
    assert loaded.hubs() == hokkaido.hubs()  # the hub names, kept
    assert loaded.table[["hub_facility", "hub_lat", "hub_lon"]].isna().all().all()  # no location: none invented
    assert store.load("現行", version=1)[0].table.equals(hokkaido.table)
    restored = EditHistory.from_json(store.load_edit_log("現行"))
    assert restored.current == loaded and restored.undo() == hokkaido  # undo still works on the old log
    # the next save carries a hub's location, and the old versions stay as they were
    located = edits.set_hub(loaded, "上川", "美瑛町役場", lat="43.5886", lon="142.4675")
    assert store.save(located, expected_version=2) == 3
    back = store.load("現行")[0]
    assert back.table.equals(located.table)
    kamikawa = hub_points(back, None).set_index("homecare").loc["上川"]
    assert (kamikawa["lat"], kamikawa["lon"], kamikawa["located_by"]) == (43.5886, 142.4675, "point")
    assert store.load("現行", version=2)[0].table.equals(v2.table)
