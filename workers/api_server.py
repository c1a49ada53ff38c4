"""The API process: the HTTP API and web console (`fengqiao api`, and inside `make run`)."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import partial

import h11
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine
from uvicorn.protocols.http.h11_impl import H11Protocol

from api.app import create_app
from api.identity import Identity, LoginPolicy
from api.limits import HttpLimits
from api.services import Services
from router.domain.jurisdiction import Jurisdiction
from router.photos import PhotoLimits, Photos
from router.store.photo_files import BucketFiles, DirectoryFiles, PhotoFiles
from workers.clock import configured_clock
from workers.settings import SettingMissing, Settings


def build_services(settings: Settings, jurisdiction: Jurisdiction, engine: Engine) -> Services:
    defaults = LoginPolicy()
    policy = LoginPolicy(
        session_ttl=timedelta(hours=settings.session_hours),
        idle_timeout=timedelta(minutes=settings.session_idle_minutes),
        source_backoff=replace(defaults.source_backoff, free=settings.login_source_failures,
                               cap=timedelta(minutes=settings.login_source_max_minutes)),
        account_backoff=replace(defaults.account_backoff, free=settings.login_account_failures,
                                cap=timedelta(seconds=settings.login_account_max_seconds)),
        concurrent_checks=settings.password_checks, trusted_proxies=tuple(settings.trusted_proxies))
    limits = PhotoLimits(settings.photo_max_bytes, settings.photo_max_pixels)
    photos = Photos(photo_files(settings), engine.begin, limits, jurisdiction.keep_photo_location)
    return Services.build(engine, jurisdiction, settings.topics, Identity(engine.begin, policy),
                          configured_clock(settings), photos, secure_cookies=settings.secure_cookies,
                          max_record_bytes=settings.max_record_bytes)


def photo_files(settings: Settings) -> PhotoFiles:
    """The evidence photos' store the settings name: a directory (the default) or an S3-compatible bucket."""
    if settings.photo_store == "files":
        return DirectoryFiles(settings.photos_path)
    if not settings.s3_bucket:
        raise SettingMissing("FENGQIAO_PHOTO_STORE=s3 needs FENGQIAO_S3_BUCKET",
                             "set FENGQIAO_S3_BUCKET (and FENGQIAO_S3_ENDPOINT_URL for a service other than AWS)")
    import boto3  # only for the S3 store: the embedded default starts without loading it

    secret = settings.s3_secret_access_key
    client = boto3.client("s3", endpoint_url=settings.s3_endpoint_url, region_name=settings.s3_region,
                          aws_access_key_id=settings.s3_access_key_id,
                          aws_secret_access_key=secret.get_secret_value() if secret else None)
    return BucketFiles(client, settings.s3_bucket, settings.s3_prefix)


def api_app(settings: Settings, services: Services) -> FastAPI:
    """The API application with the settings' limits."""
    return create_app(services, limits=HttpLimits(settings.api_body_max_bytes, settings.api_streams_per_user,
                                                  settings.api_incidents_max_bytes, settings.api_incidents_per_batch,
                                                  settings.api_incident_calls_per_minute))


@dataclass(frozen=True)
class Connections:
    """How long, and for how many header bytes, the server waits on a client before it drops the connection."""

    header_timeout_s: float = 10.0
    keep_alive_s: int = 5
    max_header_bytes: int = 16 * 1024

    @classmethod
    def of(cls, settings: Settings) -> Connections:
        return cls(settings.api_header_timeout_s, settings.api_keep_alive_s, settings.api_max_header_bytes)


class _HeaderDeadline(H11Protocol):
    """uvicorn's h11 protocol with a deadline on each request's headers, which uvicorn lacks: its keep-alive
    timeout covers only the silence between requests, so a client trickling its headers a byte at a time
    held a connection for as long as it liked (slowloris)."""

    def __init__(self, *args, header_timeout_s: float, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._header_timeout_s = header_timeout_s
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # the headers are in: the request is the app's now
            self._disarm()
        elif self._deadline is None:  # the next request on a kept-alive connection has begun
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._deadline = self.loop.call_later(self._header_timeout_s, self.timeout_keep_alive_handler)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None


def server(app: FastAPI, host: str, port: int, connections: Connections | None = None) -> uvicorn.Server:
    """A uvicorn server for `app` that leaves logging and signals to the caller, names no server software
    (no `server: uvicorn`) and drops slow or idle clients as `connections` says."""
    limits = connections or Connections()
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, lifespan="off",
                            server_header=False, timeout_keep_alive=limits.keep_alive_s,
                            # Which proxies may name the client is FENGQIAO_TRUSTED_PROXIES' to say
                            # (api/login_limits.py), not uvicorn's default trust of 127.0.0.1.
                            proxy_headers=False,
                            h11_max_incomplete_event_size=limits.max_header_bytes,
                            http=partial(_HeaderDeadline, header_timeout_s=limits.header_timeout_s))
    return uvicorn.Server(config)


class BackgroundServer:
    """The API in a thread beside the Faust worker (the embedded default) or a test."""

    def __init__(self, app: FastAPI, host: str, port: int, connections: Connections | None = None) -> None:
        self._server = server(app, host, port, connections)
        self._thread = threading.Thread(target=self._server.run, name="api", daemon=True)

    def start(self, timeout_s: float = 15) -> BackgroundServer:
        self._thread.start()
        for _ in range(int(timeout_s * 20)):
            if self._server.started:
                return self
            if not self._thread.is_alive():
                break
            threading.Event().wait(0.05)
        raise RuntimeError(f"the API did not start on {self._server.config.host}:{self._server.config.port}")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


def run_api(settings: Settings, jurisdiction: Jurisdiction, engine: Engine) -> None:
    """Serve until SIGINT/SIGTERM (uvicorn's own handlers)."""
    app = api_app(settings, build_services(settings, jurisdiction, engine))
    server(app, settings.api_host, settings.api_port, Connections.of(settings)).run()
