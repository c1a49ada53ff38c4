"""The one settings object, read from `FENGQIAO_*` environment variables (or a `.env` file)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, FilePath, IPvAnyNetwork, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from router.intake import MAX_RECORD_BYTES
from schemas.topics import Topics

_DEFAULT_BUNDLE = Path(__file__).resolve().parent.parent / "jurisdictions" / "xiaoshan"



class SettingMissing(ValueError):
    """A setting a command needs is not given; `hint` says how to give it."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint

class Settings(BaseSettings):
    """Everything a Fengqiao process needs to know; frozen once read at the entry point."""

    model_config = SettingsConfigDict(env_prefix="FENGQIAO_", env_file=".env", frozen=True, extra="ignore")

    data_dir: Path = Field(Path("var"), description="Where the embedded default keeps SQLite, Faust state and logs.")
    jurisdiction: Path = Field(_DEFAULT_BUNDLE, description="The jurisdiction bundle directory.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default SQLite under data_dir. e.g. postgresql+psycopg://host/db"
    )
    bootstrap_servers: str | None = Field(
        None, description="Kafka bootstrap servers (host:port,...). Unset: `make run` starts an embedded Tansu broker."
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", description="How every Kafka client of the product connects (worker, relay, CLI tools, demo "
        "feed): SSL for TLS (with a client certificate: mTLS), SASL_SSL for SCRAM or PLAIN over TLS.")
    kafka_sasl_mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"] | None = Field(
        None, description="SASL_*: the mechanism; PLAIN only over TLS (SASL_SSL).")
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: FilePath | None = Field(
        None, description="SSL, SASL_SSL: the CA bundle that signed the brokers' certificates; unset: the system's.")
    kafka_ssl_certfile: FilePath | None = Field(None, description="mTLS: this client's certificate (PEM).")
    kafka_ssl_keyfile: FilePath | None = Field(None, description="mTLS: this client's private key (PEM).")
    kafka_ssl_key_password: SecretStr | None = None
    topic_prefix: str = Field("", description="Prefix for every topic name, to share a cluster.")
    topic_partitions: Annotated[int, Field(ge=1, le=256)] = 4
    replication_factor: Annotated[int, Field(ge=1, le=5)] = 1
    group_id: str = Field("fengqiao-router", description="Consumer group (and Faust app id).")
    session_timeout_s: Annotated[float, Field(ge=1, le=300)] = Field(
        6.0, description="Kafka session timeout; Tansu holds JoinGroup for half of it."
    )
    heartbeat_interval_s: Annotated[float, Field(gt=0, le=100)] = 2.0
    batch_size: Annotated[int, Field(ge=1, le=10_000)] = 500
    batch_window_s: Annotated[float, Field(gt=0, le=10)] = 0.2
    max_record_bytes: Annotated[int, Field(ge=1024, le=1_000_000)] = MAX_RECORD_BYTES
    sweep_interval_s: Annotated[float, Field(gt=0, le=60)] = Field(1.0, description="SLA sweep tick.")
    sweep_batch: Annotated[int, Field(ge=1, le=10_000)] = 500
    relay_batch: Annotated[int, Field(ge=1, le=10_000)] = 500
    relay_lease_s: Annotated[float, Field(ge=1, le=600)] = 30.0
    retry_max_delay_s: Annotated[float, Field(gt=0, le=300)] = Field(
        2.0, description="Longest wait between retries of a batch or the relay (from 0.1 s, doubling). A retry costs "
        "one connection attempt, so a short ceiling brings the worker back within seconds of its database.")
    notify_timeout_s: Annotated[float, Field(gt=0, le=120)] = Field(
        10.0, description="How long a webhook POST (notify.csv) may take before it counts as failed.")
    notify_retry_first_s: Annotated[float, Field(gt=0, le=3600)] = Field(
        10.0, description="Wait after a webhook's first failed attempt; each further failure doubles it.")
    notify_retry_max_s: Annotated[float, Field(gt=0, le=24 * 3600)] = Field(
        600.0, description="Longest wait between attempts of one webhook notification.")
    notify_max_age_s: Annotated[float, Field(gt=0, le=7 * 24 * 3600)] = Field(
        6 * 3600.0, description="A notification not delivered this long after its fact is given up (and counted).")
    notify_batch: Annotated[int, Field(ge=1, le=1000)] = Field(50, description="Notifications sent at once.")
    notify_lease_s: Annotated[float, Field(ge=1, le=3600)] = Field(
        60.0, description="A worker's claim on the notifications it is sending; past it another worker may resend. "
        "Must exceed notify_timeout_s.")
    web_port: Annotated[int, Field(ge=1, le=65535)] = 6066
    web_host: str = "127.0.0.1"
    api_host: str = Field("127.0.0.1", description="Where the API and web console listen.")
    api_port: Annotated[int, Field(ge=1, le=65535)] = 8080
    api_body_max_bytes: Annotated[int, Field(ge=4096, le=16 * 1024 * 1024)] = Field(
        64 * 1024, description="Largest request body the API reads, in bytes (413 above it, before parsing); "
        "photo uploads have photo_max_bytes instead.")
    api_header_timeout_s: Annotated[float, Field(gt=0, le=300)] = Field(
        10.0, description="A connection that has not sent a request's headers in full this long is closed.")
    api_keep_alive_s: Annotated[int, Field(ge=1, le=300)] = Field(
        5, description="An idle keep-alive connection is closed after this many seconds.")
    api_max_header_bytes: Annotated[int, Field(ge=1024, le=1024 * 1024)] = Field(
        16 * 1024, description="Largest request line and headers the API reads (h11's incomplete event size).")
    api_streams_per_user: Annotated[int, Field(ge=1, le=100)] = Field(
        5, description="Live streams (GET /api/v1/stream) one user may hold open in one API process (429 above).")
    api_incidents_max_bytes: Annotated[int, Field(ge=64 * 1024, le=64 * 1024 * 1024)] = Field(
        4 * 1024 * 1024, description="Largest body of POST /api/v1/incidents (a batch of feed records), in bytes.")
    api_incidents_per_batch: Annotated[int, Field(ge=1, le=10_000)] = Field(
        500, description="Most records one POST /api/v1/incidents may carry (422 above).")
    api_incident_calls_per_minute: Annotated[int, Field(ge=1, le=100_000)] = Field(
        60, description="POST /api/v1/incidents calls one integration account may make a minute, "
        "in one API process (429 above, with Retry-After).")
    session_hours: Annotated[float, Field(gt=0, le=24 * 30)] = Field(12.0, description="Console sessions last this.")
    session_idle_minutes: Annotated[float, Field(gt=0, le=24 * 60)] = Field(
        30.0, description="A console session unused this long ends; each request extends it.")
    login_source_failures: Annotated[int, Field(ge=1, le=1000)] = Field(
        10, description="Failed logins from one address before it backs off (1 s, doubling).")
    login_source_max_minutes: Annotated[float, Field(gt=0, le=24 * 60)] = Field(
        15.0, description="Longest back-off of one address.")
    login_account_failures: Annotated[int, Field(ge=1, le=100)] = Field(
        5, description="Failed logins on one account, from anywhere, before it backs off (1 s, doubling).")
    login_account_max_seconds: Annotated[float, Field(gt=0, le=3600)] = Field(
        30.0, description="Longest back-off of one account: what a stranger's guesses can cost its owner.")
    password_checks: Annotated[int, Field(ge=1, le=64)] = Field(
        4, description="argon2 password checks at once (~64 MiB each); a login waits up to 2 s for one, then 503.")
    trusted_proxies: list[IPvAnyNetwork] = Field(
        [], description="Reverse proxies whose X-Forwarded-For names the client (JSON list of addresses or networks).")
    token_days: Annotated[int, Field(ge=1, le=3650)] = Field(
        90, description="Default validity of a bearer token issued by `fengqiao users issue-token`.")
    secure_cookies: bool = Field(False, description="Mark the session cookie Secure: set it behind HTTPS.")
    photo_max_bytes: Annotated[int, Field(ge=64 * 1024, le=64 * 1024 * 1024)] = Field(
        8 * 1024 * 1024, description="Largest evidence photo accepted, in bytes (413 above it).")
    photo_max_pixels: Annotated[int, Field(ge=1_000_000, le=200_000_000)] = Field(
        50_000_000, description="Largest evidence photo accepted, in pixels (width × height; 413 above it).")
    photo_store: Literal["files", "s3"] = Field(
        "files", description="Where evidence photos are kept: files under photo_dir, or an S3-compatible bucket.")
    photo_dir: Path | None = Field(None, description="The files store's directory; default data_dir/photos.")
    s3_bucket: str | None = Field(None, description="photo_store=s3: the bucket.")
    s3_prefix: str = Field("photos/", description="photo_store=s3: key prefix inside the bucket.")
    s3_endpoint_url: str | None = Field(
        None, description="photo_store=s3: the endpoint of an S3-compatible service (MinIO, OSS, COS); unset: AWS.")
    s3_region: str | None = None
    s3_access_key_id: str | None = Field(
        None, description="photo_store=s3: unset, boto3 finds credentials itself (instance or pod role).")
    s3_secret_access_key: SecretStr | None = None
    log_level: str = "INFO"
    clock_speed: Annotated[float, Field(ge=1, le=10_000)] = Field(
        1.0, description="Tests and demos only: how much faster than real time the clock runs from clock_epoch."
    )
    clock_epoch: Annotated[float, Field(ge=0)] | None = Field(
        None, description="Tests and demos only: the instant the moved clock is anchored at, as a reading of the "
                          "machine's monotonic clock (time.monotonic(); default: start), so processes agree.")
    clock_origin: AwareDatetime | None = Field(
        None, description="Tests and demos only: what the clock shows at clock_epoch (default: the real time then).")
    demo_rate: Annotated[float, Field(ge=0, le=10_000)] = Field(5.0, description="Demo feed records per second.")

    @model_validator(mode="after")
    def _kafka_security_is_whole(self) -> Settings:
        """A half-configured Kafka security setting fails at start, naming what is missing."""
        sasl = self.kafka_security_protocol.startswith("SASL_")
        tls = self.kafka_security_protocol in ("SSL", "SASL_SSL")
        if sasl and not (self.kafka_sasl_mechanism and self.kafka_sasl_username and self.kafka_sasl_password):
            raise ValueError(f"FENGQIAO_KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs "
                             "FENGQIAO_KAFKA_SASL_MECHANISM, _USERNAME and _PASSWORD")
        if not sasl and (self.kafka_sasl_mechanism or self.kafka_sasl_username or self.kafka_sasl_password):
            raise ValueError("FENGQIAO_KAFKA_SASL_* are set but the security protocol is not SASL_SSL or "
                             "SASL_PLAINTEXT")
        if self.kafka_sasl_mechanism == "PLAIN" and not tls:
            raise ValueError("SASL PLAIN sends the password in clear: use FENGQIAO_KAFKA_SECURITY_PROTOCOL=SASL_SSL")
        if (self.kafka_ssl_certfile is None) != (self.kafka_ssl_keyfile is None):
            raise ValueError("mTLS needs both FENGQIAO_KAFKA_SSL_CERTFILE and FENGQIAO_KAFKA_SSL_KEYFILE")
        if not tls and (self.kafka_ssl_cafile or self.kafka_ssl_certfile or self.kafka_ssl_key_password):
            raise ValueError("FENGQIAO_KAFKA_SSL_* are set but the security protocol is not SSL or SASL_SSL")
        return self

    @property
    def topics(self) -> Topics:
        return Topics(self.topic_prefix)

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'fengqiao.db').resolve()}"

    @property
    def photos_path(self) -> Path:
        return self.photo_dir or self.data_dir / "photos"

    @property
    def kafka_servers(self) -> str:
        if not self.bootstrap_servers:
            raise SettingMissing("FENGQIAO_BOOTSTRAP_SERVERS is not set and no embedded broker was started",
                                 "set it to the Kafka bootstrap servers, or use `make run` for the embedded broker")
        return self.bootstrap_servers
