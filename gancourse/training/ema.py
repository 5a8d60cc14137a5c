"""An exponential moving average of G's weights, the generator to sample from.

G's weights jitter from step to step as G and D chase each other. Averaging them,
theta_ema <- beta * theta_ema + (1 - beta) * theta after every G update (Karras et
al. 2018; Yazici et al. 2019), gives a smoother generator whose samples are
usually better than those of the last G. The average is a separate copy: training
never reads it. BatchNorm statistics (buffers) are copied, not averaged.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from gancourse.errors import UsageError


class WeightAverage:
    """A moving average of a model's weights, kept in `self.model` (eval mode)."""

    def __init__(self, model: nn.Module, beta: float = 0.999):
        if not isinstance(beta, float | int) or not 0 <= beta < 1:
            raise UsageError(
                f"beta must be a number in [0, 1) (e.g. 0.999), got {beta!r}."
            )
        self.beta = float(beta)
        self.model = copy.deepcopy(model).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the average a step (1 - beta) toward the model's current weights."""
        mine = list(self.model.parameters())
        theirs = [p.detach() for p in model.parameters()]
        if len(mine) != len(theirs):
            raise UsageError("the model has other parameters than the average's copy.")
        torch._foreach_lerp_(mine, theirs, 1 - self.beta)  # a + (1 - beta)(b - a)
        for average, current in zip(self.model.buffers(), model.buffers(), strict=True):
            average.copy_(current)
