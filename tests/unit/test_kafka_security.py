"""Kafka TLS and SASL settings become the same client configuration for Faust and kafka-python.

Tansu (the test broker) speaks PLAINTEXT only, so these paths are checked here, as configuration;
the PLAINTEXT default runs against Tansu in every integration test."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import faust
import pytest
from pydantic import ValidationError

from workers.kafka_security import client_kwargs, faust_credentials
from workers.settings import Settings


@pytest.fixture(scope="module")
def pem(tmp_path_factory) -> dict[str, Path]:
    """A self-signed certificate and its key (openssl), standing for the district's CA and a client's cert."""
    folder = tmp_path_factory.mktemp("pki")
    cert, key = folder / "client.pem", folder / "client.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=fq-test",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return {"cafile": cert, "certfile": cert, "keyfile": key}


def settings(**kafka: object) -> Settings:
    return Settings(_env_file=None, **{f"kafka_{k}": v for k, v in kafka.items()})


def test_the_default_is_plaintext_for_every_client():
    s = settings()
    assert client_kwargs(s) == {"security_protocol": "PLAINTEXT"}
    assert faust_credentials(s) is None


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"])
def test_sasl_over_tls(pem, mechanism):
    s = settings(security_protocol="SASL_SSL", sasl_mechanism=mechanism, sasl_username="fengqiao-worker",
                 sasl_password="s3cret", ssl_cafile=pem["cafile"])
    kwargs = client_kwargs(s)
    assert {k: v for k, v in kwargs.items() if k != "ssl_context"} == {
        "security_protocol": "SASL_SSL", "sasl_mechanism": mechanism, "sasl_plain_username": "fengqiao-worker",
        "sasl_plain_password": "s3cret"}
    assert isinstance(kwargs["ssl_context"], ssl.SSLContext)
    assert kwargs["ssl_context"].verify_mode is ssl.CERT_REQUIRED and kwargs["ssl_context"].check_hostname
    credentials = faust_credentials(s)
    assert isinstance(credentials, faust.SASLCredentials)
    assert (credentials.protocol.value, credentials.mechanism.value, credentials.username, credentials.password) == \
        ("SASL_SSL", mechanism, "fengqiao-worker", "s3cret")
    assert "s3cret" not in repr(credentials) and "s3cret" not in repr(s)


def test_scram_without_tls_is_allowed_but_plain_is_not():
    s = settings(security_protocol="SASL_PLAINTEXT", sasl_mechanism="SCRAM-SHA-512", sasl_username="u",
                 sasl_password="p")
    assert "ssl_context" not in client_kwargs(s)
    assert faust_credentials(s).protocol.value == "SASL_PLAINTEXT"
    with pytest.raises(ValidationError, match="PLAIN sends the password in clear"):
        settings(security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN", sasl_username="u", sasl_password="p")


def test_mtls_loads_the_client_certificate(pem):
    s = settings(security_protocol="SSL", ssl_cafile=pem["cafile"], ssl_certfile=pem["certfile"],
                 ssl_keyfile=pem["keyfile"])
    assert client_kwargs(s)["security_protocol"] == "SSL"
    credentials = faust_credentials(s)
    assert isinstance(credentials, faust.SSLCredentials) and credentials.protocol.value == "SSL"
    assert isinstance(credentials.context, ssl.SSLContext)


@pytest.mark.parametrize(
    ("kafka", "says"),
    [
        pytest.param({"security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-256"}, "needs", id="no-password"),
        pytest.param({"sasl_username": "u"}, "not SASL_SSL", id="sasl-on-plaintext"),
        pytest.param({"security_protocol": "SSL", "ssl_certfile": "CERT"}, "both", id="cert-without-key"),
        pytest.param({"ssl_cafile": "CERT"}, "not SSL", id="ca-on-plaintext"),
        pytest.param({"security_protocol": "TLS"}, "security_protocol", id="unknown-protocol"),
    ],
)
def test_a_half_configured_setting_fails_at_start(pem, kafka, says):
    values = {k: pem["certfile"] if v == "CERT" else v for k, v in kafka.items()}
    with pytest.raises(ValidationError, match=says):
        settings(**values)


def test_the_environment_names_them_fengqiao_kafka(monkeypatch, pem):
    monkeypatch.setenv("FENGQIAO_KAFKA_SECURITY_PROTOCOL", "SSL")
    monkeypatch.setenv("FENGQIAO_KAFKA_SSL_CAFILE", str(pem["cafile"]))
    assert client_kwargs(Settings(_env_file=None))["security_protocol"] == "SSL"
