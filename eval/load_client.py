"""A lean HTTP/1.1 client for load runs: JSON posts over asyncio streams, nothing else.

The load run's client shares the machine's cores with the server it measures. httpx spent about
10 ms of CPU a request there (the benchmark process kept 0.9 of a core busy at 87 requests/s),
which the server then did not get. This client writes the request line and headers itself, reads
a Content-Length or chunked body, and keeps connections alive when asked to (`keep_alive`), so
nearly all of the cores go to the server. It speaks only what `rag serve` answers.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from urllib.parse import urlsplit

Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@dataclass(frozen=True)
class Response:
    """Status, headers (names lower-cased) and body of one response; status 0 when the connection
    failed, with the reason as the body."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class LoadClient:
    """Posts JSON to one server: a new connection per request, or kept ones reused (keep_alive)."""

    url: str
    keep_alive: bool = True
    timeout: float = 300.0
    _idle: list[Streams] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"{self.url!r}: the load client speaks plain http://host:port only")
        self._host, self._port = parts.hostname, parts.port or 80

    async def post(self, path: str, body: bytes) -> Response:
        """POST body (JSON) to path; never raises for a network failure (status 0)."""
        try:
            return await asyncio.wait_for(self._post(path, body), self.timeout)
        except (
            OSError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            TimeoutError,
            ValueError,
        ) as error:
            return Response(0, {}, f"{type(error).__name__}: {error}".encode())

    async def close(self) -> None:
        """Close the kept connections."""
        while self._idle:
            _, writer = self._idle.pop()
            writer.close()

    async def _post(self, path: str, body: bytes) -> Response:
        streams = self._idle.pop() if self._idle else await asyncio.open_connection(self._host, self._port)
        reader, writer = streams
        try:
            head = (
                f"POST {path} HTTP/1.1\r\nHost: {self._host}:{self._port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                f"Connection: {'keep-alive' if self.keep_alive else 'close'}\r\n\r\n"
            )
            writer.write(head.encode("ascii") + body)
            await writer.drain()
            status, headers = _head(await reader.readuntil(b"\r\n\r\n"))
            data, reusable = await _body(reader, headers)
        except BaseException:
            writer.close()
            raise
        if self.keep_alive and reusable and headers.get("connection", "").lower() != "close":
            self._idle.append(streams)
        else:
            writer.close()
        return Response(status, headers, data)


def _head(raw: bytes) -> tuple[int, dict[str, str]]:
    """The status code and headers of a response head."""
    status_line, *lines = raw.decode("latin-1").split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise ValueError(f"not an HTTP response: {status_line[:80]!r}")
    headers = {}
    for line in lines:
        name, separator, value = line.partition(":")
        if separator:
            headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


async def _body(reader: asyncio.StreamReader, headers: dict[str, str]) -> tuple[bytes, bool]:
    """The body, and whether the connection may carry another request after it."""
    if "content-length" in headers:
        return await reader.readexactly(int(headers["content-length"])), True
    if headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        await reader.readuntil(b"\r\n")  # no trailers: the empty line after the last chunk
        return b"".join(parts), True
    return await reader.read(), False  # until the server closes
