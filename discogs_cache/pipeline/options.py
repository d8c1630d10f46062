"""What a run was asked to do, and which combinations of options make no sense.

The checks live here, not in the CLI, so `run()` called from Python refuses the same
combinations; the CLI turns the InputError into a click usage error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from discogs_cache.db import describe
from discogs_cache.errors import InputError

DEFAULT_STATE_FILE = Path(".pipeline_state.json")


class UsageError(InputError):
    """Options that contradict each other or mean nothing together (exit code 2)."""


@dataclass
class RunOptions:
    """The options of `discogs-cache run` (SPEC "run"), already parsed."""

    database_url: str
    xml: Path | None = None
    csv_dir: Path | None = None
    library_db: Path | None = None
    mappings: Path | None = None
    library_artists: Path | None = None
    wxyc_db_url: str | None = None
    target_db_url: str | None = None
    library_labels: Path | None = None
    label_hierarchy: Path | None = None
    keep_csv: Path | None = None
    resume: bool = False
    state_file: Path = DEFAULT_STATE_FILE
    workers: int | None = None

    @property
    def mode(self) -> str:
        return "xml" if self.xml is not None else "csv"

    @property
    def has_library(self) -> bool:
        """Whether the run can classify (needs the catalog's (artist, title) pairs)."""
        if self.library_db is not None:
            return True
        return self.mode == "xml" and self.wxyc_db_url is not None

    def identity(self) -> dict[str, Any]:
        """What must be the same for `--resume` to continue a run (paths resolved)."""

        def path(p: Path | None) -> str | None:
            return str(Path(p).resolve()) if p is not None else None

        return {
            "mode": self.mode,
            "source": path(self.xml if self.xml is not None else self.csv_dir),
            "database": describe(self.database_url),
            "target": describe(self.target_db_url) if self.target_db_url else None,
            "library_db": path(self.library_db),
            "mappings": path(self.mappings),
            "library_artists": path(self.library_artists),
            "library_labels": path(self.library_labels),
            "label_hierarchy": path(self.label_hierarchy),
            "wxyc": describe(self.wxyc_db_url) if self.wxyc_db_url else None,
            "keep_csv": path(self.keep_csv),
        }


def check_options(o: RunOptions) -> None:
    """Raise UsageError for missing, contradictory or meaningless option combinations."""
    if (o.xml is None) == (o.csv_dir is None):
        raise UsageError(
            "give exactly one of --xml PATH (every step) or --csv-dir DIR (from schema on)"
        )
    _check_urls(o)
    if o.mode == "csv":
        if o.library_artists is not None:
            raise UsageError("--library-artists filters the XML conversion: it needs --xml")
        if o.keep_csv is not None:
            raise UsageError("--keep-csv keeps the converted CSVs: it needs --xml")
    else:
        if o.library_db is None and o.library_artists is None and o.wxyc_db_url is None:
            raise UsageError(
                "--xml needs the library to filter on: --library-db, --library-artists "
                "or --wxyc-db-url"
            )
        if o.resume and o.keep_csv is None:
            raise UsageError(
                "--resume with --xml needs --keep-csv DIR: without it the converted CSVs "
                "were temporary and are gone"
            )
    if o.mappings is not None and not o.has_library:
        raise UsageError("--mappings overrides the classifier: it needs --library-db")
    if o.target_db_url is not None:
        if not o.has_library:
            raise UsageError(
                "--target-db-url copies the releases the library owns: it needs --library-db"
                + (" or --wxyc-db-url" if o.mode == "xml" else "")
            )
        if o.database_url and describe(o.target_db_url) == describe(o.database_url):
            raise UsageError(
                f"--target-db-url is the source database ({describe(o.database_url)}): "
                "copy-to needs another database (or leave it out to prune in place)"
            )
    if o.keep_csv is not None and o.xml is not None and _inside(o.keep_csv, o.xml):
        raise UsageError("--keep-csv must not be inside the --xml directory")
    if o.workers is not None and o.workers < 1:
        raise UsageError("--workers must be at least 1")


def _check_urls(o: RunOptions) -> None:
    """Every URL the run will use must parse (InputError naming it, password hidden)."""
    from discogs_cache.db import check_postgres_url

    if o.target_db_url is not None:
        check_postgres_url(o.target_db_url)
    if o.wxyc_db_url is not None:
        from discogs_cache.library.mysql import connect_kwargs

        connect_kwargs(o.wxyc_db_url)


def _inside(child: Path, parent: Path) -> bool:
    parent = Path(parent).resolve()
    return parent.is_dir() and Path(child).resolve().is_relative_to(parent)
