"""`discogs_cache.discogs.download` against a fake dump bucket (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import fcntl
import hashlib
import random
import socket
from pathlib import Path

import pytest

from discogs_cache.discogs.download import download
from discogs_cache.errors import CacheError, InputError
from tests.fakes.bucket import FakeBucket

KINDS = ("releases", "artists", "labels")


def _data(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


FILES = {"releases": _data(1, 700_000), "artists": _data(2, 300_000), "labels": _data(3, 90_000)}


def _get(bucket: FakeBucket, dest: Path, month: str | None = "2026-11", **kwargs: object):  # type: ignore[no-untyped-def]
    kwargs.setdefault("backoff", 0.0)
    return download(month, dest, kwargs.pop("kinds", KINDS), base_url=bucket.url, **kwargs)  # type: ignore[arg-type]


def _listings(bucket: FakeBucket) -> list[dict[str, str]]:
    return [h.query for h in bucket.hits if not h.key]


def test_download_lists_all_pages_verifies_and_renames_into_place(
    fake_bucket: FakeBucket, tmp_path: Path
) -> None:
    fake_bucket.add_dump("20261101", FILES)
    fake_bucket.add_dump("20261001", FILES)
    fake_bucket.page_size = 3  # 8 objects under data/2026/: three pages
    summary = _get(fake_bucket, tmp_path)
    assert (summary.date, summary.month, summary.dest) == ("20261101", "2026-11", tmp_path)
    assert [(f.name, f.status, f.resumes) for f in summary.files] == [
        (f"discogs_20261101_{kind}.xml.gz", "downloaded", 0) for kind in KINDS
    ]
    assert summary.downloaded_bytes == 1_090_000
    for kind, data in FILES.items():
        assert (tmp_path / f"discogs_20261101_{kind}.xml.gz").read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"discogs_20261101_{k}.xml.gz" for k in KINDS] + ["discogs_20261101_CHECKSUM.txt"]
    )
    tokens = [q.get("continuation-token") for q in _listings(fake_bucket)]
    assert tokens == [None, "3", "6"]
    assert {q["prefix"] for q in _listings(fake_bucket)} == {"data/2026/"}
    assert all(h.range is None for h in fake_bucket.hits)


def test_dropped_connection_resumes_with_range(fake_bucket: FakeBucket, tmp_path: Path) -> None:
    fake_bucket.add_dump("20261101", FILES)
    key = "data/2026/discogs_20261101_releases.xml.gz"
    fake_bucket.drops[key] = [250_000, 100_000]  # two broken connections in a row
    summary = _get(fake_bucket, tmp_path, kinds=("releases",))
    assert [h.range for h in fake_bucket.gets("releases.xml.gz")] == [
        None,
        "bytes=250000-",
        "bytes=350000-",
    ]
    (result,) = summary.files
    assert (result.resumes, result.downloaded_bytes) == (2, 700_000)
    data = (tmp_path / "discogs_20261101_releases.xml.gz").read_bytes()
    assert hashlib.sha256(data).digest() == hashlib.sha256(FILES["releases"]).digest()
    assert not (tmp_path / ".discogs_20261101_releases.xml.gz.part").exists()


def test_server_ignoring_range_restarts_cleanly(fake_bucket: FakeBucket, tmp_path: Path) -> None:
    fake_bucket.add_dump("20261101", FILES)
    key = "data/2026/discogs_20261101_artists.xml.gz"
    fake_bucket.drops[key] = [123_456]
    fake_bucket.ignore_range.add(key)  # answers 200 with the whole file to a Range request
    summary = _get(fake_bucket, tmp_path, kinds=("artists",))
    assert [h.range for h in fake_bucket.gets("artists.xml.gz")] == [None, "bytes=123456-"]
    assert summary.files[0].downloaded_bytes == 123_456 + 300_000
    assert (tmp_path / "discogs_20261101_artists.xml.gz").read_bytes() == FILES["artists"]


def test_partial_left_by_a_killed_run_is_resumed(fake_bucket: FakeBucket, tmp_path: Path) -> None:
    fake_bucket.add_dump("20261101", FILES)
    (tmp_path / ".discogs_20261101_labels.xml.gz.part").write_bytes(FILES["labels"][:40_000])
    summary = _get(fake_bucket, tmp_path, kinds=("labels",))
    assert [h.range for h in fake_bucket.gets("labels.xml.gz")] == ["bytes=40000-"]
    assert summary.files[0].downloaded_bytes == 50_000
    assert (tmp_path / "discogs_20261101_labels.xml.gz").read_bytes() == FILES["labels"]


def test_checksum_mismatch_leaves_neither_file_nor_partial(
    fake_bucket: FakeBucket, tmp_path: Path
) -> None:
    fake_bucket.add_dump("20261101", FILES, wrong="artists")
    with pytest.raises(CacheError, match=r"discogs_20261101_artists\.xml\.gz: sha256 .* does not"):
        _get(fake_bucket, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "discogs_20261101_CHECKSUM.txt",
        "discogs_20261101_releases.xml.gz",  # fetched and verified before the bad one
    ]


def test_present_verified_file_is_skipped_without_a_get(
    fake_bucket: FakeBucket, tmp_path: Path
) -> None:
    fake_bucket.add_dump("20261101", FILES)
    (tmp_path / "discogs_20261101_releases.xml.gz").write_bytes(FILES["releases"])
    (tmp_path / "discogs_20261101_labels.xml.gz").write_bytes(b"truncated")  # not verified
    summary = _get(fake_bucket, tmp_path)
    assert [(f.name.split("_")[2], f.status) for f in summary.files] == [
        ("releases.xml.gz", "skipped"),
        ("artists.xml.gz", "downloaded"),
        ("labels.xml.gz", "downloaded"),
    ]
    assert fake_bucket.gets("releases.xml.gz") == []
    assert summary.downloaded_bytes == 390_000
    assert (tmp_path / "discogs_20261101_labels.xml.gz").read_bytes() == FILES["labels"]
    again = _get(fake_bucket, tmp_path)
    assert [f.status for f in again.files] == ["skipped"] * 3


def test_latest_is_the_newest_complete_dump(fake_bucket: FakeBucket, tmp_path: Path) -> None:
    small = {k: v[:1000] for k, v in FILES.items()}
    fake_bucket.add_dump("20251201", small)
    fake_bucket.add_dump("20260101", small)
    fake_bucket.add_dump("20260201", small, checksum=False)  # no CHECKSUM yet
    fake_bucket.add_dump("20260301", {"releases": small["releases"]})  # only releases
    fake_bucket.add_dump("20270101", {"labels": small["labels"]}, checksum=False)
    fake_bucket.page_size = 2
    assert _get(fake_bucket, tmp_path / "a", month="latest").date == "20260101"
    assert _get(fake_bucket, tmp_path / "b", month=None, kinds=("releases",)).date == "20260301"
    prefixes = [(q["prefix"], q.get("continuation-token")) for q in _listings(fake_bucket)]
    assert prefixes[:4] == [
        ("data/", None),
        ("data/", "2"),
        ("data/2027/", None),
        ("data/2026/", None),
    ]


def test_month_errors(fake_bucket: FakeBucket, tmp_path: Path) -> None:
    fake_bucket.add_dump("20261101", {"releases": b"r"})
    with pytest.raises(InputError, match="'2026-13': expected YYYY-MM"):
        _get(fake_bucket, tmp_path, month="2026-13")
    assert fake_bucket.hits == []
    with pytest.raises(InputError, match="--month 2026-05: no Discogs dump for that month"):
        _get(fake_bucket, tmp_path, month="2026-05")
    with pytest.raises(InputError, match=r"the dump 20261101 .* has no artists, labels"):
        _get(fake_bucket, tmp_path)


def test_dest_holding_another_month_is_refused(fake_bucket: FakeBucket, tmp_path: Path) -> None:
    fake_bucket.add_dump("20261101", FILES)
    (tmp_path / "discogs_20261001_releases.xml.gz").write_bytes(b"old")
    with pytest.raises(InputError, match=r"holds another dump \(discogs_20261001_releases"):
        _get(fake_bucket, tmp_path)


def test_http_errors_are_one_line(fake_bucket: FakeBucket, tmp_path: Path) -> None:
    fake_bucket.add_dump("20261101", FILES)
    fake_bucket.status[""] = 500
    with pytest.raises(
        CacheError, match=r"bucket http://127.0.0.1:\d+ \(prefix data/2026/\): HTTP 500$"
    ):
        _get(fake_bucket, tmp_path)
    del fake_bucket.status[""]
    key = "data/2026/discogs_20261101_artists.xml.gz"
    fake_bucket.status[key] = 404
    with pytest.raises(CacheError, match=f"downloading http://127.0.0.1:\\d+/{key}: HTTP 404$"):
        _get(fake_bucket, tmp_path)
    assert not (tmp_path / "discogs_20261101_artists.xml.gz").exists()
    fake_bucket.status[key] = 503
    fake_bucket.hits.clear()
    with pytest.raises(CacheError, match="HTTP 503; gave up after 3 tries"):
        _get(fake_bucket, tmp_path, retries=2)
    assert len(fake_bucket.gets("artists.xml.gz")) == 3


def test_unreachable_server(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    message = f"^listing the dump bucket: cannot reach http://127.0.0.1:{port} "
    with pytest.raises(CacheError, match=message):
        download("2026-11", tmp_path, KINDS, base_url=f"http://127.0.0.1:{port}")


def test_a_partial_being_written_by_another_download_is_refused(
    fake_bucket: FakeBucket, tmp_path: Path
) -> None:
    fake_bucket.add_dump("20261101", FILES)
    with (tmp_path / ".discogs_20261101_releases.xml.gz.part").open("ab") as other:
        fcntl.flock(other.fileno(), fcntl.LOCK_EX)
        with pytest.raises(CacheError, match="another download is writing this file"):
            _get(fake_bucket, tmp_path, kinds="releases")
    assert fake_bucket.gets("releases.xml.gz") == []
