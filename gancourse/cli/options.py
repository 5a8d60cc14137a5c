"""Checks and options the commands share; each raises one UsageError with the fix."""

from __future__ import annotations

import argparse
import os
from contextlib import contextmanager
from pathlib import Path

import torch

from gancourse.data import (
    DatasetInfo,
    canonical_name,
    class_names,
    dataset_info,
    dataset_names,
    image_dataset_names,
)
from gancourse.errors import CheckpointError, DeviceError, StorageError, UsageError
from gancourse.models.config import IMAGE_SIZES
from gancourse.runtime import get_device

DEVICES = ("cpu", "cuda", "mps")
CONDITIONAL = ("cgan", "acgan")  # the kinds that take class labels
# NumPy's seeds stop at 2**32; train also derives torch seeds as
# seed * 1_000_003 + epoch, which must stay below torch's 2**64
MAX_SEED = 2**32 - 1
NAME_MAX = 255  # bytes in a file name on most file systems


def image_dataset(text: str) -> str:
    """argparse type for --dataset: the catalogue's name of an image dataset."""
    name = canonical_name(text)
    if name is None:
        raise argparse.ArgumentTypeError(
            f"unknown dataset {text!r}: choose one of "
            f"{', '.join(image_dataset_names())} (`python -m gancourse datasets` "
            "describes them)"
        )
    if not dataset_info(name).is_images:
        raise argparse.ArgumentTypeError(
            f"{text!r} is a 2D toy dataset of points, not images: the commands work "
            f"on image datasets ({', '.join(image_dataset_names())})"
        )
    return name


def folder_here(text: str) -> Path:
    """argparse type for --data-path: relative to where the command runs.

    (The library's load_dataset(path=...) takes a relative path inside the data
    folder; on the command line a relative path means the current folder.)
    """
    return Path(text).absolute()


def add_dataset_option(parser: argparse.ArgumentParser, help: str) -> None:
    """--dataset NAME, checked against the catalogue's image datasets."""
    parser.add_argument(
        "--dataset",
        required=True,
        type=image_dataset,
        metavar="NAME",
        help=f"{help}: {', '.join(image_dataset_names())}",
    )


def check_at_least_one(flag: str, value: int | None) -> None:
    """A count option (--steps, --n, ...) must be 1 or more when given."""
    if value is not None and value < 1:
        raise UsageError(f"--{flag.replace('_', '-')} must be at least 1, got {value}.")


def check_seed(seed: int | None) -> None:
    """--seed must be from 0 to MAX_SEED when given."""
    if seed is not None and seed < 0:
        raise UsageError(f"--seed must be 0 or more, got {seed}.")
    if seed is not None and seed > MAX_SEED:
        raise UsageError(
            f"--seed must be at most {MAX_SEED} (2**32 - 1), got {seed}: any "
            "smaller number gives as good a random start."
        )


def check_device(name: str | None) -> torch.device:
    """--device: cpu, cuda or mps (with an index), and present on this machine."""
    if name is not None and name.split(":")[0] not in DEVICES:
        raise UsageError(
            f"unknown --device {name!r}: use {', '.join(DEVICES)}, or leave it out "
            "to pick the best one found."
        )
    try:
        return get_device(name)
    except DeviceError as error:
        raise UsageError(str(error).replace("device=", "--device ")) from None


def check_data_path(info: DatasetInfo, data_path: Path | None, needed: bool) -> None:
    """--data-path belongs to a folder dataset, which (when `needed`) must have one."""
    if data_path is not None and info.kind != "folder":
        folders = " or ".join(dataset_names("folder"))
        raise UsageError(
            f"--data-path is only for --dataset {folders}; leave it out for "
            f"{info.name!r}."
        )
    if needed and info.kind == "folder" and data_path is None:
        raise UsageError(
            f"--dataset {info.name} needs --data-path FOLDER: the folder holding "
            "your images (one subfolder of images per class, or the images alone)."
        )


def parse_classes(text: str, dataset: str) -> list[str]:
    """'horse, bird' -> ['horse', 'bird'], checked against the dataset's classes."""
    classes = [name.strip() for name in text.split(",") if name.strip()]
    if not classes:
        raise UsageError("--classes is empty: give class names, e.g. --classes 3,5.")
    if len(set(classes)) != len(classes):
        raise UsageError(f"--classes names a class twice: {text!r}.")
    known = class_names(dataset)
    unknown = [name for name in classes if known is not None and name not in known]
    if unknown:
        raise UsageError(
            f"--classes: {', '.join(unknown)} not in {dataset!r}; its classes are "
            f"{', '.join(known)}."
        )
    return classes


def check_model_size(dataset: str, image_size: int | None) -> None:
    """Without --image-size the data keeps its native size, which models must fit."""
    native = dataset_info(dataset).image_size
    if image_size is None and native is not None and native not in IMAGE_SIZES:
        raise UsageError(
            f"{dataset!r} images are {native}x{native} px but the models make "
            f"{', '.join(map(str, IMAGE_SIZES))} px images: pass --image-size "
            f"{IMAGE_SIZES[0]} (or {', '.join(map(str, IMAGE_SIZES[1:]))}) to "
            "resize them."
        )


def check_new_file(path: Path | None, flag: str, suffixes, overwrite: bool) -> None:
    """An output file: an allowed suffix, not a folder, not overwritten unasked."""
    if path is None:
        return
    suffixes = (suffixes,) if isinstance(suffixes, str) else tuple(suffixes)
    if path.suffix.lower() not in suffixes:
        raise UsageError(
            f"{flag} {path}: give a file name ending in {' or '.join(suffixes)}."
        )
    if path.is_dir():
        raise UsageError(f"{flag} {path} is a folder; give a file name.")
    if path.exists() and not overwrite:
        raise UsageError(
            f"{flag} {path} already exists: pass --overwrite to replace it, or "
            "choose another file name."
        )


def check_writable(path: Path | None, flag: str) -> None:
    """An output file's folder exists (or can be made) and can be written in."""
    if path is None:
        return
    temporary = f".{path.name}.{os.getpid()}.tmp"  # written first, then renamed
    if len(temporary.encode()) > NAME_MAX:
        raise UsageError(
            f"{flag} {path}: the file name is too long; give a shorter one."
        )
    folder = path.absolute().parent
    while not folder.exists():  # the folders to make: check the first that exists
        folder = folder.parent
    if not folder.is_dir():
        raise UsageError(
            f"{flag} {path}: {folder} is a file, not a folder; choose another path."
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(
            f"{flag} {path}: the folder {folder} cannot be written in (read-only "
            "or not yours); choose a path in a folder you can write to."
        )


@contextmanager
def writing(path: Path, flag: str):
    """Inside the block, an OSError from writing `path` becomes one StorageError."""
    try:
        yield
    except OSError as error:
        raise StorageError(
            f"cannot write {flag} {path}: {error.strerror or error}; nothing was "
            "written there. Free some disk space or choose another path."
        ) from None


def check_finite_weights(G: torch.nn.Module | dict, checkpoint: Path) -> None:
    """A generator whose weights hold NaN or inf makes nothing but NaN images.

    G is the model, or its state_dict as a checkpoint holds it.
    """
    tensors = list(G.values()) if isinstance(G, dict) else [*G.state_dict().values()]
    if not all(t.isfinite().all() for t in tensors if t.is_floating_point()):
        raise CheckpointError(_diverged(checkpoint, "weights hold"))


def check_finite_images(images: torch.Tensor, checkpoint: Path) -> None:
    """Images with NaN or inf would be saved as black squares: refuse them."""
    if not images.isfinite().all():
        raise CheckpointError(_diverged(checkpoint, "images hold"))


def _diverged(checkpoint: Path, what: str) -> str:
    """The message for a generator with NaN or inf: the run diverged."""
    return (
        f"the generator of {checkpoint} is broken: its {what} NaN or infinite "
        "values, so its run diverged before this checkpoint was saved. Use an "
        "earlier checkpoint of the run if you kept one, or train again with lower "
        "learning rates (--lr-g, --lr-d)."
    )
