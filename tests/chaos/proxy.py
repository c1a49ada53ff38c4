"""A TCP proxy in front of PostgreSQL that the harness can cut: the database outage without
touching the shared server, which other tests and engineers use."""

from __future__ import annotations

import contextlib
import socket
import threading

from sqlalchemy import make_url

from workers.broker import free_port


class DatabaseProxy:
    """Forwards 127.0.0.1:`port` to `upstream`; `cut()` drops every connection and refuses new ones
    (each is closed as soon as it is accepted) until `restore()`."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.port = free_port()
        self._upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._up = True
        self._stopped = False
        self._thread = threading.Thread(target=self._accept, name="db-proxy", daemon=True)

    def start(self) -> DatabaseProxy:
        self._thread.start()
        return self

    def url_for(self, database_url: str) -> str:
        """`database_url` with its host and port replaced by the proxy's."""
        return make_url(database_url).set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)

    def cut(self) -> None:
        with self._lock:
            self._up = False
            doomed, self._open = self._open, set()
        for sock in doomed:
            _close(sock)

    def restore(self) -> None:
        with self._lock:
            self._up = True

    def stop(self) -> None:
        self._stopped = True
        self.cut()
        _close(self._listener)

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                up = self._up
            if not up:
                _close(client)
                continue
            try:
                server = socket.create_connection(self._upstream, timeout=5)
                server.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._open.update((client, server))
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(source)
                self._open.discard(target)
            _close(source)
            _close(target)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
