"""A small TCP proxy that emulates a slow mobile link in front of the app (both directions, every request,
service-worker requests included: Chromium's page-level network emulation does not reach those).

Model, per direction, one shared link (like netem "rate" + "delay"): bytes queue for the link, leave it at
the given bandwidth (a token bucket with no burst beyond one segment), then arrive half the round trip later.
A new connection also waits one round trip before its first byte is forwarded (the TCP handshake).

    python -m bench.throttle_proxy --listen 8001 --target 127.0.0.1:8000 --rtt-ms 562.5 --down-kbit 1440 --up-kbit 675

Throttling can be switched on and off while connections are open (`set_profile`), so a benchmark can sign in
at full speed and then measure on the slow link.
"""

from __future__ import annotations

import argparse
import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Any

SEGMENT = 1460  # bytes paced at a time: delivery is progressive, as on a real link


@dataclass(frozen=True)
class Profile:
    name: str
    rtt_ms: float
    down_kbit: float  # server -> browser
    up_kbit: float  # browser -> server


# Chrome DevTools' "Slow 4G" preset (the figures Lighthouse uses for mobile).
SLOW_4G = Profile("Slow 4G", rtt_ms=562.5, down_kbit=1440, up_kbit=675)


class Link:
    """One direction of the link: serialisation at `bits_per_s`, then a fixed propagation delay."""

    def __init__(self) -> None:
        self.free_at = 0.0
        self.bytes = 0
        self.chunks = 0

    def schedule(self, now: float, size: int, profile: Profile | None, down: bool) -> float:
        """When a chunk of `size` bytes handed to the link at `now` arrives at the other end."""
        self.bytes += size
        self.chunks += 1
        if profile is None:
            return now
        kbit = profile.down_kbit if down else profile.up_kbit
        start = max(now, self.free_at)
        self.free_at = start + size * 8 / (kbit * 1000)
        return self.free_at + profile.rtt_ms / 2000


@dataclass
class Exchange:
    """One POST /sync as seen at the proxy (monotonic times): "delivered" = handed on to the other side."""

    request_read: float  # the browser's first byte reached the proxy
    request_delivered: float = 0.0  # the request's last byte handed to the server
    response_read: float = 0.0  # the server's first response byte reached the proxy
    response_delivered: float = 0.0  # the response's last byte handed to the browser


@dataclass
class Stats:
    connections: int = 0
    sync_posts: int = 0
    requests: int = 0
    up_bytes: int = 0
    down_bytes: int = 0
    started: float = field(default_factory=time.monotonic)
    syncs: list[Exchange] = field(default_factory=list)

    def breakdown(self, finished: float) -> dict[str, float]:
        """Seconds of the replay spent waiting for the server, in the browser between exchanges, and on the
        link (the rest): the device sends one batch at a time, so these add up."""
        ex = [e for e in self.syncs if e.response_delivered]
        server = sum(max(0.0, e.response_read - e.request_delivered) for e in ex)
        browser = sum(max(0.0, b.request_read - a.response_delivered) for a, b in zip(ex, ex[1:], strict=False))
        if ex:
            browser += max(0.0, ex[0].request_read - self.started) + max(0.0, finished - ex[-1].response_delivered)
        total = finished - self.started
        return {"total": total, "server": server, "browser": browser,
                "link": max(0.0, total - server - browser), "exchanges": len(ex)}


class ThrottleProxy:
    def __init__(self, target_host: str, target_port: int, listen_port: int = 0,
                 profile: Profile | None = None) -> None:
        self.target = (target_host, target_port)
        self.listen_port = listen_port
        self.profile = profile
        self.up = Link()
        self.down = Link()
        self.stats = Stats()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.server: asyncio.AbstractServer | None = None
        self.thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task[None]] = set()  # the two pipes of each open connection
        self._connections: set[asyncio.Task[Any]] = set()  # each connection's handler, until its sockets close

    # --- switching -------------------------------------------------------------------------------------
    def set_profile(self, profile: Profile | None) -> None:
        """Takes effect for bytes handed to the link from now on."""
        self.profile = profile

    def reset_stats(self) -> Stats:
        old, self.stats = self.stats, Stats()
        return old

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listen_port}"

    # --- running in a thread of its own (so the benchmark's own loop cannot distort the timing) --------
    def start_in_thread(self) -> ThrottleProxy:
        ready = threading.Event()

        def run() -> None:
            self.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(self.start())
            ready.set()
            self.loop.run_forever()
            self.loop.run_until_complete(self._close())
            self.loop.close()

        self.thread = threading.Thread(target=run, name="throttle-proxy", daemon=True)
        self.thread.start()
        if not ready.wait(10):
            raise RuntimeError("the throttle proxy did not start")
        return self

    def stop_thread(self) -> None:
        if self.loop and self.thread:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", self.listen_port)
        self.listen_port = self.server.sockets[0].getsockname()[1]

    async def _close(self) -> None:
        if self.server:
            self.server.close()
            await self.server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        # Then each handler closes its sockets: none is left half-closed when the loop stops.
        await asyncio.gather(*self._connections, return_exceptions=True)

    # --- one proxied connection --------------------------------------------------------------------------
    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        handler = asyncio.current_task()
        if handler is not None:
            self._connections.add(handler)
            handler.add_done_callback(self._connections.discard)
        self.stats.connections += 1
        try:
            server_r, server_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.close()
            await _closed(client_w)
            return
        if self.profile is not None:
            await asyncio.sleep(self.profile.rtt_ms / 1000)  # SYN, SYN-ACK: one round trip before data
        current: list[Exchange | None] = [None]  # the POST /sync this connection is carrying, if any
        up = asyncio.create_task(self._pipe(client_r, server_w, self.up, False, current))
        down = asyncio.create_task(self._pipe(server_r, client_w, self.down, True, current))
        for task in (up, down):
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        await asyncio.wait([up, down], return_when=asyncio.FIRST_COMPLETED)
        await asyncio.sleep(0)  # let the other side flush what it already holds
        for task in (up, down):
            if not task.done():
                task.cancel()
        for writer in (client_w, server_w):
            writer.close()
        await asyncio.gather(_closed(client_w), _closed(server_w))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, link: Link,
                    down: bool, current: list[Exchange | None]) -> None:
        """Read as fast as the sender gives; deliver each segment at its arrival time, in order."""
        queue: asyncio.Queue[tuple[float, bytes, Exchange | None] | None] = asyncio.Queue()
        tail = b""

        async def deliver() -> None:
            while True:
                entry = await queue.get()
                if entry is None:
                    break
                when, data, exchange = entry
                delay = when - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                writer.write(data)
                await writer.drain()
                if exchange is not None:
                    if down:
                        exchange.response_delivered = time.monotonic()
                    else:
                        exchange.request_delivered = time.monotonic()
            if writer.can_write_eof():
                try:
                    writer.write_eof()
                except OSError:
                    pass

        sender = asyncio.create_task(deliver())
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                now = time.monotonic()
                if down:
                    self.stats.down_bytes += len(data)
                    if current[0] is not None and not current[0].response_read:
                        current[0].response_read = now
                else:
                    self.stats.up_bytes += len(data)
                    seen = tail + data
                    self.stats.requests += seen.count(b" HTTP/1.1\r\n") - tail.count(b" HTTP/1.1\r\n")
                    syncs = seen.count(b"POST /sync HTTP") - tail.count(b"POST /sync HTTP")
                    self.stats.sync_posts += syncs
                    if syncs:
                        current[0] = Exchange(now)
                        self.stats.syncs.append(current[0])
                    elif data[:8].split(b" ", 1)[0] in (b"GET", b"POST", b"HEAD", b"PUT", b"DELETE", b"OPTIONS"):
                        current[0] = None  # another request on this connection
                    tail = data[-32:]
                exchange = current[0]
                profile = self.profile
                for offset in range(0, len(data), SEGMENT if profile else len(data)):
                    piece = data[offset:offset + (SEGMENT if profile else len(data))]
                    queue.put_nowait((link.schedule(now, len(piece), profile, down), piece, exchange))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            queue.put_nowait(None)
            try:
                await sender
            except (ConnectionError, OSError):
                pass


async def _closed(writer: asyncio.StreamWriter) -> None:
    try:
        await writer.wait_closed()
    except (ConnectionError, OSError):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listen", type=int, default=8001)
    parser.add_argument("--target", default="127.0.0.1:8000")
    parser.add_argument("--rtt-ms", type=float, default=SLOW_4G.rtt_ms)
    parser.add_argument("--down-kbit", type=float, default=SLOW_4G.down_kbit)
    parser.add_argument("--up-kbit", type=float, default=SLOW_4G.up_kbit)
    args = parser.parse_args()
    host, _, port = args.target.rpartition(":")
    proxy = ThrottleProxy(host or "127.0.0.1", int(port), args.listen,
                          Profile("custom", args.rtt_ms, args.down_kbit, args.up_kbit))

    async def serve() -> None:
        await proxy.start()
        print(f"throttling {proxy.url} -> {args.target}: RTT {args.rtt_ms} ms, "
              f"{args.down_kbit} kbit/s down, {args.up_kbit} kbit/s up", flush=True)
        await asyncio.Event().wait()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
