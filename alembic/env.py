"""Alembic environment for the discogs-cache schema.

The URL comes from `config.attributes["url"]` (set by `discogs_cache.migrate`), else from
the usual resolution (`$DATABASE_URL`, else the embedded server), so `alembic upgrade head`
in a checkout and `discogs-cache migrate` from a wheel run the same chain.
"""

from logging.config import fileConfig

from alembic import context

from discogs_cache.db import create_engine, database_errors, resolve_database_url
from discogs_cache.migrate import include_object
from discogs_cache.schema import metadata

config = context.config
if config.config_file_name is not None and not config.attributes.get("quiet_logging"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

url = config.attributes.get("url") or resolve_database_url(None)


def run_migrations_offline() -> None:
    context.configure(
        url=url, target_metadata=metadata, literal_binds=True, include_object=include_object
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(url)
    try:
        with database_errors(url, "cannot migrate the database"), engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=metadata,
        include_object=include_object,
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
