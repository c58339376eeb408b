"""Outbound HTTP that cannot be aimed at the server's own network (webhook deliveries).

A URL is refused unless it is ``https`` (``http`` only when the operator allows it) and every
address its host resolves to is public or inside the operator's allowlist. The check runs at
subscription and again at each delivery, and the request then goes to the address that was
checked (the URL's host only travels in ``Host`` and TLS SNI), so a name that resolves to a
public address once and to 127.0.0.1 later (DNS rebinding) gains nothing. Redirects are never
followed; time and response size are bounded. Errors are reported in a few fixed words, never
the text of a connection error, which would make the delivery log a port scanner.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: host, port -> the addresses it resolves to (tests inject a fake resolver).
Resolver = Callable[[str, int], list[str]]

REFUSED_PRIVATE = "refused: private address"


class Refused(ValueError):
    """A URL the policy does not let the server call; the message is safe to show."""


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as err:
        raise Refused("refused: host does not resolve") from err
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True)
class OutboundPolicy:
    """Where the server may send requests. ``allow``: private networks the operator opens
    (``IDLESHARE_WEBHOOK_ALLOW=10.1.2.0/24,...``); ``allow_http``: plain ``http`` too
    (``IDLESHARE_WEBHOOK_ALLOW_HTTP=1``)."""

    allow_http: bool = False
    allow: tuple[IpNetwork, ...] = ()
    timeout_s: float = 5.0
    max_response_bytes: int = 64 * 1024
    resolver: Resolver = system_resolver

    @classmethod
    def parse(cls, allow: str = "", allow_http: bool = False, **kw: object) -> OutboundPolicy:
        try:
            nets = tuple(
                ipaddress.ip_network(part.strip(), strict=False)
                for part in allow.split(",")
                if part.strip()
            )
        except ValueError as err:
            raise ValueError(f"webhook_allow: {err}") from None
        return cls(allow_http=allow_http, allow=nets, **kw)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> OutboundPolicy:
        """The policy the ``IDLESHARE_WEBHOOK_*`` settings (shell.settings) describe."""
        http = env.get("IDLESHARE_WEBHOOK_ALLOW_HTTP", "").strip().lower() in ("1", "true", "yes")
        return cls.parse(env.get("IDLESHARE_WEBHOOK_ALLOW", ""), allow_http=http)

    def _allowed(self, ip: IpAddress) -> bool:
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
        if any(ip in net for net in self.allow if net.version == ip.version):
            return True
        return ip.is_global and not ip.is_multicast

    def check(self, url: str) -> tuple[str, str, int, str]:
        """(scheme, host, port, checked address) of ``url``, or :class:`Refused`."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme != "https" and not (scheme == "http" and self.allow_http):
            raise Refused("refused: the URL must be https")
        if parts.username or parts.password:
            raise Refused("refused: no credentials in the URL")
        host = parts.hostname
        if not host:
            raise Refused("refused: no host")
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError:
            raise Refused("refused: bad port") from None
        addresses = self.resolver(host, port)
        if not addresses:
            raise Refused("refused: host does not resolve")
        # Every address, not only the first: a resolver may hand out any of them later.
        for a in addresses:
            if not self._allowed(ipaddress.ip_address(a.split("%", 1)[0])):
                raise Refused(REFUSED_PRIVATE)
        return scheme, host, port, addresses[0].split("%", 1)[0]

    def _pinned(self, url: str, headers: dict[str, str]
                ) -> tuple[str, dict[str, str], dict[str, str]]:
        """The request for ``url`` sent to the address :meth:`check` allowed (a resolver asked
        again could answer another): (target URL, headers with Host, TLS extensions)."""
        scheme, host, port, address = self.check(url)
        parts = urlsplit(url)
        literal = f"[{address}]" if ":" in address else address
        target = f"{scheme}://{literal}:{port}{parts.path or '/'}"
        if parts.query:
            target += "?" + parts.query
        default_port = port == (443 if scheme == "https" else 80)
        headers = {**headers, "Host": host if default_port else f"{host}:{port}"}
        return target, headers, ({"sni_hostname": host} if scheme == "https" else {})

    def fetch(self, url: str, timeout_s: float, max_bytes: int) -> bytes:
        """GET ``url`` under this policy (an owner's calendar feed): its body, or an error
        (:class:`Refused`, or RuntimeError for a failed, non-2xx, redirected or too large
        answer)."""
        target, headers, extensions = self._pinned(url, {"User-Agent": "idleshare-calendars"})
        try:
            with httpx.Client(timeout=timeout_s, follow_redirects=False,
                              trust_env=False) as client:
                request = client.build_request("GET", target, headers=headers,
                                               extensions=extensions)
                response = client.send(request, stream=True)
                try:
                    if not 200 <= response.status_code < 300:
                        raise RuntimeError(f"HTTP {response.status_code}")
                    body = bytearray()
                    for chunk in response.iter_bytes():  # decoded: the limit is on the text
                        body += chunk
                        if len(body) > max_bytes:
                            raise RuntimeError(f"larger than {max_bytes} bytes")
                    return bytes(body)
                finally:
                    response.close()
        except httpx.TimeoutException:
            raise RuntimeError("timed out") from None
        except (httpx.HTTPError, OSError) as err:
            raise RuntimeError(f"connection failed: {err}") from None

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        """POST ``body`` to ``url`` under this policy: (HTTP status or 0, error text)."""
        try:
            target, headers, extensions = self._pinned(url, headers)
        except Refused as err:
            return 0, str(err)
        deadline = time.monotonic() + self.timeout_s
        try:
            # trust_env=False: no proxy from the environment may reroute the checked address.
            with httpx.Client(timeout=self.timeout_s, follow_redirects=False,
                              trust_env=False) as client:
                request = client.build_request(
                    "POST", target, content=body, headers=headers, extensions=extensions
                )
                response = client.send(request, stream=True)
                try:
                    read = 0
                    for chunk in response.iter_raw():
                        read += len(chunk)
                        if read > self.max_response_bytes or time.monotonic() > deadline:
                            break  # the status is all we need; drop the connection
                finally:
                    response.close()
        except httpx.TimeoutException:
            return 0, "timed out"
        except (httpx.HTTPError, OSError, ValueError):
            return 0, "connection failed"
        code = response.status_code
        if 300 <= code < 400:
            return code, "redirect not followed"
        return code, "" if 200 <= code < 300 else f"HTTP {code}"
