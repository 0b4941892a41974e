"""The wrong-key limiter counts the client behind a trusted proxy, not the proxy.

Behind a reverse proxy every request arrives from the proxy's address: a client hammering a
stale key used to empty that one bucket and keep every valid user at 429. The real service is
started on 127.0.0.1; the test plays a proxy on another address, 127.0.0.3 (its requests leave
from there), which the service is configured to trust.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from rag_pipelines.config.models import SourcesFile
from rag_pipelines.context import PipelineContext
from rag_pipelines.retrieval.live import LiveIndex
from rag_pipelines.service.app import create_app
from rag_pipelines.service.client_address import client_address, trusted_networks
from tests.security.corpus import KEYS
from tests.service.server import serving

STALE = "a-stale-key-nobody-has-anymore"
ATTACKER, VICTIM = "203.0.113.9", "198.51.100.7"
PROXY = "127.0.0.3"


def _service(config: SourcesFile, proxies: list[str]) -> Iterator[str]:
    limits = config.service.rate_limit.model_copy(
        update={"failed_auth_burst": 3, "failed_auth_per_s": 0.01}
    )
    service = config.service.model_copy(update={"trusted_proxies": proxies, "rate_limit": limits})
    ctx = PipelineContext(config.model_copy(update={"service": service}))
    live = LiveIndex(ctx)
    live.refresh()
    with serving(create_app(ctx, live)) as url:
        yield url


@pytest.fixture
def behind_proxy(secured_config: SourcesFile) -> Iterator[str]:
    yield from _service(secured_config, [PROXY])


@pytest.fixture
def direct(secured_config: SourcesFile) -> Iterator[str]:
    yield from _service(secured_config, [])


def _search(url: str, key: str, forwarded_for: str) -> httpx.Response:
    """A request as the proxy forwards it: from PROXY, naming the client it saw."""
    with httpx.Client(transport=httpx.HTTPTransport(local_address=PROXY), timeout=60) as proxy:
        return proxy.post(
            f"{url}/v1/search",
            json={"query": "copper kettle", "top_k": 1},
            headers={"Authorization": f"Bearer {key}", "X-Forwarded-For": forwarded_for},
        )


def _hammer(url: str, forwarded_for: str) -> list[int]:
    return [_search(url, STALE, forwarded_for).status_code for _ in range(6)]


def test_a_stale_key_behind_the_proxy_limits_only_its_own_client(behind_proxy: str) -> None:
    valid_key = next(iter(KEYS.values()))[0]
    assert _hammer(behind_proxy, ATTACKER)[-1] == 429
    assert _search(behind_proxy, valid_key, VICTIM).status_code == 200
    # the attacker's own next try is still refused before its key is looked at
    assert _search(behind_proxy, valid_key, ATTACKER).status_code == 429


def test_a_forged_entry_cannot_pick_another_clients_bucket(behind_proxy: str) -> None:
    """The proxy appends the address it saw; what the client wrote stays on the left."""
    valid_key = next(iter(KEYS.values()))[0]
    assert _hammer(behind_proxy, f"{VICTIM}, {ATTACKER}")[-1] == 429
    assert _search(behind_proxy, valid_key, VICTIM).status_code == 200


def test_without_trusted_proxies_the_header_is_ignored(direct: str) -> None:
    """A direct client cannot dodge the limiter by writing a new X-Forwarded-For each time."""
    codes = [_search(direct, STALE, f"192.0.2.{i}").status_code for i in range(6)]
    assert codes[:3] == [401, 401, 401] and codes[-1] == 429


@pytest.mark.parametrize(
    ("peer", "header", "expected"),
    [
        ("10.0.0.5", "203.0.113.9", "203.0.113.9"),  # from the proxy: the client it names
        ("10.0.0.5", "198.51.100.7, 203.0.113.9", "203.0.113.9"),  # the right-most untrusted
        ("10.0.0.5", "203.0.113.9, 10.0.0.6", "203.0.113.9"),  # two proxies in a row
        ("10.0.0.5", "10.0.0.7, 10.0.0.6", "10.0.0.7"),  # only proxies: the first of them
        ("10.0.0.5", "not-an-address, 10.0.0.6", "10.0.0.5"),  # malformed: the peer
        ("10.0.0.5", None, "10.0.0.5"),
        ("203.0.113.1", "198.51.100.7", "203.0.113.1"),  # not a proxy: the header is ignored
        ("::1", "2001:db8::7", "2001:db8::7"),
    ],
)
def test_client_address(peer: str, header: str | None, expected: str) -> None:
    networks = trusted_networks(["10.0.0.0/8", "::1"])
    assert client_address(peer, header, networks) == expected
