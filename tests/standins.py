"""Stand-ins for MNIST, Fashion-MNIST and CIFAR-10 in their exact on-disk formats.

A rehearsal of full mode (GANCOURSE_REHEARSAL=1) runs the notebooks on these: every
class, real pictures (mnist-5k's digits; the shapes dataset in colour), and enough
images for the notebooks' batch sizes, written as torchvision's readers expect
them. Usage: python -m tests.standins DIR
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import numpy as np
import torch

from gancourse.data import load_dataset
from tests.formats import CIFAR_CLASSES, idx_bytes

TRAIN, TEST = 2_000, 500  # images per split (CIFAR-10: per split, in 5 + 1 batches)


def _uint8(images: torch.Tensor) -> np.ndarray:
    """Images in [-1, 1] as uint8 pixels 0..255."""
    return ((images + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy()


def _take(images: np.ndarray, labels: np.ndarray, n: int):
    """n images cycling through the given ones (labels alike), every class kept."""
    order = np.arange(n) % len(images)
    return images[order], labels[order]


def write_idx_set(raw: Path, images: np.ndarray, labels: np.ndarray) -> None:
    """MNIST's four uncompressed IDX files in raw/: TRAIN then TEST images."""
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, start, n in (("train", 0, TRAIN), ("t10k", TRAIN, TEST)):
        x, y = _take(images[start:], labels[start:], n)
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(idx_bytes(x))  # (n, 28, 28)
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(idx_bytes(y))  # (n,)


def write_cifar_set(folder: Path, images: np.ndarray, labels: np.ndarray) -> None:
    """CIFAR-10's pickled batches in folder: five train batches and one test batch."""
    folder.mkdir(parents=True, exist_ok=True)
    per_batch = TRAIN // 5
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for index, name in enumerate(names):
        n = per_batch if index < 5 else TEST
        start = index * per_batch
        x, y = _take(np.roll(images, -start, 0), np.roll(labels, -start, 0), n)
        batch = {
            "batch_label": name,
            "labels": [int(label) for label in y],
            "data": x.reshape(n, 3 * 32 * 32),  # rows: R plane, G plane, B plane
            "filenames": [f"stand_in_{start + i}.png" for i in range(n)],
        }
        with open(folder / name, "wb") as file:
            pickle.dump(batch, file, protocol=2)
    meta = {"label_names": CIFAR_CLASSES, "num_cases_per_batch": per_batch}
    with open(folder / "batches.meta", "wb") as file:
        pickle.dump(meta, file, protocol=2)


def write_standins(root: Path) -> Path:
    """Write all three stand-in datasets under root (a data folder); return root."""
    root = Path(root)
    digits = load_dataset("mnist-5k", split="train+test")
    order = torch.randperm(len(digits), generator=torch.Generator().manual_seed(0))
    pixels = _uint8(digits.images[order])[:, 0]  # (5000, 28, 28), classes mixed
    labels = digits.labels[order].numpy().astype(np.uint8)
    write_idx_set(root / "MNIST" / "raw", pixels, labels)
    write_idx_set(root / "FashionMNIST" / "raw", 255 - pixels, labels)
    shapes = load_dataset("shapes", split="train+test", image_size=32)
    colour = _uint8(shapes.images)  # (N, 3, 32, 32)
    ten = np.arange(len(colour)) % 10  # CIFAR-10's ten classes, each one present
    write_cifar_set(root / "cifar-10-batches-py", colour, ten)
    return root


if __name__ == "__main__":
    print(write_standins(Path(sys.argv[1])))
