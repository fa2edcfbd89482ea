"""Where the app keeps uploaded files, and when they go away (no Streamlit import: unit-testable).

A 250 MB upload is held by Streamlit in memory and written by us to disk so that the loaders can
read it by path; both copies must go as soon as they are no longer needed:

    <tempdir>/geo_app_uploads/<server>/<session id>/<kind>/<one folder per upload>/<file>

- ``<server>``: one folder per server process, locked (``fcntl.flock``) while the process lives.
  At start (`sweep`, called by serve.py) the folders of servers that are gone (lock free) are
  removed: the leftovers of earlier runs, even of a server that was killed.
- ``<session id>``: removed when Streamlit drops the session. Streamlit has no public session-end
  hook, so `SessionFolder`, kept in the session state, removes its folder when it is garbage
  collected (`weakref.finalize`), which happens when Streamlit forgets the session (the browser tab
  closed and ``server.disconnectedSessionTTL`` passed). As a fallback, `sweep` also runs on each new
  upload and removes the folders of sessions that are not alive and were not touched for
  `SESSION_GRACE` seconds.
- one folder per upload: removed at once when the upload is refused (`discard`), and when the
  workspace stops using it (`keep_only`, after the workspace is replaced).

Only folders under the uploads root are ever removed, whatever path is passed in.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import weakref
from collections.abc import Callable, Iterable, MutableMapping
from pathlib import Path
from typing import Protocol

from geo_app.core.errors import InputError

__all__ = [
    "MAX_UPLOAD_MB",
    "SESSION_GRACE",
    "upload_root",
    "server_dir",
    "session_dir",
    "SessionFolder",
    "save",
    "discard",
    "keep_only",
    "sweep",
    "folder_size",
    "uploader_key",
    "next_uploader",
    "session_folder",
    "release_unused",
    "release_streamlit_files",
]

#: Streamlit's ``server.maxUploadSize`` (MB). Streamlit holds every upload in memory, so this is the
#: memory one upload may pin. A prefecture's N03 zip is tens of MB (Hokkaido, the largest, well under
#: 200 MB); the national zip is several hundred MB and covers 47 prefectures where the app works on
#: one plan's prefectures: upload those prefectures' zips (several at once) instead.
MAX_UPLOAD_MB = 200
#: A session folder whose session is not alive is kept this long after it was last touched:
#: several times Streamlit's default ``server.disconnectedSessionTTL`` (120 s), so a tab that
#: reconnects after a network hiccup still finds its files.
SESSION_GRACE = 30 * 60
_ROOT_NAME = "geo_app_uploads"
_LEGACY_PREFIX = "geo_app_upload_"  # mkdtemp folders of geo_app before this module: one per session
_LEGACY_AGE = 12 * 3600
_LOCK = ".lock"
_server: tuple[Path, int | None] | None = None  # this process's folder and the lock's descriptor


class Upload(Protocol):
    """What Streamlit's UploadedFile offers (a BytesIO with a name)."""

    name: str

    def seek(self, offset: int, whence: int = 0) -> int: ...

    def read(self, size: int = -1) -> bytes: ...


def upload_root(root: Path | None = None) -> Path:
    """The app-level parent of all upload folders (GEO_APP_UPLOAD_DIR overrides, e.g. in tests).

    In a shared temp folder, a ``geo_app_uploads`` that is a symlink or belongs to another user is
    not used (it could be a trap): then ``geo_app_uploads-<uid>``.
    """
    if root is not None:
        return Path(root)
    env = os.environ.get("GEO_APP_UPLOAD_DIR")
    if env:
        return Path(env)
    base = Path(tempfile.gettempdir()) / _ROOT_NAME
    uid = getattr(os, "getuid", lambda: None)()
    if uid is not None and (base.is_symlink() or (base.exists() and base.stat().st_uid != uid)):
        base = base.with_name(f"{_ROOT_NAME}-{uid}")
    return base


def _lock(path: Path) -> int | None:
    """An exclusive lock held for the life of this process (released by the OS when it dies)."""
    try:
        import fcntl
    except ImportError:  # Windows: server folders of earlier runs are then removed by age
        return None
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def _held(path: Path) -> bool:
    """Whether a live process holds the lock file `path` (False when it can be taken)."""
    try:
        import fcntl
    except ImportError:
        return True
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def server_dir(root: Path | None = None) -> Path:
    """This process's folder under the root, created and locked on first use."""
    global _server
    base = upload_root(root)
    if _server is not None and _server[0].parent == base and _server[0].is_dir():
        return _server[0]
    base.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=base))  # private (0700), unique
    _server = (path, _lock(path / _LOCK))
    return path


def _safe_name(session_id: str) -> str:
    """A session id as a folder name (Streamlit's are UUIDs; anything else is reduced to safe characters)."""
    text = "".join(ch for ch in str(session_id) if ch.isascii() and (ch.isalnum() or ch in "-_"))[:80]
    return text or "session"


def session_dir(session_id: str, root: Path | None = None) -> Path:
    """The folder of one session's uploads (created)."""
    path = server_dir(root) / _safe_name(session_id)
    path.mkdir(exist_ok=True)
    return path


def _inside(path: Path, root: Path | None = None) -> bool:
    try:
        Path(path).resolve().relative_to(upload_root(root).resolve())
    except (ValueError, OSError):
        return False
    return Path(path).resolve() != upload_root(root).resolve()


def _remove(path: str | Path, root: Path | None = None) -> None:
    if _inside(Path(path), root):
        shutil.rmtree(path, ignore_errors=True)


class SessionFolder:
    """A session's upload folder that is removed when this object is garbage collected.

    Kept in ``st.session_state``: when Streamlit drops the session, its state goes, and with it the
    folder. (Streamlit has no public session-end hook; `sweep` is the fallback.)
    """

    def __init__(self, session_id: str, root: Path | None = None):
        self.session_id = session_id
        self.root = root
        self.path = session_dir(session_id, root)
        self._finalizer = weakref.finalize(self, _remove, str(self.path), root)

    def ensure(self) -> Path:
        """The folder, created again if a sweep took it while the session looked gone."""
        self.path.mkdir(parents=True, exist_ok=True)
        return self.path

    def remove(self) -> None:
        self._finalizer()


_STATE_KEY = "_uploads"


def session_folder(state: MutableMapping, session_id: str, root: Path | None = None) -> Path:
    """The session's upload folder, kept in its state (`state` is ``st.session_state``)."""
    folder = state.get(_STATE_KEY)
    if not isinstance(folder, SessionFolder):
        folder = state[_STATE_KEY] = SessionFolder(session_id, root)
    return folder.ensure()


def release_unused(state: MutableMapping, in_use: Iterable[str | Path | None]) -> int:
    """After the workspace was replaced: remove the session's uploads it no longer reads."""
    folder = state.get(_STATE_KEY)
    return keep_only(folder.path, in_use) if isinstance(folder, SessionFolder) else 0


def save(files: Iterable[Upload], folder: Path, kind: str) -> list[str]:
    """Write uploads into a new folder of their own under ``folder/kind`` and return their paths.

    A corrected file with the same name gets a new path (the data cache is keyed by path), and the
    files the current workspace reads are never overwritten. Streamed in 1 MB pieces: no second
    copy of a large upload in memory. On any failure the new folder is removed again.
    """
    base = Path(folder) / kind
    base.mkdir(parents=True, exist_ok=True)
    target = Path(tempfile.mkdtemp(dir=base))
    paths: list[str] = []
    try:
        for f in files:
            path = target / (Path(str(f.name)).name or "upload")
            f.seek(0)
            with path.open("wb") as out:
                shutil.copyfileobj(f, out, 1 << 20)
            paths.append(str(path))
    except OSError as exc:
        shutil.rmtree(target, ignore_errors=True)
        raise InputError(
            f"アップロードしたファイルを一時フォルダに保存できません（{exc.strerror or type(exc).__name__}）。"
            "サーバーのディスクの空き容量を確かめてください。"
        ) from exc
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return paths


def _upload_folder(path: str | Path, folder: Path) -> Path | None:
    """The per-upload folder (``folder/kind/<upload>``) that holds `path`, if it is under `folder`."""
    try:
        rel = Path(path).resolve().relative_to(Path(folder).resolve())
    except (ValueError, OSError):
        return None
    return Path(folder) / rel.parts[0] / rel.parts[1] if len(rel.parts) >= 3 else None


def discard(paths: Iterable[str | Path], folder: Path) -> None:
    """Remove the upload folders holding `paths` (a refused upload): nothing of it stays on disk."""
    for p in paths:
        up = _upload_folder(p, folder)
        if up is not None:
            shutil.rmtree(up, ignore_errors=True)


def keep_only(folder: Path, in_use: Iterable[str | Path | None]) -> int:
    """Remove every upload folder of a session that holds none of the files in use; how many went."""
    keep = {u for u in (_upload_folder(p, folder) for p in in_use if p) if u is not None}
    removed = 0
    for kind in (p for p in Path(folder).iterdir() if p.is_dir()) if Path(folder).is_dir() else ():
        for up in (p for p in kind.iterdir() if p.is_dir()):
            if up not in keep:
                shutil.rmtree(up, ignore_errors=True)
                removed += 1
    return removed


def sweep(
    root: Path | None = None,
    *,
    alive: Callable[[str], bool] | None = None,
    grace: float = SESSION_GRACE,
    now: float | None = None,
) -> list[Path]:
    """Remove what no live session can use any more; the folders removed.

    - folders of server processes that are gone (their lock is free; without ``fcntl``: untouched
      for a day), i.e. of earlier runs;
    - in this server's folder, when `alive` is given, the folders of sessions that are not alive and
      were not touched for `grace` seconds (a live session's folder is touched, so its age counts
      from when it was last seen alive);
    - ``geo_app_upload_*`` folders left in the temp folder by earlier versions, untouched for 12 hours.
    """
    now = time.time() if now is None else now
    base = upload_root(root)
    removed: list[Path] = []
    mine = _server[0] if _server is not None else None
    if base.is_dir():
        for server in (p for p in base.iterdir() if p.is_dir()):
            if mine is not None and server == mine:
                continue
            if _has_fcntl():  # a folder being created this moment has no lock file yet: give it a minute
                lock = server / _LOCK
                gone = not _held(lock) and (lock.exists() or now - _mtime(server) > 60)
            else:
                gone = now - _mtime(server) > 24 * 3600
            if gone:
                shutil.rmtree(server, ignore_errors=True)
                removed.append(server)
    if mine is not None and mine.parent == base and alive is not None and mine.is_dir():
        for session in (p for p in mine.iterdir() if p.is_dir()):
            if alive(session.name):
                os.utime(session)
            elif now - _mtime(session) > grace:
                shutil.rmtree(session, ignore_errors=True)
                removed.append(session)
    if root is None and not os.environ.get("GEO_APP_UPLOAD_DIR"):
        for old in Path(tempfile.gettempdir()).glob(f"{_LEGACY_PREFIX}*"):
            if old.is_dir() and now - _mtime(old) > _LEGACY_AGE:
                shutil.rmtree(old, ignore_errors=True)
                removed.append(old)
    return removed


def _has_fcntl() -> bool:
    try:
        import fcntl  # noqa: F401
    except ImportError:
        return False
    return True


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def folder_size(path: Path | None = None) -> int:
    """Bytes in all files under `path` (default: the uploads root): for the benchmark and tests."""
    base = upload_root() if path is None else Path(path)
    total = 0
    for dirpath, _dirs, files in os.walk(base):
        for f in files:
            try:
                total += os.lstat(os.path.join(dirpath, f)).st_size
            except OSError:
                pass
    return total


# ---- the file_uploader widget ----------------------------------------------------------------
def uploader_key(state: MutableMapping, base: str) -> str:
    """The file_uploader's current key: `base`, then `base_1`, `base_2` … after each use.

    A new key is a new, empty widget: Streamlit forgets the old one and the bytes it held.
    """
    n = int(state.get(f"_{base}_generation", 0))
    return base if n == 0 else f"{base}_{n}"


def next_uploader(state: MutableMapping, base: str) -> None:
    """Consume the current file_uploader: the next page shows an empty one under a new key."""
    state[f"_{base}_generation"] = int(state.get(f"_{base}_generation", 0)) + 1


def release_streamlit_files(files: Iterable[object]) -> None:
    """Drop consumed uploads from Streamlit's in-memory upload store at once.

    Streamlit keeps an upload's bytes until the browser deletes the file or the session ends;
    `st.chat_input` removes them the same way once read. Best effort: internal API, so nothing
    here may fail the upload.
    """
    try:
        from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
        from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

        ctx = get_script_run_ctx()
        if ctx is None or not isinstance(ctx.uploaded_file_mgr, MemoryUploadedFileManager):
            return
        for f in files:
            file_id = getattr(f, "file_id", None)
            if file_id:
                ctx.uploaded_file_mgr.remove_file(session_id=ctx.session_id, file_id=file_id)
    except Exception:  # noqa: BLE001 - freeing memory early is an optimisation, never an error
        pass
