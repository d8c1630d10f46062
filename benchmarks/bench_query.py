"""Query benchmark: p50/p95 latency of each consumer lookup on a cache of >= 100k releases.

Data: deterministic synthetic converter output (benchmarks/synth.py, seed 7) under
bench-data/, loaded with `load` + `build_indexes` into a scratch database. synth.py draws
titles from 25 words, so a two-word title query matches ~6% of all tracks: fine for load and
dedup, a worst case for fuzzy search. By default (`--vocabulary real`) release and track
titles are therefore redrawn (fixed seed) from the word frequencies of the real 2020 dump
excerpt in tests/data/samples (12.7k titles, 11.7k distinct words, Zipf-like);
`--vocabulary synth` keeps synth.py's titles. Inputs are drawn
(fixed seed) from the loaded rows: half verbatim, half lowercased with one typo, so the
trigram searches do real fuzzy work. Each lookup runs `--calls` times through the public
API on one Engine (as a service would). Baselines, same run, same engine: `SELECT 1` (a
round trip) and a primary-key SELECT of one release title (the cheapest real lookup); per
search, its "floor": the contract's `%` predicates alone on the same inputs (count(*) of
the rows they accept, see trigram_floors), which any exact implementation pays.
Target (issues 9, 21): p50 <= 5 ms and p95 <= 20 ms for every lookup; exact-key hits of
lookup_release / lookup_track (verbatim artist and title of a sampled row) p50 <= 1 ms.
Usage: python benchmarks/bench_query.py [--releases N] [--calls N]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import itertools
import random
import re
import shutil
import statistics
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from common import BENCH_DATA, ROOT, ratio, scratch_database, server_settings
from lxml import etree
from synth import write_synthetic_csvs

from discogs_cache import progress, query
from discogs_cache.db import create_engine
from discogs_cache.index import build_indexes
from discogs_cache.load import load

SEED = 7
SAMPLES = ROOT / "tests" / "data" / "samples"
WORD = re.compile(r"[^\W_]+(?:'[^\W\d_]+)?")


def csv_dir_for(n_releases: int) -> Path:
    """Generate the CSVs once per size (the generator is deterministic)."""
    out = BENCH_DATA / f"query-{n_releases}-seed{SEED}"
    done = out / ".complete"
    if not done.exists():
        write_synthetic_csvs(out, n_releases, seed=SEED)
        done.touch()
    return out


def real_vocabulary_csvs(source: Path) -> Path:
    """A copy of `source` whose release/track titles use real Discogs word frequencies."""
    out = source.with_name(source.name + "-realvocab")
    done = out / ".complete"
    if done.exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    counts: Counter[str] = Counter()
    with gzip.open(SAMPLES / "discogs_20200806_releases.xml.gz", "rb") as handle:
        for _, element in etree.iterparse(handle, tag="title"):
            counts.update(WORD.findall(element.text or ""))
            element.clear()
    words, weights = zip(*sorted(counts.items()))
    cum = list(itertools.accumulate(weights))  # what choices() would recompute per call
    rng = random.Random(SEED)

    def title() -> str:
        return " ".join(rng.choices(words, cum_weights=cum, k=rng.choice((1, 2, 2, 3, 3, 4, 5))))

    for path in source.glob("*.csv"):
        if path.stem not in ("release", "release_track"):
            shutil.copyfile(path, out / path.name)
            continue
        with (
            open(path, newline="", encoding="utf-8") as src,
            open(out / path.name, "w", newline="", encoding="utf-8") as dst,
        ):
            reader, writer = csv.reader(src), csv.writer(dst, lineterminator="\n")
            header = next(reader)
            writer.writerow(header)
            column = header.index("title")
            for row in reader:
                row[column] = title()
                writer.writerow(row)
    done.touch()
    return out


def typo(text: str, rng: random.Random) -> str:
    """Lowercase and drop one letter (not the first): a plausible user typo."""
    text = text.lower()
    if len(text) < 6:
        return text
    cut = rng.randrange(1, len(text) - 1)
    return text[:cut] + text[cut + 1 :]


def inputs(engine: sa.Engine, count: int, rng: random.Random) -> dict[str, list[Any]]:
    """Sample real rows for the lookups (fixed seed, ORDER BY id so it is repeatable)."""
    with engine.connect() as conn:
        releases = conn.execute(
            sa.text(
                "SELECT r.id, r.title, a.artist_name FROM release r JOIN release_artist a"
                " ON a.release_id = r.id AND a.extra = 0 WHERE a.artist_name <> 'Various'"
                " ORDER BY r.id"
            )
        ).all()
        tracks = conn.execute(
            sa.text(
                "SELECT t.release_id, t.title, coalesce(ta.artist_name, a.artist_name)"
                " FROM release_track t JOIN release_artist a"
                " ON a.release_id = t.release_id AND a.extra = 0"
                " LEFT JOIN release_track_artist ta"
                " ON ta.release_id = t.release_id AND ta.track_sequence = t.sequence"
                " WHERE t.release_id % 7 = 0 ORDER BY t.release_id, t.sequence"
            )
        ).all()
    picks = [rng.choice(releases) for _ in range(count)]
    track_picks = [rng.choice(tracks) for _ in range(count)]

    def maybe(text: str) -> str:
        return typo(text, rng) if rng.random() < 0.5 else text

    return {
        "exact": [(p[2], p[1]) for p in picks],
        "exact_tracks": [(t[2], t[1]) for t in track_picks],
        "ids": [p[0] for p in picks],
        "titles": [maybe(p[1]) for p in picks],
        "artists": [maybe(p[2]) for p in picks],
        "tracks": [(t[0], maybe(t[1]), maybe(t[2])) for t in track_picks],
    }


PREDICATE = "lower(f_unaccent({col})) % lower(f_unaccent(:{param}))"
"""The consumers' fuzzy predicate (SPEC "Consumers"), answered by the trigram GIN indexes."""

FLOOR_PREDICATES = {
    "search_releases(artist)": (("release_artist", "artist_name", "artist"),),
    "search_releases(title)": (("release", "title", "title"),),
    "search_releases(artist, title)": (
        ("release_artist", "artist_name", "artist"),
        ("release", "title", "title"),
    ),
    "search_tracks(title)": (("release_track", "title", "title"),),
    "search_tracks(title, artist)": (
        ("release_track", "title", "title"),
        ("release_track_artist", "artist_name", "artist"),
        ("release_artist", "artist_name", "artist"),
    ),
    "artwork_url": (("release_artist", "artist_name", "artist"), ("release", "title", "title")),
    "lookup_release (exact first)": (
        ("release_artist", "artist_name", "artist"),
        ("release", "title", "title"),
    ),
    "lookup_track (exact first)": (
        ("release_track", "title", "title"),
        ("release_track_artist", "artist_name", "artist"),
        ("release_artist", "artist_name", "artist"),
    ),
}


def trigram_floors(
    engine: sa.Engine, data: dict[str, list[Any]], threshold: float | None
) -> dict[str, Callable[[int], object]]:
    """Per search: the cost of its `%` predicates alone, on the same inputs and threshold.

    `SELECT count(*) FROM t WHERE <predicate>` (one scalar subquery per predicate) finds
    every row the predicate accepts (GIN bitmap scan + heap recheck) and ranks nothing.
    Any exact implementation of the contract's search pays at least about this much.
    """
    track_inputs = {
        "search_tracks(title)": lambda i: {"title": data["tracks"][i][1]},
        "search_tracks(title, artist)": lambda i: {
            "title": data["tracks"][i][1],
            "artist": data["tracks"][i][2],
        },
        "lookup_track (exact first)": lambda i: {
            "title": data["tracks"][i][1],
            "artist": data["tracks"][i][2],
        },
    }
    floors: dict[str, Callable[[int], object]] = {}
    for name, predicates in FLOOR_PREDICATES.items():
        counts = ", ".join(
            f"(SELECT count(*) FROM {table} WHERE {PREDICATE.format(col=col, param=param)})"
            for table, col, param in predicates
        )  # fixed identifiers from the table above, inputs bound as parameters
        statement = sa.text(f"SELECT {counts}")
        params = track_inputs.get(
            name, lambda i: {"title": data["titles"][i], "artist": data["artists"][i]}
        )

        def floor(i: int, statement: Any = statement, params: Any = params) -> object:
            with engine.begin() as conn:
                if threshold is not None:
                    conn.execute(
                        sa.text("SELECT set_config('pg_trgm.similarity_threshold', :v, true)"),
                        {"v": str(threshold)},
                    )
                return conn.execute(statement, params(i)).one()

        floors[name] = floor
    return floors


def measure(call: Callable[[int], object], calls: int) -> tuple[float, float]:
    """p50 and p95 in ms of `call(i)` for i in range(calls), after a short warm-up."""
    for i in range(min(20, calls)):
        call(i)
    samples = []
    for i in range(calls):
        start = time.perf_counter()
        call(i)
        samples.append((time.perf_counter() - start) * 1000)
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49], cuts[94]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--vocabulary", choices=("real", "synth"), default="real")
    parser.add_argument("--threshold", type=float, default=None, help="pg_trgm threshold")
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="per-call statement timeout, seconds"
    )
    args = parser.parse_args()
    progress.set_quiet(True)
    csv_dir = csv_dir_for(args.releases)
    if args.vocabulary == "real":
        csv_dir = real_vocabulary_csvs(csv_dir)
    with scratch_database("bench_query") as url:
        summary = load(url, csv_dir)
        build_indexes(url)
        engine = create_engine(url)
        with engine.connect() as conn:
            counts = {
                t: conn.scalar(sa.text(f"SELECT count(*) FROM {t}"))  # fixed table names
                for t in ("release", "release_artist", "release_track", "release_track_artist")
            }
        print(f"# {args.vocabulary} vocabulary; load {summary.seconds:.1f} s; rows: {counts}")
        print(f"# server: {server_settings(url)}; {args.calls} calls per lookup, p50/p95 in ms")
        data = inputs(engine, args.calls, random.Random(SEED))
        ids, titles, artists, tracks = data["ids"], data["titles"], data["artists"], data["tracks"]
        th, tm = args.threshold, args.timeout
        print(f"# similarity threshold: {th if th is not None else 'server default (0.3)'}")

        def select_1(i: int) -> object:
            with engine.connect() as conn:
                return conn.scalar(sa.text("SELECT 1"))

        def pk_title(i: int) -> object:
            with engine.connect() as conn:
                return conn.scalar(
                    sa.text("SELECT title FROM release WHERE id = :id"), {"id": ids[i]}
                )

        lookups: dict[str, Callable[[int], object]] = {
            "get_release": lambda i: query.get_release(engine, ids[i], timeout=tm),
            "search_releases(artist)": lambda i: query.search_releases(
                engine, artist=artists[i], threshold=th, timeout=tm
            ),
            "search_releases(title)": lambda i: query.search_releases(
                engine, title=titles[i], threshold=th, timeout=tm
            ),
            "search_releases(artist, title)": lambda i: query.search_releases(
                engine, artist=artists[i], title=titles[i], threshold=th, timeout=tm
            ),
            "search_tracks(title)": lambda i: query.search_tracks(
                engine, tracks[i][1], threshold=th, timeout=tm
            ),
            "search_tracks(title, artist)": lambda i: query.search_tracks(
                engine, tracks[i][1], artist=tracks[i][2], threshold=th, timeout=tm
            ),
            "validate_track": lambda i: query.validate_track(
                engine, tracks[i][0], tracks[i][1], timeout=tm
            ),
            "artwork_url": lambda i: query.artwork_url(
                engine, artists[i], titles[i], threshold=th, timeout=tm
            ),
            "lookup_release (exact first)": lambda i: query.lookup_release(
                engine, artists[i], titles[i], threshold=th, timeout=tm
            ),
            "lookup_track (exact first)": lambda i: query.lookup_track(
                engine, tracks[i][2], tracks[i][1], threshold=th, timeout=tm
            ),
        }
        exact, exact_tracks = data["exact"], data["exact_tracks"]
        hits: dict[str, Callable[[int], object]] = {
            "lookup_release exact-key hit": lambda i: query.lookup_release(
                engine, *exact[i], threshold=th, timeout=tm
            ),
            "lookup_track exact-key hit": lambda i: query.lookup_track(
                engine, *exact_tracks[i], threshold=th, timeout=tm
            ),
        }
        base_p50, base_p95 = measure(select_1, args.calls)
        pk_p50, pk_p95 = measure(pk_title, args.calls)
        print(f"baseline SELECT 1 round trip: p50 {base_p50:.2f} ms  p95 {base_p95:.2f} ms")
        print(f"baseline primary-key SELECT: p50 {pk_p50:.2f} ms  p95 {pk_p95:.2f} ms")
        floors = trigram_floors(engine, data, th)
        missed = []
        for name, call in lookups.items():
            p50, p95 = measure(call, args.calls)
            ok = p50 <= 5 and p95 <= 20
            missed += [] if ok else [name]
            print(
                f"{name}: p50 {p50:.2f} ms  p95 {p95:.2f} ms  "
                f"(target p50 <= 5, p95 <= 20: {'OK' if ok else 'MISSED'})"
            )
            ratio(f"{name} p50 / primary-key p50", p50, pk_p50)
            if name in floors:
                f50, f95 = measure(floors[name], args.calls)
                print(f"  floor, its trigram predicates alone: p50 {f50:.2f} ms  p95 {f95:.2f} ms")
                ratio(f"{name} p50 / floor p50", p50, f50)
        for name, call in hits.items():
            found = sum(bool(getattr(call(i), "exact", False)) for i in range(args.calls))
            p50, p95 = measure(call, args.calls)
            ok = p50 <= 1
            missed += [] if ok else [name]
            print(
                f"{name} ({found}/{args.calls} exact): p50 {p50:.2f} ms  p95 {p95:.2f} ms  "
                f"(target p50 <= 1: {'OK' if ok else 'MISSED'})"
            )
            ratio(f"{name} p50 / primary-key p50", p50, pk_p50)
            ratio(f"{name} p50 / SELECT 1 p50", p50, base_p50)
        engine.dispose()
    print(f"targets: {'all met' if not missed else 'MISSED by ' + ', '.join(missed)}")


if __name__ == "__main__":
    main()
