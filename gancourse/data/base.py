"""The dataset types that `load_dataset` returns and the errors it raises."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch.utils.data import Dataset
from torchvision.transforms import v2

from gancourse.errors import (
    DatasetUnavailableError,
    UnknownDatasetError,
    UsageError,
    UsageTypeError,
)

__all__ = [
    "DatasetUnavailableError",
    "ImageDataset",
    "ToyDataset",
    "UnknownDatasetError",
    "offline_hint",
]


def _check_types(images, labels, classes, flip) -> None:
    """Refuse ImageDataset arguments of the wrong type, each with its fix."""
    for name, value in (("images", images), ("labels", labels)):
        if not isinstance(value, torch.Tensor):
            raise UsageTypeError(
                f"{name} must be a torch tensor, got {type(value).__name__}: "
                f"convert it with torch.as_tensor({name})."
            )
    if isinstance(classes, (str, set, frozenset)) or not hasattr(classes, "__len__"):
        raise UsageTypeError(
            f"classes must be a list of class names (label i is classes[i]), "
            f"got {classes!r}."
        )
    if not isinstance(flip, bool):
        raise UsageTypeError(f"flip must be True or False, got {flip!r}.")


class ImageDataset(Dataset):
    """Images in [-1, 1] as one (N, C, H, W) float tensor, with labels and names."""

    def __init__(
        self,
        name: str,
        images: torch.Tensor,
        labels: torch.Tensor,
        classes: list[str],
        flip: bool = False,
    ):
        _check_types(images, labels, classes, flip)
        if images.ndim != 4:
            raise UsageError(f"images must be (N, C, H, W), got {tuple(images.shape)}")
        if len(images) != len(labels):
            raise UsageError(f"{len(images)} images but {len(labels)} labels")
        self.name = name
        self.images = images  # (N, C, H, W) float32 in [-1, 1]
        self.labels = labels  # (N,) int64 in [0, len(classes))
        self.classes = list(classes)
        self.flip = flip
        self._flip = v2.RandomHorizontalFlip(p=0.5)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(channels, height, width) of every image."""
        return tuple(self.images.shape[1:])

    @property
    def num_classes(self) -> int:
        """How many classes the labels index into."""
        return len(self.classes)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = self.images[index]  # (C, H, W)
        if self.flip:
            image = self._flip(image)
        return image, self.labels[index]

    def class_counts(self) -> dict[str, int]:
        """Number of images of each class."""
        counts = torch.bincount(self.labels, minlength=self.num_classes)
        return {name: int(n) for name, n in zip(self.classes, counts, strict=True)}

    def __repr__(self) -> str:
        c, h, w = self.image_shape
        flip = ", flip" if self.flip else ""
        return (
            f"ImageDataset({self.name!r}, {len(self)} images of {c}x{h}x{w}, "
            f"{self.num_classes} classes{flip})"
        )


@dataclass
class ToyDataset:
    """A 2D mixture of Gaussians: mode centres, one std, and a fixed sample."""

    name: str
    centres: np.ndarray  # (K, 2)
    std: float
    points: np.ndarray = field(repr=False)  # (n, 2) float64

    def sample(
        self, n: int, rng: np.random.Generator | int | None = None
    ) -> np.ndarray:
        """Draw n fresh points, (n, 2): a random mode each, plus Gaussian noise."""
        rng = np.random.default_rng(rng)
        which = rng.integers(len(self.centres), size=n)
        return self.centres[which] + self.std * rng.standard_normal((n, 2))

    @property
    def num_modes(self) -> int:
        """How many Gaussians the mixture has."""
        return len(self.centres)

    def __len__(self) -> int:
        return len(self.points)

    def __getitem__(self, index: int) -> np.ndarray:
        return self.points[index]


def offline_hint(alternative: str) -> str:
    """The sentence that points from a missing dataset to its shipped alternative."""
    return (
        f"Without it, use the shipped {alternative!r} dataset instead: "
        f"load_dataset({alternative!r})."
    )
