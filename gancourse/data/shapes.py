"""A procedural colour dataset of shapes, drawn by code at any size, offline."""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.colors import hsv_to_rgb

from gancourse.errors import UsageError

SHAPE_CLASSES = ["circle", "square", "triangle", "cross"]
IMAGES_PER_CLASS = 1250
SUPERSAMPLE = 2  # draw at 2x and average down, for smooth edges
_CHUNK = 500


def _shape_mask(shape: str, rx: np.ndarray, ry: np.ndarray, radius) -> np.ndarray:
    """Inside-the-shape mask from coordinates relative to the shape's centre."""
    if shape == "circle":
        return rx**2 + ry**2 <= radius**2
    if shape == "square":
        return (np.abs(rx) <= 0.8 * radius) & (np.abs(ry) <= 0.8 * radius)
    if shape == "triangle":  # inside the three edges, each at distance radius / 2
        normals = np.deg2rad([90.0, 210.0, 330.0])
        return np.all(
            [np.cos(a) * rx + np.sin(a) * ry <= radius / 2 for a in normals], axis=0
        )
    arm = 0.3 * radius  # a cross: two bars
    return ((np.abs(rx) <= arm) & (np.abs(ry) <= radius)) | (
        (np.abs(ry) <= arm) & (np.abs(rx) <= radius)
    )


def _masks(kind: np.ndarray, params: np.ndarray, size: int) -> np.ndarray:
    """Boolean shape masks, (n, size, size), for shape classes `kind`, (n,)."""
    params = params.astype(np.float32)
    cx, cy, radius, angle = (params[:, i, None, None] for i in range(4))
    grid = (np.arange(size, dtype=np.float32) + 0.5) / size
    dx = grid[None, None, :] - cx  # (n, 1, size): x varies along columns
    dy = grid[None, :, None] - cy  # (n, size, 1): y varies along rows
    rx = np.cos(angle) * dx + np.sin(angle) * dy  # (n, size, size), rotated
    ry = -np.sin(angle) * dx + np.cos(angle) * dy
    masks = np.empty((len(kind), size, size), dtype=bool)
    for label, shape in enumerate(SHAPE_CLASSES):
        rows = kind == label
        masks[rows] = _shape_mask(shape, rx[rows], ry[rows], radius[rows])
    return masks


def _random_colours(rng: np.random.Generator, n: int, dark: bool) -> np.ndarray:
    """n random RGB colours in [0, 1], (n, 3): dark and dull, or bright and vivid."""
    hue = rng.uniform(0, 1, n)
    if dark:
        sat, val = rng.uniform(0.0, 0.5, n), rng.uniform(0.05, 0.35, n)
    else:
        sat, val = rng.uniform(0.6, 1.0, n), rng.uniform(0.7, 1.0, n)
    return hsv_to_rgb(np.stack([hue, sat, val], axis=1))


def render_shapes(kind: np.ndarray, image_size: int, seed: int) -> torch.Tensor:
    """Draw one image per entry of `kind`: (n, 3, image_size, image_size) in [-1, 1]."""
    rng = np.random.default_rng(seed)
    n = len(kind)
    params = np.stack(
        [
            rng.uniform(0.35, 0.65, n),  # centre x
            rng.uniform(0.35, 0.65, n),  # centre y
            rng.uniform(0.18, 0.3, n),  # radius
            rng.uniform(0, 2 * np.pi, n),  # rotation
        ],
        axis=1,
    )
    foreground = _random_colours(rng, n, dark=False)[:, :, None, None]  # (n, 3, 1, 1)
    background = _random_colours(rng, n, dark=True)[:, :, None, None]
    big = image_size * SUPERSAMPLE
    images = np.empty((n, 3, image_size, image_size), dtype=np.float32)
    for start in range(0, n, _CHUNK):
        part = slice(start, start + _CHUNK)
        mask = _masks(kind[part], params[part], big)  # (m, big, big)
        coverage = mask.reshape(-1, image_size, SUPERSAMPLE, image_size, SUPERSAMPLE)
        alpha = coverage.mean(axis=(2, 4))[:, None]  # (m, 1, size, size)
        rgb = alpha * foreground[part] + (1 - alpha) * background[part]
        images[part] = rgb * 2 - 1
    return torch.from_numpy(images)


def load_shapes(image_size: int = 32, seed: int = 0):
    """All 5,000 shape images (5000, 3, S, S), classes interleaved, and labels."""
    if image_size < 8:
        raise UsageError(f"shapes needs image_size of at least 8, got {image_size}.")
    labels = np.tile(np.arange(len(SHAPE_CLASSES)), IMAGES_PER_CLASS)
    images = render_shapes(labels, image_size, seed)
    return images, torch.from_numpy(labels).long()
