"""A fake Discogs dump bucket: real HTTP on 127.0.0.1 speaking S3 ListObjectsV2 and Range GETs.

It keeps a log of every request (method, path, query, Range header) so tests can assert what
the client asked for, and it can misbehave on purpose: drop the connection after N body bytes,
ignore Range headers, or answer a fixed HTTP status for a key (or for the listing, key "").
"""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

import pytest

S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"


@dataclass(frozen=True)
class Hit:
    """One request the fake bucket received."""

    method: str
    key: str  # "" for the listing
    query: dict[str, str]
    range: str | None


@dataclass
class FakeBucket:
    """The bucket's objects and misbehaviours; `url` is where the server listens."""

    objects: dict[str, bytes] = field(default_factory=dict)
    page_size: int = 1000
    drops: dict[str, list[int]] = field(default_factory=dict)  # key -> bytes sent per GET
    ignore_range: set[str] = field(default_factory=set)
    status: dict[str, int] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    url: str = ""

    def add_dump(
        self, date: str, files: dict[str, bytes], *, checksum: bool = True, wrong: str = ""
    ) -> None:
        """Put `discogs_{date}_{kind}.xml.gz` per kind, and a CHECKSUM (bad sha for `wrong`)."""
        lines = []
        for kind, data in files.items():
            name = f"discogs_{date}_{kind}.xml.gz"
            self.objects[f"data/{date[:4]}/{name}"] = data
            sha = hashlib.sha256(data + (b"x" if kind == wrong else b"")).hexdigest()
            lines.append(f"{sha}  {name}\n")
        if checksum:
            self.objects[f"data/{date[:4]}/discogs_{date}_CHECKSUM.txt"] = "".join(lines).encode()

    def gets(self, key_suffix: str) -> list[Hit]:
        """The GETs of objects whose key ends with `key_suffix`."""
        return [h for h in self.hits if h.key and h.key.endswith(key_suffix)]

    def listing(self, query: dict[str, str]) -> bytes:
        prefix, delimiter = query.get("prefix", ""), query.get("delimiter", "")
        entries: list[tuple[str, str]] = []  # (sort key, XML), objects and common prefixes
        seen: set[str] = set()
        for key in sorted(k for k in self.objects if k.startswith(prefix)):
            rest = key[len(prefix) :]
            if delimiter and delimiter in rest:
                common = prefix + rest[: rest.index(delimiter) + 1]
                if common not in seen:
                    seen.add(common)
                    entries.append((common, f"<CommonPrefixes><Prefix>{common}</Prefix>"
                                            "</CommonPrefixes>"))  # fmt: skip
                continue
            size = len(self.objects[key])
            entries.append((key, f"<Contents><Key>{escape(key)}</Key><Size>{size}</Size>"
                                 "<StorageClass>STANDARD</StorageClass></Contents>"))  # fmt: skip
        start = int(query.get("continuation-token", "0"))
        page = entries[start : start + self.page_size]
        more = start + self.page_size < len(entries)
        token = f"<NextContinuationToken>{start + self.page_size}</NextContinuationToken>"
        return (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="{S3_NS}">'
            f"<Name>discogs-data-dumps</Name><Prefix>{escape(prefix)}</Prefix>"
            f"<KeyCount>{len(page)}</KeyCount><MaxKeys>{self.page_size}</MaxKeys>"
            f"<IsTruncated>{'true' if more else 'false'}</IsTruncated>{token if more else ''}"
            + "".join(xml for _, xml in page)
            + "</ListBucketResult>"
        ).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        pass

    def do_GET(self) -> None:
        bucket = self.server.bucket
        parts = urlsplit(self.path)
        key = unquote(parts.path.lstrip("/"))
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with self.server.lock:
            bucket.hits.append(Hit("GET", key, query, self.headers.get("Range")))
        if key in bucket.status:
            self._send(bucket.status[key], b"<Error><Code>Injected</Code></Error>")
        elif not key and query.get("list-type") == "2":
            self._send(200, bucket.listing(query), "application/xml")
        elif key in bucket.objects:
            self._object(key, bucket.objects[key])
        else:
            self._send(404, b"<Error><Code>NoSuchKey</Code></Error>")

    def _object(self, key: str, data: bytes) -> None:
        bucket = self.server.bucket
        start = 0
        asked = self.headers.get("Range")
        if asked and key not in bucket.ignore_range:
            start = int(asked.removeprefix("bytes=").split("-")[0])
        body = data[start:]
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        with self.server.lock:
            cut = bucket.drops[key].pop(0) if bucket.drops.get(key) else None
        if cut is None:
            self.wfile.write(body)
            return
        self.wfile.write(body[:cut])  # then drop the connection mid-body
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def _send(self, status: int, body: bytes, content_type: str = "application/xml") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, bucket: FakeBucket) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.bucket = bucket
        self.lock = threading.Lock()


@contextmanager
def serving(bucket: FakeBucket) -> Iterator[FakeBucket]:
    """Serve `bucket` on 127.0.0.1 (a free port, set as `bucket.url`) for the block."""
    server = _Server(bucket)
    bucket.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield bucket
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def fake_bucket() -> Iterator[FakeBucket]:
    """A started fake dump bucket (empty: tests add objects); stopped afterwards."""
    with serving(FakeBucket()) as bucket:
        yield bucket
