"""Dataclass configs for the generator and the discriminator (saved in checkpoints)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from numbers import Integral, Real

from gancourse.errors import UsageError, UsageTypeError

IMAGE_SIZES = (28, 32, 64)
CHANNELS = (1, 3)
DEPTHS = {"small": 0, "medium": 1, "large": 2}  # extra stride-1 conv blocks per stage
KERNEL_SIZES = (4, 5)
CONDITIONINGS = ("none", "cgan", "acgan")  # how G takes a label (and D, below)
# D alone may also take it by projection; G then takes it as a CGAN's G does
D_CONDITIONINGS = (*CONDITIONINGS, "projection")


KINDS_OF_VALUE = (  # (type of a default, what the setting must be, test)
    (bool, "True or False", lambda v: isinstance(v, bool)),
    (int, "a whole number", lambda v: _is(v, Integral)),
    (float, "a number", lambda v: _is(v, Real)),
    (str, "a string", lambda v: isinstance(v, str)),
)


def _is(value, kind) -> bool:
    """isinstance for numbers, where True and False do not count."""
    return isinstance(value, kind) and not isinstance(value, bool)


def check_types(config) -> None:
    """Each setting has its default's type: width=16, not "16" or 16.0."""
    for field in fields(config):
        value = getattr(config, field.name)
        for kind, wanted, test in KINDS_OF_VALUE:
            if isinstance(field.default, kind):
                if not test(value):
                    raise UsageTypeError(
                        f"{type(config).__name__}: {field.name} must be {wanted}, "
                        f"got {value!r} ({type(value).__name__})."
                    )
                break


def _check_common(config) -> None:
    """Errors shared by both configs, raised before any layer is built."""
    name = type(config).__name__
    check_types(config)
    if config.image_size not in IMAGE_SIZES:
        raise UsageError(
            f"{name}: image_size {config.image_size} is not supported; "
            f"use one of {IMAGE_SIZES} (pass image_size= to load_dataset to resize)."
        )
    if config.channels not in CHANNELS:
        raise UsageError(
            f"{name}: channels must be 1 (grey) or 3 (colour), got {config.channels}."
        )
    if config.depth not in DEPTHS:
        raise UsageError(
            f"{name}: depth {config.depth!r} is not one of {list(DEPTHS)}."
        )
    if config.kernel_size not in KERNEL_SIZES:
        raise UsageError(
            f"{name}: kernel_size must be 4 or 5, got {config.kernel_size}."
        )
    if config.width < 1:
        raise UsageError(f"{name}: width must be at least 1, got {config.width}.")
    allowed = (
        D_CONDITIONINGS if isinstance(config, DiscriminatorConfig) else CONDITIONINGS
    )
    if config.conditioning not in allowed:
        raise UsageError(
            f"{name}: conditioning {config.conditioning!r} is not one of "
            f"{list(allowed)}."
        )
    if config.conditioning != "none" and config.num_classes < 2:
        raise UsageError(
            f"{name}: a {config.conditioning} model needs num_classes of at least 2, "
            f"got {config.num_classes}."
        )


class SavedConfig:
    """What every course config shares: a plain dict for checkpoints, and overrides."""

    def to_dict(self) -> dict:
        """A plain dict for checkpoints."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict):
        """Rebuild a config from `to_dict()` output (unknown keys are ignored)."""
        return cls(**{f.name: values[f.name] for f in fields(cls) if f.name in values})

    def update(self, values: dict | None):
        """Set the named fields; an unknown name is one clear error. Return self."""
        names = {f.name for f in fields(self)}
        for name, value in (values or {}).items():
            if name not in names:
                raise UsageTypeError(f"{type(self).__name__} has no setting {name!r}.")
            setattr(self, name, value)
        return self


@dataclass
class GeneratorConfig(SavedConfig):
    """What a DCGAN generator is built from; `conditioning` adds a label input."""

    image_size: int = 28
    channels: int = 1
    z_dim: int = 100
    width: int = 64  # channels of the last hidden layer; earlier layers double it
    depth: str = "small"
    batchnorm: bool = True
    spectral_norm: bool = False
    kernel_size: int = 4
    linear_first: bool = False  # a Linear layer instead of a 1x1 -> s x s ConvT
    conditioning: str = "none"
    num_classes: int = 0
    embed_dim: int = 50

    def check(self) -> GeneratorConfig:
        """Raise one clear error for a setting that cannot work; return self."""
        _check_common(self)
        if self.z_dim < 1:
            raise UsageError(
                f"GeneratorConfig: z_dim must be at least 1, got {self.z_dim}."
            )
        return self


@dataclass
class DiscriminatorConfig(SavedConfig):
    """What a DCGAN discriminator (or WGAN critic) is built from."""

    image_size: int = 28
    channels: int = 1
    width: int = 64  # channels of the first layer; later layers double it
    depth: str = "small"
    batchnorm: bool = True  # off for a WGAN-GP critic
    spectral_norm: bool = False
    kernel_size: int = 4
    # "cgan": label map as an extra channel; "acgan": class head; "projection":
    # <embed(label), features> added to the logit (Miyato & Koyama 2018)
    conditioning: str = "none"
    num_classes: int = 0

    def check(self) -> DiscriminatorConfig:
        """Raise one clear error for a setting that cannot work; return self."""
        _check_common(self)
        return self


def stages(image_size: int) -> tuple[int, int]:
    """(first feature-map size, number of 2x up- or down-sampling stages)."""
    return {28: (7, 2), 32: (4, 3), 64: (4, 4)}[image_size]
