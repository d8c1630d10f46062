"""Pure parsing of the dump bucket: S3 listings, CHECKSUM files, months and kinds."""

from __future__ import annotations

from pathlib import Path

import pytest

from discogs_cache.discogs.bucket import (
    DumpObject,
    dumps_url,
    group_dumps,
    parse_checksums,
    parse_kinds,
    parse_listing,
    parse_month,
)
from discogs_cache.errors import CacheError, InputError

# The shape of a real ListObjectsV2 answer from the Discogs bucket (namespaced, truncated).
LISTING = b"""<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
<Name>discogs-data-dumps</Name><Prefix>data/2026/</Prefix><KeyCount>3</KeyCount>
<MaxKeys>3</MaxKeys><IsTruncated>true</IsTruncated>
<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
<Contents><Key>data/2026/discogs_20261101_CHECKSUM.txt</Key>
<LastModified>2026-11-02T10:00:00.000Z</LastModified><Size>380</Size></Contents>
<Contents><Key>data/2026/discogs_20261101_artists.xml.gz</Key><Size>471859200</Size></Contents>
<Contents><Key>data/2026/discogs_20261101_releases.xml.gz</Key><Size>10737418240</Size>
</Contents></ListBucketResult>"""


def test_parse_listing_reads_keys_sizes_and_the_continuation_token() -> None:
    page = parse_listing(LISTING)
    assert page.objects == [
        DumpObject("data/2026/discogs_20261101_CHECKSUM.txt", 380),
        DumpObject("data/2026/discogs_20261101_artists.xml.gz", 471859200),
        DumpObject("data/2026/discogs_20261101_releases.xml.gz", 10737418240),
    ]
    assert page.next_token == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="
    assert page.prefixes == []


def test_parse_listing_last_page_and_common_prefixes_without_namespace() -> None:
    xml = (
        b"<ListBucketResult><IsTruncated>false</IsTruncated>"
        b"<CommonPrefixes><Prefix>data/2025/</Prefix></CommonPrefixes>"
        b"<CommonPrefixes><Prefix>data/2026/</Prefix></CommonPrefixes></ListBucketResult>"
    )
    page = parse_listing(xml)
    assert page.prefixes == ["data/2025/", "data/2026/"]
    assert (page.objects, page.next_token) == ([], None)


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (b"<html>nope", "not valid XML"),
        (b"<Error><Code>AccessDenied</Code></Error>", "unexpected root element <Error>"),
        (
            b"<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
            "no NextContinuationToken",
        ),
    ],
)
def test_parse_listing_rejects_what_is_not_a_listing(xml: bytes, message: str) -> None:
    with pytest.raises(CacheError, match=message):
        parse_listing(xml)


def test_group_dumps_by_date_ignores_foreign_names() -> None:
    objects = [
        DumpObject("data/2026/discogs_20261101_CHECKSUM.txt", 1),
        DumpObject("data/2026/discogs_20261101_releases.xml.gz", 2),
        DumpObject("data/2026/discogs_20261201_masters.xml.gz", 3),
        DumpObject("data/2026/README.txt", 4),
        DumpObject("data/2026/discogs_20261101_releases.xml", 5),
    ]
    dumps = group_dumps(objects)
    assert sorted(dumps) == ["20261101", "20261201"]
    assert dumps["20261101"].month == "2026-11"
    assert sorted(dumps["20261101"].files) == ["CHECKSUM", "releases"]
    assert dumps["20261101"].missing(["releases", "artists"]) == ["artists"]
    assert dumps["20261201"].missing(["masters"]) == ["CHECKSUM"]


def test_parse_checksums_sha256sum_style() -> None:
    a, b = "a" * 64, "0123456789ABCDEF" * 4
    text = f"{a}  discogs_20261101_artists.xml.gz\n\n{b} *discogs_20261101_labels.xml.gz\r\n"
    assert parse_checksums(text) == {
        "discogs_20261101_artists.xml.gz": a,
        "discogs_20261101_labels.xml.gz": b.lower(),
    }


@pytest.mark.parametrize("line", ["abc discogs.xml.gz", f"{'a' * 64}", f"{'g' * 64} x.xml.gz"])
def test_parse_checksums_rejects_malformed_lines(line: str) -> None:
    with pytest.raises(CacheError, match="CHECKSUM line 2: expected"):
        parse_checksums(f"{'a' * 64}  ok.xml.gz\n{line}\n")


def test_parse_month() -> None:
    assert parse_month("2026-11") == "2026-11"
    assert parse_month(" 2026-01 ") == "2026-01"
    assert parse_month("latest") is None
    assert parse_month(None) is None
    for bad in ("2026-13", "2026-00", "2026-1", "26-11", "november", "2026-11-01"):
        with pytest.raises(InputError, match="expected YYYY-MM"):
            parse_month(bad)


def test_parse_kinds() -> None:
    assert parse_kinds(["releases", " Artists", "releases", "masters"]) == (
        "releases",
        "artists",
        "masters",
    )
    assert parse_kinds("labels,masters") == ("labels", "masters")
    with pytest.raises(InputError, match=r"--kinds tracks: expected some of"):
        parse_kinds(["releases", "tracks"])
    with pytest.raises(InputError, match=r"--kinds \(empty\)"):
        parse_kinds(["", " "])


def test_dumps_url_option_then_env_then_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISCOGS_DUMPS_URL", raising=False)
    assert dumps_url() == "https://discogs-data-dumps.s3.us-west-2.amazonaws.com"
    monkeypatch.setenv("DISCOGS_DUMPS_URL", "http://mirror.example/dumps/")
    assert dumps_url() == "http://mirror.example/dumps"
    assert dumps_url("http://127.0.0.1:9") == "http://127.0.0.1:9"


def test_download_refuses_a_dest_without_room(tmp_path: Path) -> None:
    from discogs_cache.discogs.download import _check_space

    _check_space(tmp_path, [DumpObject("data/2026/discogs_20261101_labels.xml.gz", 1000)])
    huge = DumpObject("data/2026/discogs_20261101_releases.xml.gz", 10**18)
    with pytest.raises(InputError, match=r"--dest .*: needs 909494\.7 TB, only .* free$"):
        _check_space(tmp_path, [huge])
