"""What an oversized request costs the API: a 16 MB login body against a plain refused request.

Starts `fengqiao api` as its own process on a fresh PostgreSQL database (FENGQIAO_TEST_PG_URL) and times,
over `--rounds` requests each, on raw sockets:

- baseline: `GET /api/v1/me` without a session, answered 401 (the cheapest refused request);
- declared: `POST /api/v1/session` declaring `Content-Length: 16 MiB`, the answer read after the headers
  and the first 64 KiB (the server must answer 413 without waiting for the rest);
- sent: the same, with the client pushing all 16 MiB as fast as the server reads them (time to the 413).

It prints each median and 95th percentile, the ratio to the baseline, and the API process's peak resident
memory (VmHWM) before and after, against the issue's target: 413 within 100 ms and memory unmoved. Figures,
not pass/fail (`make bench`).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.integration.support import REPO, XIAOSHAN, fresh_database, wait_for
from workers.broker import free_port

SIXTEEN_MB = 16 * 1024 * 1024
LOGIN_HEAD = (b"POST /api/v1/session HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n" % SIXTEEN_MB)


def _status(sock: socket.socket) -> int:
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before an answer: {data!r}")
        data += chunk
    return int(data.split(b" ", 2)[1])


def _baseline(port: int) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"GET /api/v1/me HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        return _status(sock)


def _declared(port: int) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(LOGIN_HEAD + b"{" + b" " * 65_535)
        return _status(sock)


def _sent(port: int) -> int:
    """Push the whole body; the server may answer and close before it has all of it."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(LOGIN_HEAD)
        chunk = b" " * 262_144
        try:
            for _ in range(SIXTEEN_MB // len(chunk)):
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused mid-body: the answer is already on its way
        return _status(sock)


def _timed(request: Callable[[int], int], port: int, rounds: int, expect: int) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        status = request(port)
        times.append((time.perf_counter() - start) * 1000)
        if status != expect:
            raise SystemExit(f"{request.__name__}: HTTP {status}, expected {expect}")
    return times


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def _row(name: str, times: list[float], baseline_ms: float) -> str:
    p95 = statistics.quantiles(times, n=20)[-1] if len(times) >= 20 else max(times)
    median = statistics.median(times)
    return f"{name:<46} {median:>9.2f} {p95:>9.2f} {median / baseline_ms:>8.1f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    port = free_port()
    with fresh_database() as url:
        env = {**os.environ, "FENGQIAO_DATABASE_URL": url, "FENGQIAO_API_PORT": str(port),
               "FENGQIAO_JURISDICTION": str(XIAOSHAN), "FENGQIAO_LOG_LEVEL": "WARNING"}
        api = subprocess.Popen([str(Path(sys.executable).with_name("fengqiao")), "api"], cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200, 60,
                     "the API")
            _timed(_baseline, port, 5, 401)  # warm-up: imports, the first connection to the database
            rss_before = _peak_rss_mib(api.pid)
            baseline = _timed(_baseline, port, args.rounds, 401)
            declared = _timed(_declared, port, args.rounds, 413)
            sent = _timed(_sent, port, args.rounds, 413)
            rss_after = _peak_rss_mib(api.pid)
        finally:
            api.terminate()
            api.wait(30)
    baseline_ms = statistics.median(baseline)
    print(f"API limits, {args.rounds} requests each (ms)")
    print(f"{'request':<46} {'median':>9} {'p95':>9} {'vs base':>9}")
    print(_row("baseline: GET /api/v1/me, no session → 401", baseline, baseline_ms))
    print(_row("16 MiB login declared → 413", declared, baseline_ms))
    print(_row("16 MiB login pushed in full → 413", sent, baseline_ms))
    print(f"API peak resident memory: {rss_before:.0f} MiB before, {rss_after:.0f} MiB after "
          f"{2 * args.rounds} oversized logins (target: 413 within 100 ms, memory unmoved)")


if __name__ == "__main__":
    main()
