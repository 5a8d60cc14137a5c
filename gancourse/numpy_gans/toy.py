"""A tiny GAN on the 2D toy datasets, built from the NumPy layers of nn_numpy.

It speaks GANTrainer's vocabulary: d_update / g_update / train_step / fit, the
`step` counter, history keys loss_d, loss_g, d_real, d_fake, z_dim, fixed_noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gancourse.data import load_dataset
from gancourse.data.base import ToyDataset
from gancourse.data.catalog import dataset_names, is_toy
from gancourse.errors import UsageError
from gancourse.nn_numpy import (
    Adam,
    Dense,
    LeakyReLU,
    Sequential,
    bce_with_logits,
    softmax_cross_entropy,
)
from gancourse.numpy_gans.loop import AlternatingTraining

LOSSES = ("non-saturating", "minimax", "wasserstein")
DTYPE = np.float32  # twice as fast as float64 here, and precise enough


@dataclass
class ToyGANConfig:
    """Every setting of a ToyGAN; the defaults are the course's recommendation."""

    dataset: str | ToyDataset = "ring8"
    loss: str = "non-saturating"
    steps: int = 16_000  # train_toy_gan trains this long; the lr schedule ends here
    lr_d: float = 3e-3
    lr_g: float = 3e-3
    d_steps: int = 1  # D updates per training step
    g_steps: int = 1  # G updates per training step
    batch_size: int = 256
    pack: int = 2  # PacGAN: D judges `pack` samples at once; 1 is a plain GAN
    z_dim: int = 4  # size of G's noise input
    hidden: int = 64  # width of every hidden layer of G and of D
    g_layers: int = 5  # hidden layers of G (D has 2); depth cuts gaps between modes
    codes: int = 0  # InfoGAN: G also gets one of this many one-hot codes; 0: none
    info: float = 1.0  # weight in G's loss of Q's loss at reading the code back
    beta1: float = 0.5
    decay: float = 0.6  # the lr falls linearly over this last fraction of `steps`
    final_lr_scale: float = 0.01  # ... down to this fraction of lr_d and lr_g
    clip: float = 0.01  # wasserstein only: every critic weight stays in [-clip, clip]
    snapshot_every: int = 50
    seed: int = 0

    def check(self) -> None:
        """Raise one clear UsageError for any setting that cannot work."""
        if not isinstance(self.dataset, ToyDataset) and not is_toy(self.dataset):
            raise UsageError(
                f"unknown toy dataset {self.dataset!r}: "
                f"use one of {', '.join(dataset_names('toy'))}."
            )
        if self.loss not in LOSSES:
            raise UsageError(
                f"unknown loss {self.loss!r}: use one of {', '.join(LOSSES)}."
            )
        positive = {
            "lr_d": self.lr_d,
            "lr_g": self.lr_g,
            "clip": self.clip,
        }
        for name, value in positive.items():
            if not value > 0:
                raise UsageError(f"{name} must be above 0, got {value}.")
        if int(self.codes) != self.codes or self.codes < 0 or self.codes == 1:
            raise UsageError(
                f"codes must be 0 (no code) or a whole number of at least 2, "
                f"got {self.codes}."
            )
        if not self.info >= 0:
            raise UsageError(f"info must be at least 0, got {self.info}.")
        at_least_one = {
            "steps": self.steps,
            "d_steps": self.d_steps,
            "g_steps": self.g_steps,
            "batch_size": self.batch_size,
            "pack": self.pack,
            "z_dim": self.z_dim,
            "hidden": self.hidden,
            "g_layers": self.g_layers,
            "snapshot_every": self.snapshot_every,
        }
        for name, value in at_least_one.items():
            if int(value) != value or value < 1:
                raise UsageError(
                    f"{name} must be a whole number of at least 1, got {value}."
                )
        if self.batch_size % self.pack:
            raise UsageError(
                f"batch_size ({self.batch_size}) must be a multiple of pack "
                f"({self.pack}): change one of them."
            )
        if not 0 <= self.decay <= 1 or not 0 < self.final_lr_scale <= 1:
            raise UsageError(
                f"decay must be in [0, 1] and final_lr_scale in (0, 1], got "
                f"{self.decay} and {self.final_lr_scale}."
            )
        if not 0 <= self.beta1 < 1:
            raise UsageError(f"beta1 must be in [0, 1), got {self.beta1}.")


def mlp(
    n_in: int, hidden: int, n_out: int, rng: np.random.Generator, layers: int = 2
) -> Sequential:
    """`layers` LeakyReLU hidden layers of width `hidden`, and a linear output."""
    modules = [Dense(n_in, hidden, rng=rng, dtype=DTYPE), LeakyReLU(0.2)]
    for _ in range(layers - 1):
        modules += [Dense(hidden, hidden, rng=rng, dtype=DTYPE), LeakyReLU(0.2)]
    modules.append(Dense(hidden, n_out, rng=rng, dtype=DTYPE))
    return Sequential(*modules)


class ToyGAN(AlternatingTraining):
    """G (noise -> 2D point) and D (2D points -> logit), trained step by step.

    With `codes`, G's noise starts with a one-hot code, and Q (2D point -> code
    logits) learns to read the code back from G's output, as in InfoGAN.
    lr_d, lr_g, d_steps and g_steps may be changed between steps.
    """

    def __init__(self, **options):
        self.config = ToyGANConfig(**options)
        self.config.check()
        c = self.config
        self.dataset = (
            c.dataset if isinstance(c.dataset, ToyDataset) else load_dataset(c.dataset)
        )
        self.rng = np.random.default_rng(c.seed)
        self.noise_dim = c.codes + c.z_dim  # G's input: the code, then the noise
        self.generator = mlp(self.noise_dim, c.hidden, 2, self.rng, c.g_layers)
        self.discriminator = mlp(2 * c.pack, c.hidden, 1, self.rng)
        betas = (c.beta1, 0.999)
        self.opt_g = Adam(self.generator.parameters(), lr=c.lr_g, betas=betas)
        self.opt_d = Adam(self.discriminator.parameters(), lr=c.lr_d, betas=betas)
        if c.codes:
            self.reader = mlp(2, c.hidden, c.codes, self.rng)  # Q: point -> code
            self.opt_reader = Adam(self.reader.parameters(), lr=c.lr_g, betas=betas)
        self.lr_d, self.lr_g = c.lr_d, c.lr_g
        self.d_steps, self.g_steps = c.d_steps, c.g_steps
        self.loss, self.pack, self.batch_size = c.loss, c.pack, c.batch_size
        self.step = 0  # training steps done
        self.d_updates = 0
        self.g_updates = 0
        self.history = {"loss_d": [], "loss_g": [], "d_real": [], "d_fake": []}
        self.fixed_noise = self.noise(256)  # (256, z_dim)
        self.snapshots = [(0, self.fixed_samples())]  # (step, (256, 2)) each
        self._sample_rng = np.random.default_rng([c.seed, 1])

    # -- one update of each network -------------------------------------------------

    def lr_scale(self) -> float:
        """The factor the lr schedule puts on lr_d and lr_g at the current step."""
        c = self.config
        start = c.steps * (1 - c.decay)
        if self.step < start:
            return 1.0
        done = min(1.0, (self.step - start) / max(c.steps - start, 1))
        return 1.0 - done * (1.0 - c.final_lr_scale)

    def d_update(self) -> dict[str, float]:
        """One update of D on a batch of real and a batch of generated points."""
        self.opt_d.lr = self.lr_d * self.lr_scale()
        real = self.dataset.sample(self.batch_size, self.rng).astype(DTYPE)  # (B, 2)
        fake = self.generator(self.noise(self.batch_size))  # (B, 2)
        self.opt_d.zero_grad()
        result = {}
        for name, points in (("real", real), ("fake", fake)):
            scores = self.discriminator(self.packed(points))  # (B / pack, 1)
            loss, grad_scores = self.d_loss(scores, is_real=name == "real")
            self.discriminator.backward(grad_scores)
            result[f"loss_{name}"] = loss
            result[f"d_{name}"] = float(self.d_output(scores).mean())
        self.opt_d.step()
        if self.loss == "wasserstein":
            for param, _ in self.discriminator.parameters():
                np.clip(param, -self.config.clip, self.config.clip, out=param)
        self.d_updates += 1
        return {
            "loss_d": result["loss_real"] + result["loss_fake"],
            "d_real": result["d_real"],
            "d_fake": result["d_fake"],
        }

    def g_update(self) -> float:
        """One update of G through D's input gradient; D's weights are not changed.

        With codes, G's loss also has `info` times Q's loss at reading them back,
        and Q takes one step on the same points.
        """
        self.opt_g.lr = self.lr_g * self.lr_scale()
        noise = self.noise(self.batch_size)  # (B, noise_dim)
        fake = self.generator(noise)  # (B, 2)
        scores = self.discriminator(self.packed(fake))  # (B / pack, 1)
        loss, grad_scores = self.g_loss(scores)
        self.opt_g.zero_grad()
        grad_fake = self.discriminator.backward(grad_scores)  # (B / pack, 2 * pack)
        grad_fake = grad_fake.reshape(-1, 2)  # (B, 2)
        if self.config.codes:
            grad_fake = grad_fake + self.config.info * self.reader_update(fake, noise)
        self.generator.backward(grad_fake)
        self.opt_g.step()
        self.discriminator.zero_grad()
        self.g_updates += 1
        return loss

    def reader_update(self, points: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """One step of Q at reading the codes in `noise` from G's `points`.

        Returns the gradient of Q's loss with respect to the points, (B, 2), taken
        before Q's step, for G to descend too.
        """
        self.opt_reader.lr = self.lr_g * self.lr_scale()
        codes = self.codes_of(noise)  # (B,)
        self.opt_reader.zero_grad()
        _, grad_logits = softmax_cross_entropy(self.reader(points), codes)
        grad_points = self.reader.backward(grad_logits.astype(DTYPE))  # (B, 2)
        self.opt_reader.step()
        return grad_points

    # -- the losses -----------------------------------------------------------------

    def d_loss(self, scores: np.ndarray, is_real: bool) -> tuple[float, np.ndarray]:
        """D's loss on one batch of scores, and its gradient wrt the scores."""
        if self.loss == "wasserstein":
            sign = -1.0 if is_real else 1.0
            return sign * float(scores.mean()), np.full_like(scores, sign / scores.size)
        target = np.ones_like(scores) if is_real else np.zeros_like(scores)
        return bce_with_logits(scores, target)

    def g_loss(self, scores: np.ndarray) -> tuple[float, np.ndarray]:
        """G's loss on D's scores of generated points, and its gradient."""
        if self.loss == "wasserstein":
            return -float(scores.mean()), np.full_like(scores, -1.0 / scores.size)
        if self.loss == "minimax":
            loss, grad = bce_with_logits(scores, np.zeros_like(scores))
            return -loss, -grad
        return bce_with_logits(scores, np.ones_like(scores))

    # -- helpers and views for plots ------------------------------------------------

    def noise(self, n: int, rng: np.random.Generator | None = None) -> np.ndarray:
        """n noise vectors for G, (n, noise_dim): a one-hot code if any, then z."""
        rng = self.rng if rng is None else rng
        codes = self.config.codes
        if not codes:
            return rng.standard_normal((n, self.config.z_dim), dtype=DTYPE)
        picked = rng.integers(0, codes, n)  # (n,), each code equally likely
        one_hot = np.zeros((n, codes), dtype=DTYPE)  # (n, codes)
        one_hot[np.arange(n), picked] = 1.0
        z = rng.standard_normal((n, self.config.z_dim), dtype=DTYPE)  # (n, z_dim)
        return np.concatenate([one_hot, z], axis=1)

    def codes_of(self, noise: np.ndarray) -> np.ndarray:
        """The code in each noise vector, (N,); all 0 when there are no codes."""
        if not self.config.codes:
            return np.zeros(len(noise), dtype=np.int64)
        return noise[:, : self.config.codes].argmax(axis=1)

    def packed(self, points: np.ndarray) -> np.ndarray:
        """Groups of `pack` consecutive points side by side, (N / pack, 2 * pack)."""
        return points.reshape(-1, 2 * self.pack)

    def d_output(self, scores: np.ndarray) -> np.ndarray:
        """D's probability of 'real' per score; for wasserstein, the score itself."""
        if self.loss == "wasserstein":
            return scores
        return 0.5 * (1.0 + np.tanh(0.5 * scores))  # the sigmoid, without overflow

    def sample(self, n: int, seed: int | None = None) -> np.ndarray:
        """n generated points, (n, 2); sampling does not disturb training."""
        rng = self._sample_rng if seed is None else np.random.default_rng(seed)
        return self.generator(self.noise(n, rng)).astype(np.float64)

    def _scores_at(self, points: np.ndarray) -> np.ndarray:
        """D's scores, (N, 1), for each point packed beside generated companions."""
        points = points.astype(DTYPE)  # (N, 2)
        companions = self.generator(self.fixed_noise)  # (256, 2)
        others = np.arange(len(points) * (self.pack - 1)) % len(companions)
        others = companions[others].reshape(len(points), self.pack - 1, 2)
        packs = np.concatenate([points[:, None, :], others], axis=1)  # (N, pack, 2)
        return self.discriminator(packs.reshape(len(points), 2 * self.pack))

    def discriminator_grid(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """D's output at every (x, y) of a grid, (len(ys), len(xs)), for a heatmap."""
        grid_x, grid_y = np.meshgrid(xs, ys)  # (len(ys), len(xs)) each
        points = np.stack([grid_x.ravel(), grid_y.ravel()], axis=1)  # (N, 2)
        return self.d_output(self._scores_at(points)).reshape(grid_x.shape)

    def generator_gradients(self, points: np.ndarray) -> np.ndarray:
        """Where G's loss pushes a generated point at each of `points`, (N, 2)."""
        points = np.asarray(points, dtype=DTYPE)  # (N, 2)
        scores = self._scores_at(points)  # (N, 1)
        _, grad_scores = self.g_loss(scores)
        grad_input = self.discriminator.backward(grad_scores * len(scores))
        self.discriminator.zero_grad()
        return -grad_input[:, :2]

    def generator_steepness(self, noise: np.ndarray) -> np.ndarray:
        """How fast G's output moves with its noise, per noise vector, (N,).

        The Frobenius norm of G's Jacobian dG/dz, a (2, z_dim) matrix per noise
        vector: large where G's output jumps from one mode to the next. A code,
        if any, is held fixed: only z moves.
        """
        noise = np.asarray(noise, dtype=DTYPE)  # (N, noise_dim)
        if noise.ndim != 2 or noise.shape[1] != self.noise_dim:
            raise UsageError(
                f"noise must have shape (N, {self.noise_dim}), got {noise.shape}: "
                f"make it with gan.noise(N)."
            )
        kept = [grad.copy() for _, grad in self.generator.parameters()]
        points = self.generator(noise)  # (N, 2); backward reuses this pass
        squares = np.zeros(len(noise))  # (N,)
        for axis in range(points.shape[1]):
            unit = np.zeros_like(points)  # (N, 2)
            unit[:, axis] = 1.0
            row = self.generator.backward(unit)  # (N, noise_dim): d point[axis]
            row = row[:, self.config.codes :]  # (N, z_dim): d point[axis] / dz
            squares += (row.astype(np.float64) ** 2).sum(axis=1)
        for (_, grad), before in zip(self.generator.parameters(), kept, strict=True):
            np.copyto(grad, before)  # backward added into G's weight gradients
        return np.sqrt(squares)

    def __repr__(self) -> str:
        c = self.config
        code = f", codes={c.codes}" if c.codes else ""
        return (
            f"ToyGAN({self.dataset.name!r}, loss={c.loss!r}, pack={c.pack}{code}, "
            f"{self.step} steps done)"
        )


def train_toy_gan(dataset: str = "ring8", **options) -> ToyGAN:
    """Build a ToyGAN (options: any ToyGANConfig field) and train it `steps` steps."""
    gan = ToyGAN(dataset=dataset, **options)
    return gan.fit(gan.config.steps)
