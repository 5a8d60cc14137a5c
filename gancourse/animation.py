"""Pictures of training: snapshot grids, and animations that play inline (no ffmpeg)."""

from __future__ import annotations

import base64
import io
import re

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation

PAD_COLOUR = (0.55, 0.7, 0.9)  # light blue: apart from black, white and grey pixels


def image_grid(images, nrow: int = 10, padding: int = 1) -> np.ndarray:
    """Tile images (N, C, H, W) in [-1, 1] into one (rows, cols, 3) array in [0, 1]."""
    images = np.asarray(images, dtype=np.float64)
    n, c, h, w = images.shape
    if c == 1:
        images = np.repeat(images, 3, axis=1)
    rows = -(-n // nrow)  # ceiling division
    shape = (rows * (h + padding) + padding, nrow * (w + padding) + padding, 3)
    grid = np.empty(shape)
    grid[...] = PAD_COLOUR
    for index, image in enumerate(images):
        top = padding + (index // nrow) * (h + padding)
        left = padding + (index % nrow) * (w + padding)
        grid[top : top + h, left : left + w] = (image.transpose(1, 2, 0) + 1) / 2
    return grid.clip(0, 1)


def show_snapshots(snapshots, per_row: int = 10, rows: int = 5, title="", ax=None):
    """A row of `per_row` samples for each of `rows` snapshots spread over training."""
    picks = np.linspace(0, len(snapshots) - 1, min(rows, len(snapshots))).round()
    chosen = [snapshots[int(i)] for i in np.unique(picks)]
    images = np.concatenate([images[:per_row] for _, images in chosen])
    if ax is None:
        _, ax = plt.subplots(figsize=(0.45 * per_row + 0.8, 0.45 * len(chosen) + 0.5))
    h = images.shape[2] + 1  # one row of the grid, padding included
    ax.imshow(image_grid(images, per_row), interpolation="nearest")
    ax.set_yticks([h * (i + 0.5) for i in range(len(chosen))])
    ax.set_yticklabels([f"step {step}" for step, _ in chosen])
    ax.set_xticks([])
    ax.set_title(title)
    return ax


def animate_snapshots(snapshots, nrow: int = 10, title: str = "", interval=300):
    """A FuncAnimation with one frame per (step, images) snapshot of training."""
    steps = [step for step, _ in snapshots]
    grids = [image_grid(images, nrow) for _, images in snapshots]
    height, width = grids[0].shape[:2]
    figsize = (0.4 * nrow, 0.4 * nrow * height / width + 0.4)
    fig, ax = plt.subplots(figsize=figsize, dpi=72)
    picture = ax.imshow(grids[0], interpolation="nearest")
    ax.axis("off")

    def draw(frame: int):
        picture.set_data(grids[frame])
        ax.set_title(f"{title} step {steps[frame]}".strip())
        return (picture,)

    draw(0)
    first = io.BytesIO()
    fig.savefig(first, format="png", dpi=fig.dpi)
    animation = FuncAnimation(fig, draw, frames=len(grids), interval=interval)
    animation.first_frame = first.getvalue()  # PNG, shown where JavaScript is off
    plt.close(fig)  # the animation is shown as HTML, not as a still figure
    return animation


def animation_html(animation) -> str:
    """The animation as HTML with play controls (JavaScript, no ffmpeg).

    The picture starts as the first frame, so a page whose scripts do not run
    (an untrusted notebook, a static preview) shows it rather than an empty box.
    """
    html = animation.to_jshtml()
    first = getattr(animation, "first_frame", None)
    if first is not None:
        source = "data:image/png;base64," + base64.b64encode(first).decode()
        html = re.sub(
            r'<img id="(_anim_img\w+)"', rf'<img id="\1" src="{source}"', html
        )
    return html


def show_animation(animation):
    """The animation inline in a notebook (see animation_html)."""
    from IPython.display import HTML

    return HTML(animation_html(animation))
