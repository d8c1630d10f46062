"""The run's final summary: one table on stdout and the same facts as JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from discogs_cache.progress import format_table, human_bytes


@dataclass
class StepReport:
    """One step as the summary shows it: ran, skipped (state file) or inferred (database)."""

    name: str
    status: str
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        parts = []
        for key, value in self.details.items():
            if isinstance(value, dict) and key == "rows":  # all tables are in the JSON
                key, value = "releases", value.get("release", 0)
            elif isinstance(value, dict) and not value:
                continue
            elif isinstance(value, dict):
                value = ", ".join(f"{k} {v}" for k, v in value.items())
            elif key.endswith("bytes") and isinstance(value, int):
                key, value = key.removesuffix("_bytes"), human_bytes(value)
            parts.append(f"{key.replace('_', ' ')}: {value}")
        return "; ".join(parts)


@dataclass
class RunSummary:
    """What `run` did: per-step seconds and facts, the final cache and its size."""

    mode: str
    database: str
    target: str | None = None
    steps: list[StepReport] = field(default_factory=list)
    seconds: float = 0.0
    releases: int | None = None
    size_bytes: int | None = None
    classification: dict[str, int] = field(default_factory=dict)
    dedup_removed: int | None = None

    def format(self) -> str:
        rows = [(s.name, s.status, f"{s.seconds:.2f}", s.describe()) for s in self.steps]
        lines = [format_table(("step", "status", "seconds", "details"), rows)]
        where = self.target or self.database
        tail = f"total {self.seconds:.2f} s"
        if self.releases is not None:
            tail += f"; {self.releases} releases in {where}"
        if self.size_bytes is not None:
            tail += f" ({human_bytes(self.size_bytes)})"
        if self.classification:
            tail += "; " + ", ".join(f"{k} {v}" for k, v in self.classification.items())
        if self.dedup_removed is not None:
            tail += f"; dedup removed {self.dedup_removed}"
        lines.append(tail)
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "database": self.database,
            "target": self.target,
            "seconds": round(self.seconds, 3),
            "releases": self.releases,
            "size_bytes": self.size_bytes,
            "classification": self.classification,
            "dedup_removed": self.dedup_removed,
            "steps": [
                {
                    "name": s.name,
                    "status": s.status,
                    "seconds": round(s.seconds, 3),
                    "details": s.details,
                }
                for s in self.steps
            ],
        }
