"""Figures the notebooks share: image grids and 2D toy data."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from torchvision.utils import make_grid

from gancourse.data.base import ToyDataset


def show_images(images: torch.Tensor, nrow: int = 8, title: str = "", ax=None):
    """Show a batch (N, C, H, W) in [-1, 1] as one grid; return the axes."""
    grid = make_grid(images.detach().cpu(), nrow=nrow, padding=2, pad_value=1.0)
    grid = ((grid + 1) / 2).clamp(0, 1).permute(1, 2, 0).numpy()  # (H, W, 3)
    if ax is None:
        _, ax = plt.subplots(
            figsize=(min(12, 1.2 * nrow), 1.2 * len(images) / nrow + 0.6)
        )
    ax.imshow(grid, interpolation="nearest")
    ax.set_title(title)
    ax.axis("off")
    return ax


def plot_toy_gan(gan, ax, n_samples: int = 512, arrows: int = 144):
    """D's heatmap, real data, generated samples and G's gradient arrows on `ax`."""
    data = gan.dataset
    reach = np.abs(data.centres).max() + max(1.0, 6 * data.std)
    xs = np.linspace(-reach, reach, 60)
    heat = gan.discriminator_grid(xs, xs)  # (60, 60)
    samples = gan.sample(n_samples, seed=0)  # (n_samples, 2)
    mesh = ax.pcolormesh(xs, xs, heat, cmap="RdBu", shading="auto", alpha=0.6)
    label = "critic score" if gan.config.loss == "wasserstein" else "D(x)"
    ax.figure.colorbar(mesh, ax=ax, fraction=0.046, pad=0.04, label=label)
    ax.scatter(*data.points[:1000].T, s=4, c="tab:green", label="real")
    ax.scatter(*samples.T, s=4, c="tab:purple", label="generated")
    tails = samples[:: max(1, n_samples // arrows)]  # (arrows, 2)
    push = gan.generator_gradients(tails)  # (arrows, 2)
    push /= np.linalg.norm(push, axis=1, keepdims=True).max() + 1e-12
    ax.quiver(*tails.T, *push.T, color="black", alpha=0.6, width=0.004)
    ax.set_xlim(-reach, reach)
    ax.set_ylim(-reach, reach)
    ax.set_aspect("equal")
    ax.set_title(f"{data.name}, step {gan.step}")
    ax.legend(loc="upper right", fontsize=8)
    return ax


def plot_toy(dataset: ToyDataset, samples: np.ndarray | None = None, ax=None):
    """Scatter a 2D toy dataset, its mode centres and optional generated samples."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    ax.scatter(*dataset.points[:2000].T, s=2, alpha=0.4, label="real data")
    ax.scatter(*dataset.centres.T, marker="x", c="black", s=30, label="mode centres")
    if samples is not None:
        ax.scatter(*samples.T, s=3, c="tab:red", alpha=0.6, label="generated")
    ax.set_title(f"{dataset.name}: {dataset.num_modes} modes, std {dataset.std}")
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=7)
    return ax


def plot_losses(history: dict, ax=None, keys=("loss_d", "loss_g")):
    """Curves of a GAN's history (loss_d, loss_g, d_real, ...), smoothed a little."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3))
    for key in keys:
        values = np.asarray(history.get(key, []), dtype=float)
        if len(values) == 0:
            continue
        window = max(1, min(25, len(values) // 10))
        smooth = np.convolve(values, np.ones(window) / window, mode="valid")
        ax.plot(np.arange(len(smooth)) + window, smooth, label=key)
    ax.set_xlabel("step")
    ax.legend(loc="upper right")
    return ax


def plot_training(trainer, keys=("loss_d", "loss_g")):
    """One figure: the loss curves and a grid of G(fixed noise), as training goes."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    plot_losses(trainer.history, ax=left, keys=keys)
    left.set_title(f"step {trainer.step}")
    show_images(trainer.fixed_samples()[:64], ax=right, title="G(fixed noise)")
    figure.tight_layout()
    return figure


def show_closest_pairs(report, samples: torch.Tensor, train_images: torch.Tensor, k=8):
    """The k samples nearest a training image (top) above that image (bottom)."""
    order, nearest, distances = report.closest_pairs(k)
    figure, axes = plt.subplots(2, k, figsize=(1.3 * k, 3.0), squeeze=False)
    for column, (i, j, distance) in enumerate(
        zip(order, nearest, distances, strict=True)
    ):
        for row, image in enumerate((samples[i], train_images[j])):
            picture = ((image.detach().cpu().float() + 1) / 2).clamp(0, 1)  # (C, H, W)
            picture = picture.permute(1, 2, 0).numpy()  # (H, W, C)
            ax = axes[row, column]
            if picture.shape[2] == 1:
                ax.imshow(picture[:, :, 0], cmap="gray", vmin=0, vmax=1)
            else:
                ax.imshow(picture)
            ax.axis("off")
        axes[0, column].set_title(f"d = {distance:.2f}", fontsize=9)
    for row, name in enumerate(("sample", "nearest\ntrain")):
        first = axes[row, 0]  # a row label left of the first image
        first.text(-0.1, 0.5, name, transform=first.transAxes, va="center", ha="right")
    flagged = int(report.memorised.sum())
    figure.suptitle(
        f"closest samples to the training set (threshold {report.threshold:.2f}: "
        f"{flagged} of {len(report.distances)} samples under it)",
        fontsize=10,
    )
    figure.tight_layout()
    return figure


def plot_class_histogram(
    counts, classes, ax=None, title: str = "classes the classifier sees"
):
    """A bar chart of how many images fall in each class, with the even share."""
    counts = np.asarray(counts, dtype=float)
    if len(counts) != len(classes):
        raise ValueError(f"{len(counts)} counts but {len(classes)} class names.")
    if ax is None:
        _, ax = plt.subplots(figsize=(max(4, 0.45 * len(classes) + 1), 2.8))
    ax.bar(range(len(counts)), counts, color="tab:blue")
    ax.axhline(counts.sum() / len(counts), color="black", ls="--", lw=1, label="even")
    ax.set_xticks(range(len(counts)), [str(name) for name in classes])
    ax.set_ylabel("images")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=8)
    return ax
