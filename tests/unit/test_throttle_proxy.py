"""bench/throttle_proxy.py in front of a tiny HTTP server, both on 127.0.0.1: the bytes arrive unchanged,
and a profile adds its round trips and holds each direction to its bandwidth.

The machine is shared and noisy, so timings are checked with generous margins: the link's floor (the
proxy waits at least that long) with a 20-25 % allowance, and a ceiling seconds above it.
"""

from __future__ import annotations

import http.client
import random
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.throttle_proxy import Profile, ThrottleProxy

BODY = random.Random(7).randbytes(100_000)  # every byte value, in no particular order
FAST = 1_000_000  # kbit/s: bandwidth that costs nothing measurable


class _Handler(BaseHTTPRequestHandler):
    """GET /bytes/<n>: the first n bytes of BODY. POST /echo: the request's body back."""

    def do_GET(self) -> None:
        self._answer(BODY[:int(self.path.rsplit("/", 1)[1])])

    def do_POST(self) -> None:
        self._answer(self.rfile.read(int(self.headers["Content-Length"])))

    def _answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@pytest.fixture
def proxy() -> Iterator[ThrottleProxy]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    serving.start()
    throttle = ThrottleProxy("127.0.0.1", server.server_address[1]).start_in_thread()
    try:
        yield throttle
    finally:
        throttle.stop_thread()
        server.shutdown()
        server.server_close()
        serving.join(10)


def exchange(proxy: ThrottleProxy, method: str, path: str, body: bytes | None = None) -> tuple[bytes, float]:
    """One request on a new connection through the proxy: (response body, seconds)."""
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", proxy.listen_port, timeout=30)
    try:
        conn.request(method, path, body=body)
        response = conn.getresponse()
        assert response.status == 200
        data = response.read()
    finally:
        conn.close()
    return data, time.monotonic() - started


@pytest.mark.parametrize("profile", [None, Profile("quick", rtt_ms=10, down_kbit=FAST, up_kbit=FAST)],
                         ids=["unthrottled", "throttled"])
def test_bytes_pass_through_unchanged(proxy: ThrottleProxy, profile: Profile | None) -> None:
    proxy.set_profile(profile)
    assert exchange(proxy, "POST", "/echo", BODY)[0] == BODY
    assert exchange(proxy, "GET", f"/bytes/{len(BODY)}")[0] == BODY
    assert proxy.stats.connections == 2
    assert proxy.stats.up_bytes > len(BODY) and proxy.stats.down_bytes > 2 * len(BODY)


def test_a_profile_adds_its_round_trips(proxy: ThrottleProxy) -> None:
    rtt = 0.3
    _, baseline = exchange(proxy, "GET", "/bytes/100")
    proxy.set_profile(Profile("far away", rtt_ms=rtt * 1000, down_kbit=FAST, up_kbit=FAST))
    data, throttled = exchange(proxy, "GET", "/bytes/100")
    assert data == BODY[:100]
    # A new connection: the handshake's round trip, then half a round trip each way.
    added = throttled - baseline
    assert 0.75 * 2 * rtt <= added <= 2 * rtt + 2.0, (baseline, throttled)


def test_a_profile_holds_each_direction_to_its_bandwidth(proxy: ThrottleProxy) -> None:
    kbit = 800  # 100,000 bytes take 1 s
    floor = len(BODY) * 8 / (kbit * 1000)
    proxy.set_profile(Profile("slow down", rtt_ms=20, down_kbit=kbit, up_kbit=FAST))
    data, down = exchange(proxy, "GET", f"/bytes/{len(BODY)}")
    assert data == BODY
    assert 0.8 * floor <= down <= 3 * floor + 1.0, down

    proxy.set_profile(Profile("slow up", rtt_ms=20, down_kbit=FAST, up_kbit=kbit))
    data, up = exchange(proxy, "POST", "/echo", BODY)
    assert data == BODY
    assert 0.8 * floor <= up <= 3 * floor + 1.0, up
