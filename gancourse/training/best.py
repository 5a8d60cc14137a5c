"""BestCheckpoint: track the judge's FID during training and keep the best state.

A GAN's last step is rarely its best: in PyTorch-StudioGAN's CIFAR-10 runs the
DCGAN's FID is 49 at its best and 137 at the end. So measure as you train, on a
fixed sample, and keep the checkpoint with the lowest FID ("track the metric, keep
the best"). The FID here is on the judge's features (notebook 09), against real
images fed once; the samples come from the same noise every time, so two
measurements differ only because G changed. Measuring leaves the run as it was:
G is sampled in eval mode from the callback's own noise.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from gancourse.errors import UsageError
from gancourse.metrics.scores import check_images, fid_against, fid_metric
from gancourse.training.callbacks import Periodic
from gancourse.training.config import check_count

if TYPE_CHECKING:
    from gancourse.metrics import Classifier
    from gancourse.training.trainer import GANTrainer


class BestCheckpoint(Periodic):
    """Every `every` steps: FID of n samples; the best state so far saved to `path`.

    The FIDs go to history["fid"] (steps in history["fid_step"]); `best_fid` and
    `best_step` say which state `path` holds.
    """

    order = 10  # with Checkpoints: after callbacks that record at this step

    def __init__(
        self,
        classifier: Classifier,
        real: torch.Tensor,
        path: str | Path,
        every: int = 500,
        n: int = 500,
        seed: int = 0,
    ):
        check_count("every", every)
        check_count("n", n)
        real = check_images(real, "real", classifier)  # a tensor the judge can read
        if len(real) < 2:
            raise UsageError(f"FID needs at least 2 real images, got {len(real)}.")
        self.metric = fid_metric(classifier, real)  # the real features, computed once
        self.path, self.every, self.n, self.seed = Path(path), every, n, seed
        self.best_fid, self.best_step = math.inf, None
        self._noise = None  # (z, labels), drawn at the first measurement

    def before_fit(self, trainer: GANTrainer) -> None:
        """A resumed run: the best so far is in its history, if `path` holds it."""
        fids = trainer.history.get("fid")
        if fids and self.best_step is None and self.path.is_file():
            best = min(range(len(fids)), key=fids.__getitem__)
            self.best_fid = fids[best]
            self.best_step = trainer.history["fid_step"][best]

    def act(self, trainer: GANTrainer) -> None:
        self.measure(trainer)

    def measure(self, trainer: GANTrainer) -> float:
        """The FID now; save the trainer to `path` if it is the lowest so far."""
        if self._noise is None:
            rng = torch.Generator(trainer.device).manual_seed(self.seed)
            z = trainer.G.sample_noise(self.n, trainer.device, rng)  # (n, z_dim)
            labels = None
            if trainer.conditional:  # every class in turn
                labels = (
                    torch.arange(self.n, device=trainer.device) % trainer.num_classes
                )
            self._noise = (z, labels)
        fid = fid_against(self.metric, trainer.sample_from(*self._noise))
        trainer.record("fid", fid)
        if fid < self.best_fid:
            self.best_fid, self.best_step = fid, trainer.step
            trainer.save(self.path)
        return fid

    def plot(self, trainer: GANTrainer, ax=None):
        """The FID over training, with the kept checkpoint marked."""
        import matplotlib.pyplot as plt

        ax = ax or plt.gca()
        ax.plot(trainer.history["fid_step"], trainer.history["fid"], marker="o")
        if self.best_step is not None:
            ax.plot([self.best_step], [self.best_fid], "r*", ms=14, label="kept")
            ax.legend()
        ax.set(
            xlabel="step", ylabel="FID (judge's features)", title="track, keep the best"
        )
        return ax
