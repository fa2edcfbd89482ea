"""Errors that carry a message a planner can act on (in Japanese), never a traceback."""

from __future__ import annotations


class GeoAppError(Exception):
    """Base class: `str(err)` is a Japanese message that says what to fix."""

    exit_code = 2

    def __init__(self, message: str, *, source: str | None = None, row: int | None = None):
        self.message = message
        self.source = source
        self.row = row
        super().__init__(self.describe())

    def describe(self) -> str:
        where = []
        if self.source:
            where.append(f"ファイル「{self.source}」")
        if self.row is not None:
            where.append(f"{self.row}行目")
        prefix = " ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class InputError(GeoAppError):
    """The user's file or argument cannot be used as it is."""


class PlanError(InputError):
    """A plan table or plan name is wrong."""
