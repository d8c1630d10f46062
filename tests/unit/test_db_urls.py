"""URL resolution and redaction: the one place passwords are hidden."""

from __future__ import annotations

import pytest

from discogs_cache import db
from discogs_cache.errors import InputError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql://u:s3cret@h:5432/d", "postgresql://u:***@h:5432/d"),
        ("mysql://root:p%40ss@127.0.0.1/x", "mysql://root:***@127.0.0.1/x"),
        ("failed for postgres://a:b@c/d today", "failed for postgres://a:***@c/d today"),
        ("host=h password=hunter2 dbname=x", "host=h password=*** dbname=x"),
        ("postgresql://u@h/d", "postgresql://u@h/d"),
    ],
)
def test_redact_url_hides_passwords(text: str, expected: str) -> None:
    assert db.redact_url(text) == expected


def test_option_wins_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://env@h/envdb")
    assert db.resolve_database_url("postgresql://opt@h/optdb") == "postgresql://opt@h/optdb"
    assert db.resolve_database_url(None) == "postgresql://env@h/envdb"


def test_non_postgres_url_is_rejected_without_password() -> None:
    with pytest.raises(InputError) as err:
        db.resolve_database_url("mysql://root:topsecret@h/db")
    assert "topsecret" not in str(err.value)
    assert "not a PostgreSQL URL" in str(err.value)


def test_garbage_url_is_rejected() -> None:
    with pytest.raises(InputError, match="not a database URL"):
        db.check_postgres_url("not a url at all")


def test_driver_forms() -> None:
    url = "postgres://u:p@h:1/d"
    assert db.sqlalchemy_url(url) == "postgresql+psycopg://u:p@h:1/d"
    assert db.conninfo("postgresql+psycopg://u:p@h:1/d") == "postgresql://u:p@h:1/d"
    assert db.describe(url) == "h:1/d"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql//u:secret@127.0.0.1/x", "postgresql//u:***@127.0.0.1/x"),
        ("mysql//u:secret@h/x", "mysql//u:***@h/x"),
        ("postgresql:/u:secret@h/x", "postgresql:/u:***@h/x"),
        ("u:secret@h", "u:***@h"),
        ("postgresql://u:pa/ss:w@h/d", "postgresql://u:***@h/d"),
        ("postgresql://u:p@ss@h/d", "postgresql://u:***@h/d"),
        ("'postgresql://u:s@h:notaport/x'", "'postgresql://u:***@h:notaport/x'"),
        (
            "postgresql://u@h:5432/d at h:5432/d: refused",
            "postgresql://u@h:5432/d at h:5432/d: refused",
        ),
    ],
)
def test_redact_hides_credentials_in_unparsable_urls(text: str, expected: str) -> None:
    assert db.redact_url(text) == expected


def test_redact_hides_every_url_of_a_message() -> None:
    text = (
        "--copy-to from postgresql://a:first@h1/src to postgresql://b:second@h2/dst failed; "
        "catalog mysql://c:third@h3/lib, conninfo host=h password=fourth"
    )
    redacted = db.redact_url(text)
    for secret in ("first", "second", "third", "fourth"):
        assert secret not in redacted
    assert redacted.count("***") == 4


@pytest.mark.parametrize(
    "url", ["postgresql://u:hush@127.0.0.1:notaport/x", "postgresql://u:hush@h:5432x/d"]
)
def test_non_numeric_port_is_an_input_error(url: str) -> None:
    with pytest.raises(InputError, match="bad port") as err:
        db.check_postgres_url(url)
    assert "hush" not in str(err.value)
    assert "u:***@" in str(err.value)
    assert db.describe(url) == db.redact_url(url)


def test_mysql_url_with_non_numeric_port_is_an_input_error() -> None:
    from discogs_cache.library.mysql import connect_kwargs

    with pytest.raises(InputError, match=r"not a MySQL URL \(bad port\)") as err:
        connect_kwargs("mysql://root:hush@127.0.0.1:notaport/lib")
    assert "hush" not in str(err.value)
