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
