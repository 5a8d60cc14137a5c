"""Callbacks: small objects the trainer calls at named events, passing itself.

The events and their order are `Event` (gancourse/training/events.py). A
callback handles one by defining a method of that name; a method that looks like
an event (before_*, after_*) but is not one is refused when its class is defined.
A callback that measures something calls `trainer.record(name, value)`.
Raise CancelFit from any event to stop training cleanly.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torchvision.utils import make_grid, save_image

from gancourse.errors import UsageError
from gancourse.files import write_atomic
from gancourse.training.events import Event, looks_like_event, unknown_event

if TYPE_CHECKING:
    from gancourse.training.trainer import GANTrainer


class CancelFit(Exception):  # noqa: N818 (fastai's name)
    """Raised by a callback (or the user) to stop `fit` after cleaning up."""


class NonFiniteLossError(CancelFit):
    """A loss became NaN or infinite; training stopped before the bad update."""


class Callback:
    """Base class: a method per event you handle (see Event), called with the trainer.

    Other methods are free, but a name starting with before_ or after_ must be
    an event: `after_stpe` is an error when the class is defined, not a handler
    that silently never runs.
    """

    order = 0  # lower runs first

    def acts_at(self, step: int) -> bool:
        """Whether this callback reads the trainer after `step` (default: always).

        On a GPU the trainer reads the step's figures to the host only every
        `sync_every` steps; it also reads them before any step a callback acts
        at, so the callback sees an up-to-date history. A callback that acts
        every N steps says so here and lets the GPU run ahead in between.
        """
        return True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in vars(cls):
            if looks_like_event(name) and name not in Event.__members__:
                raise UsageError(
                    f"{cls.__name__}.{name}: {unknown_event(name)} A callback "
                    "method named before_* or after_* must be one of them; give a "
                    f"helper another name (e.g. _{name})."
                )

    def __call__(self, event: Event, trainer: GANTrainer) -> None:
        method = getattr(self, event, None)
        if method is not None:
            method(trainer)


class NonFiniteGuard(Callback):
    """Stops training at the first NaN or infinite loss and takes it back.

    The trainer hands it each step's figures when it reads them to the host
    (every step on a CPU, every `sync_every` steps on a GPU). At a bad step the
    trainer returns to the state after the last good one: weights, BatchNorm
    statistics, optimisers, data position and random state, so a checkpoint
    written now resumes.
    """

    order = -5

    def acts_at(self, step: int) -> bool:
        return False  # it checks figures when the trainer reads them

    def problem(self, figures: dict[str, float]) -> str | None:
        """Which loss of one step's figures was not finite, or None."""
        for name, flag in (("discriminator", "_finite_d"), ("generator", "_finite_g")):
            if not figures[flag]:
                return name
        return None

    def stop(self, trainer: GANTrainer, bad_step: int, who: str, value: float):
        """The error that ends fit, once the trainer is back at bad_step - 1."""
        shown = value if not math.isfinite(value) else "not finite in one update"
        return NonFiniteLossError(
            f"training stopped at step {bad_step}: the {who} loss is {shown}. The "
            f"state after step {bad_step - 1} is kept (weights, optimisers, data "
            f"position), as if step {bad_step} never ran. {_advice(trainer)}"
        )


def _advice(trainer: GANTrainer) -> str:
    """What to change after a non-finite loss, leaving out what the run already has."""
    stabilisers = []
    if trainer.config.gp_weight == 0:
        stabilisers.append("WGAN-GP")
    if not trainer.D.config.spectral_norm:
        stabilisers.append("spectral norm")
    rates = f"lr_d {trainer.lr_d:.1e}, lr_g {trainer.lr_g:.1e}"
    also = f" (or use {' or '.join(stabilisers)})" if stabilisers else ""
    return f"Lower the learning rates ({rates}){also} and train again."


class Periodic(Callback):
    """A callback that acts after every `every`-th step: `act(trainer)` then.

    Saying when it acts (`acts_at`) lets the trainer skip reading figures to the
    host at the other steps (TrainConfig.sync_every).
    """

    every: int

    def acts_at(self, step: int) -> bool:
        return step % self.every == 0

    def after_step(self, trainer: GANTrainer) -> None:
        if self.acts_at(trainer.step):
            self.act(trainer)

    def act(self, trainer: GANTrainer) -> None:
        raise NotImplementedError


class SampleGrid(Periodic):
    """A grid of G(fixed noise) every `every` steps and at the end; PNGs if `folder`."""

    def __init__(self, every: int = 100, folder: str | Path | None = None, nrow=8):
        self.every, self.nrow = every, nrow
        self.folder = Path(folder) if folder is not None else None
        self.grids: list[tuple[int, torch.Tensor]] = []  # (step, (3, H, W) in [0, 1])

    def _grab(self, trainer: GANTrainer) -> None:
        if self.grids and self.grids[-1][0] == trainer.step:
            return
        images = trainer.fixed_samples()  # (n, C, H, W) in [-1, 1]
        grid = make_grid(images, nrow=self.nrow, normalize=True, value_range=(-1, 1))
        self.grids.append((trainer.step, grid))
        if self.folder is not None:  # atomic: a full disk leaves no empty PNG
            write_atomic(
                self.folder / f"step_{trainer.step:07d}.png",
                lambda file: save_image(grid, file, format="png"),
            )

    def act(self, trainer: GANTrainer) -> None:
        self._grab(trainer)

    def before_fit(self, trainer: GANTrainer) -> None:
        if trainer.step == 0:
            self._grab(trainer)

    def after_fit(self, trainer: GANTrainer) -> None:
        self._grab(trainer)


class EpochGrid(SampleGrid):
    """A fixed-noise grid at the end of every epoch."""

    def __init__(self, folder: str | Path | None = None, nrow: int = 8):
        super().__init__(every=sys.maxsize, folder=folder, nrow=nrow)

    def after_epoch(self, trainer: GANTrainer) -> None:
        self._grab(trainer)


class Checkpoints(Periodic):
    """Writes `folder/checkpoint.pt` every `every` steps and when fit ends.

    A fit that ends at the step already on disk (a resumed run stopped by a NaN
    before its first complete step) leaves the file as it is.
    """

    order = 10  # after order-0 callbacks, so what they record at this step is saved

    def __init__(self, folder: str | Path, every: int = 500):
        self.folder, self.every = Path(folder), every
        self.saved_step: int | None = None  # the step of the last file written

    def save(self, trainer: GANTrainer) -> None:
        """Write the checkpoint now."""
        trainer.save(self.path)
        self.saved_step = trainer.step

    @property
    def path(self) -> Path:
        return self.folder / "checkpoint.pt"

    def act(self, trainer: GANTrainer) -> None:
        self.save(trainer)

    def after_fit(self, trainer: GANTrainer) -> None:
        if trainer.step != self.saved_step:  # else the file holds this state already
            self.save(trainer)


class CollapseMonitor(Periodic):
    """Warns when G's samples are far less varied than real images (mode collapse).

    Diversity is the mean pairwise distance between fixed-noise samples divided
    by the same for real images; it is recorded as history["diversity"], with
    its steps in history["diversity_step"].
    """

    def __init__(self, every: int = 100, threshold: float = 0.5, n: int = 64):
        self.every, self.threshold, self.n = every, threshold, n
        self.warnings: list[str] = []
        self.real_spread: float | None = None

    @staticmethod
    def spread(images: torch.Tensor) -> float:
        """Mean pairwise Euclidean distance between the images of a batch."""
        flat = images.flatten(1).float()
        distances = torch.cdist(flat, flat)
        n = len(flat)
        return (distances.sum() / (n * (n - 1))).item()

    def act(self, trainer: GANTrainer) -> None:
        """Measure the diversity now; warn below the threshold."""
        if self.real_spread is None:  # a fixed random sample: the data may be sorted
            rng = torch.Generator().manual_seed(0)
            index = torch.randperm(len(trainer.images), generator=rng)[: self.n]
            self.real_spread = self.spread(trainer.images[index.to(trainer.device)])
        diversity = self.spread(trainer.fixed_samples()[: self.n]) / self.real_spread
        trainer.record("diversity", diversity)
        if diversity < self.threshold:
            message = (
                f"possible mode collapse at step {trainer.step}: samples are "
                f"{diversity:.2f}x as varied as real images."
            )
            self.warnings.append(message)
            print(message, file=sys.stderr)


class LivePlot(Periodic):
    """Redraws the loss curves and a sample grid in the notebook every `every` steps."""

    def __init__(self, every: int = 50):
        self.every = every
        self.handle = None

    def act(self, trainer: GANTrainer) -> None:
        self._draw(trainer)

    def after_fit(self, trainer: GANTrainer) -> None:
        self._draw(trainer)

    def _draw(self, trainer: GANTrainer) -> None:
        import matplotlib.pyplot as plt
        from IPython.display import display

        from gancourse.plotting import plot_training

        figure = plot_training(trainer)
        if self.handle is None:
            self.handle = display(figure, display_id=True)
        else:
            self.handle.update(figure)
        plt.close(figure)
