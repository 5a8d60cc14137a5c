"""StepUndo: the trainer's state at a step's start, to take back a step that failed.

A step that goes wrong half-way (a NaN loss after D has already moved, or Ctrl-C
between two updates) would otherwise leave a trainer that is in no step at all:
D a step ahead of G, one optimiser stepped, the data position moved. `take`
copies everything a step changes into tensors kept for the purpose (one copy per
tensor, no new memory after the first step); `restore` puts it all back, so the
trainer, and any checkpoint written from it, is exactly as after the last
complete step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from gancourse.training.trainer import GANTrainer


def _step_tensors(trainer: GANTrainer) -> list[torch.Tensor]:
    """Every tensor a training step writes: weights, buffers, optimiser states."""
    models = (trainer.G, trainer.D)
    if trainer.g_average is not None:
        models += (trainer.g_average.model,)
    tensors = [t for model in models for t in model.state_dict().values()]
    for optimizer in (trainer.opt_d, trainer.opt_g):
        for state in optimizer.state.values():  # empty until the first update
            tensors += [v for v in state.values() if isinstance(v, torch.Tensor)]
    return tensors


class StepUndo:
    """A copy of the trainer at a step's start; `restore` returns to it exactly."""

    def __init__(self):
        self.sources: list[torch.Tensor] = []
        self.copies: list[torch.Tensor] = []
        self.scalars: dict | None = None  # step, position, history length, RNGs

    def take(self, trainer: GANTrainer) -> None:
        """Remember the state now (call before a step changes anything)."""
        sources = _step_tensors(trainer)
        same = len(sources) == len(self.sources) and all(
            a is b for a, b in zip(sources, self.sources, strict=True)
        )
        if same:  # the usual case: copy into the tensors kept last time
            torch._foreach_copy_(self.copies, sources)
        else:  # first step, or the optimisers made their state: new copies
            self.sources = sources
            self.copies = [t.detach().clone() for t in sources]
        self.scalars = {
            "step": trainer.step,
            "epoch": trainer.epoch,
            "batch_in_epoch": trainer.batch_in_epoch,
            "rows": len(trainer.history.get("step", [])),
            "noise_rng": trainer.noise_rng.get_state(),
            "torch_rng": torch.get_rng_state(),
            "average_updates": getattr(trainer.g_average, "updates", 0),
        }

    def restore(self, trainer: GANTrainer) -> None:
        """Put back the state `take` saw: tensors, position, RNGs, history rows."""
        if self.scalars is None:
            return
        with torch.no_grad():
            torch._foreach_copy_(self.sources, self.copies)
        kept = {id(t) for t in self.sources}
        for optimizer in (trainer.opt_d, trainer.opt_g):  # state born in this step
            for param in list(optimizer.state):
                values = optimizer.state[param].values()
                tensors = [v for v in values if isinstance(v, torch.Tensor)]
                if any(id(v) not in kept for v in tensors):
                    del optimizer.state[param]
        s = self.scalars
        trainer.step, trainer.epoch = s["step"], s["epoch"]
        trainer.batch_in_epoch = s["batch_in_epoch"]
        trainer.noise_rng.set_state(s["noise_rng"])
        torch.set_rng_state(s["torch_rng"])
        if trainer.g_average is not None:
            trainer.g_average.updates = s["average_updates"]
        for name, values in trainer.history.items():  # rows of the undone step
            if name == "step" or name in trainer.step_figures:
                del values[s["rows"] :]
        trainer._pending = [p for p in trainer._pending if p[0] <= s["step"]]  # queued
        trainer.step_figures = {}
        trainer._last_fake = None
        trainer._last_real = None
