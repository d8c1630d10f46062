"""The Discogs API client's pure parts: picking the image, Retry-After, reading the token."""

from __future__ import annotations

import email.utils
import time
from pathlib import Path

import pytest

from discogs_cache.discogs.api import pick_artwork, resolve_token, retry_after
from discogs_cache.errors import InputError
from tests.fakes.discogs_api import images_for


def test_primary_image_wins_even_when_not_first() -> None:
    assert pick_artwork(images_for(7, "primary")) == "https://i.discogs.test/release/7-2.jpg"


def test_first_image_without_a_primary() -> None:
    assert pick_artwork(images_for(7, "secondary")) == "https://i.discogs.test/release/7-1.jpg"


@pytest.mark.parametrize(
    "images",
    [None, [], "x", [{"type": "primary", "uri": ""}], [{"type": "primary"}], [3]],
)
def test_no_usable_image(images: object) -> None:
    assert pick_artwork(images) is None


def test_blank_primary_falls_back_to_a_real_secondary() -> None:
    images = [{"type": "primary", "uri": " "}, {"type": "secondary", "uri": "https://x/2.jpg"}]
    assert pick_artwork(images) == "https://x/2.jpg"


def test_retry_after_seconds_date_and_garbage() -> None:
    assert retry_after("3", 60.0) == 3.0
    assert retry_after(None, 60.0) == 60.0
    assert retry_after("soon", 60.0) == 60.0
    assert retry_after("-5", 60.0) == 0.0
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 28.0 <= retry_after(later, 60.0) <= 30.0


def test_token_from_file_then_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCOGS_TOKEN", "  from-env \n")
    assert resolve_token(None) == "from-env"
    token_file = tmp_path / "token"
    token_file.write_text("from-file\n", encoding="utf-8")
    assert resolve_token(token_file) == "from-file"
    monkeypatch.delenv("DISCOGS_TOKEN")
    assert resolve_token(None) is None


def test_token_file_errors_name_the_file_not_the_content(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"^the token file .*empty is empty$"):
        resolve_token(empty)
    with pytest.raises(InputError, match=r"^cannot read the token file .*missing: "):
        resolve_token(tmp_path / "missing")
