"""Progress reporting: the one place that writes progress bars, notes and summary tables.

Everything goes to stderr so stdout stays clean for reports and `--json` output.
`set_quiet(True)` (the CLI's `--quiet`) silences bars and notes but not errors.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from tqdm import tqdm

_state = {"quiet": False}


def set_quiet(quiet: bool) -> None:
    _state["quiet"] = quiet


def is_quiet() -> bool:
    return _state["quiet"]


def note(message: str) -> None:
    """One line of progress information on stderr."""
    if not _state["quiet"]:
        print(message, file=sys.stderr, flush=True)


def bar(total: float | None = None, desc: str = "", unit: str = "it", **kwargs: Any) -> tqdm:
    """A tqdm progress bar on stderr; disabled when quiet. Use as a context manager."""
    kwargs.setdefault("unit_scale", unit in {"B", "rows"})
    kwargs.setdefault("unit_divisor", 1024 if unit == "B" else 1000)
    kwargs.setdefault("dynamic_ncols", True)
    kwargs.setdefault("mininterval", 0.5)
    return tqdm(
        total=total, desc=desc, unit=unit, file=sys.stderr, disable=_state["quiet"], **kwargs
    )


@contextmanager
def timed(label: str) -> Iterator[dict[str, float]]:
    """Measure a block; the yielded dict gets `seconds` when the block ends. The time is
    printed only when the block succeeded: a failure's `error:` line says enough."""
    result: dict[str, float] = {}
    start = time.perf_counter()
    try:
        yield result
    finally:
        result["seconds"] = time.perf_counter() - start
    note(f"{label}: {result['seconds']:.2f} s")


def human_bytes(size: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(size) < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain aligned text table (numbers right-aligned) for summaries and reports."""
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [
        all(_is_number(r[i]) for r in rows if r[i] is not None and r[i] != "") and bool(rows)
        for i in range(len(headers))
    ]

    def fmt(row: list[str]) -> str:
        parts = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(row, widths, numeric)]
        return "  ".join(parts).rstrip()

    lines = [fmt(cells[0]), "  ".join("-" * w for w in widths)]
    lines += [fmt(r) for r in cells[1:]]
    return "\n".join(lines)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
