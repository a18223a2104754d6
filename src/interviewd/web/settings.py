"""The ``web:`` settings, and how a listen address is read and judged.

``WebConfig`` has the shape of the section the config schema will carry; until
it does, :func:`web_settings` falls back to the defaults (off).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

#: Where ``interviewd web`` listens when neither the config nor the command line says.
DEFAULT_LISTEN = "127.0.0.1:8765"


@dataclass(frozen=True, slots=True)
class WebConfig:
    """The web board: off unless ``listen`` is set."""

    #: host:port to serve the board on, e.g. "127.0.0.1:8765"; empty: the daemon serves none.
    listen: str = ""
    #: Name of the login token in the secret store; required for a non-loopback address.
    token_secret: str = "web-token"
    #: PEM certificate and key to serve HTTPS directly; empty: plain HTTP (or a TLS proxy).
    tls_cert: str = ""
    tls_key: str = ""


def web_settings(config: Any) -> WebConfig:
    """The config's ``web`` section, or the defaults while the schema has none."""
    found = getattr(config, "web", None)
    if found is None:
        return WebConfig()
    return WebConfig(
        listen=str(getattr(found, "listen", "")),
        token_secret=str(getattr(found, "token_secret", "web-token")),
        tls_cert=str(getattr(found, "tls_cert", "")),
        tls_key=str(getattr(found, "tls_key", "")),
    )


def parse_listen(listen: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port`` for IPv6) -> (host, port); a ConfigError says how to fix it."""
    text = listen.strip()
    fix = "write it as host:port, e.g. 127.0.0.1:8765"
    if text.startswith("["):
        host, sep, port = text[1:].partition("]:")
    else:
        host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ConfigError(f"web.listen {listen!r}: {fix}")
    number = int(port)
    if not 0 < number < 65536:
        raise ConfigError(f"web.listen {listen!r}: the port must be 1-65535")
    return host, number


def is_loopback(host: str) -> bool:
    """True only for addresses no other machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name might resolve anywhere: treat it as exposed
