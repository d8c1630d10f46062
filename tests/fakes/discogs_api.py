"""A local fake of the Discogs API's `GET /releases/{id}`: real HTTP on 127.0.0.1.

It answers in the API's shape (`{"id", "title", "images": [{"type", "uri", ...}]}`), and
can be told to misbehave the ways the real one does: 404 for missing releases, bursts of
429 with `Retry-After`, 500s a number of times per release, slow answers, and 401 for a
wrong token. It enforces its own moving-window limit (a request over it gets a 429 counted
in `over_limit`: those are the 429s the client caused) and logs every request's arrival
time, so tests check pacing on the server's clock, not the client's.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

IMAGE_BASE = "https://i.discogs.test/release"


def images_for(release_id: int, kind: str) -> list[dict[str, Any]]:
    """Images in the API's shape: `primary` after a secondary, `secondary` only, or none."""

    def image(n: int, type_: str) -> dict[str, Any]:
        uri = f"{IMAGE_BASE}/{release_id}-{n}.jpg"
        return {"type": type_, "uri": uri, "uri150": uri, "width": 600, "height": 600}

    if kind == "primary":
        return [image(1, "secondary"), image(2, "primary")]
    if kind == "secondary":
        return [image(1, "secondary"), image(2, "secondary")]
    return []


@dataclass(frozen=True)
class Hit:
    """One request as the server saw it."""

    at: float  # time.monotonic() on arrival
    release_id: int | None
    status: int
    authorized: bool
    agent: str = ""


@dataclass
class FakeDiscogsAPI:
    """Configure, then use as a context manager; `url` is the base URL to point clients at.

    releases: id -> images (missing ids answer 404); token: the one accepted (None: any);
    fail_500: id -> how many times it answers 500 first; slow: id -> seconds before answering;
    bursts: request ordinal (1-based) -> how many 429s start there; limit/window: the
    server's own moving-window limit (None: unlimited); retry_after: the header's value;
    remaining: id -> X-Discogs-Ratelimit-Remaining to report for it (default: the true one).
    """

    releases: Mapping[int, list[dict[str, Any]]]
    token: str | None = None
    fail_500: dict[int, int] = field(default_factory=dict)
    slow: dict[int, float] = field(default_factory=dict)
    bursts: dict[int, int] = field(default_factory=dict)
    limit: int | None = None
    window: float = 60.0
    retry_after: str = "1"
    remaining: dict[int, int] = field(default_factory=dict)
    log: list[Hit] = field(default_factory=list)
    over_limit: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._fails = dict(self.fail_500)
        self._burst_left = 0
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeDiscogsAPI:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body, headers, delay = fake._answer(self.path, self.headers)
                if delay:
                    time.sleep(delay)
                payload = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and left

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _answer(self, path: str, headers: Any) -> tuple[int, Any, dict[str, str], float]:
        now = time.monotonic()
        parts = path.split("?")[0].strip("/").split("/")
        rid = int(parts[1]) if len(parts) == 2 and parts[0] == "releases" else None
        authorized = self.token is None or headers.get("Authorization") == (
            f"Discogs token={self.token}"
        )
        with self._lock:
            status, body, extra, delay = self._decide(now, rid, authorized)
            self.log.append(Hit(now, rid, status, authorized, headers.get("User-Agent", "")))
        return status, body, extra, delay

    def _decide(
        self, now: float, rid: int | None, authorized: bool
    ) -> tuple[int, Any, dict[str, str], float]:
        ordinal = len(self.log) + 1
        used = 1 + sum(1 for h in self.log if h.at > now - self.window)
        limit = self.limit if self.limit is not None else 10**9
        rate = {
            "X-Discogs-Ratelimit": str(limit),
            "X-Discogs-Ratelimit-Used": str(used),
            "X-Discogs-Ratelimit-Remaining": str(max(0, limit - used)),
        }
        if not authorized:
            return 401, {"message": "You must authenticate to access this resource."}, {}, 0.0
        if ordinal in self.bursts:
            self._burst_left = self.bursts[ordinal]
        if self._burst_left > 0:
            self._burst_left -= 1
            return 429, {"message": "You are making requests too quickly."}, self._retry(), 0.0
        if used > limit:
            self.over_limit += 1
            return 429, {"message": "You are making requests too quickly."}, self._retry(), 0.0
        if rid is None:
            return 404, {"message": "The requested resource was not found."}, rate, 0.0
        if rid in self.remaining:
            rate["X-Discogs-Ratelimit-Remaining"] = str(self.remaining[rid])
        if self._fails.get(rid, 0) > 0:
            self._fails[rid] -= 1
            return 500, {"message": "Internal server error."}, rate, 0.0
        delay = self.slow.get(rid, 0.0)
        if rid not in self.releases:
            return 404, {"message": "Release not found."}, rate, delay
        body = {"id": rid, "title": f"Release {rid}", "images": self.releases[rid]}
        return 200, body, rate, delay

    def _retry(self) -> dict[str, str]:
        return {"Retry-After": self.retry_after}

    # What tests ask of the log.
    def hits(self, release_id: int) -> list[Hit]:
        with self._lock:
            return [h for h in self.log if h.release_id == release_id]

    def answered(self) -> list[int]:
        """Release ids in the order they got a final answer (200 or 404)."""
        with self._lock:
            return [h.release_id for h in self.log if h.status in (200, 404) and h.release_id]

    def max_in_window(self, window: float | None = None) -> int:
        """The most requests the log holds in any half-open window of `window` seconds."""
        window = self.window if window is None else window
        with self._lock:
            times = sorted(h.at for h in self.log)
        best, start = 0, 0
        for end, t in enumerate(times):
            while times[start] <= t - window:
                start += 1
            best = max(best, end - start + 1)
        return best


def kind_of(release_id: int) -> str:
    """The test catalog's shape: every 10th release is gone (404), every 7th has no image,
    every 3rd only secondary images, the rest a primary after a secondary."""
    if release_id % 10 == 0:
        return "missing"
    if release_id % 7 == 0:
        return "none"
    return "secondary" if release_id % 3 == 0 else "primary"


class EveryRelease(Mapping[int, list[dict[str, Any]]]):
    """`catalog` of every possible id (for caches whose ids the test does not list)."""

    def __getitem__(self, release_id: int) -> list[dict[str, Any]]:
        if kind_of(release_id) == "missing":
            raise KeyError(release_id)
        return images_for(release_id, kind_of(release_id))

    def __iter__(self) -> Iterator[int]:
        raise TypeError("every id: not iterable")

    def __len__(self) -> int:
        raise TypeError("every id: no length")


def catalog(ids: range | list[int]) -> dict[int, list[dict[str, Any]]]:
    """`releases` for FakeDiscogsAPI following `kind_of` (missing ids left out: 404)."""
    return {i: images_for(i, kind_of(i)) for i in ids if kind_of(i) != "missing"}


def expected_row(release_id: int) -> tuple[str | None, bool]:
    """(artwork_url, not_found) a complete top-up stores for `release_id` of `catalog`."""
    kind = kind_of(release_id)
    if kind in ("missing", "none"):
        return None, kind == "missing"
    return f"{IMAGE_BASE}/{release_id}-{2 if kind == 'primary' else 1}.jpg", False
