"""One HTTP POST under a hard deadline: connecting, sending and every read of the reply, status line and headers
included, end by one monotonic deadline however slowly the server trickles its bytes.

Stdlib `http.client` rather than requests, httpx or urllib3: their timeouts bound each socket operation, not the
whole exchange, so a server sending a header byte every few seconds holds them indefinitely. Here every read re-arms
the socket timeout to what is left of the deadline (a per-read timeout plus a monotonic deadline).
Name resolution (`getaddrinfo`) is the one step no socket timeout covers: use an IP address where DNS may hang.
"""

from __future__ import annotations

import http.client
import io
import socket
import time
from urllib.parse import urlsplit


class DeadlineExceeded(TimeoutError):
    """The deadline of the whole exchange passed."""


class ReplyTooLarge(http.client.HTTPException):
    """The reply body exceeds the size the caller accepts."""


def _left(timeout: float, deadline: float) -> float:
    """Socket timeout for the next operation: `timeout`, or less when the deadline is nearer; raise when it passed."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise DeadlineExceeded("the deadline passed")
    return min(timeout, remaining)


class _DeadlineReader(io.RawIOBase):
    """Reads from a socket, each read bounded by `timeout` and by what is left of `deadline`."""

    def __init__(self, sock: socket.socket, timeout: float, deadline: float):
        super().__init__()
        self._sock, self._timeout, self._deadline = sock, timeout, deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        self._sock.settimeout(_left(self._timeout, self._deadline))
        return self._sock.recv_into(buffer)


class _DeadlineSocket:
    """What `http.client.HTTPResponse` asks of a socket (`makefile`, `close`), its reads bounded by the deadline.

    `close` leaves the socket open: `HTTPConnection` closes it before the body is read when the server says
    `Connection: close`; `post` closes the real socket itself.
    """

    def __init__(self, sock: socket.socket, timeout: float, deadline: float):
        self._sock, self._timeout, self._deadline = sock, timeout, deadline

    def makefile(self, mode: str = "rb", *args, **kwargs):
        return io.BufferedReader(_DeadlineReader(self._sock, self._timeout, self._deadline))

    def close(self) -> None:
        pass


def post(url: str, body: bytes, headers: dict[str, str], timeout: float, deadline: float, max_bytes: int) -> tuple[int, bytes]:
    """POST `body` to `url` and return (status, reply body).

    Raises `DeadlineExceeded` once `deadline` (a `time.monotonic()` value) passes, `TimeoutError` when one socket
    operation waits `timeout` seconds, `ReplyTooLarge` for a body over `max_bytes`, and `OSError` or
    `http.client.HTTPException` for what else goes wrong on the wire.
    """
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.hostname, parts.port, timeout=_left(timeout, deadline))
    sock = None
    try:
        connection.connect()
        sock = connection.sock
        sock.settimeout(_left(timeout, deadline))  # sendall's timeout bounds sending the whole body
        connection.request("POST", parts.path or "/", body=body, headers=headers)
        connection.sock = _DeadlineSocket(sock, timeout, deadline)
        response = connection.getresponse()
        data = response.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise ReplyTooLarge(f"reply body exceeds {max_bytes} bytes")
        return response.status, data
    finally:
        connection.close()
        if sock is not None:
            sock.close()
