"""Who the client is behind reverse proxies: the address the wrong-key limiter counts.

Only a connection from a configured trusted proxy may name the client, in `X-Forwarded-For`;
the header is read right to left (each proxy appends the address it saw) and the first entry
that is not itself a trusted proxy is the client. Anything a client writes into the header
sits to the left of that entry, so it cannot choose another client's bucket.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(entries: Sequence[str]) -> tuple[Network, ...]:
    """The configured proxies (validated by the config) as networks."""
    return tuple(ipaddress.ip_network(e, strict=False) for e in entries)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def _trusted(text: str, networks: Sequence[Network]) -> bool:
    address = _address(text)
    return address is not None and any(address in n for n in networks)


def client_address(peer: str, forwarded_for: str | None, networks: Sequence[Network]) -> str:
    """The client's address: `peer` unless it is a trusted proxy that forwarded the request."""
    if not networks or not forwarded_for or not _trusted(peer, networks):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if _address(hop) is None:
            return peer  # a malformed entry: trust nothing the proxies did not vouch for
        if not _trusted(hop, networks):
            return hop
    return hops[0] if hops else peer
