"""Measures of how well generated 2D samples match a toy dataset."""

from __future__ import annotations

import numpy as np

from gancourse.data.base import ToyDataset
from gancourse.errors import UsageError

# With std 0 (the "point" set) a sample still counts as good within this distance.
RADIUS_FLOOR = 0.05


def quality_radius(dataset: ToyDataset) -> float:
    """How close to a mode centre a sample must be: 3 std, or 0.05 when std is 0."""
    return 3 * dataset.std if dataset.std > 0 else RADIUS_FLOOR


def mode_counts(
    samples: np.ndarray, dataset: ToyDataset | str, radius: float | None = None
) -> np.ndarray:
    """High-quality samples per mode, (K,), in the order of dataset.centres.

    A sample is high quality when it lies within `radius` of its nearest mode
    centre (default: `quality_radius(dataset)`); it counts for that mode.
    """
    if isinstance(dataset, str):
        from gancourse.data import load_dataset

        dataset = load_dataset(dataset)
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim != 2 or samples.shape[1] != 2 or len(samples) == 0:
        raise UsageError(
            f"samples must be a non-empty (N, 2) array, got shape {samples.shape}."
        )
    if radius is None:
        radius = quality_radius(dataset)
    if radius < 0:
        raise UsageError(f"radius must be at least 0, got {radius}.")
    offsets = samples[:, None, :] - dataset.centres[None, :, :]  # (N, K, 2)
    distances = np.sqrt((offsets**2).sum(axis=2))  # (N, K)
    nearest = distances.argmin(axis=1)  # (N,)
    good = distances[np.arange(len(samples)), nearest] <= radius  # (N,)
    return np.bincount(nearest[good], minlength=len(dataset.centres))  # (K,)


def mode_coverage(
    samples: np.ndarray, dataset: ToyDataset | str, radius: float | None = None
) -> tuple[int, float]:
    """The number of modes covered and the fraction of high-quality samples.

    High quality as in `mode_counts`; a mode is covered when it is the nearest
    centre of at least one high-quality sample.
    """
    counts = mode_counts(samples, dataset, radius)  # (K,)
    return int((counts > 0).sum()), float(counts.sum() / len(samples))
