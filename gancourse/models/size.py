"""How much memory a G and D of given configs need, known before they are built."""

from __future__ import annotations

import os

import torch

from gancourse.errors import UsageError
from gancourse.models.config import DiscriminatorConfig, GeneratorConfig
from gancourse.models.discriminator import Discriminator
from gancourse.models.generator import Generator

# float32 copies of every weight while training: the weights, their gradients,
# Adam's two moments, and the copy of all four a step can be undone from
COPIES_WHILE_TRAINING = 8


def weight_count(g: GeneratorConfig, d: DiscriminatorConfig) -> int:
    """Weights of G and D together, counted on the meta device (nothing allocated)."""
    with torch.device("meta"):
        models = (Generator(g), Discriminator(d))
    return sum(p.numel() for model in models for p in model.parameters())


def memory_of(device: torch.device) -> int:
    """Bytes of memory on `device`: the GPU's own, or the machine's RAM."""
    if device.type == "cuda":
        return torch.cuda.get_device_properties(device).total_memory
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_fits_in_memory(
    g: GeneratorConfig, d: DiscriminatorConfig, device: torch.device
) -> None:
    """Refuse, with the estimate, models whose training cannot fit in memory."""
    weights = weight_count(g, d)
    needed = weights * 4 * COPIES_WHILE_TRAINING
    available = memory_of(torch.device(device))
    if needed > available:
        raise UsageError(
            f"width {g.width} (G) and {d.width} (D) make {weights / 1e6:,.0f} million "
            f"weights; training them needs at least {needed / 2**30:,.1f} GiB, and "
            f"this {torch.device(device).type} has {available / 2**30:,.1f} GiB: "
            "choose a smaller width (the course uses 16 to 64)."
        )
