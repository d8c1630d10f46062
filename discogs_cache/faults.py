"""Named fault-injection points, so kill tests land *inside* a step, deterministically.

A test that SIGKILLs a run "0.2 s after the step started" mostly kills it after the step
has already finished. Instead, the code calls `point("load.after_copy")` at the places
worth interrupting, and a test starts the process with
`DISCOGS_CACHE_FAULT=load.after_copy` (several names: comma-separated). When the process
reaches a named point it records the name in `DISCOGS_CACHE_FAULT_LOG` (a file, if set),
then kills itself with SIGKILL: no cleanup handler, `finally` or `atexit` runs, exactly as
when the machine dies. With the variable unset a point costs one dict lookup.

`DISCOGS_CACHE_FAULT_SKIP=N` lets the first N hits of the named points pass (a point inside
a loop can then be hit in its middle, not only on the first turn).
"""

from __future__ import annotations

import os
import signal
import threading

ENV = "DISCOGS_CACHE_FAULT"
ENV_LOG = "DISCOGS_CACHE_FAULT_LOG"
ENV_SKIP = "DISCOGS_CACHE_FAULT_SKIP"

_hits = 0
_counting = threading.Lock()
_fired = threading.Lock()
"""Taken by the first thread that fires and never released: a second thread reaching a
armed point meanwhile waits here for the SIGKILL instead of logging a second hit."""


def armed() -> frozenset[str]:
    """The point names armed in this process's environment."""
    value = os.environ.get(ENV, "")
    return frozenset(name.strip() for name in value.split(",") if name.strip())


def point(name: str) -> None:
    """SIGKILL this process here when `name` is armed (see the module docstring)."""
    global _hits
    if ENV not in os.environ or name not in armed():
        return
    with _counting:
        _hits += 1
        if _hits <= int(os.environ.get(ENV_SKIP, "0") or 0):
            return
    _fired.acquire()
    log = os.environ.get(ENV_LOG)
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(name + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    os.kill(os.getpid(), signal.SIGKILL)


__all__ = ["ENV", "ENV_LOG", "ENV_SKIP", "armed", "point"]
