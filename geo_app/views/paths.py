"""Output paths that stay inside the folder the user chose.

Exports take a file name from a form or a command line; a name such as `../x.xlsx`, an absolute
path or a symlink planted in the folder must not let a write land somewhere else.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath, PureWindowsPath

from geo_app.core.errors import InputError

__all__ = ["safe_output_path"]

_SEPARATORS = re.compile(r"[\\/]+")


def safe_output_path(out_dir: Path | str, filename: str) -> Path:
    """`out_dir / filename`, refusing names that would escape `out_dir`; creates the folders.

    Sub-folders inside `out_dir` are allowed (`maps/a.png`). Rejected: empty names, `..`,
    absolute paths (POSIX or Windows, drive letters, UNC), NUL characters, and anything whose
    real location (after following symlinks) is outside `out_dir`.
    """
    name = "" if filename is None else str(filename)
    shown = name if len(name) <= 80 else name[:77] + "..."
    if not name.strip() or name.strip() in (".",):
        raise InputError("出力ファイル名が空です。ファイル名（例: 在宅医療圏.xlsx）を指定してください。")
    if "\x00" in name:
        raise InputError(
            f"出力ファイル名「{shown!r}」に使えない文字（NUL）が入っています。ファイル名を付け直してください。"
        )
    if (
        PurePosixPath(name).is_absolute()
        or PureWindowsPath(name).is_absolute()
        or PureWindowsPath(name).drive
        or name.startswith(("/", "\\", "~"))
    ):
        raise InputError(
            f"出力ファイル名「{shown}」はフォルダの場所を含む絶対パスです。"
            "保存先フォルダの中のファイル名だけ（例: 在宅医療圏.xlsx）を指定してください。"
        )
    parts = [p for p in _SEPARATORS.split(name) if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise InputError(
            f"出力ファイル名「{shown}」に「..」（上のフォルダ）が含まれています。保存先フォルダの外には保存できません。ファイル名だけを指定してください。"
        )
    if not parts:
        raise InputError(f"出力ファイル名「{shown}」にファイル名の部分がありません。例: 在宅医療圏.xlsx")

    out_dir = Path(out_dir).expanduser()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"保存先フォルダ「{out_dir}」を作れません（{exc.strerror or exc}）。書き込めるフォルダを指定してください。"
        ) from None
    base = out_dir.resolve()
    target = base.joinpath(*parts)
    real = target.resolve()  # follows symlinks, also of a file that is already there
    if real != base and not real.is_relative_to(base):
        raise InputError(
            f"出力ファイル「{shown}」は保存先フォルダの外（{real.parent}）を指すリンクになっています。別のファイル名にしてください。"
        )
    if real == base:
        raise InputError(
            f"出力ファイル名「{shown}」が保存先フォルダそのものを指しています。ファイル名を指定してください。"
        )
    if real.is_dir():
        raise InputError(f"出力ファイル名「{shown}」と同じ名前のフォルダがあります。別のファイル名にしてください。")
    real.parent.mkdir(parents=True, exist_ok=True)
    return real
