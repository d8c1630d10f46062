"""Classification speed (`--releases` x 8k library albums) and quality on the eval set.

Baseline, measured in the same run on the same releases: the rules of the system this
replaces (normalize, exact pair, token_set_ratio of the title against the artist's albums,
else extractOne over every library artist), per release with no memoization. Ours, ours on
the cache's row path and the baseline run in turn, `--repeat` times, each from cold caches;
min and median of each are printed, ratios of the same statistic. The baseline's
recall/precision on the same evaluation set is printed too. Data is generated in-process
with a fixed seed (no database: classification is pure Python over rows already read).
Usage: python benchmarks/bench_classify.py [--releases N] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import string
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from rapidfuzz import fuzz, process  # noqa: E402

from discogs_cache.library.catalog import CatalogEntry  # noqa: E402
from discogs_cache.matcher import (  # noqa: E402
    Classification,
    Credit,
    Decision,
    ReleaseRecord,
    Verdict,
    build_index,
    classify_releases,
    classify_rows,
)
from discogs_cache.matcher.classify import ReleaseRow  # noqa: E402
from discogs_cache.matcher.rules import forms_of_normalized, title_forms  # noqa: E402
from discogs_cache.matcher.run import album_records  # noqa: E402
from discogs_cache.matcher.settle import settle_albums  # noqa: E402
from discogs_cache.normalize import (  # noqa: E402
    artist_key,
    is_compilation_artist,
    normalize_artist,
    normalize_title,
)
from tests.data.eval.eval_set import build_eval_set, evaluate, quality  # noqa: E402

SEED = 6
RELEASES = 50_000
ALBUMS = 8_000


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 9))).title()


def synth(
    rng: random.Random, count: int = RELEASES
) -> tuple[list[CatalogEntry], list[ReleaseRecord]]:
    """~2.7k artists with 3 owned albums each; every artist has ~20 albums of 3-4 pressings
    in the cache (like a converted dump), plus compilations and non-library co-credits."""
    artists = [" ".join(_word(rng) for _ in range(rng.randint(1, 3))) for _ in range(ALBUMS // 3)]
    library, releases = [], []
    discography = {a: [" ".join(_word(rng) for _ in range(rng.randint(1, 4))) for _ in range(20)]
                   for a in artists}  # fmt: skip
    for a in artists:
        for t in discography[a][:3]:
            library.append(CatalogEntry(len(library) + 1, t, a))
    comps = [" ".join(_word(rng) for _ in range(3)) for _ in range(ALBUMS - len(library))]
    library += [
        CatalogEntry(len(library) + i + 1, t, "Various Artists") for i, t in enumerate(comps)
    ]
    while len(releases) < count:
        rid = len(releases) + 1
        if rng.random() < 0.05:
            title = rng.choice(comps) if rng.random() < 0.5 else _word(rng) + " Hits"
            releases.append(ReleaseRecord(rid, title, (Credit("Various", 194),)))
            continue
        artist = rng.choice(artists)
        title = rng.choice(discography[artist]) + rng.choice(["", "", " (Remastered)"])
        credits = [Credit(artist, hash(artist) % 10**6)]
        if rng.random() < 0.05:
            credits.append(Credit(_word(rng) + " " + _word(rng), rng.randint(10**6, 10**7)))
        releases.append(ReleaseRecord(rid, title, tuple(credits)))
    return library, releases


class Baseline:
    """The replaced system's rules, per release, no memo (see module docstring)."""

    def __init__(self, entries: list[CatalogEntry]) -> None:
        self.pairs: set[tuple[str, str]] = set()
        self.titles: dict[str, list[str]] = {}
        self.comps: list[str] = []
        for e in entries:
            if is_compilation_artist(e.artist):
                self.comps.append(normalize_title(e.title))
                continue
            a, t = normalize_artist(e.artist), normalize_title(e.title)
            self.pairs.add((a, t))
            self.titles.setdefault(a, []).append(t)
        self.artists = list(self.titles)

    def one(self, artist: str, title: str) -> tuple[Decision, float]:
        t = normalize_title(title)
        if is_compilation_artist(artist):
            hit = process.extractOne(t, self.comps, scorer=fuzz.token_set_ratio)
            return (Decision.KEEP if hit and hit[1] >= 80 else Decision.PRUNE), 0.0
        a = normalize_artist(artist)
        if (a, t) in self.pairs:
            return Decision.KEEP, 100.0
        score = 0.0
        if a in self.titles:
            hit = process.extractOne(t, self.titles[a], scorer=fuzz.token_set_ratio)
            score = hit[1] if hit else 0.0
        else:
            found = process.extractOne(
                a, self.artists, scorer=fuzz.token_set_ratio, score_cutoff=60
            )
            if found:
                hit = process.extractOne(t, self.titles[found[0]], scorer=fuzz.token_set_ratio)
                score = (found[1] * (hit[1] if hit else 0)) ** 0.5
        return (
            Decision.KEEP if score >= 75 else Decision.REVIEW if score >= 65 else Decision.PRUNE
        ), score

    def classify(self, releases: list[ReleaseRecord]) -> Classification:
        verdicts = []
        for r in releases:
            best = max((self.one(c.name, r.title) for c in r.credits), default=(Decision.PRUNE, 0))
            verdicts.append(Verdict(r.id, best[0], best[1]))
        return Classification(verdicts)


def _clear_caches() -> None:
    """Forget every memoized normalization, so that each timed run starts cold."""
    for cached in (artist_key, normalize_artist, normalize_title, is_compilation_artist):
        cached.cache_clear()
    title_forms.cache_clear()
    forms_of_normalized.cache_clear()


def _rows_then_settled(
    library: list[CatalogEntry], releases: list[ReleaseRecord], rows: list[ReleaseRow]
) -> Classification:
    """classify_cache's path: per-release verdicts from rows, then the albums settled."""
    by_rows = classify_rows(build_index(library), rows)
    matched = {v.release_id: v for v in by_rows.verdicts if v.match_artist is not None}
    return by_rows.demoted(settle_albums(album_records(releases, matched, {})))


def _timed(run: Callable[[], Classification]) -> tuple[Classification, float, float]:
    """(result, wall seconds, cpu seconds) of `run` from cold normalization caches."""
    _clear_caches()
    start, cpu = time.perf_counter(), time.process_time()
    result = run()
    return result, time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=RELEASES)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    rng = random.Random(SEED)
    library, releases = synth(rng, args.releases)
    print(f"# {len(releases):,} releases, {len(library):,} library albums, seed {SEED}")
    print(f"# load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    # the path classify_cache takes: (id, title, artist, artist id) rows, no ReleaseRecord
    rows = [(r.id, r.title, c.name, c.artist_id) for r in releases for c in r.credits]
    runs: dict[str, Callable[[], Classification]] = {
        "ours": lambda: classify_releases(build_index(library), releases),
        "ours (cache row path)": lambda: _rows_then_settled(library, releases, rows),
        "baseline (replaced system's rules)": lambda: Baseline(library).classify(releases),
    }
    wall: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    results: dict[str, Classification] = {}
    for _ in range(args.repeat):  # in turn, so a busy spell on the machine hits all alike
        for name, run in runs.items():
            results[name], seconds, cpu_seconds = _timed(run)
            wall[name].append(seconds)
            cpu[name].append(cpu_seconds)
    for name in runs:
        print(f"{name}: min {min(wall[name]):.2f} s, median {statistics.median(wall[name]):.2f}"
              f" s wall; min {min(cpu[name]):.2f} s cpu  {results[name].counts()}")  # fmt: skip
    same = results["ours (cache row path)"].verdicts == results["ours"].verdicts
    print(f"# row path: {'same' if same else 'DIFFERENT'} verdicts")
    base, ours = "baseline (replaced system's rules)", "ours"
    print(f"ratio baseline / ours (min wall): {min(wall[base]) / min(wall[ours]):.1f}x")
    print(f"ratio baseline / ours (median wall): "
          f"{statistics.median(wall[base]) / statistics.median(wall[ours]):.1f}x")  # fmt: skip
    print(f"ratio baseline / ours (min cpu): {min(cpu[base]) / min(cpu[ours]):.1f}x")

    q = evaluate()
    print(f"quality (ours):     {q.line()}")
    es = build_eval_set()
    bq = quality(es, Baseline(es.library).classify(es.releases))
    print(f"quality (baseline): {bq.line()}")
    print("targets: recall >= 0.99, precision >= 0.95")


if __name__ == "__main__":
    main()
