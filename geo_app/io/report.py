"""What a loader decided about the user's data (wards merged, villages dropped …), said to the user."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["LoadReport"]


@dataclass
class LoadReport:
    """What a loader decided about the user's data, in Japanese, with counts."""

    notes: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, count: int, message: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + int(count)
        if count:
            self.notes.append(message)
