"""One pool of worker processes for a whole run, and an ordered, bounded map over it.

The passes (artists, labels, releases) share the pool and its shared-memory ring: starting
a pool per pass cost a few hundredths of a second each and left a core idle while it started.
Each pass hands the workers its own state (the filter) through `SharedRing.publish`. The
workers are forked from this process when that is safe (`_can_fork`: it starts in
milliseconds); otherwise the pool starts in a background thread from a fork server, which
first imports lxml and the workers' modules, and until it is up this process converts the
chunks itself, so that startup overlaps real work.

`Pool.imap` would drain the chunk iterator as fast as the file reads, holding the whole
decompressed dump in memory when workers lag; here at most `in_flight(workers)` chunks are
in flight, which is also how many shared-memory slots the chunks need (`convert.shared`).
With one worker everything runs in-process (same code path, no pickling).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from multiprocessing import forkserver
from multiprocessing.pool import AsyncResult, Pool
from types import TracebackType
from typing import Any, TypeVar, cast

from discogs_cache.convert import shared

R = TypeVar("R")


def in_flight(workers: int) -> int:
    """Chunks handed out at once: two per worker, so none waits while the next is cut."""
    return 2 * workers


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _can_fork() -> bool:
    """Whether the workers can be forked from this process: on Linux, while it runs a single
    thread (no reader or progress thread yet, whose locks a child could inherit held). Fork
    is the fastest start: the workers begin with everything imported."""
    return (
        sys.platform == "linux"
        and "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
    )


def _context(fork: bool) -> multiprocessing.context.BaseContext:
    """fork when `_can_fork`; else forkserver: workers fork from a clean single-threaded
    server with lxml preloaded, never from this process, whose threads must not be forked."""
    if fork:
        return multiprocessing.get_context("fork")
    if "forkserver" not in multiprocessing.get_all_start_methods():  # pragma: no cover
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(
        ["discogs_cache.convert.releases", "discogs_cache.convert.entities",
         "discogs_cache.convert.shared"]
    )  # fmt: skip
    return context


def start_early() -> None:
    """Start the fork server now, when the pool will need one: it imports lxml and the
    workers' modules (a few tenths of a second) while this process reads its inputs."""
    if not _can_fork() and isinstance(_context(False), multiprocessing.context.ForkServerContext):
        forkserver.ensure_running()


class Workers:
    """`workers` processes and the ring their chunks travel in (in-process when 1)."""

    def __init__(self, workers: int, chunk_size: int) -> None:
        self.workers = workers
        self.ring: shared.SharedRing | None = None
        self._pool: Pool | None = None
        self._error: BaseException | None = None
        self._started = threading.Event()
        if workers > 1:
            self.ring = shared.SharedRing(in_flight(workers), chunk_size)
            if _can_fork():
                sys.stdout.flush()  # or a child could write out buffered output again
                sys.stderr.flush()
                self._start(str(self.ring.path), fork=True)
            else:
                threading.Thread(
                    target=self._start, args=(str(self.ring.path),), daemon=True
                ).start()

    def _start(self, ring_path: str, fork: bool = False) -> None:
        try:
            self._pool = _context(fork).Pool(self.workers, shared.attach, (ring_path,))
        except BaseException as exc:  # re-raised in the thread that uses the pool
            self._error = exc
        finally:
            self._started.set()

    def _ready_pool(self, wait: bool) -> Pool | None:
        """The pool once it has started (waiting for it when `wait`), else None."""
        if not self._started.wait(None if wait else 0):
            return None
        if self._error is not None:
            raise self._error
        return self._pool

    def map(
        self,
        func: Callable[[int, bytes], R],
        chunks: Iterable[Any],
        initializer: Callable[..., None],
        initargs: tuple[Any, ...],
    ) -> Iterator[R]:
        """Apply func(chunk.offset, chunk.data) to every chunk, after initializer(*initargs)
        in each process that runs it; yield the results in order.

        chunk.data may be a (start, length) reference into `ring`; the chunk iterator may
        reuse a slot once `in_flight(workers)` later chunks were cut. Chunks are converted in
        this process while the pool is still starting, then all go to the pool.
        """
        ring, state, local = self.ring, None, False
        pending: deque[AsyncResult[R]] = deque()
        for chunk in chunks:
            pool = None if ring is None else self._ready_pool(wait=False)
            if pool is None or ring is None:
                if not local:
                    initializer(*initargs)
                    local = True
                data = chunk.data
                if isinstance(data, tuple):  # a ring reference: chunks come from the ring
                    start, length = data
                    data = cast(shared.SharedRing, ring).map[start : start + length]
                yield func(chunk.offset, data)
                continue
            if state is None:
                state = ring.publish((initializer, initargs))
            pending.append(pool.apply_async(shared.call, (func, chunk.offset, chunk.data, state)))
            if len(pending) >= in_flight(self.workers):
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()

    def wait(self) -> None:
        """Block until the pool has started (tests use it to be sure chunks go to the pool)."""
        if self.ring is not None:
            self._ready_pool(wait=True)

    def close(self) -> None:
        if self.ring is None:
            return
        self._started.wait()
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None
        self.ring.close()
        self.ring = None

    def __enter__(self) -> Workers:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
