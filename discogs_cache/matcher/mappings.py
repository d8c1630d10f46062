"""Artist mappings: human decisions about Discogs artists that override the classifier.

The file is `{"keep": {"Discogs artist": "library artist or note", ...}, "prune": {...}}`;
keys are compared by artist key, so "Beatles, The" and "The Beatles" are one entry. `verify
--write-mappings` writes a template listing the REVIEW artists (under "review", which is
ignored on reading) for a person to move into "keep" or "prune".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from discogs_cache.errors import InputError
from discogs_cache.files import write_text_atomic
from discogs_cache.matcher.rules import Decision
from discogs_cache.normalize import artist_key


@dataclass
class ArtistMappings:
    keep: dict[str, Any] = field(default_factory=dict)
    prune: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._keep = {artist_key(k) for k in self.keep}
        self._prune = {artist_key(k) for k in self.prune}
        both = self._keep & self._prune
        if both:
            raise InputError(f"artist mappings: {sorted(both)[0]!r} is in both keep and prune")

    def decision_for(self, credit: str) -> Decision | None:
        key = artist_key(credit)
        if key in self._keep:
            return Decision.KEEP
        if key in self._prune:
            return Decision.PRUNE
        return None

    def __bool__(self) -> bool:
        return bool(self.keep or self.prune)


def load_mappings(path: Path | None) -> ArtistMappings:
    """Read a mappings JSON; InputError naming the file when it is not one."""
    if path is None:
        return ArtistMappings()
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: artist mappings file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a readable artist mappings JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: artist mappings must be an object with 'keep' and 'prune'")
    sections = {}
    for name in ("keep", "prune"):
        section = data.get(name, {})
        if isinstance(section, list):
            section = dict.fromkeys(section)
        if not isinstance(section, dict):
            raise InputError(f"{path}: '{name}' must be an object of artist names")
        sections[name] = section
    try:
        return ArtistMappings(sections["keep"], sections["prune"])
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None


def write_template(
    path: Path, review: dict[str, dict[str, Any]], existing: ArtistMappings | None = None
) -> None:
    """Write keep/prune (existing decisions kept) plus the REVIEW artists to decide on."""
    existing = existing or ArtistMappings()
    data = {
        "keep": existing.keep,
        "prune": existing.prune,
        "review": {k: v for k, v in review.items() if existing.decision_for(k) is None},
    }
    write_text_atomic(Path(path), json.dumps(data, indent=2, ensure_ascii=False) + "\n")
