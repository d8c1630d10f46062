"""Shared-memory slots that carry chunks from the reading process to the workers.

Sending a 4 MB chunk through `Pool.apply_async` costs the main process a pickle copy and a
pipe write, and the worker a read and an unpickle — about a third of the main process's CPU,
which is the pipeline's serial part. Instead the main process decompresses straight into a
slot of one shared file mapping (/dev/shm) and sends `(start, length)`; a worker copies its
chunk out once. Slots are reused round-robin: `parallel.Workers.map` never has more chunks in
flight than there are slots, so a slot is free again by the time it comes round.

A pass's worker state (its initializer and arguments: the filter, with the artist ids matched
so far) is published once as a pickle file next to the ring; tasks carry only its path, and a
worker loads it when the path changes, so a 2 MB id bitmap is not pickled with every chunk.
"""

from __future__ import annotations

import mmap
import os
import pickle
import signal
import tempfile
from multiprocessing import resource_tracker
from pathlib import Path
from types import TracebackType
from typing import Any

_SHM_DIR = "/dev/shm" if os.path.isdir("/dev/shm") else None  # tmpfs: never hits a disk


class SharedRing:
    """`slots` buffers of `slot_size` bytes in one shared file mapping (owner side)."""

    def __init__(self, slots: int, slot_size: int) -> None:
        self.slots, self.slot_size = slots, slot_size
        fd, name = tempfile.mkstemp(prefix="discogs-cache-convert-", dir=_SHM_DIR)
        self.path = Path(name)
        try:
            os.ftruncate(fd, slots * slot_size)
            self.map = mmap.mmap(fd, slots * slot_size)
        except BaseException:
            self.path.unlink(missing_ok=True)
            raise
        finally:
            os.close(fd)
        self.view = memoryview(self.map)
        # a /dev/shm file is a POSIX shared memory object: multiprocessing's resource tracker
        # removes it if this process dies without closing the ring (kill -9 included)
        self._tracked: list[str] = []
        self._track(self.path)
        self._states: list[Path] = []

    def _track(self, path: Path) -> None:
        if _SHM_DIR:
            self._tracked.append(f"/{path.name}")
            resource_tracker.register(self._tracked[-1], "shared_memory")

    def publish(self, state: Any) -> str:
        """Write `state` for the workers (see `call`); returns the token tasks carry."""
        path = self.path.with_name(f"{self.path.name}.state{len(self._states)}")
        self._states.append(path)
        self._track(path)
        path.write_bytes(pickle.dumps(state, pickle.HIGHEST_PROTOCOL))
        return str(path)

    def close(self) -> None:
        for name in self._tracked:
            resource_tracker.unregister(name, "shared_memory")
        self._tracked = []
        for path in (self.path, *self._states):
            path.unlink(missing_ok=True)
        try:
            self.view.release()
            self.map.close()
        except BufferError:  # a slice still referenced by an exception's traceback: the
            pass  # mapping goes when that does; the file is already unlinked

    def __enter__(self) -> SharedRing:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


_attached: dict[str, Any] = {}


def attach(path: str) -> None:
    """Worker initializer: map the ring read-only. Ctrl-C is the parent's to handle (it
    terminates the pool): a worker that took it would print its own traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with open(path, "rb") as handle:
        _attached["ring"] = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    _attached["state"] = None


def call(func: Any, offset: int, data: bytes | tuple[int, int], state: str) -> Any:
    """Run func(offset, chunk bytes) in a worker, after the initializer published as `state`
    if this worker has not run it yet; data is inline bytes or a ring reference."""
    if _attached["state"] != state:
        with open(state, "rb") as handle:
            initializer, initargs = pickle.load(handle)
        initializer(*initargs)
        _attached["state"] = state
    if isinstance(data, tuple):
        start, length = data
        # the ring's pages stay mapped here (dropping them with madvise cost as much as the
        # copy, faulting them back in the next time round): shared, counted in each RSS
        data = _attached["ring"][start : start + length]
    return func(offset, data)
