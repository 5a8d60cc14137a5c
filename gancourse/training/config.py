"""The training settings (a dataclass saved in checkpoints) and one preset per GAN."""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

from gancourse.augment import check_policy
from gancourse.errors import UsageError, UsageTypeError
from gancourse.losses import LOSSES
from gancourse.models import DiscriminatorConfig, GeneratorConfig
from gancourse.models.config import SavedConfig
from gancourse.training.ema import check_beta

KINDS = ("dcgan", "wgan", "wgan-gp", "cgan", "acgan")
# on CUDA the host reads the step's figures every this many steps (sync_every)
SYNC_EVERY_CUDA = 25
OPTIMIZERS = ("adam", "rmsprop")


@dataclass
class TrainConfig(SavedConfig):
    """How a GAN is trained; lr_d, lr_g, d_steps and g_steps can change mid-run."""

    kind: str = "dcgan"
    loss: str = "non-saturating"
    optimizer: str = "adam"
    lr_d: float = 2e-4
    lr_g: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    d_steps: int = 1  # D updates per training step
    g_steps: int = 1  # G updates per training step
    batch_size: int = 64
    clip: float | None = None  # WGAN: clamp critic weights after each critic step
    gp_weight: float = 0.0  # WGAN-GP: lambda
    aux_weight: float = 1.0  # ACGAN: weight of the class loss
    r1_gamma: float = 0.0  # D's loss adds r1_gamma / 2 * E||grad D(real)||^2 (R1)
    r2_gamma: float = 0.0  # and r2_gamma / 2 * E||grad D(fake)||^2 (R2)
    # R1/R2 at every k-th step only, weighted k times (StyleGAN2's lazy
    # regularisation): the double backward costs 1/k as much
    penalty_every: int = 1
    augment: str | None = None  # DiffAugment policy on D's inputs, e.g. "translation"
    # sample from a moving average of G's weights with this beta (0: from G itself)
    ema: float = 0.0
    seed: int = 0
    n_fixed: int = 64  # fixed noise vectors for sample grids
    # bf16 autocast on CUDA or a CPU (not MPS); None: on with CUDA, off elsewhere
    amp: bool | None = None
    # steps between two reads of the step's figures (losses, D(x)) by the host; each
    # read waits for the GPU to finish. None: 1 on a CPU or MPS, SYNC_EVERY_CUDA on CUDA
    sync_every: int | None = None
    # torch.compile G's and D's training forward passes (the gradient penalty's
    # double backward stays eager); None: off until a GPU run shows it helps
    compile: bool | None = None

    def check(self) -> TrainConfig:
        """Raise one clear error for a setting that cannot work; return self."""
        if self.kind not in KINDS:
            raise UsageError(
                f"unknown GAN kind {self.kind!r}; choose one of {list(KINDS)}."
            )
        if self.loss not in LOSSES:
            raise UsageError(
                f"unknown loss {self.loss!r}; choose one of {list(LOSSES)}."
            )
        if self.optimizer not in OPTIMIZERS:
            raise UsageError(
                f"unknown optimizer {self.optimizer!r}; choose one of "
                f"{list(OPTIMIZERS)}."
            )
        for name in ("lr_d", "lr_g"):
            check_lr(name, getattr(self, name))
        for name in ("d_steps", "g_steps", "batch_size", "n_fixed", "penalty_every"):
            check_count(name, getattr(self, name))
        if self.sync_every is not None:
            check_count("sync_every", self.sync_every)
        if self.compile is not None and not isinstance(self.compile, bool):
            raise UsageError(
                f"compile must be True (torch.compile), False or None, got "
                f"{self.compile!r}."
            )
        if self.clip is not None and not self.clip > 0:
            raise UsageError(
                f"clip must be above 0 (e.g. 0.01) or None, got {self.clip}."
            )
        for name in ("gp_weight", "r1_gamma", "r2_gamma"):
            value = getattr(self, name)
            if not _is_number(value) or not value >= 0:
                raise UsageError(f"{name} must be a number, 0 or more, got {value!r}.")
        if self.augment is not None:
            check_policy(self.augment)
        check_beta(self.ema)
        if self.amp is not None and not isinstance(self.amp, bool):
            raise UsageError(
                f"amp must be True (bf16 autocast), False or None (bf16 with CUDA "
                f"only), got {self.amp!r}."
            )
        return self

    def to_dict(self) -> dict:
        """A plain dict for checkpoints (betas as a list, as JSON has it)."""
        return {**super().to_dict(), "betas": list(self.betas)}

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        """Rebuild a config from `to_dict()` output."""
        config = super().from_dict(values)
        config.betas = tuple(config.betas)
        return config


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


# a larger rate moves a weight beyond float32's range (3.4e38) in one Adam step
LARGEST_LR = 1e38


def check_lr(name: str, value: float) -> None:
    """A learning rate must be a number above 0 that float32 weights can take."""
    if not _is_number(value) or not 0 < value <= LARGEST_LR:
        raise UsageError(
            f"{name} must be a number above 0 and at most {LARGEST_LR:.0e} "
            f"(e.g. 2e-4), got {value!r}."
        )


def check_count(name: str, value: int) -> None:
    """Step counts and batch sizes are whole numbers (ints) of at least 1."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise UsageTypeError(
            f"{name} must be a whole number of at least 1 (an int), got "
            f"{value!r} ({type(value).__name__})."
        )
    if not value >= 1:
        raise UsageError(f"{name} must be a whole number of at least 1, got {value!r}.")


@dataclass
class GANSetup:
    """The three configs that make a GAN: G, D and training."""

    generator: GeneratorConfig
    discriminator: DiscriminatorConfig
    train: TrainConfig = field(default_factory=TrainConfig)


def preset(
    kind: str, *, image_size: int = 28, channels: int = 1, num_classes: int = 0
) -> GANSetup:
    """The course's settings for one GAN kind (from the papers and reports 000-003)."""
    if kind not in KINDS:
        raise UsageError(f"unknown GAN kind {kind!r}; choose one of {list(KINDS)}.")
    conditioning = {"cgan": "cgan", "acgan": "acgan"}.get(kind, "none")
    classes = num_classes if conditioning != "none" else 0
    g = GeneratorConfig(
        image_size=image_size,
        channels=channels,
        conditioning=conditioning,
        num_classes=classes,
    )
    d = DiscriminatorConfig(
        image_size=image_size,
        channels=channels,
        conditioning=conditioning,
        num_classes=classes,
    )
    t = TrainConfig(kind=kind)
    if kind == "wgan":  # Arjovsky et al.: RMSprop 5e-5, clip 0.01, n_critic 5
        t.loss, t.optimizer, t.lr_d, t.lr_g = "wasserstein", "rmsprop", 5e-5, 5e-5
        t.clip, t.d_steps = 0.01, 5
    elif kind == "wgan-gp":  # Gulrajani et al.: Adam(1e-4, (0, 0.9)), lambda 10
        t.loss, t.lr_d, t.lr_g, t.betas = "wasserstein", 1e-4, 1e-4, (0.0, 0.9)
        t.gp_weight, t.d_steps = 10.0, 5
        d.batchnorm = False  # the penalty is per sample; BatchNorm mixes samples
    elif kind == "acgan":  # report 003: embedding 100, lr 1.5e-4, batch 64
        g.embed_dim, t.lr_d, t.lr_g, t.batch_size = 100, 1.5e-4, 1.5e-4, 64
    return GANSetup(g, d, t)
