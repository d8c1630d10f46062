"""Download a month's Discogs dump: resumable, sha256-verified, renamed into place only when good.

Each file streams to a hidden partial name in DEST (`.NAME.part`, which the converter ignores)
while its sha256 is computed. A broken connection is retried with `Range: bytes=N-`; a server
that ignores the Range (200 instead of 206, or a Content-Range starting elsewhere) makes the
file start over cleanly. A partial left by a killed run is resumed the same way. Only a file
whose sha256 matches the month's CHECKSUM.txt is fsynced and renamed to its final name; a
mismatch removes the partial, so neither a bad file nor a bad resume point is left behind.
A file already present under its final name and matching the checksum is skipped.
DEST then holds one dump per kind, so `run --xml DEST` takes it as is.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import quote

import httpx
from tqdm import tqdm

from discogs_cache import faults, progress
from discogs_cache.discogs.bucket import (
    CHECKSUM,
    DEFAULT_KINDS,
    Dump,
    DumpObject,
    dumps_url,
    find_dump,
    parse_checksums,
    parse_kinds,
    parse_month,
)
from discogs_cache.discogs.http import http_errors, make_client, safe_url
from discogs_cache.errors import CacheError, InputError
from discogs_cache.files import write_text_atomic

CHUNK = 1 << 20
_DUMP_FILE = re.compile(r"discogs_(\d{8})_(releases|artists|labels|masters)\.xml(?:\.gz)?")
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


@dataclass
class FileResult:
    """What happened to one file: `downloaded` (with how many resumes) or `skipped`."""

    name: str
    size: int
    status: str
    downloaded_bytes: int = 0
    resumes: int = 0
    seconds: float = 0.0  # transfer time, pauses between retries included


@dataclass
class DownloadSummary:
    """The dump chosen, where it went, and what each file took."""

    date: str
    month: str
    dest: Path
    files: list[FileResult] = field(default_factory=list)
    seconds: float = 0.0  # everything: listing, verifying present files, transfers

    @property
    def downloaded_bytes(self) -> int:
        return sum(f.downloaded_bytes for f in self.files)

    @property
    def mb_per_s(self) -> float:
        """The transfer rate (time spent verifying files already present does not count)."""
        seconds = sum(f.seconds for f in self.files)
        return self.downloaded_bytes / 1e6 / seconds if seconds else 0.0


class _Retry(Exception):
    """A transient failure of one attempt (dropped connection, 5xx): resume after a pause."""


def download(
    month: str | None,
    dest: Path | None = None,
    kinds: str | Sequence[str] = DEFAULT_KINDS,
    *,
    base_url: str | None = None,
    retries: int = 5,
    backoff: float = 1.0,
) -> DownloadSummary:
    """Download the `month` ('YYYY-MM'; None/'latest': newest complete) dump's `kinds` to `dest`.

    `dest` defaults to `./discogs-YYYY-MM` (one directory per dump, ready for `run --xml`).

    `retries` is how many failed attempts in a row (no byte gained) a file may have before
    the download gives up; the pause between them doubles from `backoff` seconds.
    """
    wanted_month = parse_month(month)
    wanted = parse_kinds(kinds)
    started = time.perf_counter()
    with make_client(dumps_url(base_url)) as client:
        dump = find_dump(client, wanted_month, wanted)
        dest = Path(dest) if dest is not None else Path(f"discogs-{dump.month}")
        _check_dest(dest, dump)
        sums = _checksums(client, dump, dest)
        summary = DownloadSummary(dump.date, dump.month, dest)
        progress.note(f"Discogs dump {dump.date} ({dump.month}): {', '.join(wanted)} -> {dest}")
        todo: list[DumpObject] = []
        for kind in wanted:
            obj = dump.files[kind]
            if obj.name not in sums:
                raise CacheError(f"{dump.files[CHECKSUM].name} lists no sha256 for {obj.name}")
            if _present_and_verified(dest / obj.name, sums[obj.name]):
                progress.note(f"{obj.name}: already present and verified, skipped")
                summary.files.append(FileResult(obj.name, obj.size, "skipped"))
            else:
                todo.append(obj)
        _check_space(dest, todo)
        for obj in todo:
            summary.files.append(
                _fetch(client, obj, dest, sums[obj.name], retries=retries, backoff=backoff)
            )
    summary.seconds = time.perf_counter() - started
    return summary


def _check_dest(dest: Path, dump: Dump) -> None:
    """DEST must be a directory holding no other month's dump (`run --xml` would mix them)."""
    if dest.exists() and not dest.is_dir():
        raise InputError(f"--dest {dest}: not a directory")
    dest.mkdir(parents=True, exist_ok=True)
    others = sorted(
        p.name
        for p in dest.iterdir()
        if (m := _DUMP_FILE.fullmatch(p.name)) is not None and m.group(1) != dump.date
    )
    if others:
        raise InputError(
            f"--dest {dest}: holds another dump ({', '.join(others)}); `run --xml` would mix"
            " months: choose another --dest or remove those files"
        )


def _checksums(client: httpx.Client, dump: Dump, dest: Path) -> dict[str, str]:
    """The month's {file name: sha256}; the CHECKSUM file is also kept in DEST for reference."""
    obj = dump.files[CHECKSUM]
    response = _get_small(client, obj.key)
    text = response.text
    sums = parse_checksums(text)
    write_text_atomic(dest / obj.name, text)
    return sums


def _get_small(client: httpx.Client, key: str) -> httpx.Response:
    url = _url(client, key)
    with http_errors("downloading", url):
        response = client.get(_path(key))
    if response.status_code != 200:
        raise CacheError(f"downloading {safe_url(url)}: HTTP {response.status_code}")
    return response


def _present_and_verified(path: Path, sha256: str) -> bool:
    if not path.is_file():
        return False
    if _sha256_of(path, f"verifying {path.name}") == sha256:
        return True
    progress.note(f"{path.name}: present but does not match the checksum, downloading again")
    return False


def _sha256_of(path: Path, desc: str) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle, progress.bar(path.stat().st_size, desc, unit="B") as bar:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            bar.update(len(chunk))
    return digest.hexdigest()


def _check_space(dest: Path, todo: Sequence[DumpObject]) -> None:
    partial = sum(_part(dest, o).stat().st_size for o in todo if _part(dest, o).is_file())
    needed = sum(o.size for o in todo) - partial
    free = shutil.disk_usage(dest).free
    if needed > free:
        raise InputError(
            f"--dest {dest}: needs {progress.human_bytes(needed)}, only"
            f" {progress.human_bytes(free)} free"
        )


def _part(dest: Path, obj: DumpObject) -> Path:
    return dest / f".{obj.name}.part"


def _fetch(
    client: httpx.Client, obj: DumpObject, dest: Path, sha256: str, *, retries: int, backoff: float
) -> FileResult:
    """Download one object to its partial name, resuming on failures; verify, then rename."""
    final, part = dest / obj.name, _part(dest, obj)
    result = FileResult(obj.name, obj.size, "downloaded")
    started = time.perf_counter()
    with _locked(part) as handle:
        transfer = _Transfer(client, obj, handle)
        failures = 0
        with progress.bar(obj.size, obj.name, unit="B", initial=transfer.offset) as bar:
            transfer.bar = bar
            while transfer.offset < obj.size:
                before = transfer.received
                try:
                    transfer.attempt()
                except _Retry as exc:
                    failures = 0 if transfer.received > before else failures + 1
                    if failures > retries:
                        url = safe_url(_url(client, obj.key))
                        raise CacheError(
                            f"downloading {url}: {exc}; gave up after {failures} tries"
                        ) from None
                    progress.note(f"{obj.name}: {exc}; resuming at byte {transfer.offset}")
                    result.resumes += 1
                    time.sleep(backoff * 2 ** max(failures - 1, 0))
        result.downloaded_bytes = transfer.received
        result.seconds = time.perf_counter() - started
        handle.flush()
        os.fsync(handle.fileno())
        if transfer.digest.hexdigest() != sha256:
            part.unlink()
            raise CacheError(
                f"{obj.name}: sha256 {transfer.digest.hexdigest()[:12]}… does not match the"
                f" checksum {sha256[:12]}…; the download was removed, run again to fetch it anew"
            )
        part.replace(final)
    _fsync_dir(dest)
    return result


@contextlib.contextmanager
def _locked(part: Path) -> Iterator[IO[bytes]]:
    """The partial file opened for appending, locked so two downloads cannot share it."""
    with part.open("a+b", buffering=0) as handle:  # unbuffered: a kill loses no received byte
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CacheError(f"{part}: another download is writing this file") from None
        yield handle


class _Transfer:
    """One file's partial bytes on disk, their running sha256, and the GETs that extend them."""

    def __init__(self, client: httpx.Client, obj: DumpObject, handle: IO[bytes]) -> None:
        self.client, self.obj, self.handle = client, obj, handle
        self.bar: tqdm | None = None
        self.received = 0  # bytes this run got from the network
        self.digest = hashlib.sha256()
        handle.seek(0, os.SEEK_END)
        if handle.tell() > obj.size:  # not a prefix of this object: start over
            handle.truncate(0)
        handle.seek(0)
        while chunk := handle.read(CHUNK):  # a killed run's partial: hash it, resume after it
            self.digest.update(chunk)
        self.offset = handle.tell()

    def attempt(self) -> None:
        """One GET from `offset`; offset and digest advance with every byte written."""
        headers = {"Accept-Encoding": "identity"}  # byte offsets are offsets in the file
        if self.offset:
            headers["Range"] = f"bytes={self.offset}-"
        try:
            with self.client.stream("GET", _path(self.obj.key), headers=headers) as response:
                self._accept(response)
                for chunk in response.iter_bytes():  # as received: a drop loses nothing
                    _write_all(self.handle, chunk)
                    self.digest.update(chunk)
                    self.offset += len(chunk)
                    self.received += len(chunk)
                    if self.bar is not None:
                        self.bar.update(len(chunk))
                    faults.point("download.chunk")
        except httpx.TransportError as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise _Retry(f"connection lost ({reason})") from None
        if self.offset < self.obj.size:
            raise _Retry(f"connection closed at byte {self.offset} of {self.obj.size}")

    def _accept(self, response: httpx.Response) -> None:
        """Continue on a 206 from our offset; start over on a 200 (Range ignored)."""
        status = response.status_code
        if status >= 500 or status == 429:
            raise _Retry(f"HTTP {status}")
        if status == 206 and _range_start(response) == self.offset:
            return
        if status not in (200, 206, 416):
            url = safe_url(_url(self.client, self.obj.key))
            raise CacheError(f"downloading {url}: HTTP {status}")
        if self.offset:
            progress.note(f"{self.obj.name}: the server did not resume, starting over")
        self.handle.truncate(0)
        self.handle.seek(0)
        self.digest, self.offset = hashlib.sha256(), 0
        if self.bar is not None:
            self.bar.reset(self.obj.size)
        if status != 200:  # a misplaced 206 or a 416: ask again for the whole file
            raise _Retry(f"HTTP {status} to a Range request")


def _write_all(handle: IO[bytes], data: bytes) -> None:
    """An unbuffered write may take only part of the data: write until all of it is on disk."""
    view = memoryview(data)
    while view:
        view = view[handle.write(view) or 0 :]


def _range_start(response: httpx.Response) -> int | None:
    match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
    return int(match.group(1)) if match else None


def _path(key: str) -> str:
    return "/" + quote(key)


def _url(client: httpx.Client, key: str) -> str:
    return str(client.base_url).rstrip("/") + _path(key)


def _fsync_dir(path: Path) -> None:
    """Make the rename itself durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
