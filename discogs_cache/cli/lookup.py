"""`discogs-cache lookup`: the consumer API from the shell (tables, or `--json` for scripts)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
import sqlalchemy as sa

from discogs_cache import query
from discogs_cache.cli._common import CONTEXT_SETTINGS, CacheGroup, database_url_option, resolve_url
from discogs_cache.db import engine_for
from discogs_cache.errors import CacheError
from discogs_cache.progress import format_table

F = TypeVar("F", bound=Callable[..., Any])


@click.group(cls=CacheGroup, context_settings=CONTEXT_SETTINGS)
def lookup() -> None:
    """Look releases, tracks and artwork up in the cache."""


def _output_options(func: F) -> F:
    func = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(
        func
    )
    return database_url_option(func)


def _timeout_option(func: F) -> F:
    return click.option(
        "--timeout",
        type=click.FloatRange(min=0, min_open=True),
        default=query.DEFAULT_TIMEOUT,
        show_default=True,
        help="Seconds the lookup may run before the server cancels it.",
    )(func)


def _search_options(func: F) -> F:
    func = _timeout_option(func)
    func = click.option(
        "--threshold",
        type=click.FloatRange(0, 1),
        default=None,
        help="pg_trgm similarity threshold for this search (default: the server's, 0.3).",
    )(func)
    return click.option(
        "--limit",
        type=click.IntRange(min=1),
        default=query.DEFAULT_LIMIT,
        show_default=True,
        help="At most this many results.",
    )(func)


@contextmanager
def _engine(database_url: str | None) -> Iterator[sa.Engine]:
    with engine_for(resolve_url(database_url), "cannot query the cache") as engine:
        yield engine


def _emit_json(value: Any) -> None:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    elif isinstance(value, list):
        value = [dataclasses.asdict(v) for v in value]
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


def _names(names: tuple[str, ...]) -> str:
    return ", ".join(names)


def _not_found(release_id: int) -> CacheError:
    return CacheError(f"release {release_id} not found")


def _nothing(what: str, as_json: bool) -> None:
    """A search without a hit: say so (stderr; `[]` on stdout for --json) and exit 1."""
    if as_json:
        click.echo("[]")
    click.echo(f"no {what}", err=True)
    raise SystemExit(1)


def _query(**fields: str | None) -> str:
    return ", ".join(f"{k} {v!r}" for k, v in fields.items() if v)


@lookup.command(context_settings=CONTEXT_SETTINGS)
@click.argument("release_id", type=int)
@_timeout_option
@_output_options
def release(release_id: int, timeout: float, database_url: str | None, as_json: bool) -> None:
    """Show release RELEASE_ID with its artists and tracklist."""
    with _engine(database_url) as engine:
        found = query.get_release(engine, release_id, timeout=timeout)
    if found is None:
        raise _not_found(release_id)
    if as_json:
        _emit_json(found)
        return
    facts = [
        ("release", found.id),
        ("title", found.title),
        ("artists", _names(found.artists)),
        ("year", found.release_year),
        ("country", found.country),
        ("master", found.master_id),
        ("artwork", found.artwork_url),
        ("genres", _names(found.genres)),
        ("styles", _names(found.styles)),
    ]
    click.echo("\n".join(f"{k + ':':9} {'' if v is None else v}" for k, v in facts))
    click.echo()
    rows = [
        (t.sequence, t.position, t.title, t.duration, _names(t.artists), _names(t.writers))
        for t in found.tracks
    ]
    headers = ["#", "position", "title", "duration", "track artists", "writers"]
    click.echo(format_table(headers, rows))


@lookup.command(context_settings=CONTEXT_SETTINGS)
@click.option("--artist", "-a", default=None, help="Main artist, fuzzy.")
@click.option("--title", "-t", default=None, help="Release title, fuzzy.")
@_search_options
@_output_options
def search(
    artist: str | None,
    title: str | None,
    limit: int,
    threshold: float | None,
    timeout: float,
    database_url: str | None,
    as_json: bool,
) -> None:
    """Releases by artist and/or title, best match first (accents and case ignored)."""
    if not (artist or "").strip() and not (title or "").strip():
        raise click.UsageError("give --artist, --title or both")
    with _engine(database_url) as engine:
        hits = query.search_releases(
            engine, artist=artist, title=title, limit=limit, threshold=threshold, timeout=timeout
        )
    if not hits:
        _nothing(f"release matches {_query(artist=artist, title=title)}", as_json)
    if as_json:
        _emit_json(hits)
        return
    rows = [
        (h.release_id, f"{h.score:.2f}", _names(h.artists), h.title, h.release_year) for h in hits
    ]
    click.echo(format_table(["release", "score", "artists", "title", "year"], rows))


@lookup.command(context_settings=CONTEXT_SETTINGS)
@click.argument("title")
@click.option("--artist", "-a", default=None, help="Track or release artist, fuzzy.")
@_search_options
@_output_options
def track(
    title: str,
    artist: str | None,
    limit: int,
    threshold: float | None,
    timeout: float,
    database_url: str | None,
    as_json: bool,
) -> None:
    """Which releases have a track called TITLE (optionally by --artist)."""
    with _engine(database_url) as engine:
        hits = query.search_tracks(
            engine, title, artist=artist, limit=limit, threshold=threshold, timeout=timeout
        )
    if not hits:
        _nothing(f"track matches {_query(title=title, artist=artist)}", as_json)
    if as_json:
        _emit_json(hits)
        return
    click.echo(_track_table(hits))


def _track_table(hits: list[query.TrackMatch]) -> str:
    rows = [
        (
            h.release_id,
            f"{h.score:.2f}",
            h.position,
            h.title,
            _names(h.track_artists or h.release_artists),
            h.release_title,
        )
        for h in hits
    ]
    headers = ["release id", "score", "position", "track", "artists", "release title"]
    return format_table(headers, rows)


@lookup.command(context_settings=CONTEXT_SETTINGS)
@click.argument("artist")
@click.argument("title")
@click.option("--tracks", is_flag=True, help="TITLE is a track title (default: a release title).")
@_search_options
@_output_options
def find(
    artist: str,
    title: str,
    tracks: bool,
    limit: int,
    threshold: float | None,
    timeout: float,
    database_url: str | None,
    as_json: bool,
) -> None:
    """ARTIST's release (or, with --tracks, track) called TITLE: exact normalized keys
    first, the fuzzy search on a miss; `match` says which answered."""
    options: dict[str, Any] = {"limit": limit, "threshold": threshold, "timeout": timeout}
    with _engine(database_url) as engine:
        found: query.ReleaseLookup | query.TrackLookup = (
            query.lookup_track(engine, artist, title, **options)
            if tracks
            else query.lookup_release(engine, artist, title, **options)
        )
    if not found.matches:
        what = "track" if tracks else "release"
        _nothing(f"{what} matches {_query(artist=artist, title=title)}", as_json)
    if as_json:
        _emit_json(found)
        return
    click.echo(f"match: {'exact' if found.exact else 'fuzzy'}")
    if isinstance(found, query.TrackLookup):
        click.echo(_track_table(found.matches))
        return
    rows = [
        (h.release_id, f"{h.score:.2f}", _names(h.artists), h.title, h.release_year)
        for h in found.matches
    ]
    click.echo(format_table(["release", "score", "artists", "title", "year"], rows))


@lookup.command(context_settings=CONTEXT_SETTINGS)
@click.argument("release_id", type=int)
@click.argument("title")
@click.option(
    "--min-score",
    type=click.FloatRange(0, 1),
    default=query.VALIDATE_MIN_SCORE,
    show_default=True,
    help="Normalized title similarity that counts as the same track.",
)
@_output_options
def validate(
    release_id: int, title: str, min_score: float, database_url: str | None, as_json: bool
) -> None:
    """Is TITLE a track of release RELEASE_ID? Exit 0 if yes, 1 if not."""
    with _engine(database_url) as engine:
        result = query.validate_track(engine, release_id, title, min_score=min_score)
    if result is None:
        raise _not_found(release_id)
    if as_json:
        _emit_json(result)
    else:
        best = result.track
        where = f"track {best.position or best.sequence} {best.title!r}" if best else "no track"
        if result.matched:
            click.echo(f"yes: {title!r} is {where} of release {release_id}")
        else:
            click.echo(f"no: {title!r} is not on release {release_id} (closest: {where})")
        click.echo(f"score: {result.score:.2f}")
    if not result.matched:
        raise SystemExit(1)
