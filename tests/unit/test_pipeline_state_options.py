"""`discogs-cache run` option combinations: usage errors before any server is touched."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from discogs_cache.cli import main
from discogs_cache.pipeline.options import RunOptions, UsageError, check_options
from discogs_cache.pipeline.steps import plan

PG = "postgresql://u:secret@db.example:5432/cache"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "dump").mkdir()
    (tmp_path / "csv").mkdir()
    for name in ("library.db", "artists.txt", "labels.csv"):
        (tmp_path / name).write_text("x")
    return {
        "xml": tmp_path / "dump",
        "csv": tmp_path / "csv",
        "lib": tmp_path / "library.db",
        "artists": tmp_path / "artists.txt",
        "labels": tmp_path / "labels.csv",
    }


def _run(*args: object) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["run", *map(str, args)], env={"DATABASE_URL": PG})
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "exactly one of --xml"),
        (["--xml", "{xml}", "--csv-dir", "{csv}", "--library-db", "{lib}"], "exactly one"),
        (["--csv-dir", "{csv}", "--library-artists", "{artists}"], "--library-artists"),
        (["--csv-dir", "{csv}", "--keep-csv", "{csv}/out"], "--keep-csv keeps"),
        (["--xml", "{xml}"], "--xml needs the library"),
        (["--xml", "{xml}", "--library-db", "{lib}", "--resume"], "--resume with --xml needs"),
        (["--csv-dir", "{csv}", "--target-db-url", PG + "2"], "needs --library-db"),
        (
            ["--csv-dir", "{csv}", "--library-db", "{lib}", "--target-db-url", PG],
            "is the source database",
        ),
        (
            ["--xml", "{xml}", "--library-db", "{lib}", "--keep-csv", "{xml}/csv"],
            "must not be inside",
        ),
        (["--csv-dir", "{csv}", "--workers", "0"], "--workers"),
        (["--csv-dir", "{csv}", "--mappings", "{labels}"], "--mappings overrides"),
    ],
)
def test_meaningless_combinations_are_usage_errors(
    files: dict[str, Path], argv: list[str], message: str
) -> None:
    args = [a.format(**files) for a in argv]
    code, output = _run(*args)
    assert code == 2, output
    assert message in output
    assert "Usage:" in output
    assert "secret" not in output


def test_resume_with_xml_is_fine_when_csvs_are_kept(files: dict[str, Path], tmp_path: Path) -> None:
    options = RunOptions(
        database_url=PG,
        xml=files["xml"],
        library_db=files["lib"],
        keep_csv=tmp_path / "kept",
        resume=True,
    )
    check_options(options)
    with pytest.raises(UsageError):
        check_options(RunOptions(database_url=PG, xml=files["xml"], library_db=files["lib"],
                                 resume=True))  # fmt: skip


def test_plan_orders_classify_before_dedup_and_prune_after(files: dict[str, Path]) -> None:
    xml = RunOptions(database_url=PG, xml=files["xml"], library_db=files["lib"])
    assert plan(xml) == [
        "library", "convert", "schema", "shadow", "load", "classify", "dedup", "prune",
        "vacuum", "indexes", "publish",
    ]  # fmt: skip
    copy = RunOptions(
        database_url=PG, csv_dir=files["csv"], library_db=files["lib"], target_db_url=PG + "2"
    )
    assert plan(copy) == [
        "schema", "shadow", "load", "classify", "dedup", "copy", "vacuum", "indexes", "publish",
    ]  # fmt: skip
    bare = RunOptions(database_url=PG, csv_dir=files["csv"])
    assert plan(bare) == ["schema", "shadow", "load", "dedup", "vacuum", "indexes", "publish"]


def test_identity_names_databases_without_passwords(files: dict[str, Path]) -> None:
    identity = RunOptions(database_url=PG, csv_dir=files["csv"]).identity()
    assert identity["database"] == "db.example:5432/cache"
    assert identity["source"] == str(files["csv"].resolve())
    assert "secret" not in repr(identity)
