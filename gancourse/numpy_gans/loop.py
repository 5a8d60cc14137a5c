"""The training loop the NumPy GANs share: d_steps D updates, then g_steps G updates."""

from __future__ import annotations

from threadpoolctl import threadpool_limits


class AlternatingTraining:
    """Adds step() and train() to a GAN that has step_d(), step_g() and a history.

    The GAN provides `step_d() -> dict` of D's figures, `step_g() -> G's loss`,
    `d_steps`, `g_steps`, `history` (lists by name), `snapshots`, `fixed_noise`,
    `generator` and `config.snapshot_every`.
    """

    steps_done: int

    def step(self) -> None:
        """One training step: d_steps updates of D, then g_steps updates of G."""
        if self.d_steps < 1 or self.g_steps < 1:
            raise ValueError(
                f"d_steps and g_steps must be at least 1, got {self.d_steps} and "
                f"{self.g_steps}."
            )
        for _ in range(self.d_steps):
            d_result = self.step_d()
        for _ in range(self.g_steps):
            g_loss = self.step_g()
        self.steps_done += 1
        for name, value in d_result.items():
            self.history[name].append(value)
        self.history["g_loss"].append(g_loss)
        if self.steps_done % self.config.snapshot_every == 0:
            snapshot = self.generator(self.fixed_noise).copy()
            self.snapshots.append((self.steps_done, snapshot))

    def train(self, steps: int):
        """Run `steps` training steps on one BLAS thread (faster for small nets)."""
        if int(steps) != steps or steps < 1:
            raise ValueError(
                f"steps must be a whole number of at least 1, got {steps}."
            )
        with threadpool_limits(limits=1):
            for _ in range(int(steps)):
                self.step()
        return self
