"""Access-control settings: which groups read a source, where API keys live, rate limits."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

PUBLIC = "public"
EVERYTHING = "*"
Group = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]
KeyGroup = Annotated[str, Field(pattern=r"^(\*|[A-Za-z0-9][A-Za-z0-9_.:-]{0,63})$")]  # * = all


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AccessSettings(_Strict):
    """Which caller groups may read a source's documents; `public` means every caller."""

    groups: list[Group] = Field(
        default_factory=lambda: [PUBLIC],
        min_length=1,
        description="Groups that may read the source; public = every caller.",
    )
    documents: dict[str, list[Group]] = Field(
        default_factory=dict,
        description="Glob on document id → groups, overriding `groups`; the first match wins.",
    )

    @field_validator("documents")
    @classmethod
    def _some_groups(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for pattern, groups in value.items():
            if not groups:
                raise ValueError(f"documents[{pattern!r}] names no group (use [{PUBLIC}])")
        return value


class AuthSettings(_Strict):
    """Where the service reads its API keys: an environment variable or a file (YAML or JSON)."""

    keys_env: str | None = Field(
        None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Variable holding the API keys (a YAML/JSON list).",
    )
    keys_file: Path | None = Field(
        None, description="File holding the API keys (relative to sources.yaml)."
    )

    @field_validator("keys_file")
    @classmethod
    def _absolute(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is None:
            return None
        value = value.expanduser()
        base = (info.context or {}).get("base_dir")
        return (value if value.is_absolute() else Path(base or Path.cwd()) / value).resolve()

    @model_validator(mode="after")
    def _one_origin(self) -> AuthSettings:
        if (self.keys_env is None) == (self.keys_file is None):
            raise ValueError("set exactly one of keys_env (a variable name) or keys_file")
        return self


class RateLimitSettings(_Strict):
    """A token bucket per API key: `rate_per_s` sustained, up to `burst` at once.

    Requests with a wrong key draw on a bucket per client address instead (always on): an
    empty one answers 429 without checking the key, so guessing runs at `failed_auth_per_s`.
    """

    enabled: bool = Field(
        True, description="false: no per-key limit (wrong keys are always limited)."
    )
    rate_per_s: float = Field(10.0, gt=0, description="Requests per second per key (token bucket).")
    burst: int = Field(20, ge=1, description="Bucket size per key.")
    failed_auth_per_s: float = Field(
        1.0, gt=0, description="Wrong-key attempts per second per client address."
    )
    failed_auth_burst: int = Field(
        10, ge=1, description="Wrong-key bucket size per client address."
    )


class ServiceSettings(_Strict):
    """The HTTP service: API keys (none configured = no authentication) and rate limits."""

    auth: AuthSettings | None = None
    rate_limit: RateLimitSettings = Field(default_factory=lambda: RateLimitSettings())
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or networks (CIDR) of the reverse proxies in front of the "
        "service: from them, the client is the right-most X-Forwarded-For address that is not "
        "a trusted proxy. Empty: the connecting address is the client.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"trusted_proxies: {entry!r} is not an IP address or network "
                    "(write 10.0.0.5 or 10.0.0.0/8)"
                ) from None
        return value
