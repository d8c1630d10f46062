"""Shared-memory slots that carry chunks from the reading process to the workers.

Sending a 4 MB chunk through `Pool.apply_async` costs the main process a pickle copy and a
pipe write, and the worker a read and an unpickle — about a third of the main process's CPU,
which is the pipeline's serial part. Instead the main process decompresses straight into a
slot of one shared file mapping (/dev/shm) and sends `(start, length)`; a worker copies its
chunk out once. Slots are reused round-robin: `parallel.ordered_map` never has more chunks in
flight than there are slots, so a slot is free again by the time it comes round.
"""

from __future__ import annotations

import mmap
import os
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
        self._tracked = f"/{self.path.name}" if _SHM_DIR else None
        if self._tracked:
            resource_tracker.register(self._tracked, "shared_memory")

    def close(self) -> None:
        if self._tracked:
            resource_tracker.unregister(self._tracked, "shared_memory")
            self._tracked = None
        self.path.unlink(missing_ok=True)
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


_attached: dict[str, mmap.mmap] = {}


def attach(path: str, initializer: Any, initargs: tuple[Any, ...]) -> None:
    """Worker initializer: map the ring read-only, then run the step's own initializer."""
    with open(path, "rb") as handle:
        _attached["ring"] = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    initializer(*initargs)


def call(func: Any, offset: int, data: bytes | tuple[int, int]) -> Any:
    """Run func(offset, chunk bytes) in a worker; data is inline bytes or a ring reference."""
    if isinstance(data, tuple):
        start, length = data
        ring = _attached["ring"]
        chunk = ring[start : start + length]
        # drop this process's mapping of the pages: they are the owner's memory, not ours
        page = mmap.PAGESIZE
        first = start - start % page
        ring.madvise(mmap.MADV_DONTNEED, first, start + length - first)
        data = chunk
    return func(offset, data)
