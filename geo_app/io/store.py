"""Plans that last: named plans (現行, 案A, 案B …) and every saved version, kept in a database.

Why a database and not files: a prefecture's staff edit plans from several browser tabs or PCs.
By default plans live in one SQLite file under the user's data directory (one planner, one PC);
when ``GEO_APP_DATABASE_URL`` names a PostgreSQL server (``postgresql+psycopg://…``) the whole
team shares it. Each save is one transaction guarded by a version number per plan (optimistic
locking): two tabs saving *different* plans never clash, two saving the *same* plan get a
`ConflictError` in Japanese instead of one silently overwriting the other, and a save that fails
half-way is rolled back, leaving the saved plan exactly as it was.

Every version is an immutable snapshot of the plan table (JSON text; plans are ≤ 2,000 rows),
so any old version can be reloaded, together with the edit history the app had when it saved
(``edit_log``, `EditHistory.to_json` text), so that undo still works after a reload. Deleting a
plan hides it but keeps its history (`restore` brings it back as it was); a new plan saved later
under the same name continues the version numbers, so a tab still holding the deleted plan can
never overwrite the new one.

A database made by an older geo_app is brought up to date when a store opens it: columns added
since (nullable, such as ``edit_log``) are added with ``ALTER TABLE … ADD COLUMN`` in one
transaction, so the plans already saved stay exactly as they were.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from geo_app.core.errors import GeoAppError, PlanError
from geo_app.core.plan import TABLE_COLUMNS, Plan

__all__ = [
    "ConflictError",
    "JST",
    "PlanInfo",
    "PlanVersion",
    "PlanStore",
    "default_db_path",
    "MAX_NAME_LENGTH",
    "ENV_DATABASE_URL",
    "ENV_DB_PATH",
]

ENV_DATABASE_URL = "GEO_APP_DATABASE_URL"
ENV_DB_PATH = "GEO_APP_DB_PATH"
MAX_NAME_LENGTH = 100
#: The plan table as saved: every column, hub locations included. A snapshot saved before those
#: existed lists only PLAN_COLUMNS + hub in its "columns" and reads back with them empty (no loss).
SNAPSHOT_COLUMNS = TABLE_COLUMNS
#: Columns a plan table may lack and still be saved (empty): added after tables were first saved.
_OPTIONAL_COLUMNS = ("hub_facility", "hub_lat", "hub_lon")
SNAPSHOT_FORMAT = 1
SQLITE_BUSY_TIMEOUT_S = 30.0
JST = timezone(timedelta(hours=9), "JST")  # for messages and titles: the users are in Japan (no DST there)


# ---- public types ----------------------------------------------------------------------------
class ConflictError(GeoAppError):
    """Someone else saved (or deleted, or created) this plan since you loaded it; nothing was saved."""

    def __init__(self, message: str, *, name: str, expected_version: int | None, current_version: int | None):
        self.name = name
        self.expected_version = expected_version
        self.current_version = current_version
        super().__init__(message)


@dataclass
class PlanInfo:
    """One saved plan, as shown in a 'open plan' list."""

    name: str
    version: int
    updated_at: datetime
    rows: int
    prefectures: list[str]
    note: str
    author: str = ""
    #: When it was deleted (only in `deleted_plans`): it can be brought back with `restore`.
    deleted_at: datetime | None = None


@dataclass
class PlanVersion:
    """One entry of a plan's history."""

    version: int
    saved_at: datetime
    note: str
    author: str = ""
    rows: int = 0


def default_db_path() -> Path:
    """GEO_APP_DB_PATH, else plans.sqlite3 in the user's data directory (platformdirs)."""
    env = os.environ.get(ENV_DB_PATH)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("geo_app")) / "plans.sqlite3"


# ---- helpers -----------------------------------------------------------------------------------
class _UTCDateTime(sa.types.TypeDecorator):
    """Timestamps in UTC, always timezone-aware on the way out (SQLite keeps no zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _now() -> datetime:
    return datetime.now(UTC)


def _when(dt: datetime | None) -> str:
    return dt.astimezone(JST).strftime("%Y年%m月%d日 %H:%M") if dt else "日時不明"


def _check_name(name: object) -> str:
    """Plan names are user-typed Japanese text, kept exactly as typed; refuse only unusable ones."""
    if not isinstance(name, str) or not name.strip():
        raise PlanError("区域案の名前が空です。「案A」のように名前を付けてから保存してください。")
    if len(name) > MAX_NAME_LENGTH:
        raise PlanError(f"区域案の名前が長すぎます（{len(name)}文字）。{MAX_NAME_LENGTH}文字以内に短くしてください。")
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in name):
        raise PlanError(f"区域案の名前「{name!r}」に改行や制御文字が入っています。取り除いてください。")
    if name != name.strip():
        raise PlanError(
            f"区域案の名前「{name}」の前後に空白があります。空白を取ってください（同じに見える別の案ができるのを防ぐため）。"
        )
    return name


def _snapshot(plan: Plan) -> tuple[str, int, list[str]]:
    """The plan table as JSON text, done before any transaction so a bad table never touches the database."""
    label = f"区域案「{plan.name}」"
    table = plan.table
    if not isinstance(table, pd.DataFrame):
        raise PlanError(f"{label}の表が読み取れないため保存できません。")
    missing = [c for c in SNAPSHOT_COLUMNS if c not in table.columns and c not in _OPTIONAL_COLUMNS]
    if missing:
        raise PlanError(
            f"{label}の表に列 {', '.join(missing)} がないため保存できません。区域表を読み込み直してください。"
        )
    values = table.reindex(columns=SNAPSHOT_COLUMNS).astype(object).to_numpy().tolist()
    rows: list[list[str | None]] = []
    for i, record in enumerate(values, start=1):
        row: list[str | None] = []
        for col, v in zip(SNAPSHOT_COLUMNS, record, strict=True):
            if isinstance(v, str):
                row.append(v)
            elif v is None or v is pd.NA or (isinstance(v, float) and v != v):
                row.append(None)
            else:
                raise PlanError(
                    f"{label}の{i}行目「{col}」の値（{v!r}）が文字ではないため保存できません。"
                    "区域表を読み込み直すか、その値を文字にしてください。保存済みの案は変わっていません。"
                )
        rows.append(row)
    try:
        doc = {"format": SNAPSHOT_FORMAT, "columns": SNAPSHOT_COLUMNS, "rows": rows, "source": str(plan.source or "")}
        data = json.dumps(doc, ensure_ascii=False)
    except (TypeError, ValueError) as exc:  # pragma: no cover - values are str/None by now
        raise PlanError(f"{label}を保存用に変換できません（{exc}）。保存済みの案は変わっていません。") from None
    try:
        prefectures = list(plan.prefectures)
    except Exception:  # a table without usable codes still saves; the list is only informative
        prefectures = []
    return data, len(rows), prefectures


def _plan_info(r: sa.Row, *, deleted_at: datetime | None = None) -> PlanInfo:
    """One row of the plan list (head joined with its current version)."""
    return PlanInfo(
        name=r.name,
        version=r.version,
        updated_at=r.updated_at,
        rows=r.rows,
        prefectures=json.loads(r.prefectures),
        note=r.note,
        author=r.author,
        deleted_at=deleted_at,
    )


def _plan_from_snapshot(data: str, name: str, version: int) -> Plan:
    try:
        doc = json.loads(data)
        if doc.get("format") != SNAPSHOT_FORMAT:
            raise ValueError(f"format {doc.get('format')!r}")
        df = pd.DataFrame(doc["rows"], columns=doc["columns"], dtype=object)
        df = df.reindex(columns=SNAPSHOT_COLUMNS).astype("string")
        source = str(doc.get("source") or "")  # what the plan was made from; absent in older saves
    except (ValueError, KeyError, TypeError) as exc:
        raise GeoAppError(
            f"区域案「{name}」の版{version}が読み取れません（{exc}）。新しい版の geo_app で保存された可能性があります。"
            "geo_app を更新するか、別の版を開いてください。"
        ) from None
    return Plan(name=name, table=df, source=source)


def _hide(url: sa.URL) -> str:
    """The URL as shown to people: no password, and a SQLite path left readable (not %-escaped)."""
    if url.get_backend_name() == "sqlite":
        return f"{url.drivername}:///{url.database or ':memory:'}"
    return url.render_as_string(hide_password=True)


def _first_line(exc: BaseException, secret: str | None) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    if secret:
        text = text.replace(secret, "***")
    return text[:300]


# ---- the store ---------------------------------------------------------------------------------
class PlanStore:
    """Named plans with history in SQLite (default) or PostgreSQL, safe for several tabs at once.

    ``url``: a SQLAlchemy URL or a plain file path; ``None`` → ``GEO_APP_DATABASE_URL``, else the
    SQLite file ``path`` / ``GEO_APP_DB_PATH`` / ``user_data_dir("geo_app")/plans.sqlite3``.
    ``table_prefix`` lets several independent stores (e.g. test runs) share one database;
    ``sqlite_timeout`` is how long a SQLite save waits for another writer before giving up.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        path: str | os.PathLike[str] | None = None,
        table_prefix: str = "geo_app_",
        sqlite_timeout: float = SQLITE_BUSY_TIMEOUT_S,
        echo: bool = False,
    ):
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,39}", table_prefix):
            raise GeoAppError(
                f"テーブル名の接頭辞「{table_prefix}」は使えません。英小文字・数字・_ で40文字以内にしてください。"
            )
        self._url = self._resolve_url(url, path)
        self.url: str = _hide(self._url)
        self.backend: str = self._url.get_backend_name()
        self.path: Path | None = (
            Path(self._url.database)
            if self.backend == "sqlite" and self._url.database not in (None, "", ":memory:")
            else None
        )
        self.table_prefix = table_prefix
        self._sqlite_timeout = float(sqlite_timeout)
        self.metadata, self._plans, self._versions = self._tables(table_prefix)
        self.engine: Engine = self._make_engine(echo)
        # Writes go through an engine view whose transactions start with BEGIN IMMEDIATE on SQLite.
        self._writer: Engine = self.engine.execution_options(geo_app_write=True)
        self._create_tables()

    # -- setup ---------------------------------------------------------------------------------
    @staticmethod
    def _resolve_url(url: str | None, path: str | os.PathLike[str] | None) -> sa.URL:
        if url is None and path is None:
            url = os.environ.get(ENV_DATABASE_URL) or None
        if url is not None and "://" in str(url):
            text = str(url).strip()
            try:
                parsed = sa.make_url(text)
            except (sa.exc.ArgumentError, ValueError):
                shown = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", text)
                raise GeoAppError(
                    f"データベースの指定「{shown}」が読み取れません。"
                    "postgresql+psycopg://ユーザー名:パスワード@ホスト名:5432/データベース名 の形で指定してください。"
                ) from None
            if parsed.drivername in ("postgresql", "postgres"):
                parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3 is the driver we ship
            return parsed
        file = Path(url if url is not None else (path if path is not None else default_db_path())).expanduser()
        if str(file) == ":memory:":
            return sa.URL.create("sqlite+pysqlite", database=":memory:")
        return sa.URL.create("sqlite+pysqlite", database=str(file.absolute()))

    @staticmethod
    def _tables(prefix: str) -> tuple[sa.MetaData, sa.Table, sa.Table]:
        md = sa.MetaData()
        plans = sa.Table(
            f"{prefix}plans",
            md,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("name", sa.String(MAX_NAME_LENGTH), nullable=False),
            sa.Column("version", sa.Integer, nullable=False),  # latest saved version (the lock)
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
            sa.Column("author", sa.String(MAX_NAME_LENGTH), nullable=False, default=""),
            sa.Column("rows", sa.Integer, nullable=False),
            sa.Column("prefectures", sa.Text, nullable=False),  # JSON list, for the plan list
            sa.Column("data", sa.Text, nullable=False),  # JSON snapshot of the plan table
            # EditHistory.to_json() of the app when it saved (undo after a reload); added later,
            # so NULL in versions saved before, and added to older databases by _add_new_columns.
            sa.Column("edit_log", sa.Text, nullable=True),
            sa.PrimaryKeyConstraint("plan_id", "version", name=f"{prefix}plan_versions_pkey"),
        )
        return md, plans, versions

    def _make_engine(self, echo: bool) -> Engine:
        u = self._url
        try:
            if self.backend == "sqlite":
                database = u.database or ""
                memory = database in ("", ":memory:")
                if not memory:
                    folder = Path(database).parent
                    try:
                        folder.mkdir(parents=True, exist_ok=True)
                    except OSError as exc:
                        raise GeoAppError(
                            f"区域案の保存先フォルダ「{folder}」を作れません（{exc.strerror or exc}）。"
                            f"環境変数 {ENV_DB_PATH} で書き込める場所のファイルを指定してください。"
                        ) from None
                engine = sa.create_engine(
                    u,
                    echo=echo,
                    connect_args={"timeout": self._sqlite_timeout, "check_same_thread": False},
                    **({"poolclass": StaticPool} if memory else {}),
                )
                self._sqlite_events(engine, self._sqlite_timeout)
                return engine
            connect_args = {"connect_timeout": 10} if u.get_driver_name() == "psycopg" else {}
            return sa.create_engine(u, echo=echo, pool_pre_ping=True, connect_args=connect_args)
        except (ImportError, sa.exc.NoSuchModuleError) as exc:
            hint = (
                "pip install 'geo-app[postgres]' で psycopg を入れてください。" if self.backend == "postgresql" else ""
            )
            raise GeoAppError(
                f"データベース「{self.url}」用のドライバーがありません（{exc}）。{hint}"
                "PostgreSQL は postgresql+psycopg://… の形で指定してください。"
            ) from None

    @staticmethod
    def _sqlite_events(engine: Engine, timeout_s: float) -> None:
        """SQLite: wait (busy timeout) instead of failing, and take the write lock at BEGIN for writes.

        pysqlite's own transaction handling begins lazily, so two writers could both read version 1
        and only then race for the lock; BEGIN IMMEDIATE makes the read-check-write one critical section.
        """

        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see _begin)
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
            cur.execute("PRAGMA foreign_keys = ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("geo_app_write") else "BEGIN")

    def _create_tables(self) -> None:
        with self._db_errors("データベースの準備"):
            try:
                self.metadata.create_all(self._writer)
            except (sa.exc.ProgrammingError, sa.exc.IntegrityError):
                # Another process created the tables at the same moment (PostgreSQL); they exist now.
                self.metadata.create_all(self._writer)
        self._add_new_columns()

    def _missing_columns(self, conn: Connection) -> list[sa.Column]:
        inspector = sa.inspect(conn)
        missing: list[sa.Column] = []
        for table in self.metadata.sorted_tables:
            have = {c["name"] for c in inspector.get_columns(table.name)}
            missing += [c for c in table.columns if c.name not in have]
        return missing

    def _add_new_columns(self) -> None:
        """A database made by an older geo_app: add the columns it lacks, keeping every saved plan.

        Checked on a read connection first (the usual case costs no write lock), then again inside
        the write transaction: on SQLite BEGIN IMMEDIATE makes check-and-alter one critical section,
        on PostgreSQL ``ADD COLUMN IF NOT EXISTS`` lets two servers starting at once both succeed.
        DDL is transactional on both, so a failure leaves the tables exactly as they were.
        """
        with self._read("データベースの確認") as conn:
            if not self._missing_columns(conn):
                return
        action = "区域案の表の更新（新しい版の geo_app が使う列の追加）"
        with self._db_errors(action, writes=True):
            try:
                with self._writer.begin() as conn:
                    missing = self._missing_columns(conn)
                    required = [c for c in missing if not c.nullable]
                    if required:  # never guess values for old rows
                        raise GeoAppError(
                            f"データベース「{self.url}」の区域案の表に、必要な列 "
                            f"{', '.join(f'{c.table.name}.{c.name}' for c in required)} がありません。"
                            "別のアプリの表か、壊れている可能性があります。"
                            f"環境変数 {ENV_DATABASE_URL} / {ENV_DB_PATH} で別のデータベースを指定してください。"
                        )
                    dialect = conn.dialect
                    quote = dialect.identifier_preparer
                    for col in missing:
                        if_not_exists = "IF NOT EXISTS " if dialect.name == "postgresql" else ""
                        conn.exec_driver_sql(
                            f"ALTER TABLE {quote.format_table(col.table)} ADD COLUMN {if_not_exists}"
                            f"{quote.quote(col.name)} {col.type.compile(dialect=dialect)}"
                        )
            except sa.exc.ProgrammingError as exc:  # PostgreSQL: e.g. not the owner of the table
                raise GeoAppError(
                    f"データベース「{self.url}」で{action}ができませんでした（{_first_line(exc, self._url.password)}）"
                    "。"
                    "表を作成したユーザー（または管理者）で geo_app を一度起動すると追加されます。"
                    "保存済みの区域案は変わっていません。"
                ) from None

    # -- error translation -------------------------------------------------------------------
    @contextmanager
    def _db_errors(self, action: str, *, writes: bool = False) -> Iterator[None]:
        """Database failures → GeoAppError in Japanese naming the database (never its password)."""
        kept = "保存済みの区域案は変わっていません。" if writes else ""
        try:
            yield
        except GeoAppError:
            raise
        except sa.exc.OperationalError as exc:
            reason = _first_line(exc, self._url.password)
            if self.backend == "sqlite" and ("locked" in reason or "busy" in reason):
                raise GeoAppError(
                    f"データベース「{self.url}」が他の保存で使用中のため、{action}ができませんでした。"
                    f"少し待ってからもう一度お試しください。{kept}"
                ) from None
            raise GeoAppError(self._unreachable(action, reason) + kept) from None
        except sa.exc.InterfaceError as exc:
            raise GeoAppError(self._unreachable(action, _first_line(exc, self._url.password)) + kept) from None
        except sa.exc.SQLAlchemyError as exc:
            reason = _first_line(exc, self._url.password)
            if self.backend == "sqlite" and "not a database" in reason:
                raise GeoAppError(
                    f"ファイル「{self._url.database}」は区域案のデータベースではないか、壊れています（{reason}）。"
                    f"環境変数 {ENV_DB_PATH} で別のファイルを指定してください。"
                ) from None
            raise GeoAppError(f"データベース「{self.url}」で{action}に失敗しました（{reason}）。{kept}") from None

    def _unreachable(self, action: str, reason: str) -> str:
        if self.backend == "sqlite":
            return (
                f"データベースファイル「{self._url.database}」を開けないため、{action}ができませんでした（{reason}）。"
                f"ファイルの場所と書き込み権限を確かめるか、環境変数 {ENV_DB_PATH} で別の場所を指定してください。"
            )
        return (
            f"データベース「{self.url}」に接続できないため、{action}ができませんでした（{reason}）。"
            "サーバーが動いているか、"
            f"環境変数 {ENV_DATABASE_URL} のホスト名・ポート・ユーザー名・パスワードを確かめてください。"
        )

    @contextmanager
    def _read(self, action: str) -> Iterator[Connection]:
        with self._db_errors(action), self.engine.begin() as conn:
            yield conn

    @contextmanager
    def _write(self, action: str) -> Iterator[Connection]:
        with self._db_errors(action, writes=True), self._writer.begin() as conn:
            yield conn

    # -- queries ---------------------------------------------------------------------------
    def _head(self, conn: Connection, name: str, *, lock: bool = False) -> sa.Row | None:
        q = sa.select(self._plans).where(self._plans.c.name == name)
        if lock:
            q = q.with_for_update()  # PostgreSQL row lock; SQLite already holds the write lock
        return conn.execute(q).one_or_none()

    def _live_head(self, conn: Connection, name: str) -> sa.Row:
        head = self._head(conn, name)
        if head is None or head.deleted_at is not None:
            saved = sorted(
                r.name for r in conn.execute(sa.select(self._plans.c.name).where(self._plans.c.deleted_at.is_(None)))
            )
            listing = "、".join(saved[:20]) + ("…" if len(saved) > 20 else "") if saved else "なし"
            raise PlanError(f"区域案「{name}」は保存されていません。保存済みの案: {listing}")
        return head

    def _latest_entry(self, conn: Connection, plan_id: int, version: int) -> sa.Row | None:
        v = self._versions
        return conn.execute(
            sa.select(v.c.saved_at, v.c.note, v.c.author).where(v.c.plan_id == plan_id, v.c.version == version)
        ).one_or_none()

    def list_plans(self) -> list[PlanInfo]:
        """Saved (not deleted) plans, by name."""
        p, v = self._plans, self._versions
        q = (
            sa.select(p.c.name, p.c.version, p.c.updated_at, v.c.rows, v.c.prefectures, v.c.note, v.c.author)
            .join(v, sa.and_(v.c.plan_id == p.c.id, v.c.version == p.c.version))
            .where(p.c.deleted_at.is_(None))
        )
        with self._read("区域案の一覧の読み込み") as conn:
            rows = conn.execute(q).all()
        return sorted((_plan_info(r) for r in rows), key=lambda i: i.name)

    def deleted_plans(self, limit: int = 10) -> list[PlanInfo]:
        """Deleted plans, most recently deleted first: what 元に戻す (`restore`) can bring back."""
        p, v = self._plans, self._versions
        q = (
            sa.select(
                p.c.name, p.c.version, p.c.updated_at, p.c.deleted_at, v.c.rows, v.c.prefectures, v.c.note, v.c.author
            )
            .join(v, sa.and_(v.c.plan_id == p.c.id, v.c.version == p.c.version))
            .where(p.c.deleted_at.is_not(None))
            .order_by(p.c.deleted_at.desc(), p.c.name)
            .limit(int(limit))
        )
        with self._read("削除した区域案の一覧の読み込み") as conn:
            rows = conn.execute(q).all()
        return [_plan_info(r, deleted_at=r.deleted_at) for r in rows]

    def exists(self, name: str) -> bool:
        with self._read("区域案の確認") as conn:
            head = self._head(conn, name)
        return head is not None and head.deleted_at is None

    def _version_row(self, conn: Connection, name: str, version: int | None, *columns: sa.Column) -> tuple[int, sa.Row]:
        """(version number, row of `columns`) of the latest or a given version.

        PlanError names the versions there are.
        """
        v = self._versions
        head = self._live_head(conn, name)
        want = head.version if version is None else int(version)
        row = conn.execute(sa.select(*columns).where(v.c.plan_id == head.id, v.c.version == want)).one_or_none()
        if row is None:
            have = (
                conn.execute(sa.select(v.c.version).where(v.c.plan_id == head.id).order_by(v.c.version)).scalars().all()
            )
            raise PlanError(
                f"区域案「{name}」に版{want}はありません。"
                f"保存されている版: {', '.join(map(str, have))}（最新は版{head.version}）"
            )
        return want, row

    def load(self, name: str, version: int | None = None) -> tuple[Plan, int]:
        """The latest (or a given) version of a plan, and its version number to pass back to save()."""
        with self._read(f"区域案「{name}」の読み込み") as conn:
            want, row = self._version_row(conn, name, version, self._versions.c.data)
        return _plan_from_snapshot(row.data, name, want), want

    def load_edit_log(self, name: str, version: int | None = None) -> str | None:
        """The edit history saved with the latest (or a given) version; None when none was saved.

        Returned as stored: the caller checks it (`EditHistory.from_json`) and that it ends at the
        loaded plan. Pass the version `load()` returned, so plan and log belong to the same save.
        """
        with self._read(f"区域案「{name}」の編集履歴の読み込み") as conn:
            _, row = self._version_row(conn, name, version, self._versions.c.edit_log)
        return row.edit_log

    def history(self, name: str) -> list[PlanVersion]:
        """Every saved version of a plan, newest first."""
        v = self._versions
        with self._read(f"区域案「{name}」の履歴の読み込み") as conn:
            head = self._live_head(conn, name)
            rows = conn.execute(
                sa.select(v.c.version, v.c.saved_at, v.c.note, v.c.author, v.c.rows)
                .where(v.c.plan_id == head.id)
                .order_by(v.c.version.desc())
            ).all()
        return [
            PlanVersion(version=r.version, saved_at=r.saved_at, note=r.note, author=r.author, rows=r.rows) for r in rows
        ]

    # -- writes ------------------------------------------------------------------------------
    def save(
        self, plan: Plan, *, expected_version: int | None, note: str = "", author: str = "", edit_log: str | None = None
    ) -> int:
        """Save `plan` under `plan.name`; returns the new version number.

        ``expected_version=None`` creates a new plan (ConflictError if the name is taken);
        otherwise it must be the version you loaded, else ConflictError and nothing is saved.
        ``edit_log`` is kept with this version as it is (the app stores `EditHistory.to_json()`).
        """
        name = _check_name(plan.name)
        data, nrows, prefectures = _snapshot(plan)
        note, author = str(note or ""), str(author or "")[:MAX_NAME_LENGTH]
        if edit_log is not None and not isinstance(edit_log, str):
            raise PlanError(
                f"区域案「{name}」の編集履歴が文字列ではないため保存できません。保存済みの案は変わっていません。"
            )
        now = _now()
        p = self._plans
        with self._write(f"区域案「{name}」の保存") as conn:
            head = self._head(conn, name, lock=True)
            if expected_version is None:
                if head is not None and head.deleted_at is None:
                    raise self._conflict(conn, head, None)
                if head is None:
                    try:
                        key = conn.execute(
                            sa.insert(p).values(name=name, version=1, created_at=now, updated_at=now)
                        ).inserted_primary_key
                        assert key is not None  # an INSERT of one row always reports its key
                        plan_id = key[0]
                    except sa.exc.IntegrityError:  # created by someone else this very moment (PostgreSQL)
                        raise ConflictError(
                            f"区域案「{name}」は、たった今ほかの画面（または別の人）が同じ名前で作成しました。"
                            "あなたの案はまだ保存されていません。別の名前を付けて保存するか、一覧から開き直してください。",
                            name=name,
                            expected_version=None,
                            current_version=None,
                        ) from None
                    new_version = 1
                else:  # re-using the name of a deleted plan: continue its numbering
                    plan_id, new_version = head.id, head.version + 1
                    self._bump(conn, head, new_version, now, revive=True)
            else:
                expected_version = int(expected_version)
                if head is None or head.deleted_at is not None or head.version != expected_version:
                    raise self._conflict(conn, head, expected_version, name=name)
                plan_id, new_version = head.id, expected_version + 1
                self._bump(conn, head, new_version, now)
            self._insert_version(
                conn,
                plan_id=plan_id,
                version=new_version,
                saved_at=now,
                note=note,
                author=author,
                rows=nrows,
                prefectures=prefectures,
                data=data,
                edit_log=edit_log,
            )
        return new_version

    def _bump(self, conn: Connection, head: sa.Row, new_version: int, now: datetime, *, revive: bool = False) -> None:
        """UPDATE … WHERE version = expected: the optimistic lock itself (belt and braces with the row lock)."""
        p = self._plans
        res = conn.execute(
            sa.update(p)
            .where(p.c.id == head.id, p.c.version == head.version)
            .values(version=new_version, updated_at=now, **({"deleted_at": None} if revive else {}))
        )
        if res.rowcount != 1:
            raise self._conflict(conn, self._head(conn, head.name), head.version, name=head.name)

    def _insert_version(
        self,
        conn: Connection,
        *,
        plan_id: int,
        version: int,
        saved_at: datetime,
        note: str,
        author: str,
        rows: int,
        prefectures: list[str],
        data: str,
        edit_log: str | None = None,
    ) -> None:
        conn.execute(
            sa.insert(self._versions).values(
                plan_id=plan_id,
                version=version,
                saved_at=saved_at,
                note=note,
                author=author,
                rows=rows,
                prefectures=json.dumps(prefectures, ensure_ascii=False),
                data=data,
                edit_log=edit_log,
            )
        )

    def _conflict(
        self,
        conn: Connection,
        head: sa.Row | None,
        expected: int | None,
        *,
        name: str | None = None,
        verb: str = "保存",
    ) -> ConflictError:
        """A message that says who/what got there first and what to do now."""
        name = name or (head.name if head is not None else "")
        if verb == "保存":
            not_done = "あなたの変更はまだ保存されていません。"
            todo = (
                "最新の版を開き直してから、変更をもう一度加えて保存してください。"
                "または「名前を付けて保存」で、あなたの変更を別の案として残せます。"
            )
        else:
            not_done = "削除はまだ行っていません。"
            todo = "最新の版を開き直し、内容を確かめてから削除してください。"
        if expected is None and head is not None:
            return ConflictError(
                f"区域案「{name}」はすでにあります（版{head.version}、{_when(head.updated_at)} 保存）。{not_done}"
                f"別の名前を付けて保存するか、一覧から「{name}」を開いてから編集してください。",
                name=name,
                expected_version=None,
                current_version=head.version,
            )
        if head is None:
            return ConflictError(
                f"区域案「{name}」は保存されていません（版{expected}を読み込んだことになっていますが、見つかりません）。"
                f"{not_done}新しい案として保存してください。",
                name=name,
                expected_version=expected,
                current_version=None,
            )
        if head.deleted_at is not None:
            return ConflictError(
                f"区域案「{name}」は、あなたが版{expected}を読み込んだ後に、ほかの画面（または別の人）が削除しました"
                f"（{_when(head.deleted_at)}）。{not_done}残したい場合は「名前を付けて保存」で新しい案として保存してください。",
                name=name,
                expected_version=expected,
                current_version=None,
            )
        entry = self._latest_entry(conn, head.id, head.version)
        who = f"保存した人: {entry.author}、" if entry is not None and entry.author else ""
        memo = f"メモ「{entry.note}」、" if entry is not None and entry.note else ""
        return ConflictError(
            f"区域案「{name}」は、あなたが版{expected}を読み込んだ後に、ほかの画面（または別の人）が保存しました"
            f"（現在は版{head.version}、{who}{memo}{_when(head.updated_at)} 保存）。{not_done}{todo}",
            name=name,
            expected_version=expected,
            current_version=head.version,
        )

    def delete(self, name: str, *, expected_version: int) -> None:
        """Hide a plan (its history is kept); refused if it changed since you loaded it."""
        p = self._plans
        with self._write(f"区域案「{name}」の削除") as conn:
            head = self._head(conn, name, lock=True)
            if head is None or head.deleted_at is not None:
                raise PlanError(f"区域案「{name}」は保存されていないか、すでに削除されています。")
            if head.version != int(expected_version):
                raise self._conflict(conn, head, int(expected_version), verb="削除")
            res = conn.execute(
                sa.update(p)
                .where(p.c.id == head.id, p.c.version == head.version, p.c.deleted_at.is_(None))
                .values(deleted_at=_now())
            )
            if res.rowcount != 1:  # pragma: no cover - guarded by the row lock above
                raise ConflictError(
                    f"区域案「{name}」はほかの画面で変更されたため削除していません。開き直してください。",
                    name=name,
                    expected_version=int(expected_version),
                    current_version=None,
                )

    def restore(self, name: str) -> int:
        """Bring a deleted plan back to the list exactly as it was; returns its latest version.

        Deleting only hides a plan, so undoing it copies nothing: the plan, its versions and edit
        logs are all still there. Refused (PlanError) when the name was never saved, or is in the
        list already (not deleted, or saved again under that name since, whose older versions
        stay reachable through `history`).
        """
        p = self._plans
        with self._write(f"区域案「{name}」を元に戻す処理") as conn:
            head = self._head(conn, name, lock=True)
            if head is None:
                raise PlanError(f"区域案「{name}」は保存されたことがないため、元に戻せません。")
            if head.deleted_at is None:
                raise PlanError(
                    f"区域案「{name}」は一覧にあります（版{head.version}、{_when(head.updated_at)} 保存）。"
                    "元に戻す必要はありません。以前の版は「版」を選んで開けます。"
                )
            res = conn.execute(
                sa.update(p).where(p.c.id == head.id, p.c.deleted_at.is_not(None)).values(deleted_at=None)
            )
            if res.rowcount != 1:  # pragma: no cover - guarded by the row lock above
                raise ConflictError(
                    f"区域案「{name}」はほかの画面で変更されたため元に戻していません。一覧を確かめてください。",
                    name=name,
                    expected_version=None,
                    current_version=None,
                )
        return int(head.version)

    def copy(self, name: str, new_name: str, *, note: str | None = None, author: str = "") -> int:
        """'Save as': the latest version of `name` (with its edit history) becomes version 1 (or next) of `new_name`."""
        with self._read(f"区域案「{name}」の読み込み") as conn:  # plan and log from one read: the same version
            version, row = self._version_row(conn, name, None, self._versions.c.data, self._versions.c.edit_log)
        plan = _plan_from_snapshot(row.data, name, version)
        return self.save(
            plan.with_name(_check_name(new_name)),
            expected_version=None,
            note=f"「{name}」の版{version}からコピー" if note is None else note,
            author=author,
            edit_log=row.edit_log,
        )

    # -- lifetime ------------------------------------------------------------------------------
    def close(self) -> None:
        """Return the database connections (the store can be used again; it reconnects)."""
        self.engine.dispose()

    def __enter__(self) -> PlanStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PlanStore({self.url!r})"
