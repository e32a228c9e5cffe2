"""A small HTTP/1.1 keep-alive load generator on asyncio streams.

Fixed connection count and duration, loopback only; records every request's latency. Raw
streams keep the client cheap so that, on two cores, it takes as little CPU from the server
as possible (httpx would cost several times more per request)."""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else float("nan")

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) if self.latencies else float("nan")


async def _worker(port: int, path: str, deadline: float, result: LoadResult) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n".encode()
    try:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            writer.write(request)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            result.latencies.append(time.perf_counter() - start)
            result.statuses[status] = result.statuses.get(status, 0) + 1
    finally:
        writer.close()


async def run_load(port: int, path: str, connections: int, seconds: float) -> LoadResult:
    result = LoadResult()
    start = time.perf_counter()
    deadline = start + seconds
    await asyncio.gather(*(_worker(port, path, deadline, result) for _ in range(connections)))
    result.seconds = time.perf_counter() - start
    return result
