"""Refresh under live consumers: build the new cache in a shadow schema, publish it at once.

`shadow` creates, reads and drops the shadow schema (`discogs_cache_next`) and gives the URL
the unchanged build steps run against; `publish` makes a finished build live in one short
transaction, carrying over what consumers wrote (`carry`) and refusing a sharp shrink.
`pipeline.run` composes them around its steps.
"""

from discogs_cache.refresh.carry import ARTWORK_COLUMNS, CarrySummary, carry_over
from discogs_cache.refresh.publish import (
    MIN_KEEP_RATIO,
    PublishSummary,
    ShrinkRefused,
    check_shrink,
    publish,
)
from discogs_cache.refresh.shadow import (
    SHADOW_SCHEMA,
    ShadowInfo,
    create_shadow,
    drop_shadow,
    read_shadow,
    shadow_info,
    shadow_url,
)

__all__ = [
    "ARTWORK_COLUMNS",
    "MIN_KEEP_RATIO",
    "SHADOW_SCHEMA",
    "CarrySummary",
    "PublishSummary",
    "ShadowInfo",
    "ShrinkRefused",
    "carry_over",
    "check_shrink",
    "create_shadow",
    "drop_shadow",
    "publish",
    "read_shadow",
    "shadow_info",
    "shadow_url",
]
