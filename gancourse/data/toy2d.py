"""Toy 2D datasets: mixtures of Gaussians whose modes we can count."""

from __future__ import annotations

import numbers

import numpy as np

from gancourse.data.base import ToyDataset
from gancourse.errors import UsageError, UsageTypeError


def _ring(n_modes: int, radius: float) -> np.ndarray:
    """Centres evenly spaced on a circle, (n_modes, 2)."""
    angles = 2 * np.pi * np.arange(n_modes) / n_modes
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def _grid(values: list[float]) -> np.ndarray:
    """Centres on the grid values x values, (len(values)**2, 2)."""
    xs, ys = np.meshgrid(values, values, indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


def point() -> tuple[np.ndarray, float]:
    """A single point at (1, 1): centres (1, 2) and std 0."""
    return np.array([[1.0, 1.0]]), 0.0


def gaussian() -> tuple[np.ndarray, float]:
    """One Gaussian at the origin, std 0.5."""
    return np.array([[0.0, 0.0]]), 0.5


def two_gaussians() -> tuple[np.ndarray, float]:
    """Two Gaussians at (-2, 0) and (2, 0), std 0.1."""
    return np.array([[-2.0, 0.0], [2.0, 0.0]]), 0.1


def line5() -> tuple[np.ndarray, float]:
    """Five Gaussians on the x axis at -4..4, std 0.05."""
    return np.stack([np.linspace(-4, 4, 5), np.zeros(5)], axis=1), 0.05


def ring8() -> tuple[np.ndarray, float]:
    """8 Gaussians on a circle of radius 2, std 0.02."""
    return _ring(8, 2.0), 0.02


def grid25() -> tuple[np.ndarray, float]:
    """5x5 Gaussians at {-4,-2,0,2,4}^2, std 0.05."""
    return _grid([-4.0, -2.0, 0.0, 2.0, 4.0]), 0.05


def load_toy(name: str, mixture, n: int = 10_000, seed: int = 0) -> ToyDataset:
    """A toy 2D dataset with a fixed sample of n points drawn with `seed`.

    `mixture` is the catalogue entry's loader: it returns (centres (K, 2), std).
    """
    for option, value, least in (("n", n, 1), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise UsageTypeError(
                f"{option} must be a whole number (an int), got {value!r}."
            )
        if value < least:
            raise UsageError(
                f"{option} must be a whole number of at least {least}, got {value!r}."
            )
    centres, std = mixture()
    dataset = ToyDataset(name, centres, std, points=np.empty((0, 2)))
    dataset.points = dataset.sample(n, seed)
    return dataset
