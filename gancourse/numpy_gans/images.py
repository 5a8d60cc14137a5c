"""A NumPy GAN for small images, built from the layers of nn_numpy.

It reads like numpy_gans.toy and speaks GANTrainer's vocabulary: a config dataclass,
d_update / g_update / train_step / fit, the `step` counter, history keys loss_d,
loss_g, d_real, d_fake, z_dim, and snapshots of G's samples on fixed_noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gancourse.errors import UsageError
from gancourse.nn_numpy import (
    Adam,
    Conv2D,
    ConvTranspose2D,
    Dense,
    Flatten,
    LeakyReLU,
    Reshape,
    Sequential,
    Tanh,
    bce_with_logits,
)
from gancourse.numpy_gans.loop import AlternatingTraining

LOSSES = ("non-saturating", "minimax")
DTYPE = np.float32  # twice as fast as float64 on these tiny matrices


@dataclass
class ImageGANConfig:
    """Every setting of an ImageGAN; the defaults are the course's recommendation."""

    z_dim: int = 16  # size of G's noise input
    lr_d: float = 1e-3
    lr_g: float = 1e-3
    d_steps: int = 1  # D updates per training step
    g_steps: int = 1  # G updates per training step
    batch_size: int = 64
    loss: str = "non-saturating"
    beta1: float = 0.5
    snapshot_every: int = 50
    num_fixed: int = 20  # how many fixed-noise samples each snapshot keeps
    seed: int = 0

    def check(self) -> None:
        """Raise one clear UsageError for any setting that cannot work."""
        if self.loss not in LOSSES:
            raise UsageError(
                f"unknown loss {self.loss!r}: use one of {', '.join(LOSSES)}."
            )
        for name in ("lr_d", "lr_g"):
            value = getattr(self, name)
            if not value > 0:
                raise UsageError(f"{name} must be above 0, got {value}.")
        counts = (
            "z_dim",
            "d_steps",
            "g_steps",
            "batch_size",
            "snapshot_every",
            "num_fixed",
        )
        for name in counts:
            value = getattr(self, name)
            if int(value) != value or value < 1:
                raise UsageError(
                    f"{name} must be a whole number of at least 1, got {value}."
                )
        if not 0 <= self.beta1 < 1:
            raise UsageError(f"beta1 must be in [0, 1), got {self.beta1}.")


def as_float32(model: Sequential) -> Sequential:
    """Convert every parameter and gradient of `model` to float32; return it."""
    for layer in model.layers:
        for name in layer.params:
            layer.params[name] = layer.params[name].astype(DTYPE)
            layer.grads[name] = layer.grads[name].astype(DTYPE)
    return model


# -- networks for 10x10 images ------------------------------------------------------


def dense_generator(
    z_dim: int, image_shape=(1, 10, 10), hidden: int = 128, rng=None
) -> Sequential:
    """noise (N, z_dim) -> images (N, C, H, W) in (-1, 1), dense layers only."""
    pixels = int(np.prod(image_shape))
    return as_float32(
        Sequential(
            Dense(z_dim, hidden, rng=rng),
            LeakyReLU(0.2),
            Dense(hidden, hidden, rng=rng),
            LeakyReLU(0.2),
            Dense(hidden, pixels, rng=rng),
            Tanh(),
            Reshape(image_shape),
        )
    )


def dense_discriminator(image_shape=(1, 10, 10), hidden: int = 128, rng=None):
    """images (N, C, H, W) -> one logit each (N, 1), dense layers only."""
    pixels = int(np.prod(image_shape))
    return as_float32(
        Sequential(
            Flatten(),
            Dense(pixels, hidden, rng=rng),
            LeakyReLU(0.2),
            Dense(hidden, hidden, rng=rng),
            LeakyReLU(0.2),
            Dense(hidden, 1, rng=rng),
        )
    )


def conv_generator(z_dim: int, channels: int = 32, rng=None) -> Sequential:
    """noise (N, z_dim) -> (N, 1, 10, 10): Dense to 5x5, ConvTranspose to 10x10."""
    return as_float32(
        Sequential(
            Dense(z_dim, channels * 5 * 5, rng=rng),
            Reshape((channels, 5, 5)),  # (N, 32, 5, 5)
            LeakyReLU(0.2),
            ConvTranspose2D(channels, channels // 2, 4, stride=2, padding=1, rng=rng),
            LeakyReLU(0.2),  # (N, 16, 10, 10): (5 - 1) * 2 - 2 * 1 + 4 = 10
            Conv2D(channels // 2, 1, 3, padding=1, rng=rng),  # (N, 1, 10, 10)
            Tanh(),
        )
    )


def conv_discriminator(channels: int = 32, rng=None) -> Sequential:
    """(N, 1, 10, 10) -> one logit each (N, 1): two strided Conv2D, then Dense."""
    return as_float32(
        Sequential(
            Conv2D(1, channels // 2, 4, stride=2, padding=1, rng=rng),
            LeakyReLU(0.2),  # (N, 16, 5, 5): (10 + 2 - 4) // 2 + 1 = 5
            Conv2D(channels // 2, channels, 3, stride=2, padding=1, rng=rng),
            LeakyReLU(0.2),  # (N, 32, 3, 3): (5 + 2 - 3) // 2 + 1 = 3
            Flatten(),  # (N, 288)
            Dense(channels * 9, 1, rng=rng),
        )
    )


# -- the GAN ------------------------------------------------------------------------


class ImageGAN(AlternatingTraining):
    """Any G (noise -> images) and D (images -> logits), trained step by step.

    real_images: (N, C, H, W) in [-1, 1]; G must end in Tanh. lr_d, lr_g, d_steps
    and g_steps may be changed between steps.
    """

    def __init__(self, generator, discriminator, real_images, **options):
        self.config = ImageGANConfig(**options)
        self.config.check()
        c = self.config
        self.real_images = self._check_images(real_images)  # (N, C, H, W)
        self.generator, self.discriminator = generator, discriminator
        self.rng = np.random.default_rng(c.seed)
        self._check_networks()
        betas = (c.beta1, 0.999)
        self.opt_g = Adam(generator.parameters(), lr=c.lr_g, betas=betas)
        self.opt_d = Adam(discriminator.parameters(), lr=c.lr_d, betas=betas)
        self.lr_d, self.lr_g = c.lr_d, c.lr_g
        self.d_steps, self.g_steps = c.d_steps, c.g_steps
        self.loss, self.batch_size = c.loss, c.batch_size
        self.step = 0  # training steps done
        self.d_updates = 0
        self.g_updates = 0
        self.history = {"loss_d": [], "loss_g": [], "d_real": [], "d_fake": []}
        self.fixed_noise = self.noise(c.num_fixed)  # (num_fixed, z_dim)
        self.snapshots = [(0, self.fixed_samples())]  # (step, (num_fixed, C, H, W))
        self._sample_rng = np.random.default_rng([c.seed, 1])

    # -- one update of each network -------------------------------------------------

    def d_update(self) -> dict[str, float]:
        """One update of D on a batch of real and a batch of generated images."""
        self.opt_d.lr = self.lr_d
        index = self.rng.integers(len(self.real_images), size=self.batch_size)
        real = self.real_images[index]  # (B, C, H, W)
        fake = self.generator(self.noise(self.batch_size))  # (B, C, H, W)
        self.opt_d.zero_grad()
        result = {}
        for name, images in (("real", real), ("fake", fake)):
            logits = self.discriminator(images)  # (B, 1)
            target = np.full_like(logits, 1.0 if name == "real" else 0.0)
            loss, grad_logits = bce_with_logits(logits, target)
            self.discriminator.backward(grad_logits)
            result[f"loss_{name}"] = loss
            result[f"d_{name}"] = float(sigmoid(logits).mean())
        self.opt_d.step()
        self.d_updates += 1
        return {
            "loss_d": result["loss_real"] + result["loss_fake"],
            "d_real": result["d_real"],
            "d_fake": result["d_fake"],
        }

    def g_update(self) -> float:
        """One update of G through D's input gradient; D's weights are not changed."""
        self.opt_g.lr = self.lr_g
        fake = self.generator(self.noise(self.batch_size))  # (B, C, H, W)
        logits = self.discriminator(fake)  # (B, 1)
        loss, grad_logits = self.g_loss(logits)
        self.opt_g.zero_grad()
        grad_fake = self.discriminator.backward(grad_logits)  # (B, C, H, W)
        self.generator.backward(grad_fake)
        self.opt_g.step()
        self.discriminator.zero_grad()  # D's gradients from this step are not used
        self.g_updates += 1
        return loss

    def g_loss(self, logits: np.ndarray) -> tuple[float, np.ndarray]:
        """G's loss on D's logits of generated images, and its gradient."""
        if self.loss == "minimax":  # minimise log(1 - D(G(z))) = -BCE(logits, 0)
            loss, grad = bce_with_logits(logits, np.zeros_like(logits))
            return -loss, -grad
        return bce_with_logits(logits, np.ones_like(logits))  # -log D(G(z))

    # -- helpers --------------------------------------------------------------------

    def noise(self, n: int, rng: np.random.Generator | None = None) -> np.ndarray:
        """n noise vectors for G, (n, z_dim)."""
        rng = self.rng if rng is None else rng
        return rng.standard_normal((n, self.config.z_dim), dtype=DTYPE)

    def sample(self, n: int, seed: int | None = None) -> np.ndarray:
        """n generated images, (n, C, H, W); sampling does not disturb training."""
        rng = self._sample_rng if seed is None else np.random.default_rng(seed)
        return self.generator(self.noise(n, rng)).astype(np.float64)

    def _check_images(self, images) -> np.ndarray:
        """real_images as a float32 (N, C, H, W) array in [-1, 1], or a UsageError."""
        images = np.asarray(images, dtype=DTYPE)
        if images.ndim != 4 or len(images) == 0:
            raise UsageError(
                f"real_images must be a non-empty (N, C, H, W) array, got shape "
                f"{images.shape}."
            )
        if images.min() < -1 - 1e-6 or images.max() > 1 + 1e-6:
            raise UsageError(
                f"real_images must lie in [-1, 1] like G's tanh output, got "
                f"[{images.min():.3g}, {images.max():.3g}]: scale them first."
            )
        return images

    def _check_networks(self) -> None:
        """G must make images shaped like the real ones, and D one logit per image."""
        noise = self.noise(2, np.random.default_rng(0))  # (2, z_dim)
        try:
            fake = self.generator(noise)
        except ValueError as error:
            raise UsageError(
                f"the generator cannot take noise of size {noise.shape[1]}: {error}"
            ) from error
        shape = self.real_images.shape[1:]
        if fake.shape[1:] != shape:
            raise UsageError(
                f"the generator makes images of shape {fake.shape[1:]} from noise of "
                f"size {self.config.z_dim}, but the real images are {shape}."
            )
        try:
            logits = self.discriminator(fake)
        except ValueError as error:
            raise UsageError(
                f"the discriminator cannot take images of shape {shape}: {error}"
            ) from error
        if logits.shape != (2, 1):
            raise UsageError(
                f"the discriminator must give one logit per image, shape (N, 1); "
                f"it gives {logits.shape[1:]} per batch of images."
            )

    def __repr__(self) -> str:
        c = self.config
        n, *shape = self.real_images.shape
        return (
            f"ImageGAN({n} real images of {'x'.join(map(str, shape))}, "
            f"loss={c.loss!r}, {self.step} steps done)"
        )


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """D's probability of 'real' for each logit."""
    return 0.5 * (1.0 + np.tanh(0.5 * logits))


# -- measuring samples --------------------------------------------------------------


def nearest_mode(samples, modes) -> tuple[np.ndarray, np.ndarray]:
    """For each sample its nearest mode and the mean |pixel difference| to it.

    samples (N, C, H, W) and modes (K, C, H, W) in [-1, 1]; returns (N,) indices
    and (N,) distances, 0 for a perfect copy and 2 for the opposite image.
    """
    samples = np.asarray(samples, dtype=np.float64).reshape(len(samples), -1)
    modes = np.asarray(modes, dtype=np.float64).reshape(len(modes), -1)
    if samples.shape[1] != modes.shape[1]:
        raise UsageError(
            f"samples have {samples.shape[1]} pixels each, the modes {modes.shape[1]}."
        )
    distances = np.abs(samples[:, None, :] - modes[None, :, :]).mean(axis=2)  # (N, K)
    nearest = distances.argmin(axis=1)  # (N,)
    return nearest, distances[np.arange(len(samples)), nearest]


def image_mode_coverage(samples, modes, threshold: float = 0.1) -> tuple[int, float]:
    """The number of modes covered and the fraction of high-quality samples.

    A sample is high quality when its mean |pixel difference| to its nearest mode
    is at most `threshold` (0.1 is about five of 100 pixels flipped); a mode is
    covered when it is the nearest mode of at least one high-quality sample.
    """
    nearest, distance = nearest_mode(samples, modes)
    good = distance <= threshold
    return len(np.unique(nearest[good])), float(good.mean())
