"""Dumps of any size for bench_scale, built from cached blocks of 100k releases.

Records come from gen_dump (shapes of the real 2020 excerpts, post-2024 layout), but the
artist pool and the station catalogue are FIXED, as they are for a real station, whatever N:
125k artists, every 7th a library artist, and a catalogue of three albums per library
artist plus compilations. So the share kept by the artist filter (~20%) and by the album
filter are the same at 1M and at 2M releases, and a 2M dump is a 1M dump plus more blocks.

releases.xml.gz is a multi-member gzip: a header member, one member per block (generated
once, in parallel, cached under bench-data/scale-blocks/), and a tail member; a dump of N
releases is those files concatenated, so the 1M and 2M dumps share their first blocks.
"""

from __future__ import annotations

import random
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from gen_dump import (
    LIBRARY_EVERY,
    VARIOUS_ID,
    _release,
    _words,
    _write_gz,
    artist_name,
    artist_records,
    label_records,
    library_artist_names,
)

BLOCK = 100_000
N_ARTISTS = 125_000
N_LABELS = 50_000
SEED = 17
POST = True  # the current dump layout: no images, no empty elements
ROOT = Path(__file__).resolve().parent.parent / "bench-data"
BLOCKS = ROOT / "scale-blocks"
COMPILATIONS = 60


def _block_path(k: int) -> Path:
    return BLOCKS / f"releases-{k:04d}.gz"


def write_block(k: int) -> Path:
    """Releases k*BLOCK+1 .. (k+1)*BLOCK as one gzip member (no root element)."""
    path = _block_path(k)
    if path.exists():
        return path
    BLOCKS.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED * 1_000_003 + k)
    records = (
        _release(rid, rng, N_ARTISTS, POST)[0] for rid in range(k * BLOCK + 1, (k + 1) * BLOCK + 1)
    )
    tmp = path.with_suffix(".tmp")
    _write_raw_gz(tmp, records)
    tmp.replace(path)
    return path


def _write_raw_gz(path: Path, records: object) -> None:
    """`_write_gz` without the root element: strip its head and tail from the member."""
    from isal import igzip

    with igzip.IGzipFile(str(path), "wb", compresslevel=1, mtime=0) as out:
        batch: list[str] = []
        for record in records:  # type: ignore[attr-defined]
            batch.append(record)
            if len(batch) >= 2000:
                out.write("".join(batch).encode())
                batch = []
        out.write("".join(batch).encode())


def _member(text: str) -> bytes:
    from isal import igzip

    return igzip.compress(text.encode(), compresslevel=1, mtime=0)


def catalogue() -> list[tuple[str, str]]:
    """(artist, title): three albums per library artist (catalog spellings), compilations."""
    entries = []
    names = library_artist_names(N_ARTISTS)
    for aid, name in zip(range(LIBRARY_EVERY, N_ARTISTS + 1, LIBRARY_EVERY), names, strict=False):
        rng = random.Random(aid * 31 + SEED)
        entries += [(name, _words(rng, 1, 3)) for _ in range(3)]
    rng = random.Random(SEED)
    entries += [("Various Artists", _words(rng, 1, 4)) for _ in range(COMPILATIONS)]
    assert artist_name(VARIOUS_ID)  # the "Various" credit id gen_dump uses
    return entries


def build(n_releases: int, workers: int = 2) -> Path:
    """A dump directory of n_releases (a multiple of BLOCK) plus library.db; cached."""
    from synth import write_library_db

    if n_releases % BLOCK:
        raise SystemExit(f"--releases must be a multiple of {BLOCK}")
    out = ROOT / f"scale-{n_releases}"
    done = out / ".complete"
    if done.exists():
        return out
    blocks = n_releases // BLOCK
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(write_block, range(blocks)))
    dump = out / "dump"
    dump.mkdir(parents=True, exist_ok=True)
    with (dump / "releases.xml.gz").open("wb") as target:
        target.write(_member('<?xml version="1.0" encoding="UTF-8"?>\n<releases>\n'))
        for k in range(blocks):
            with _block_path(k).open("rb") as block:
                shutil.copyfileobj(block, target, 1 << 20)
        target.write(_member("</releases>\n"))
    shared = BLOCKS / "artists.xml.gz"
    if not shared.exists():
        _write_gz(shared, "artists", artist_records(N_ARTISTS, SEED, POST))
        _write_gz(BLOCKS / "labels.xml.gz", "labels", label_records(N_LABELS, SEED))
    for name in ("artists.xml.gz", "labels.xml.gz"):
        shutil.copyfile(BLOCKS / name, dump / name)
    write_library_db(catalogue(), out / "library.db")
    done.touch()
    return out


if __name__ == "__main__":
    import sys

    for size in sys.argv[1:]:
        print(build(int(size)))
