"""Real datasets through torchvision.datasets, downloaded into the data folder once."""

from __future__ import annotations

import contextlib
import shutil
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torchvision import datasets
from torchvision.datasets.utils import extract_archive

from gancourse.data.base import DatasetUnavailableError

DOWNLOAD_TIMEOUT_S = 30


@dataclass(frozen=True)
class RealSet:
    """How one torchvision dataset sits on disk and what to use instead offline."""

    tv_class: type
    folder: str  # the folder under the data root that torchvision reads
    files: tuple[str, ...]  # the files that folder must hold
    archives: tuple[str, ...]  # downloaded archives we can unpack if present
    archive_dir: str  # where those archives may lie, relative to the data root
    classes: tuple[str, ...]
    alternative: str  # the shipped dataset to use offline


MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
CIFAR_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + (
    "test_batch",
    "batches.meta",
)

REAL_SETS: dict[str, RealSet] = {
    "mnist": RealSet(
        datasets.MNIST,
        "MNIST/raw",
        MNIST_FILES,
        tuple(f + ".gz" for f in MNIST_FILES),
        "MNIST/raw",
        tuple(str(d) for d in range(10)),
        "mnist-5k",
    ),
    "fashion-mnist": RealSet(
        datasets.FashionMNIST,
        "FashionMNIST/raw",
        MNIST_FILES,
        tuple(f + ".gz" for f in MNIST_FILES),
        "FashionMNIST/raw",
        tuple(datasets.FashionMNIST.classes),
        "mnist-5k",
    ),
    "cifar10": RealSet(
        datasets.CIFAR10,
        "cifar-10-batches-py",
        CIFAR_FILES,
        ("cifar-10-python.tar.gz",),
        ".",
        (
            "airplane",
            "automobile",
            "bird",
            "cat",
            "deer",
            "dog",
            "frog",
            "horse",
            "ship",
            "truck",
        ),
        "shapes",
    ),
}


def _has_files(spec: RealSet, root: Path) -> bool:
    """Whether every file the dataset needs is in the data folder (no checksum)."""
    return all((root / spec.folder / f).exists() for f in spec.files)


def is_downloaded(name: str, root: Path) -> bool:
    """Whether the dataset `name` has all its files in the data folder."""
    return _has_files(REAL_SETS[name], root)


def _unpack_local_archives(spec: RealSet, root: Path) -> None:
    """Unpack archives the user put in the data folder by hand (e.g. MNIST .gz)."""
    for archive in spec.archives:
        source = root / spec.archive_dir / archive
        if source.exists() and not _has_files(spec, root):
            extract_archive(str(source), str(source.parent))


def _where_to_put(name: str, root: Path) -> str:
    """A sentence telling the user which files to put where."""
    spec = REAL_SETS[name]
    if name == "cifar10":
        return (
            f"put cifar-10-python.tar.gz in {root}/ or extract it so that "
            f"{root / spec.folder}/ holds {', '.join(spec.files)}"
        )
    return f"put {', '.join(spec.archives)} (gzipped or not) in {root / spec.folder}/"


def _unavailable(name: str, root: Path, reason: str) -> DatasetUnavailableError:
    """The one error for a dataset that is neither on disk nor downloadable."""
    alternative = REAL_SETS[name].alternative
    return DatasetUnavailableError(
        f"{name!r} is not available: {reason}.\n"
        f"To fix: connect to the internet and call load_dataset({name!r}) again, "
        f"or {_where_to_put(name, root)}.\n"
        f"Offline, use the shipped {alternative!r} dataset instead: "
        f"load_dataset({alternative!r})."
    )


@contextlib.contextmanager
def _socket_timeout(seconds: float):
    """Give up on a silent network after `seconds` instead of hanging."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def _download(name: str, root: Path) -> None:
    """Download into a staging folder, then move it into place: no partial files."""
    spec = REAL_SETS[name]
    top = Path(spec.folder).parts[0]
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".incomplete-{name}-", dir=root))
    try:
        with _socket_timeout(DOWNLOAD_TIMEOUT_S):
            spec.tv_class(str(staging), train=True, download=True)
        shutil.move(str(staging / top), str(root / top))
    except Exception as error:
        reason = f"no local copy in {root / spec.folder} and the download failed"
        raise _unavailable(
            name, root, f"{reason} ({type(error).__name__}: {error})"
        ) from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _open_split(spec: RealSet, root: Path, train: bool):
    """(uint8 images (N, C, H, W), int64 labels) of one torchvision split."""
    dataset = spec.tv_class(str(root), train=train, download=False)
    pixels = torch.as_tensor(np.asarray(dataset.data))
    if pixels.ndim == 3:  # MNIST-like: (N, H, W)
        pixels = pixels.unsqueeze(1)
    else:  # CIFAR: (N, H, W, C)
        pixels = pixels.permute(0, 3, 1, 2)
    return pixels, torch.as_tensor(dataset.targets, dtype=torch.long)


def load_real(name: str, root: Path, split: str, download: bool):
    """Images (N, C, H, W) in [-1, 1], labels and class names of a real dataset."""
    spec = REAL_SETS[name]
    _unpack_local_archives(spec, root)
    folder = root / Path(spec.folder).parts[0]
    if not folder.exists():
        if not download:
            raise _unavailable(
                name,
                root,
                f"no local copy in {root / spec.folder}, and downloads are off "
                "(download=False, or quick mode, which uses shipped data only)",
            )
        _download(name, root)
    parts = {"train": [True], "test": [False], "train+test": [True, False]}[split]
    try:
        pieces = [_open_split(spec, root, train) for train in parts]
    except RuntimeError as error:
        raise DatasetUnavailableError(
            f"{name!r} in {folder} is incomplete or corrupt ({error}).\n"
            f"To fix: move that folder aside and call load_dataset({name!r}) again "
            f"to download a fresh copy, or {_where_to_put(name, root)}."
        ) from error
    pixels = torch.cat([p for p, _ in pieces])
    labels = torch.cat([t for _, t in pieces])
    return pixels.float() / 127.5 - 1, labels, list(spec.classes)
