"""How every Kafka client the product runs authenticates and encrypts, built once from the settings.

The Faust app (its consumers and the outbox relay's producer) takes `faust_credentials`; kafka-python's
admin, producer and consumer (topic creation, `fengqiao replay`, the demo feed) take `client_kwargs`.
Both come from the same settings, so no client can connect differently from the others. The embedded
Tansu broker speaks PLAINTEXT only: SSL and SASL are checked by configuration tests, not on a broker.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from types import MappingProxyType

import faust
from faust.types.auth import CredentialsT

from workers.settings import Settings

PLAINTEXT: Mapping[str, object] = MappingProxyType({"security_protocol": "PLAINTEXT"})


def _ssl_context(s: Settings) -> ssl.SSLContext:
    """Brokers verified against the CA (host names checked); with a client certificate for mTLS."""
    context = ssl.create_default_context(cafile=str(s.kafka_ssl_cafile) if s.kafka_ssl_cafile else None)
    if s.kafka_ssl_certfile is not None:
        password = s.kafka_ssl_key_password.get_secret_value() if s.kafka_ssl_key_password else None
        context.load_cert_chain(str(s.kafka_ssl_certfile), str(s.kafka_ssl_keyfile), password)
    return context


def _tls(s: Settings) -> bool:
    return s.kafka_security_protocol in ("SSL", "SASL_SSL")


def client_kwargs(s: Settings) -> Mapping[str, object]:
    """kafka-python's connection arguments for an admin client, producer or consumer."""
    kwargs: dict[str, object] = {"security_protocol": s.kafka_security_protocol}
    if _tls(s):
        kwargs["ssl_context"] = _ssl_context(s)
    if s.kafka_sasl_mechanism is not None:
        kwargs.update(sasl_mechanism=s.kafka_sasl_mechanism, sasl_plain_username=s.kafka_sasl_username,
                      sasl_plain_password=s.kafka_sasl_password.get_secret_value() if s.kafka_sasl_password else None)
    return MappingProxyType(kwargs)


def faust_credentials(s: Settings) -> CredentialsT | None:
    """The Faust app's `broker_credentials`; None for PLAINTEXT."""
    if s.kafka_sasl_mechanism is not None:
        return faust.SASLCredentials(
            username=s.kafka_sasl_username, password=s.kafka_sasl_password.get_secret_value(),  # type: ignore[union-attr]
            ssl_context=_ssl_context(s) if _tls(s) else None, mechanism=s.kafka_sasl_mechanism)
    if _tls(s):
        return faust.SSLCredentials(_ssl_context(s))
    return None
