"""Bounded HTTP GETs for a crawl: every redirect hop checked, bodies capped, one deadline.

Redirects are followed here, not by the HTTP client, so each hop passes the rules a link
passes (the caller's `allowed`: scheme, host policy, robots.txt) and the address policy. A
host's name is resolved once per hop and every address it resolves to is checked; the
connection then goes to the checked address (the name stays in the Host header and TLS SNI),
so a name that resolves elsewhere on a second lookup cannot slip past the check. Bodies are
read as a stream and decoded here (gzip, deflate), so the cap counts inflated bytes. One
deadline covers connect, every hop, headers and body: a watchdog shuts the sockets down when
it passes, so a server dripping a byte at a time cannot hold a fetch past it.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from rag_pipelines.ingest.limits import TooLarge

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
REDIRECTS = (301, 302, 303, 307, 308)
CHUNK = 64 * 1024
_WBITS = {"gzip": 31, "x-gzip": 31, "deflate": 15}


class FetchRefused(ValueError):
    """A URL or redirect hop the crawl's rules do not allow; nothing was read from it."""


class AddressRefused(FetchRefused):
    """The host resolves to an address the address policy refuses (private, loopback, ...)."""


class TooManyRedirects(FetchRefused):
    """More redirect hops than `max_redirects`."""


class FetchTimeout(ValueError):
    """The fetch did not finish within its deadline (connect, redirects, headers and body)."""


class HttpError(ValueError):
    """The server answered with an error status."""


@dataclass(frozen=True)
class FetchPolicy:
    """What one fetch may cost and where it may go."""

    max_bytes: int
    deadline_s: float
    max_redirects: int = 5
    private_networks: tuple[Network, ...] = ()  # loopback/private networks it may reach
    user_agent: str = "rag-pipelines"


@dataclass(frozen=True)
class Fetched:
    """A final answer: the URL it came from after redirects, status, headers and body."""

    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes = b""


def address_refusal(address: str, private_networks: tuple[Network, ...] = ()) -> str | None:
    """Why an IP address may not be fetched from, or None when it may.

    Link-local (where cloud metadata services answer), multicast, unspecified and reserved
    addresses are always refused; loopback and private ones (RFC 1918, unique-local, CGNAT)
    only inside `private_networks`.
    """
    ip = ip_of(address)
    if ip.is_link_local:
        return f"{ip} is link-local (cloud metadata services answer there): never fetched"
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return f"{ip} is not a unicast host address: never fetched"
    if not ip.is_global and not any(ip in net for net in private_networks):
        return (
            f"{ip} is a loopback or private address outside the crawl's own; add it to "
            "allow_private_networks on the source to crawl it"
        )
    return None


def ip_of(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """An address as resolved (an IPv6 zone dropped, an IPv4-mapped IPv6 one as IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def own_networks(url: str) -> tuple[Network, ...]:
    """The non-public addresses `url`'s host resolves to now, each as a one-address network.

    A crawl configured on an internal address may fetch from that address (and no other
    internal one) without more configuration; nothing when it does not resolve.
    """
    parts = urlsplit(url)
    try:
        found = socket.getaddrinfo(parts.hostname or "", parts.port or 80, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return ()
    ips = dict.fromkeys(ip_of(str(info[4][0])) for info in found)
    return tuple(ipaddress.ip_network(ip) for ip in ips if not ip.is_global)


@dataclass
class _Watchdog:
    """Shuts down the fetch's sockets once its deadline passes."""

    deadline: float
    expired: bool = False
    _sockets: list[socket.socket] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _timer: threading.Timer | None = None

    def __post_init__(self) -> None:
        self._timer = threading.Timer(max(0.0, self.deadline - time.monotonic()), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's trace hook: note each new connection's socket."""
        if event == "connection.connect_tcp.complete":
            sock = info["return_value"].get_extra_info("socket")
            with self._lock:
                self._sockets.append(sock)
                if self.expired:
                    _shut(sock)

    def left(self) -> float:
        """Seconds until the deadline; FetchTimeout once it has passed."""
        left = self.deadline - time.monotonic()
        if left <= 0 or self.expired:
            raise FetchTimeout("the page did not arrive within timeout_s")
        return left

    def cancel(self) -> None:
        """Stop the timer (the fetch is over)."""
        if self._timer is not None:
            self._timer.cancel()

    def _fire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


class Fetcher:
    """GETs under a FetchPolicy; `allowed(url)` gives the reason a URL is refused, or None."""

    def __init__(self, policy: FetchPolicy, allowed: Callable[[str], str | None]) -> None:
        import httpx

        self.policy = policy
        self.last_url = ""  # the last hop `get` was allowed to fetch (where it failed, if it did)
        self._allowed = allowed
        # No keep-alive: every request opens its own connection, so the watchdog sees its
        # socket; no proxies from the environment: the address checked is the one connected to.
        self._client = httpx.Client(
            follow_redirects=False,
            trust_env=False,
            limits=httpx.Limits(max_keepalive_connections=0),
            headers={"User-Agent": policy.user_agent, "Accept-Encoding": "gzip, deflate"},
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.close()

    def get(
        self,
        url: str,
        conditional: Callable[[str], Mapping[str, str]] | None = None,
        read_body: bool = True,
        follow: bool = True,
    ) -> Fetched:
        """The final answer for `url` (a 2xx with its body, or any other status without).

        `conditional(url)` gives each hop's If-None-Match / If-Modified-Since headers.
        Raises FetchRefused, TooLarge or FetchTimeout; httpx errors for a failed connection.
        """
        watchdog = _Watchdog(time.monotonic() + self.policy.deadline_s)
        self.last_url = url
        try:
            for hop in range(self.policy.max_redirects + 1):
                reason = self._allowed(url)
                if reason is not None:
                    where = "redirect to " if hop else ""
                    raise FetchRefused(f"{where}{url}: {reason}")
                self.last_url = url
                headers = dict(conditional(url)) if conditional is not None else {}
                fetched = self._hop(url, headers, watchdog, read_body)
                location = fetched.headers.get("location")
                if not follow or fetched.status not in REDIRECTS or not location:
                    return fetched
                url = urldefrag(urljoin(url, location))[0]
            raise TooManyRedirects(
                f"{url}: more than max_redirects={self.policy.max_redirects} redirects"
            )
        except Exception:
            if watchdog.expired:
                raise FetchTimeout(
                    f"{url}: the page did not arrive within timeout_s={self.policy.deadline_s}"
                ) from None
            raise
        finally:
            watchdog.cancel()

    def _hop(
        self, url: str, headers: dict[str, str], watchdog: _Watchdog, read_body: bool
    ) -> Fetched:
        import httpx

        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = self._resolve(host, port)
        target = httpx.URL(url).copy_with(host=address)
        headers["Host"] = f"[{host}]" if ":" in host else host
        if parts.port is not None:
            headers["Host"] += f":{parts.port}"
        extensions: dict[str, Any] = {"trace": watchdog.trace}
        if parts.scheme == "https":
            extensions["sni_hostname"] = host
        request = self._client.build_request(
            "GET",
            target,
            headers=headers,
            extensions=extensions,
            timeout=httpx.Timeout(watchdog.left()),
        )
        response = self._client.send(request, stream=True)
        try:
            status = response.status_code
            body = b""
            if read_body and 200 <= status < 300:
                body = self._body(response, watchdog)
            return Fetched(url=url, status=status, headers=response.headers, body=body)
        finally:
            response.close()

    def _resolve(self, host: str, port: int) -> str:
        """The address to connect to, once every address the host resolves to passes."""
        if not host:
            raise FetchRefused("the URL has no host")
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise FetchRefused(f"cannot resolve {host}: {exc}") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
        for address in addresses:
            reason = address_refusal(address, self.policy.private_networks)
            if reason is not None:
                raise AddressRefused(f"{host} resolves to {reason}")
        return addresses[0]

    def _body(self, response: Any, watchdog: _Watchdog) -> bytes:
        """The decoded body, at most `max_bytes` of it (TooLarge past that)."""
        limit = self.policy.max_bytes
        coding = response.headers.get("content-encoding", "identity").strip().lower()
        declared = response.headers.get("content-length", "")
        if coding == "identity" and declared.isdigit() and int(declared) > limit:
            raise TooLarge(f"the page is {declared} bytes, over max_file_mb")
        inflate = _Inflater(coding)
        out = bytearray()
        for raw in response.iter_raw(CHUNK):
            out += inflate(raw, limit + 1 - len(out))
            if len(out) > limit:
                raise TooLarge(f"the page is over max_file_mb ({limit} bytes) once decoded")
            watchdog.left()
        watchdog.left()  # a socket shut at the deadline ends the body early: not a whole page
        return bytes(out)


class _Inflater:
    """Decodes a Content-Encoding chunk by chunk, never producing more than asked for."""

    def __init__(self, coding: str) -> None:
        if coding not in ("identity", *_WBITS):
            raise ValueError(f"unsupported Content-Encoding {coding!r} (asked for gzip, deflate)")
        self._wbits = _WBITS.get(coding)
        self._raw_deflate = False
        self._d: Any = zlib.decompressobj(self._wbits) if self._wbits else None

    def __call__(self, data: bytes, room: int) -> bytes:
        if self._d is None:
            return data
        out = bytearray()
        while data and len(out) < room:
            try:
                out += self._d.decompress(data, room - len(out))
            except zlib.error:
                if self._wbits != 15 or self._raw_deflate:
                    raise
                self._raw_deflate = True  # "deflate" sent without its zlib header
                self._d = zlib.decompressobj(-15)
                continue
            data = self._d.unconsumed_tail
            if self._wbits == 31 and self._d.eof and self._d.unused_data:  # gzip members in a row
                data = self._d.unused_data + data
                self._d = zlib.decompressobj(self._wbits)
        return bytes(out)
