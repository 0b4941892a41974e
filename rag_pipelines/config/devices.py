"""sources.yaml's `embedding.devices`: the devices one node embeds on in parallel."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator

_DEVICE = re.compile(r"^(auto|cpu|cuda:\d+)$")


def parse_devices(value: Any) -> list[str] | None:
    """`auto`, or a list of `cpu` / `cuda:N` (one worker process per entry)."""
    if value is None:
        return None
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or len(items) > 64:
        raise ValueError("devices must be `auto` or a list of 1-64 devices like [cuda:0, cuda:1]")
    devices = [str(item).strip() for item in items]
    bad = [d for d in devices if not _DEVICE.match(d)]
    if bad:
        raise ValueError(f"unknown device(s) {bad}: use cpu or cuda:N (e.g. cuda:0), or auto")
    if "auto" in devices and len(devices) > 1:
        raise ValueError("`auto` stands alone: write devices: auto, or list the devices")
    twice = sorted({d for d in devices if d.startswith("cuda") and devices.count(d) > 1})
    if twice:
        raise ValueError(f"{twice} listed twice: run one worker per GPU")
    kinds = {d.split(":")[0] for d in devices}
    if kinds == {"cpu", "cuda"}:
        raise ValueError("devices mixes cpu and cuda: vectors would differ in precision; pick one")
    return devices


Devices = Annotated[list[str] | None, BeforeValidator(parse_devices)]
