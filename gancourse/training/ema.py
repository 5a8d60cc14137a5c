"""An exponential moving average of G's weights, the generator to sample from.

G's weights jitter from step to step as G and D chase each other. Averaging them,
theta_ema <- beta * theta_ema + (1 - beta) * theta after every G update (Karras et
al. 2018; Yazici et al. 2019), gives a smoother generator whose samples are
usually better than those of the last G. The average is a separate copy: training
never reads it. BatchNorm statistics (buffers) are copied, not averaged.

Early on the average would mostly remember G's random start (after 1,000 updates
with beta 0.999 the start still weighs 0.999**1000 = 37%), so the k-th update
uses min(beta, (1 + k) / (10 + k)): a short memory at first, beta later.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from gancourse.errors import UsageError


def check_beta(beta: object) -> None:
    """beta must be a number in [0, 1); 0.999 keeps about the last 1,000 updates."""
    if isinstance(beta, bool) or not isinstance(beta, float | int) or not 0 <= beta < 1:
        raise UsageError(
            f"the average's beta must be a number in [0, 1) (e.g. 0.999), got {beta!r}."
        )


class WeightAverage:
    """A moving average of a model's weights, kept in `self.model` (eval mode)."""

    def __init__(self, model: nn.Module, beta: float = 0.999):
        check_beta(beta)
        self.beta = float(beta)
        self.updates = 0  # updates so far; the early ones use a smaller beta
        self.model = copy.deepcopy(model).eval().requires_grad_(False)

    def current_beta(self) -> float:
        """The beta of the next update: (1 + k) / (10 + k) until that passes beta."""
        return min(self.beta, (1 + self.updates) / (10 + self.updates))

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the average a step (1 - beta) toward the model's current weights."""
        mine = list(self.model.parameters())
        theirs = [p.detach() for p in model.parameters()]
        if len(mine) != len(theirs):
            raise UsageError("the model has other parameters than the average's copy.")
        torch._foreach_lerp_(mine, theirs, 1 - self.current_beta())  # a + w(b - a)
        for average, current in zip(self.model.buffers(), model.buffers(), strict=True):
            average.copy_(current)
        self.updates += 1

    def state_dict(self) -> dict:
        """The averaged weights and the number of updates, for a checkpoint."""
        return {"weights": self.model.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: dict) -> None:
        """Restore what `state_dict` returned."""
        self.model.load_state_dict(state["weights"])
        self.updates = int(state["updates"])
