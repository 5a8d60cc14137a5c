"""Inputs the checks build: reproducible tensors that leave torch's global RNG alone."""

from __future__ import annotations

import torch


def random_normal(*shape: int, seed: int) -> torch.Tensor:
    """A standard-normal tensor drawn from its own generator, seeded `seed`."""
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def random_uniform(*shape: int, seed: int) -> torch.Tensor:
    """Values in [0, 1) drawn from their own generator, seeded `seed`."""
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))
