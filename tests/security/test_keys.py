"""The key store: keys kept as SHA-256 digests, compared in constant time, loaded strictly."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Any

import pytest
import yaml

from rag_pipelines.config.access import AuthSettings
from rag_pipelines.index.access import reader_groups
from rag_pipelines.service.keys import KeyConfigError, KeyStore

PLAIN = "plain-key-0123456789abcdef"
HASHED = "hashed-key-0123456789abcdef"
ENTRIES = [
    {"name": "app", "key": PLAIN, "groups": ["hr"]},
    {"name": "ops", "sha256": hashlib.sha256(HASHED.encode()).hexdigest(), "groups": ["*"]},
    {"name": "bot", "key": "bot-key-0123456789abcdef", "rate_per_s": 2, "burst": 4},
]


def store(entries: list[dict[str, Any]] = ENTRIES) -> KeyStore:
    """A store parsed from YAML text."""
    return KeyStore.parse(yaml.safe_dump(entries), "keys.yaml")


def test_keys_identify_their_principals() -> None:
    keys = store()
    app, ops, bot = (keys.identify(k) for k in (PLAIN, HASHED, "bot-key-0123456789abcdef"))
    assert app is not None and app.name == "app" and app.readers == {"hr", "public"}
    assert ops is not None and ops.name == "ops" and ops.readers is None  # * reads everything
    assert bot is not None and (bot.rate_per_s, bot.burst) == (2, 4)


@pytest.mark.parametrize(
    "presented",
    ["", PLAIN[:-1], PLAIN + " ", PLAIN.upper(), hashlib.sha256(HASHED.encode()).hexdigest()],
    ids=["empty", "prefix", "trailing space", "other case", "the stored digest itself"],
)
def test_anything_but_the_key_is_refused(presented: str) -> None:
    assert store().identify(presented) is None


def test_only_digests_are_kept() -> None:
    keys = store()
    kept = repr(vars(keys))
    assert PLAIN not in kept and "bot-key" not in kept
    assert all(len(digest) == 32 for digest, _ in keys._entries)


@pytest.mark.parametrize("presented", [PLAIN, HASHED, "no-such-key-0123456789"])
def test_every_digest_is_compared_in_constant_time(
    monkeypatch: pytest.MonkeyPatch, presented: str
) -> None:
    """No early exit: a match on the first key costs what a miss costs."""
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", counting)
    store().identify(presented)
    assert len(calls) == len(ENTRIES)
    assert {b for _, b in calls} == {hashlib.sha256(presented.encode()).digest()}


@pytest.mark.parametrize(
    ("entries", "fragment"),
    [
        ([{"name": "a", "key": "short-secret"}], "at least 16 characters"),
        ([{"name": "a", "key": PLAIN, "sha256": "0" * 64}], "exactly one of key"),
        ([{"name": "a"}], "exactly one of key"),
        ([{"name": "a", "sha256": "xyz"}], "sha256"),
        ([{"name": "a", "key": PLAIN, "group": ["hr"]}], "group"),
        ([{"name": "a", "key": PLAIN}, {"name": "a", "key": HASHED}], "names must be unique"),
        ([{"name": "a", "key": PLAIN}, {"name": "b", "key": PLAIN}], "listed twice"),
        ({"name": "a", "key": PLAIN}, "list of keys"),
        ([], "list of keys"),
    ],
)
def test_bad_key_files_name_the_problem_never_the_key(entries: Any, fragment: str) -> None:
    with pytest.raises(KeyConfigError, match=fragment) as raised:
        KeyStore.parse(yaml.safe_dump(entries), "keys.yaml")
    assert "short-secret" not in str(raised.value) and PLAIN not in str(raised.value)


def test_keys_load_from_a_variable_or_a_file(tmp_path: Path) -> None:
    text = yaml.safe_dump(ENTRIES)
    from_env = KeyStore.load(AuthSettings(keys_env="KEYS"), {"KEYS": text})
    path = tmp_path / "keys.yaml"
    path.write_text(text, encoding="utf-8")
    from_file = KeyStore.load(AuthSettings(keys_file=path), {})
    assert len(from_env) == len(from_file) == len(ENTRIES)
    assert from_file.identify(PLAIN) == from_env.identify(PLAIN) is not None


@pytest.mark.parametrize(
    ("settings", "env", "fragment"),
    [
        (AuthSettings(keys_env="KEYS"), {}, r"\$KEYS is not set"),
        (AuthSettings(keys_env="KEYS"), {"KEYS": "  "}, r"\$KEYS is not set"),
        (AuthSettings(keys_file=Path("/nonexistent/keys.yaml")), {}, "cannot read"),
    ],
)
def test_configured_auth_without_keys_refuses_to_start(
    settings: AuthSettings, env: dict[str, str], fragment: str
) -> None:
    """Configured auth never silently turns into no auth."""
    with pytest.raises(KeyConfigError, match=fragment):
        KeyStore.load(settings, env)


@pytest.mark.parametrize("data", [{}, {"keys_env": "A", "keys_file": "k.yaml"}])
def test_auth_settings_need_exactly_one_origin(data: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="exactly one of keys_env"):
        AuthSettings.model_validate(data)


@pytest.mark.parametrize(
    ("groups", "readers"),
    [([], {"public"}), (["hr"], {"hr", "public"}), (["hr", "*"], None), (["public"], {"public"})],
)
def test_reader_groups(groups: list[str], readers: set[str] | None) -> None:
    assert reader_groups(groups) == readers
