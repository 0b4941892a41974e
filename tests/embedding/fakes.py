"""Test doubles for the embedding package."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class FakeAccelerators:
    """A machine with the given accelerators."""

    cuda: bool = False
    mps: bool = False

    def cuda_available(self) -> bool:
        """Whether CUDA is usable."""
        return self.cuda

    def mps_available(self) -> bool:
        """Whether MPS is usable."""
        return self.mps
