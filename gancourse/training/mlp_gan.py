"""Small PyTorch MLP GANs on the 2D toy sets: a plain GAN, WGAN and WGAN-GP.

The same networks and data for every kind, so only the loss, the optimiser and
the Lipschitz constraint differ; it reuses gancourse.losses like GANTrainer and
speaks its vocabulary: d_update / g_update / train_step / fit, the `step` counter,
history keys loss_d, loss_g, d_real, d_fake (plus wasserstein and gp), z_dim,
fixed_noise and fixed_samples().
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import torch
from torch import nn

from gancourse.data import load_dataset
from gancourse.data.base import ToyDataset
from gancourse.data.catalog import dataset_names, is_toy
from gancourse.errors import UsageError, UsageTypeError
from gancourse.losses import clip_weights, d_loss, g_loss, gradient_penalty
from gancourse.runtime import one_thread

KINDS = ("gan", "wgan", "wgan-gp")

# kind -> the settings that make it that kind (the papers' recipes, with larger
# learning rates than the image presets so a 2D toy trains in seconds)
TOY_PRESETS: dict[str, dict] = {
    "gan": dict(
        loss="non-saturating", optimizer="adam", lr=1e-3, betas=(0.5, 0.999),
        d_steps=1, clip=None, gp_weight=0.0,
    ),
    "wgan": dict(
        loss="wasserstein", optimizer="rmsprop", lr=1e-3, betas=(0.5, 0.999),
        d_steps=5, clip=0.01, gp_weight=0.0,
    ),
    "wgan-gp": dict(
        loss="wasserstein", optimizer="adam", lr=1e-3, betas=(0.0, 0.9),
        d_steps=5, clip=None, gp_weight=10.0,
    ),
}  # fmt: skip


@dataclass
class MLPGANConfig:
    """Every setting of an MLPGAN; `mlp_gan(kind)` fills in the kind's recipe."""

    kind: str = "wgan-gp"
    dataset: str | ToyDataset = "ring8"
    loss: str = "wasserstein"
    optimizer: str = "adam"  # "adam" or "rmsprop"
    lr: float = 1e-3  # for G and the critic
    betas: tuple[float, float] = (0.0, 0.9)
    d_steps: int = 5  # critic updates per training step
    g_steps: int = 1  # G updates per training step
    clip: float | None = None  # WGAN: clamp critic weights after each critic step
    gp_weight: float = 10.0  # WGAN-GP: lambda
    hidden: int = 64  # width of every hidden layer of G and of the critic
    layers: int = 3  # hidden layers of G and of the critic
    z_dim: int = 2  # size of G's noise input
    batch_size: int = 256
    seed: int = 0

    def check(self) -> MLPGANConfig:
        """Raise one clear UsageError for a setting that cannot work; return self."""
        if self.kind not in KINDS:
            raise UsageError(f"unknown kind {self.kind!r}: use one of {list(KINDS)}.")
        if not isinstance(self.dataset, ToyDataset) and not is_toy(self.dataset):
            raise UsageError(
                f"unknown toy dataset {self.dataset!r}: use one of "
                f"{', '.join(dataset_names('toy'))}."
            )
        if self.optimizer not in ("adam", "rmsprop"):
            raise UsageError(
                f"unknown optimizer {self.optimizer!r}: use 'adam' or 'rmsprop'."
            )
        if not self.lr > 0:
            raise UsageError(f"lr must be above 0 (e.g. 1e-3), got {self.lr}.")
        if self.clip is not None and not self.clip > 0:
            raise UsageError(f"clip must be above 0 (e.g. 0.01) or None: {self.clip}.")
        if not self.gp_weight >= 0:
            raise UsageError(f"gp_weight must be 0 or more, got {self.gp_weight}.")
        for name in ("d_steps", "g_steps", "hidden", "layers", "z_dim", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or int(value) != value or value < 1:
                raise UsageError(
                    f"{name} must be a whole number of at least 1, got {value!r}."
                )
        return self


def mlp(n_in: int, hidden: int, n_out: int, layers: int) -> nn.Sequential:
    """`layers` ReLU hidden layers of width `hidden`, then a linear output."""
    modules: list[nn.Module] = [nn.Linear(n_in, hidden), nn.ReLU()]
    for _ in range(layers - 1):
        modules += [nn.Linear(hidden, hidden), nn.ReLU()]
    modules.append(nn.Linear(hidden, n_out))
    return nn.Sequential(*modules)


class MLPGAN:
    """G (noise -> 2D point) and a critic D (2D point -> score), trained by steps."""

    def __init__(self, config: MLPGANConfig):
        self.config = c = config.check()
        self.dataset = (
            c.dataset if isinstance(c.dataset, ToyDataset) else load_dataset(c.dataset)
        )
        torch.manual_seed(c.seed)
        self.G = mlp(c.z_dim, c.hidden, 2, c.layers)
        self.D = nn.Sequential(mlp(2, c.hidden, 1, c.layers), nn.Flatten(0))  # (N,)
        self.opt_g = self._optimizer(self.G)
        self.opt_d = self._optimizer(self.D)
        if c.clip is not None:  # start inside the box the critic must stay in
            clip_weights(self.D, c.clip)
        self.data_rng = np.random.default_rng(c.seed)
        self.noise_rng = torch.Generator().manual_seed(c.seed)
        self.fixed_noise = torch.randn(
            1000, c.z_dim, generator=torch.Generator().manual_seed(c.seed + 1)
        )  # (1000, z_dim), the same for every fixed_samples()
        self._sample_rng = np.random.default_rng([c.seed, 1])  # sample()'s own noise
        self.step = 0  # training steps done
        self.history: dict[str, list[float]] = {
            "loss_d": [], "loss_g": [], "d_real": [], "d_fake": [],
            "wasserstein": [], "gp": [],
        }  # fmt: skip

    def _optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        c = self.config
        if c.optimizer == "rmsprop":
            return torch.optim.RMSprop(model.parameters(), lr=c.lr)
        return torch.optim.Adam(model.parameters(), lr=c.lr, betas=c.betas)

    def real_batch(self) -> torch.Tensor:
        """A fresh batch of real points, (batch_size, 2)."""
        points = self.dataset.sample(self.config.batch_size, self.data_rng)
        return torch.as_tensor(points, dtype=torch.float32)

    def noise(self, n: int) -> torch.Tensor:
        """n noise vectors for training, (n, z_dim)."""
        return torch.randn(n, self.config.z_dim, generator=self.noise_rng)

    def d_update(self) -> dict[str, float]:
        """One critic update; clipping (WGAN) comes after the optimiser step."""
        c = self.config
        real = self.real_batch()  # (B, 2)
        with torch.no_grad():
            fake = self.G(self.noise(len(real)))  # (B, 2), a constant for D
        real_scores, fake_scores = self.D(real), self.D(fake)  # (B,) each
        loss = d_loss(c.loss, real_scores, fake_scores)
        figures = {
            "d_real": self._score(real_scores),
            "d_fake": self._score(fake_scores),
            "wasserstein": (real_scores.mean() - fake_scores.mean()).item(),
        }
        if c.gp_weight > 0:
            penalty = gradient_penalty(self.D, real, fake, generator=self.noise_rng)
            loss = loss + c.gp_weight * penalty
            figures["gp"] = penalty.item()
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        if c.clip is not None:
            clip_weights(self.D, c.clip)
        figures["loss_d"] = loss.item()
        return figures

    def g_update(self) -> float:
        """One G update through the critic, whose weights get no gradient."""
        c = self.config
        self.D.requires_grad_(False)
        try:
            loss = g_loss(c.loss, self.D(self.G(self.noise(c.batch_size))))
            self.opt_g.zero_grad(set_to_none=True)
            loss.backward()
        finally:
            self.D.requires_grad_(True)
        self.opt_g.step()
        return loss.item()

    def _score(self, scores: torch.Tensor) -> float:
        """D(x) as a probability for BCE losses, else the critic's mean score."""
        scores = scores.detach()
        if self.config.loss == "wasserstein":
            return scores.mean().item()
        return torch.sigmoid(scores).mean().item()

    def train_step(self) -> None:
        """d_steps critic updates, then g_steps G updates; one history entry."""
        c = self.config
        for _ in range(c.d_steps):
            figures = self.d_update()
        for _ in range(c.g_steps):
            figures["loss_g"] = self.g_update()
        for name, values in self.history.items():
            values.append(figures.get(name, float("nan")))
        self.step += 1

    def fit(self, steps: int) -> MLPGAN:
        """Train `steps` more steps on one thread (faster for these small nets)."""
        if isinstance(steps, bool) or int(steps) != steps or steps < 1:
            raise UsageError(f"steps must be a whole number of at least 1: {steps!r}.")
        with one_thread():
            for _ in range(int(steps)):
                self.train_step()
        return self

    @torch.no_grad()
    def sample(self, n: int = 1000, seed: int | None = None) -> np.ndarray:
        """n generated points (n, 2); sampling does not disturb training."""
        rng = self._sample_rng if seed is None else np.random.default_rng(seed)
        z = rng.standard_normal((n, self.config.z_dim), dtype=np.float32)
        return self.G(torch.from_numpy(z)).double().numpy()

    @torch.no_grad()
    def fixed_samples(self) -> np.ndarray:
        """G(fixed_noise), (1000, 2): the same noise every time, to follow progress."""
        return self.G(self.fixed_noise).double().numpy()

    @torch.no_grad()
    def critic_grid(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """The critic's score at every (x, y) of a grid, (len(ys), len(xs))."""
        grid_x, grid_y = np.meshgrid(xs, ys)  # (len(ys), len(xs)) each
        points = np.stack([grid_x.ravel(), grid_y.ravel()], axis=1)  # (M, 2)
        scores = self.D(torch.as_tensor(points, dtype=torch.float32))
        return scores.numpy().reshape(grid_x.shape)

    def critic_weights(self) -> np.ndarray:
        """Every weight of the critic's linear layers in one flat array."""
        linears = [m for m in self.D.modules() if isinstance(m, nn.Linear)]
        return torch.cat([m.weight.detach().ravel() for m in linears]).numpy()

    def __repr__(self) -> str:
        c = self.config
        return (
            f"MLPGAN({c.kind!r}, {self.dataset.name!r}, hidden={c.hidden}, "
            f"{self.step} steps done)"
        )


def mlp_gan(kind: str = "wgan-gp", dataset: str | ToyDataset = "ring8", **options):
    """An MLPGAN with `kind`'s recipe; options override any MLPGANConfig field."""
    if kind not in KINDS:
        raise UsageError(f"unknown kind {kind!r}: use one of {list(KINDS)}.")
    known = {f.name for f in fields(MLPGANConfig)} - {"kind", "dataset"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise UsageTypeError(
            f"MLPGANConfig has no setting {unknown[0]!r}; choose from {sorted(known)}."
        )
    settings = {**TOY_PRESETS[kind], **options}
    return MLPGAN(MLPGANConfig(kind=kind, dataset=dataset, **settings))
