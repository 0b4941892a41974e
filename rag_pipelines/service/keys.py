"""API keys of the service: loaded from a variable or a file, kept and compared as SHA-256."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rag_pipelines.config.access import AuthSettings, KeyGroup
from rag_pipelines.errors import RagPipelinesError
from rag_pipelines.index.access import Readers, reader_groups

MIN_KEY_CHARS = 16


class KeyConfigError(RagPipelinesError):
    """The API keys could not be loaded; the message never contains key material."""


@dataclass(frozen=True)
class Principal:
    """Who a key belongs to, what it may read, and its own rate limit if it has one."""

    name: str
    groups: frozenset[str]
    rate_per_s: float | None = None
    burst: int | None = None

    @property
    def readers(self) -> Readers:
        """The groups this caller reads (public included; None with `*`: everything)."""
        return reader_groups(self.groups)


class KeyEntry(BaseModel):
    """One key in the keys file: its plaintext or its SHA-256 (hex), a name, and groups."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
    key: str | None = Field(None, min_length=MIN_KEY_CHARS, max_length=512)
    sha256: str | None = Field(None, pattern=r"^[0-9a-fA-F]{64}$")
    groups: list[KeyGroup] = Field(default_factory=list)
    rate_per_s: float | None = Field(None, gt=0)
    burst: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _one_secret(self) -> KeyEntry:
        if (self.key is None) == (self.sha256 is None):
            raise ValueError("give exactly one of key (the secret) or sha256 (its hex digest)")
        return self


def hash_key(key: str) -> bytes:
    """The SHA-256 digest a key is stored and compared as."""
    return hashlib.sha256(key.encode("utf-8")).digest()


class KeyStore:
    """Digests of the valid keys; a presented key is hashed and compared in constant time."""

    def __init__(self, entries: list[tuple[bytes, Principal]]) -> None:
        self._entries = entries

    def __len__(self) -> int:
        return len(self._entries)

    @classmethod
    def parse(cls, text: str, origin: str) -> KeyStore:
        """Keys from YAML/JSON text: a list of {name, key | sha256, groups, rate_per_s, burst}."""
        try:
            raw: Any = yaml.safe_load(text)
        except yaml.YAMLError:
            raise KeyConfigError(f"{origin}: not valid YAML or JSON") from None
        if not isinstance(raw, list) or not raw:
            raise KeyConfigError(f"{origin}: expected a non-empty list of keys")
        entries: list[tuple[bytes, Principal]] = []
        for position, item in enumerate(raw, start=1):
            try:
                entry = KeyEntry.model_validate(item)
            except ValidationError as exc:
                # pydantic echoes the input; a key must never reach a log, so name fields only.
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc']) or 'entry'}: {e['msg']}"
                    for e in exc.errors(include_input=False, include_url=False)
                )
                raise KeyConfigError(f"{origin}: key #{position}: {problems}") from None
            digest = bytes.fromhex(entry.sha256) if entry.sha256 else hash_key(entry.key or "")
            principal = Principal(
                entry.name, frozenset(entry.groups), entry.rate_per_s, entry.burst
            )
            entries.append((digest, principal))
        names = [p.name for _, p in entries]
        if len(set(names)) != len(names):
            raise KeyConfigError(f"{origin}: key names must be unique")
        if len({d for d, _ in entries}) != len(entries):
            raise KeyConfigError(f"{origin}: the same key is listed twice")
        return cls(entries)

    @classmethod
    def load(cls, settings: AuthSettings, env: Mapping[str, str] | None = None) -> KeyStore:
        """Keys from the variable or file `service.auth` names (an error if it is unset/absent)."""
        env = os.environ if env is None else env
        if settings.keys_env is not None:
            text = env.get(settings.keys_env, "")
            if not text.strip():
                raise KeyConfigError(
                    f"service.auth.keys_env: ${settings.keys_env} is not set; the service "
                    "refuses to start without its keys"
                )
            return cls.parse(text, f"${settings.keys_env}")
        assert settings.keys_file is not None
        try:
            text = settings.keys_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise KeyConfigError(
                f"service.auth.keys_file: cannot read {settings.keys_file}: {exc.strerror or exc}"
            ) from None
        return cls.parse(text, str(settings.keys_file))

    @classmethod
    def problems(cls, settings: AuthSettings, env: Mapping[str, str] | None = None) -> list[str]:
        """Why `serve` would refuse these keys, each with what to do; [] when they load."""
        try:
            cls.load(settings, env)
        except KeyConfigError as exc:
            if settings.keys_env is not None:
                fix = f"export {settings.keys_env} (a YAML or JSON list of keys) where `serve` runs"
            else:
                fix = "write that file (a YAML or JSON list of keys) or fix the path"
            return [f"{exc} — {fix}"]
        return []

    def identify(self, presented: str) -> Principal | None:
        """The principal of a presented key, or None; compares against every digest."""
        digest = hash_key(presented)
        found: Principal | None = None
        for stored, principal in self._entries:
            # No early exit: the time taken does not depend on which key (if any) matched.
            if hmac.compare_digest(stored, digest):
                found = principal
        return found
