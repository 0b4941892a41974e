"""Where and how the model runs: device and precision choice (pure logic)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class Accelerators(Protocol):
    """What the machine offers; the real one asks torch, tests pass a fake."""

    def cuda_available(self) -> bool:
        """A CUDA device is usable."""
        ...

    def mps_available(self) -> bool:
        """Apple's Metal backend is usable."""
        ...


class TorchAccelerators:
    """Accelerators as torch reports them."""

    def cuda_available(self) -> bool:
        """torch.cuda.is_available()."""
        import torch

        return bool(torch.cuda.is_available())

    def mps_available(self) -> bool:
        """torch.backends.mps.is_available()."""
        import torch

        return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


class DeviceUnavailable(RuntimeError):
    """The configured device is not present on this machine."""


@dataclass(frozen=True)
class Runtime:
    """The resolved device and precision for encoding."""

    device: str
    precision: str  # "fp16" or "fp32"


def select_runtime(device: str, precision: str, accel: Accelerators) -> Runtime:
    """Resolve `auto` to cuda → mps → cpu; fp16 only where it is fast and safe (CUDA)."""
    if device == "auto":
        if accel.cuda_available():
            device = "cuda"
        elif accel.mps_available():
            device = "mps"
        else:
            device = "cpu"
    elif device.startswith("cuda") and not accel.cuda_available():
        raise DeviceUnavailable(f"device {device!r} configured but CUDA is not available")
    elif device == "mps" and not accel.mps_available():
        raise DeviceUnavailable("device 'mps' configured but MPS is not available")
    if precision == "auto":
        precision = "fp16" if device.startswith("cuda") else "fp32"
    elif precision == "fp16" and device == "cpu":
        # Half precision on CPU is slower and less accurate; refuse rather than surprise.
        raise DeviceUnavailable("precision fp16 needs a GPU; use fp32 or auto on CPU")
    return Runtime(device=device, precision=precision)
