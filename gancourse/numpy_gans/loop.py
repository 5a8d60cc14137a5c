"""The training loop the NumPy GANs share, in GANTrainer's words.

One training step (`train_step`) is d_steps D updates (`d_update`), then g_steps G
updates (`g_update`); `step` counts the steps done and `fit(steps)` trains more.
"""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

from gancourse.errors import UsageError


class AlternatingTraining:
    """Adds train_step(), fit() and fixed_samples() to a GAN with d_update/g_update.

    The GAN provides `d_update() -> dict` of D's figures (loss_d, d_real, d_fake),
    `g_update() -> G's loss`, `d_steps`, `g_steps`, `step`, `history` (lists by
    name), `snapshots`, `fixed_noise`, `generator` and `config.snapshot_every`.
    """

    step: int

    def train_step(self) -> None:
        """One training step: d_steps updates of D, then g_steps updates of G."""
        if self.d_steps < 1 or self.g_steps < 1:
            raise UsageError(
                f"d_steps and g_steps must be at least 1, got {self.d_steps} and "
                f"{self.g_steps}."
            )
        for _ in range(self.d_steps):
            d_figures = self.d_update()
        for _ in range(self.g_steps):
            loss_g = self.g_update()
        self.step += 1
        for name, value in d_figures.items():
            self.history[name].append(value)
        self.history["loss_g"].append(loss_g)
        if self.step % self.config.snapshot_every == 0:
            self.snapshots.append((self.step, self.fixed_samples()))

    def fit(self, steps: int):
        """Train `steps` more steps on one BLAS thread (faster for small nets)."""
        if int(steps) != steps or steps < 1:
            raise UsageError(
                f"steps must be a whole number of at least 1, got {steps}."
            )
        with threadpool_limits(limits=1):
            for _ in range(int(steps)):
                self.train_step()
        return self

    def fixed_samples(self) -> np.ndarray:
        """G(fixed_noise): the same noise every time, so snapshots show progress."""
        return self.generator(self.fixed_noise).astype(np.float64)
