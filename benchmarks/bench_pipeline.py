"""Pipeline benchmark: per-step and total seconds of `run --csv-dir` and `run --xml`.

Data (deterministic, under bench-data/): `--csv-dir` runs on synthetic converter output
(benchmarks/synth.py, 200k releases, ~2M track rows) with its station library and label
preferences; `--xml` runs on a generated dump directory (benchmarks/gen_dump.py: artists,
labels, releases; 200k releases) with a library owning a third of its albums. Each run goes
into a fresh scratch database on `$DATABASE_URL` or the embedded server.
Baseline, same run, same server: a bare COPY of the same CSVs into all-text tables with no
keys, on as many connections as the load has lanes (bench_load.bare_copy); it and
`run --csv-dir` run in turn, `--repeat` times, and min and median of each are printed.
Target: `run --csv-dir` <= 13 s on 200k releases / 2 cores (a target, not a measurement;
the system this replaces cannot be re-run here, so no figure of it is compared against).
Usage: python benchmarks/bench_pipeline.py [--releases N] [--repeat N] [--skip-xml]
"""

from __future__ import annotations

import argparse
import gzip
import random
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from discogs_cache.pipeline.summary import RunSummary

# Imports of the package and of the other benchmark modules are inside the functions: the
# converter's worker processes re-import this script (it is __main__) and would pay for them.
sys.path.insert(0, str(Path(__file__).resolve().parent))
BENCH_DATA = Path(__file__).resolve().parent.parent / "bench-data"

TARGET_CSV_SECONDS = 13.0


def csv_inputs(n: int) -> tuple[Path, Path, Path]:
    """Synthetic CSVs, library.db and library_labels.csv for `n` releases (cached)."""
    from synth import write_library_db, write_synthetic_csvs

    from discogs_cache.library.labels import LabelPreference, write_label_preferences_csv

    out = BENCH_DATA / f"pipeline-csv-{n}"
    done = out / ".complete"
    if not done.exists():
        info = write_synthetic_csvs(out, n, seed=7)
        write_library_db(info.library, out / "library.db")
        write_label_preferences_csv(
            [LabelPreference(*row) for row in info.library_labels], out / "library_labels.csv"
        )
        done.touch()
    return out, out / "library.db", out / "library_labels.csv"


def xml_inputs(n: int) -> tuple[Path, Path]:
    """A generated dump directory and a library owning every third album (cached)."""
    from gen_dump import generate_dump
    from lxml import etree
    from synth import write_library_db

    out = BENCH_DATA / f"pipeline-xml-{n}"
    done = out / ".complete"
    if not done.exists():
        generate_dump(out / "dump", n, seed=8)
        releases = next(p for p in (out / "dump").iterdir() if "releases" in p.name)
        rng = random.Random(8)
        entries = []
        opener = gzip.open if releases.suffix == ".gz" else open
        with opener(releases, "rb") as handle:
            for _, rel in etree.iterparse(handle, tag="release"):
                artist, title = rel.findtext("artists/artist/name"), rel.findtext("title")
                if artist and title and rng.random() < 0.33:
                    entries.append((artist, title))
                rel.clear()
        write_library_db(entries, out / "library.db")
        done.touch()
    return out / "dump", out / "library.db"


def print_steps(mode: str, summary: RunSummary) -> None:
    from common import report

    for step in summary.steps:
        report(f"run {mode} step {step.name}", step.seconds)
    report(f"run {mode} total", summary.seconds)
    print(
        f"# run {mode}: {summary.releases} releases left, classification "
        f"{summary.classification}, dedup removed {summary.dedup_removed}",
        flush=True,
    )


def bench_csv(n: int, repeat: int) -> float:
    import statistics

    from bench_load import bare_copy, load_lanes
    from common import ratio, report, scratch_database, server_settings

    from discogs_cache.pipeline.options import RunOptions
    from discogs_cache.pipeline.run import run

    csv_dir, library, labels = csv_inputs(n)
    runs: list[float] = []
    baseline: list[float] = []
    for _ in range(repeat):  # in turn, so a busy spell on the machine hits both alike
        with (
            scratch_database("bench_pipe_csv", migrated=False) as url,
            tempfile.TemporaryDirectory() as tmp,
        ):
            settings = server_settings(url)
            summary = run(
                RunOptions(
                    database_url=url,
                    csv_dir=csv_dir,
                    library_db=library,
                    library_labels=labels,
                    state_file=Path(tmp) / "state.json",
                )
            )
        runs.append(summary.seconds)
        if summary.seconds <= min(runs):
            best = summary
        with scratch_database("bench_pipe_copy", migrated=False) as url:
            baseline.append(bare_copy(url, csv_dir, lanes=load_lanes(csv_dir)))
    print(f"# {settings}", flush=True)
    print_steps("--csv-dir (best run)", best)
    for label, values in (("run --csv-dir", runs), ("baseline bare COPY", baseline)):
        report(f"{label} min", min(values))
        report(f"{label} median", statistics.median(values))
    ratio("run --csv-dir / bare COPY (min)", min(runs), min(baseline))
    ratio("run --csv-dir / bare COPY (median)", statistics.median(runs),
          statistics.median(baseline))  # fmt: skip
    ratio(
        f"run --csv-dir (min) / {TARGET_CSV_SECONDS:g} s target",
        min(runs),
        TARGET_CSV_SECONDS,
        target=1.0,
    )
    return min(runs)


def bench_xml(n: int) -> float:
    from common import scratch_database

    from discogs_cache.pipeline.options import RunOptions
    from discogs_cache.pipeline.run import run

    dump, library = xml_inputs(n)
    with (
        scratch_database("bench_pipe_xml", migrated=False) as url,
        tempfile.TemporaryDirectory() as tmp,
    ):
        summary = run(
            RunOptions(
                database_url=url,
                xml=dump,
                library_db=library,
                state_file=Path(tmp) / "state.json",
            )
        )
    print_steps("--xml", summary)
    return summary.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--skip-xml", action="store_true")
    args = parser.parse_args()
    import common  # noqa: F401  (puts the repository on sys.path)

    from discogs_cache import progress

    progress.set_quiet(True)
    print(f"# releases: {args.releases}", flush=True)
    bench_csv(args.releases, args.repeat)
    if not args.skip_xml:
        bench_xml(args.releases)


if __name__ == "__main__":
    main()
