"""Real datasets through torchvision.datasets, downloaded into the data folder once."""

from __future__ import annotations

import contextlib
import math
import os
import pickle
import shutil
import socket
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torchvision import datasets

from gancourse import runtime
from gancourse.data.archives import gunzip, unpack_tar
from gancourse.data.base import offline_hint
from gancourse.errors import DatasetUnavailableError

if TYPE_CHECKING:
    from gancourse.data.catalog import DatasetInfo

DOWNLOAD_TIMEOUT_S = 30
# what torchvision's readers raise on a damaged file (a cut pickle, a wrong md5, ...)
READ_ERRORS = (RuntimeError, EOFError, pickle.UnpicklingError, ValueError, KeyError)


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


def _where_to_put(spec: RealSet, root: Path) -> str:
    """A sentence telling the user which files to put where."""
    if spec.archive_dir == ".":
        return (
            f"put cifar-10-python.tar.gz in {root}/ or extract it so that "
            f"{root / spec.folder}/ holds {', '.join(spec.files)}"
        )
    return f"put {', '.join(spec.archives)} (gzipped or not) in {root / spec.folder}/"


def _fresh_copy_fix(info: DatasetInfo, root: Path) -> str:
    """The fix for damaged dataset files: a fresh download, or the files by hand."""
    folder = root / Path(info.loader.folder).parts[0]
    return (
        f"move {folder} aside and call load_dataset({info.name!r}) again to "
        f"download a fresh copy, or {_where_to_put(info.loader, root)}."
    )


def _archive_fix(info: DatasetInfo, archive: Path) -> str:
    """The fix for a damaged or unsafe archive that the user put in by hand."""
    return (
        f"move {archive} aside and call load_dataset({info.name!r}) again to "
        f"download a fresh copy, or replace it with the original {archive.name}."
    )


def _unpack_gz_file(info: DatasetInfo, archive: Path) -> None:
    """Decompress one MNIST .gz file beside itself, unless that file is there."""
    target = archive.with_suffix("")  # train-images-idx3-ubyte(.gz)
    if not target.exists():
        gunzip(archive, target, fix=_archive_fix(info, archive))


def _move_in_missing(info: DatasetInfo, root: Path, unpacked: Path, archive: Path):
    """Move the dataset's files from `unpacked` into place, never over existing ones."""
    spec = info.loader
    lacking = [name for name in spec.files if not (unpacked / name).is_file()]
    if lacking:
        raise DatasetUnavailableError(
            f"{archive} is not {info.name!r}'s archive: it lacks "
            f"{', '.join(lacking)} in {spec.folder}/.\n"
            f"To fix: {_archive_fix(info, archive)}"
        )
    folder = root / spec.folder
    folder.mkdir(parents=True, exist_ok=True)
    for name in spec.files:
        if not (folder / name).exists():
            os.replace(unpacked / name, folder / name)


def _unpack_tar_archive(info: DatasetInfo, root: Path, archive: Path) -> None:
    """Unpack CIFAR-10's archive in a staging folder; move in the files missing here."""
    staging = Path(tempfile.mkdtemp(prefix=f".incomplete-{info.name}-", dir=root))
    try:
        unpack_tar(archive, staging, fix=_archive_fix(info, archive))
        _move_in_missing(info, root, staging / info.loader.folder, archive)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _unpack_local_archives(info: DatasetInfo, root: Path) -> None:
    """Unpack archives the user put in the data folder by hand (e.g. MNIST .gz)."""
    spec = info.loader
    if _has_files(spec, root):
        return
    for name in spec.archives:
        archive = root / spec.archive_dir / name
        if not archive.is_file():
            continue
        if name.endswith(".tar.gz"):
            _unpack_tar_archive(info, root, archive)
        else:
            _unpack_gz_file(info, archive)


def _idx_problem(path: Path) -> str | None:
    """What is wrong with an MNIST IDX file of unsigned bytes, or None if nothing."""
    ndim = int(path.name.split("-idx")[1][0])  # train-images-idx3-ubyte: 3 dims
    magic = bytes([0, 0, 0x08, ndim])  # 0x08: the values are unsigned bytes
    with open(path, "rb") as file:
        header = file.read(4 + 4 * ndim)  # magic, then each size (big-endian)
    if header[:4] != magic:
        return (
            f"starts with the bytes {header[:4].hex(' ') or '(none)'} where an "
            f"MNIST file of {ndim} dimensions starts with {magic.hex(' ')}"
        )
    if len(header) < 4 + 4 * ndim:
        return "ends inside its header"
    expected = len(header) + math.prod(struct.unpack(f">{ndim}I", header[4:]))
    actual = path.stat().st_size
    if actual != expected:
        return f"holds {actual:,} bytes where its header promises {expected:,}"
    return None


def _check_idx_files(info: DatasetInfo, root: Path) -> None:
    """Refuse an MNIST file that torchvision would misread or crash on."""
    spec = info.loader
    for name in spec.files:
        path = root / spec.folder / name
        if "-idx" not in name or not path.is_file():
            continue  # CIFAR-10 has no IDX files; a missing one is reported later
        problem = _idx_problem(path)
        if problem is not None:
            raise DatasetUnavailableError(
                f"{path} is not a valid {info.name!r} file: it {problem}.\n"
                f"To fix: {_fresh_copy_fix(info, root)}"
            )


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
    if len(dataset.data) != len(dataset.targets):
        raise RuntimeError(
            f"{len(dataset.data)} images but {len(dataset.targets)} labels"
        )
    pixels = torch.as_tensor(np.asarray(dataset.data))
    if pixels.ndim == 3:  # MNIST-like: (N, H, W)
        pixels = pixels.unsqueeze(1)
    else:  # CIFAR: (N, H, W, C)
        pixels = pixels.permute(0, 3, 1, 2)
    return pixels, torch.as_tensor(dataset.targets, dtype=torch.long)


def load_real(info: DatasetInfo, root: Path, split: str, download: bool):
    """Images (N, C, H, W) in [-1, 1] and labels of a 'download' catalogue entry."""
    name, spec = info.name, info.loader
    _unpack_local_archives(info, root)
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
    _check_idx_files(info, root)
    parts = {"train": [True], "test": [False], "train+test": [True, False]}[split]
    try:
        pieces = [_open_split(spec, root, train) for train in parts]
    except READ_ERRORS as error:
        raise DatasetUnavailableError(
            f"{name!r} in {folder} is incomplete or corrupt "
            f"({type(error).__name__}: {error}).\nTo fix: {_fresh_copy_fix(info, root)}"
        ) from error
    pixels = torch.cat([p for p, _ in pieces])
    labels = torch.cat([t for _, t in pieces])
    return pixels.float() / 127.5 - 1, labels
