"""Real datasets through torchvision.datasets, downloaded into the data folder once."""

from __future__ import annotations

import contextlib
import shutil
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torchvision import datasets
from torchvision.datasets.utils import extract_archive

from gancourse import runtime
from gancourse.data.base import offline_hint
from gancourse.errors import DatasetUnavailableError

if TYPE_CHECKING:
    from gancourse.data.catalog import DatasetInfo

DOWNLOAD_TIMEOUT_S = 30


class StandInCIFAR10(datasets.CIFAR10):
    """CIFAR-10's reader without its md5 checks: for a rehearsal's stand-in files.

    torchvision checks each CIFAR-10 file against the published md5 sums, which
    files in the same format written by any other tool cannot match. A rehearsal
    of full mode (GANCOURSE_REHEARSAL=1) reads its stand-ins with this class; real
    use keeps the checks.
    """

    train_list = [[name, None] for name, _ in datasets.CIFAR10.train_list]
    test_list = [[name, None] for name, _ in datasets.CIFAR10.test_list]
    meta = {**datasets.CIFAR10.meta, "md5": None}


@dataclass(frozen=True)
class RealSet:
    """How one torchvision dataset sits on disk: the loader of a 'download' entry."""

    tv_class: type
    folder: str  # the folder under the data root that torchvision reads
    files: tuple[str, ...]  # the files that folder must hold
    archives: tuple[str, ...]  # downloaded archives we can unpack if present
    archive_dir: str  # where those archives may lie, relative to the data root
    stand_in_class: type | None = (
        None  # reads stand-ins in a rehearsal, if not tv_class
    )


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
MNIST_ARCHIVES = tuple(f + ".gz" for f in MNIST_FILES)

MNIST = RealSet(datasets.MNIST, "MNIST/raw", MNIST_FILES, MNIST_ARCHIVES, "MNIST/raw")
FASHION_MNIST = RealSet(
    datasets.FashionMNIST,
    "FashionMNIST/raw",
    MNIST_FILES,
    MNIST_ARCHIVES,
    "FashionMNIST/raw",
)
CIFAR10 = RealSet(
    datasets.CIFAR10,
    "cifar-10-batches-py",
    CIFAR_FILES,
    ("cifar-10-python.tar.gz",),
    ".",
    StandInCIFAR10,
)


def _has_files(spec: RealSet, root: Path) -> bool:
    """Whether every file the dataset needs is in the data folder (no checksum)."""
    return all((root / spec.folder / f).exists() for f in spec.files)


def is_downloaded(spec: RealSet, root: Path) -> bool:
    """Whether the dataset has all its files in the data folder."""
    return _has_files(spec, root)


def _unpack_local_archives(spec: RealSet, root: Path) -> None:
    """Unpack archives the user put in the data folder by hand (e.g. MNIST .gz)."""
    for archive in spec.archives:
        source = root / spec.archive_dir / archive
        if source.exists() and not _has_files(spec, root):
            extract_archive(str(source), str(source.parent))


def _where_to_put(spec: RealSet, root: Path) -> str:
    """A sentence telling the user which files to put where."""
    if spec.archive_dir == ".":
        return (
            f"put cifar-10-python.tar.gz in {root}/ or extract it so that "
            f"{root / spec.folder}/ holds {', '.join(spec.files)}"
        )
    return f"put {', '.join(spec.archives)} (gzipped or not) in {root / spec.folder}/"


def _unavailable(info: DatasetInfo, root: Path, reason: str):
    """The one error for a dataset that is neither on disk nor downloadable."""
    name = info.name
    switch = (
        "Without a network, switch to laptop mode, which needs only the shipped data: "
        "stop JupyterLab and start it as `GANCOURSE_MODE=laptop make lab`. "
        if runtime.MODE == "full"
        else ""
    )
    return DatasetUnavailableError(
        f"{name!r} is not available: {' '.join(reason.split())}. {switch}\n"
        f"To fix: connect to the internet and call load_dataset({name!r}) again, "
        f"or {_where_to_put(info.loader, root)}.\n{offline_hint(info.alternative)}"
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


def _download(info: DatasetInfo, root: Path) -> None:
    """Download into a staging folder, then move it into place: no partial files."""
    name, spec = info.name, info.loader
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
            info, root, f"{reason} ({type(error).__name__}: {error})"
        ) from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _open_split(spec: RealSet, root: Path, train: bool):
    """(uint8 images (N, C, H, W), int64 labels) of one torchvision split."""
    reader = spec.tv_class
    if runtime.REHEARSAL and spec.stand_in_class is not None:
        reader = spec.stand_in_class
    dataset = reader(str(root), train=train, download=False)
    pixels = torch.as_tensor(np.asarray(dataset.data))
    if pixels.ndim == 3:  # MNIST-like: (N, H, W)
        pixels = pixels.unsqueeze(1)
    else:  # CIFAR: (N, H, W, C)
        pixels = pixels.permute(0, 3, 1, 2)
    return pixels, torch.as_tensor(dataset.targets, dtype=torch.long)


def load_real(info: DatasetInfo, root: Path, split: str, download: bool):
    """Images (N, C, H, W) in [-1, 1] and labels of a 'download' catalogue entry."""
    name, spec = info.name, info.loader
    _unpack_local_archives(spec, root)
    folder = root / Path(spec.folder).parts[0]
    if not folder.exists():
        if not download:
            raise _unavailable(
                info,
                root,
                f"no local copy in {root / spec.folder}, and downloads are off "
                "(download=False, quick mode, which uses shipped data only, or a "
                "rehearsal, which reads stand-in files from GANCOURSE_DATA)",
            )
        _download(info, root)
    parts = {"train": [True], "test": [False], "train+test": [True, False]}[split]
    try:
        pieces = [_open_split(spec, root, train) for train in parts]
    except RuntimeError as error:
        raise DatasetUnavailableError(
            f"{name!r} in {folder} is incomplete or corrupt ({error}).\n"
            f"To fix: move that folder aside and call load_dataset({name!r}) again "
            f"to download a fresh copy, or {_where_to_put(spec, root)}."
        ) from error
    pixels = torch.cat([p for p, _ in pieces])
    labels = torch.cat([t for _, t in pieces])
    return pixels.float() / 127.5 - 1, labels
