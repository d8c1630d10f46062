"""`discogs-cache status`: row counts, sizes, schema revision and freshness of the cache."""

from __future__ import annotations

import json

import click

from discogs_cache.cli._common import (
    CONTEXT_SETTINGS,
    database_url_option,
    quiet_option,
    resolve_url,
)
from discogs_cache.errors import CacheError
from discogs_cache.lookup_tables import check_database
from discogs_cache.progress import format_table, human_bytes
from discogs_cache.status import CacheStatus, cache_status


@click.command(context_settings=CONTEXT_SETTINGS)
@database_url_option
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.option(
    "--check",
    is_flag=True,
    help="Also prove the derived lookup tables equal a rebuild (exit 1 if they do not).",
)
@quiet_option
def status(database_url: str | None, as_json: bool, check: bool) -> None:
    """Show what the cache holds (read-only)."""
    url = resolve_url(database_url)
    s = cache_status(url)
    drift = check_database(url) if check else None
    if as_json:
        data = s.to_json()
        if drift is not None:
            data["lookup_check"] = {t: {"missing": m, "extra": e} for t, (m, e) in drift.items()}
        click.echo(json.dumps(data, indent=2))
    else:
        _print(s)
    if drift is not None:
        _report_drift(drift, quiet=as_json)


def _report_drift(drift: dict[str, tuple[int, int]], *, quiet: bool) -> None:
    bad = {t: d for t, d in drift.items() if d != (0, 0)}
    if not quiet:
        click.echo("lookup tables: " + ("equal to a rebuild" if not bad else "DIFFER"))
    if bad:
        detail = ", ".join(f"{t} {m} missing / {e} extra" for t, (m, e) in bad.items())
        raise CacheError(f"derived lookup tables differ from a rebuild: {detail}")


def _print(s: CacheStatus) -> None:
    click.echo(f"database: {s.database}")
    behind = "" if s.revision == s.head else f" (head is {s.head}: run discogs-cache migrate)"
    click.echo(f"schema revision: {s.revision or 'none'}{behind}")
    rows = [
        (t.name, t.rows, human_bytes(t.table_bytes), human_bytes(t.index_bytes)) for t in s.tables
    ]
    rows.append(("total", sum(t.rows for t in s.tables), "", human_bytes(s.total_bytes)))
    click.echo(format_table(("table", "rows", "table size", "index size"), rows))
    for f in s.freshness:
        click.echo(f"{f.source}: {f.releases} releases, cached {f.oldest:%Y-%m-%d %H:%M} .. "
                   f"{f.newest:%Y-%m-%d %H:%M}")  # fmt: skip
    if s.missing_indexes:
        click.echo(f"missing indexes: {', '.join(s.missing_indexes)} (run discogs-cache index)")
    if s.writer:
        click.echo(f"writer: {s.writer} holds the writers' lock")
    if s.shadow:
        sh = s.shadow
        age = sh["age_seconds"] / 60
        what = f"{sh['releases']} releases so far" if sh["releases"] is not None else "empty"
        hint = (
            "" if s.writer else " (discogs-cache run --resume continues it; a fresh run drops it)"
        )
        click.echo(f"shadow build: {sh['state']}, started {age:.0f} min ago, {what}{hint}")
