"""discogs_rate_limit: the Discogs request budget shared by every process using one token.

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-07

Why: Discogs counts requests per token over a moving 60-second window, whatever process sends
them. The artwork top-up and the station's own services therefore book their requests in one
row per token (`discogs_cache.ratelimit`): `key` is a SHA-256 of the token (never the token),
`stamps` the epoch seconds of the requests booked in the last window (future ones included:
a booking reserves a slot). Not a release table: a refresh never drops or replaces it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "discogs_rate_limit",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column(
            "stamps",
            postgresql.ARRAY(postgresql.DOUBLE_PRECISION()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("key", name="pk_discogs_rate_limit"),
    )


def downgrade() -> None:
    op.drop_table("discogs_rate_limit")
