# discogs-cache: the pipeline in a container, for users who have Docker.
# Build: docker build -t discogs-cache .   (untested in the project's CI: no Docker there)
# Use with docker-compose.yml (PostgreSQL + this image), or alone with a DATABASE_URL:
#   docker run --rm -e DATABASE_URL=postgresql://user:pass@host:5432/discogs \
#     -v "$PWD/data:/data" discogs-cache run --xml /data/dump --library-db /data/library.db \
#     --keep-csv /data/csv --state-file /data/.pipeline_state.json
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY alembic ./alembic
COPY discogs_cache ./discogs_cache
RUN pip install . && useradd --create-home --uid 1000 discogs && mkdir /data \
    && chown discogs /data

USER discogs
WORKDIR /data
VOLUME ["/data"]
ENTRYPOINT ["discogs-cache"]
CMD ["--help"]
