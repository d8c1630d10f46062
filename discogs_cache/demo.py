"""`python -m discogs_cache.demo` (`make demo`): the whole pipeline on the shipped sample.

No setup, no network: the sample (300 real releases of the 2020 dump, CC0, in the
pre-2024 shape or rewritten to the current one, plus a matching station library.db) ships
inside the package; the database is a `discogs_cache_demo` database on the embedded server
(never `$DATABASE_URL`, so a demo cannot overwrite a real cache). It runs `run --xml`, then
looks an album up in the finished cache the way the station's tools do.
"""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from discogs_cache.pipeline.summary import RunSummary

# Heavy imports live inside the functions: the converter's worker processes import this
# module again (it is __main__), and each would pay for SQLAlchemy otherwise.

DEMO_DATABASE = "discogs_cache_demo"
SHAPES = {"2020": "pre2024", "2025": "post2024"}
LOOKUP = ("The Persuader", "Stockholm")


def demo_data() -> Path:
    """The shipped sample directory (inside the installed package or the checkout)."""
    return Path(str(resources.files("discogs_cache") / "demo_data"))


def fresh_database(server_url: str, name: str = DEMO_DATABASE) -> str:
    """Drop and re-create `name` on the server of `server_url`; return its URL."""
    from psycopg import sql
    from sqlalchemy.engine import make_url

    from discogs_cache.db import connect

    admin = make_url(server_url).set(database="postgres").render_as_string(hide_password=False)
    with connect(admin, autocommit=True) as conn:
        ident = sql.Identifier(name)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(ident))
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def run_demo(
    server_url: str, out_dir: Path, shape: str = "2020", database: str = DEMO_DATABASE
) -> tuple[str, RunSummary]:
    """Run the pipeline on the sample into a fresh demo database; return its URL and summary."""
    from discogs_cache.pipeline.options import RunOptions
    from discogs_cache.pipeline.run import run

    url = fresh_database(server_url, database)
    data = demo_data()
    out_dir.mkdir(parents=True, exist_ok=True)
    options = RunOptions(
        database_url=url,
        xml=data / SHAPES[shape],
        library_db=data / "library.db",
        keep_csv=out_dir / "csv",
        state_file=out_dir / ".pipeline_state.json",
    )
    return url, run(options)


def show_lookup(url: str, artist: str, title: str) -> str:
    """What a station tool sees: the best match for (artist, title) with its tracklist."""
    from discogs_cache import query
    from discogs_cache.db import create_engine

    engine = create_engine(url)
    try:
        matches = query.search_releases(engine, artist=artist, title=title, limit=1)
        if not matches:
            return f"lookup {artist!r} / {title!r}: not in the cache"
        release = query.get_release(engine, matches[0].release_id)
    finally:
        engine.dispose()
    assert release is not None
    lines = [
        f"lookup {artist!r} / {title!r} -> release {release.id}: "
        f"{', '.join(release.artists)} - {release.title} "
        f"({release.release_year or '?'}, {release.country or '?'})"
    ]
    for track in release.tracks:
        lines.append(f"  {track.position or '':>4}  {track.title}  {track.duration or ''}")
    return "\n".join(lines)


NEXT_LOOKUPS = (
    ("lookup", "search", "--artist", "persuader"),
    ("lookup", "release", "1"),
    ("lookup", "track", "Vasastaden", "--artist", "The Persuader"),
    ("lookup", "validate", "1", "Vasastaden"),
)
"""What the demo suggests next: questions the demo cache answers (a test runs them)."""


def cli_path() -> str:
    """How to call `discogs-cache` from here, as printed: the script beside this Python
    (relative when it is under the current directory), so it works without activating."""
    script = Path(sys.executable).parent / "discogs-cache"
    if not script.is_file():
        return "discogs-cache"
    try:
        return str(script.relative_to(Path.cwd()))
    except ValueError:
        return str(script)


def next_steps(url: str, embedded: bool) -> list[str]:
    """The demo's last lines: commands that work verbatim (URL included: `status` without
    it would show the embedded server's default database, not the demo's)."""
    import shlex

    from discogs_cache.db import describe

    cli = cli_path()
    where = f"--database-url {shlex.quote(url)}"
    lines = [f"the demo cache is {describe(url)}; try:", f"  {cli} status {where}"]
    lines += [f"  {cli} {shlex.join(args)} {where}" for args in NEXT_LOOKUPS]
    if cli != "discogs-cache":
        lines.append(f"(or `. {Path(cli).parent}/activate` first, then just `discogs-cache ...`)")
    if embedded:
        lines.append(f"the embedded PostgreSQL is still running; stop it with: {cli} server stop")
    return lines


def main(argv: list[str] | None = None) -> int:
    from discogs_cache import progress
    from discogs_cache.db import check_postgres_url, redact_url
    from discogs_cache.errors import CacheError

    parser = argparse.ArgumentParser(prog="python -m discogs_cache.demo", description=__doc__)
    parser.add_argument("--shape", choices=sorted(SHAPES), default="2020",
                        help="dump shape: 2020 (real records) or 2025 (current shape)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path("demo-out"),
                        help="state file and kept CSVs (default: ./demo-out)")  # fmt: skip
    parser.add_argument(
        "--server-url", default=None, help="a PostgreSQL server to use instead of the embedded one"
    )
    database_help = f"database (re)created for the demo (default: {DEMO_DATABASE})"
    parser.add_argument("--database", default=DEMO_DATABASE, help=database_help)
    args = parser.parse_args(argv)
    try:
        if args.server_url:
            server = check_postgres_url(args.server_url)
        else:
            from discogs_cache.server import EmbeddedServer

            progress.note("starting the embedded PostgreSQL (first time: initdb, a few seconds)")
            server = EmbeddedServer().ensure_running()
        url, summary = run_demo(server, args.out, args.shape, args.database)
        print(summary.format())
        print()
        print(show_lookup(url, *LOOKUP))
        print()
        print(redact_url("\n".join(next_steps(url, embedded=not args.server_url))))
    except CacheError as exc:
        print(f"error: {redact_url(str(exc))}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
