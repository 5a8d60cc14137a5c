"""Writers for small dataset files in the exact on-disk formats torchvision reads."""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import struct
import tarfile
import zlib
from pathlib import Path

import numpy as np

CIFAR_CLASSES = [
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
]  # fmt: skip


def md5(path: Path) -> str:
    """The md5 hex digest torchvision checks files against."""
    return hashlib.md5(path.read_bytes()).hexdigest()


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file (MNIST's format): magic 0x08 (ubyte) + ndim, big-endian sizes."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_mnist(raw: Path, n_train: int, n_test: int, gz: bool, seed: int = 0):
    """Write MNIST's four IDX files into raw/; return {split: (images, labels)}."""
    rng = np.random.default_rng(seed)
    raw.mkdir(parents=True, exist_ok=True)
    written = {}
    for split, prefix, n in (("train", "train", n_train), ("test", "t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = np.arange(n, dtype=np.uint8) % 10
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            name = f"{prefix}-{kind}-ubyte"
            data = idx_bytes(array)
            if gz:
                (raw / f"{name}.gz").write_bytes(gzip.compress(data))
            else:
                (raw / name).write_bytes(data)
        written[split] = (images, labels)
    return written


def write_cifar(folder: Path, n_per_batch: int, seed: int = 0):
    """Write CIFAR-10's pickled batches into folder; return {file: (images, labels)}."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        images = rng.integers(0, 256, (n_per_batch, 3, 32, 32), dtype=np.uint8)
        labels = [int(x) for x in rng.integers(0, 10, n_per_batch)]
        batch = {
            "batch_label": name,
            "labels": labels,
            "data": images.reshape(
                n_per_batch, 3072
            ),  # rows: R plane, G plane, B plane
            "filenames": [f"img_{i}.png" for i in range(n_per_batch)],
        }
        with open(folder / name, "wb") as file:
            pickle.dump(batch, file, protocol=2)
        written[name] = (images, np.array(labels))
    meta = {"label_names": CIFAR_CLASSES, "num_cases_per_batch": n_per_batch}
    with open(folder / "batches.meta", "wb") as file:
        pickle.dump(meta, file, protocol=2)
    return written


def cifar_checksums(folder: Path) -> dict:
    """torchvision's CIFAR10 file lists, with the md5s of the files we wrote."""
    train = [[f"data_batch_{i}", md5(folder / f"data_batch_{i}")] for i in range(1, 6)]
    return {
        "train_list": train,
        "test_list": [["test_batch", md5(folder / "test_batch")]],
        "meta": {
            "filename": "batches.meta",
            "key": "label_names",
            "md5": md5(folder / "batches.meta"),
        },
    }


def tar_gz(source: Path, archive: Path) -> None:
    """Pack a folder into a .tar.gz as CIFAR-10's download is packed."""
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(source, arcname=source.name)


def add_member(tar: tarfile.TarFile, name: str, data: bytes = b"", link: str = ""):
    """Add one member: a file holding `data`, or with `link`, a symlink or hard link.

    A `link` starting with 'hard:' makes a hard link to the rest of it.
    """
    member = tarfile.TarInfo(name)
    if link.startswith("hard:"):
        member.type, member.linkname = tarfile.LNKTYPE, link.removeprefix("hard:")
    elif link:
        member.type, member.linkname = tarfile.SYMTYPE, link
    else:
        member.size = len(data)
    tar.addfile(member, io.BytesIO(data) if not link else None)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data and CRC."""
    crc = zlib.crc32(kind + data)
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_claiming_size(width: int, height: int) -> bytes:
    """A tiny 8-bit grey PNG whose header claims width x height pixels (a bomb's)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\0" * 16))
        + _png_chunk(b"IEND", b"")
    )
