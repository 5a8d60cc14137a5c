"""Toy 2D datasets: mixtures of Gaussians whose modes we can count."""

from __future__ import annotations

import numpy as np

from gancourse.data.base import ToyDataset


def _ring(n_modes: int, radius: float) -> np.ndarray:
    """Centres evenly spaced on a circle, (n_modes, 2)."""
    angles = 2 * np.pi * np.arange(n_modes) / n_modes
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def _grid(values: list[float]) -> np.ndarray:
    """Centres on the grid values x values, (len(values)**2, 2)."""
    xs, ys = np.meshgrid(values, values, indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


# name -> (mode centres, std, one-line description)
TOY_SETS: dict[str, tuple[np.ndarray, float, str]] = {
    "point": (np.array([[1.0, 1.0]]), 0.0, "a single point at (1, 1)"),
    "gaussian": (np.array([[0.0, 0.0]]), 0.5, "one Gaussian at the origin, std 0.5"),
    "two_gaussians": (
        np.array([[-2.0, 0.0], [2.0, 0.0]]),
        0.1,
        "two Gaussians at (-2, 0) and (2, 0), std 0.1",
    ),
    "line5": (
        np.stack([np.linspace(-4, 4, 5), np.zeros(5)], axis=1),
        0.05,
        "five Gaussians on the x axis at -4..4, std 0.05",
    ),
    "ring8": (_ring(8, 2.0), 0.02, "8 Gaussians on a circle of radius 2, std 0.02"),
    "grid25": (
        _grid([-4.0, -2.0, 0.0, 2.0, 4.0]),
        0.05,
        "5x5 Gaussians at {-4,-2,0,2,4}^2, std 0.05",
    ),
}


def load_toy(name: str, n: int = 10_000, seed: int = 0) -> ToyDataset:
    """A toy 2D dataset with a fixed sample of n points drawn with `seed`."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}.")
    centres, std, _ = TOY_SETS[name]
    dataset = ToyDataset(name, centres.copy(), std, points=np.empty((0, 2)))
    dataset.points = dataset.sample(n, seed)
    return dataset
