"""Limits on the real uvicorn server: bodies refused before they are read, slow and idle clients dropped,
streams per user capped, no server banner. Raw sockets where a client must misbehave on purpose."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest

from tests.integration.api_support import ApiUnderTest
from tests.integration.support import fresh_database, wait_for
from workers.api_server import Connections

SIXTEEN_MB = 16 * 1024 * 1024
# Short enough to wait for, long enough that a test's own request is never cut by it.
QUICK = Connections(header_timeout_s=1.0, keep_alive_s=1)


@pytest.fixture(scope="module")
def limited() -> Iterator[ApiUnderTest]:
    with fresh_database() as url:
        under_test = ApiUnderTest.start(url, connections=QUICK)
        try:
            yield under_test
        finally:
            under_test.stop()


def _connect(api: ApiUnderTest) -> socket.socket:
    host, port = api.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=30)


def _answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Read one HTTP answer whose body length the headers give."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed before an answer: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    while len(body) < int(headers["content-length"]):
        body += sock.recv(65536)
    return int(status_line.split()[1]), headers, body


def _closed_by_server(sock: socket.socket) -> bool:
    """True once the server has closed the connection (recv answers b""); the socket's timeout bounds the wait."""
    while chunk := sock.recv(65536):
        assert not chunk.startswith(b"HTTP/1.1 2"), chunk
    return True


def test_a_16_mb_login_is_refused_before_the_server_reads_it(limited):
    with _connect(limited) as sock:
        sock.sendall(b"POST /api/v1/session HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n" % SIXTEEN_MB + b"{" + b" " * 65_536)
        # The answer comes while 16 MB are still unsent: it cannot have waited for, or read, the body.
        status, headers, body = _answer(sock)
        assert (status, json.loads(body)["code"], headers["connection"]) == (413, "request_too_large", "close")
        assert _closed_by_server(sock)


def test_a_chunked_body_is_cut_where_it_passes_the_cap(limited):
    with _connect(limited) as sock:
        sock.sendall(b"POST /api/v1/session HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b" " * 16_384
        for _ in range(5):  # 80 KiB, past the 64 KiB cap, and never the final chunk
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        status, _, body = _answer(sock)
        assert (status, json.loads(body)["message"]) == (413, "请求内容过大，最多 64 KB")


def test_a_client_that_never_finishes_its_headers_is_dropped(limited):
    with _connect(limited) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: ")
        assert _closed_by_server(sock)


def test_an_idle_kept_alive_connection_is_closed(limited):
    with _connect(limited) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        status, headers, _ = _answer(sock)
        assert status == 200 and "server" not in headers  # no banner naming the server software
        assert _closed_by_server(sock)


def test_one_user_holds_at_most_five_streams_and_gets_one_back_when_a_stream_ends(limited):
    client = limited.client("xintang-op")
    with ExitStack() as streams:
        opened = [streams.enter_context(client.stream("GET", "/api/v1/stream")) for _ in range(5)]
        assert [s.status_code for s in opened] == [200] * 5
        refused = client.get("/api/v1/stream")
        assert (refused.status_code, refused.json()["code"]) == (429, "too_many_streams")
        other = limited.client("beigan-op")  # the cap is per user, not for everyone
        with other.stream("GET", "/api/v1/stream") as theirs:
            assert theirs.status_code == 200
        opened[0].close()

        def reopened() -> bool:
            with httpx.Client(base_url=limited.url, cookies=client.cookies, timeout=10) as again, \
                    again.stream("GET", "/api/v1/stream") as stream:
                return stream.status_code == 200

        wait_for(reopened, 30, "a stream slot given back")
