"""`load_dataset`: the one entry point to every dataset of the catalogue."""

from __future__ import annotations

import numbers
import os
from pathlib import Path

import torch
from torchvision.transforms.v2 import functional as tvf

from gancourse import runtime
from gancourse.data.base import ImageDataset, ToyDataset, offline_hint
from gancourse.data.catalog import (
    CATALOG,
    SPLITS,
    DatasetInfo,
    dataset_info,
)
from gancourse.data.downloads import is_downloaded, load_real
from gancourse.data.toy2d import load_toy
from gancourse.errors import DatasetUnavailableError, UsageError, UsageTypeError

# a bound on resizing: 5,000 images at 4096 px would need 300 GB, not one error
MAX_IMAGE_SIZE = 512
TEST_FRACTION = 0.2  # shipped image sets: the last 20% of each class is the test split
TOY_POINTS = 10_000  # a toy dataset's default sample size
STATUS = {"toy": "shipped", "shipped": "shipped", "folder": "your own folder"}


def _data_root(root) -> Path:
    """The data folder: `root` made absolute, or the course's data/ folder if None."""
    if root is None:
        return runtime.DATA_DIR
    if not isinstance(root, (str, os.PathLike)):
        raise UsageTypeError(
            f"root must be a folder, as a str or a Path, got {root!r}."
        )
    return Path(root).resolve()


def dataset_status(root: str | Path | None = None) -> dict[str, str]:
    """For every dataset name: 'shipped', 'downloaded', 'not downloaded' or a folder."""
    root = _data_root(root)
    status = {}
    for name, info in CATALOG.items():
        if info.kind == "download":
            here = is_downloaded(info.loader, root)
            status[name] = "downloaded" if here else "not downloaded"
        else:
            status[name] = STATUS[info.kind]
    return status


def _size(info: DatasetInfo) -> str:
    """'1x28x28', '3x32x32, any size' or '2D points' for the catalogue's table."""
    if not info.is_images:
        return "2D points"
    size = f"{info.channels}x{info.image_size}x{info.image_size}"
    return f"{size}, any size" if info.any_size else size


def describe_datasets(root: str | Path | None = None) -> str:
    """The catalogue as a table: name, status, size, classes, test split, what."""
    header = ("name", "status", "images", "classes", "test split", "what it is")
    rows = [header]
    for name, state in dataset_status(root).items():
        info = CATALOG[name]
        classes, test = "-", "-"  # toy sets, and folders' classes, say nothing
        if info.is_images:
            classes = str(len(info.classes)) if info.classes is not None else "-"
            test = "yes" if info.has_test_split else "no"
        rows.append((name, state, _size(info), classes, test, info.description))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False))
        + "  "
        + row[-1]
        for row in rows
    )


def _is_whole_number(value) -> bool:
    """Whether value is an int (numpy's too), but not True or False."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_class_list(classes) -> None:
    """Refuse classes that are not a list of names: labels follow the list's order."""
    if isinstance(classes, (set, frozenset)):
        raise UsageTypeError(
            f"classes must be a list, not a set ({classes!r}): labels are numbered "
            "in the order given, and a set has none. Pass a list, e.g. "
            f"classes={sorted(classes, key=str)!r}."
        )
    if isinstance(classes, str):
        raise UsageTypeError(
            f"classes must be a list of class names, got the string {classes!r}: "
            f"write classes=[{classes!r}]."
        )
    if not isinstance(classes, (list, tuple)):
        raise UsageTypeError(
            "classes must be a list of class names, e.g. ['horse', 'bird'], "
            f"got {classes!r}."
        )
    not_names = [c for c in classes if not isinstance(c, str)]
    if not_names:
        raise UsageTypeError(
            f"class names are strings, but classes={classes!r} holds "
            f"{not_names[0]!r}: write classes={[str(c) for c in classes]!r}."
        )


def _check_types(split, image_size, classes, flip, download, path):
    """Raise one UsageTypeError for an option of the wrong type, before any work."""
    if not isinstance(split, str):
        raise UsageTypeError(f"split must be one of {SPLITS}, got {split!r}.")
    if image_size is not None and not _is_whole_number(image_size):
        raise UsageTypeError(
            f"image_size must be an int from 4 to {MAX_IMAGE_SIZE} px (the course's "
            f"models make 28, 32 and 64), got {image_size!r}."
        )
    if not isinstance(flip, bool):
        raise UsageTypeError(f"flip must be True or False, got {flip!r}.")
    if download is not None and not isinstance(download, bool):
        raise UsageTypeError(
            f"download must be True, False or None (the default), got {download!r}."
        )
    if path is not None and not isinstance(path, (str, os.PathLike)):
        raise UsageTypeError(
            f"path must be a folder, as a str or a Path, got {path!r}."
        )
    if classes is not None:
        _check_class_list(classes)


def _check_toy_options(name: str, split, image_size, classes, flip, path) -> None:
    """Refuse the image options for a 2D toy dataset."""
    given = {
        "image_size": image_size is not None,
        "classes": classes is not None,
        "flip": flip,
        "path": path is not None,
        "split": split != "train",
    }
    wrong = [option for option, used in given.items() if used]
    if wrong:
        raise UsageError(
            f"{name!r} is a 2D toy dataset: {', '.join(wrong)} only apply to "
            "image datasets. Use n=... and seed=... for toy datasets."
        )


def _check_options(
    info: DatasetInfo, split, image_size, classes, flip, path, n_or_seed
):
    """Raise one clear error for any option that does not fit, before any work.

    `n_or_seed` says whether n= or seed= was given: they are for 2D toy sets only.
    """
    name = info.name
    if not info.is_images:
        _check_toy_options(name, split, image_size, classes, flip, path)
        return
    if n_or_seed:
        raise UsageError(
            f"n= and seed= only apply to the 2D toy datasets, and {name!r} holds a "
            "fixed set of images: choose among them with split= and classes=."
        )
    if split not in SPLITS:
        raise UsageError(f"split must be one of {SPLITS}, got {split!r}.")
    if not info.has_test_split and split == "test":
        raise UsageError(
            f"{name!r} has one image per class and no test split: "
            "use split='train' (the default)."
        )
    if image_size is not None and not 4 <= image_size <= MAX_IMAGE_SIZE:
        raise UsageError(
            f"image_size must be an int from 4 to {MAX_IMAGE_SIZE} px (the course's "
            f"models make 28, 32 and 64), got {image_size!r}."
        )
    if path is not None and info.kind != "folder":
        raise UsageError(f"path= is only for a folder of images, not for {name!r}.")
    if info.kind == "folder" and (path is None or str(path) == ""):
        raise UsageError(
            f"{name!r} needs path=...: the folder holding your images "
            "(a relative path is taken inside the data folder)."
        )
    if classes is not None:
        if not classes:
            raise UsageError(
                f"classes must be a non-empty list of class names, got {classes!r}."
            )
        if len(set(classes)) != len(classes):
            raise UsageError(f"classes lists a name twice: {classes!r}.")
        if info.classes is not None:
            unknown = [c for c in classes if c not in info.classes]
            if unknown:
                raise UsageError(
                    f"unknown classes {unknown} for {name!r}: its classes are "
                    f"{list(info.classes)}."
                )


def _shipped_split(labels: torch.Tensor, split: str) -> torch.Tensor:
    """Indices of a split: per class, the first 80% train and the rest test."""
    if split == "train+test":
        return torch.arange(len(labels))
    keep = torch.zeros(len(labels), dtype=torch.bool)
    for label in labels.unique():
        members = torch.nonzero(labels == label).flatten()
        n_train = len(members) - round(TEST_FRACTION * len(members))
        chosen = members[:n_train] if split == "train" else members[n_train:]
        keep[chosen] = True
    return torch.nonzero(keep).flatten()


def _select_classes(images, labels, names, classes):
    """Keep only `classes`, relabelled 0..k-1 in the order given."""
    if classes is None:
        return images, labels, names
    wanted = torch.tensor([names.index(c) for c in classes])
    keep = torch.isin(labels, wanted)
    new_label = torch.full((len(names),), -1, dtype=torch.long)
    new_label[wanted] = torch.arange(len(classes))
    return images[keep], new_label[labels[keep]], list(classes)


def _resize(images: torch.Tensor, image_size: int | None) -> torch.Tensor:
    """Resize (N, C, H, W) images to (N, C, S, S), antialiased, kept in [-1, 1]."""
    if image_size is None or images.shape[-2:] == (image_size, image_size):
        return images
    resized = tvf.resize(images, [image_size, image_size], antialias=True)
    return resized.clamp(-1, 1)


def load_dataset(
    name: str,
    root: str | Path | None = None,
    *,
    split: str = "train",
    image_size: int | None = None,
    classes: list[str] | None = None,
    flip: bool = False,
    download: bool | None = None,
    path: str | Path | None = None,
    n: int | None = None,
    seed: int | None = None,
) -> ImageDataset | ToyDataset:
    """Load a course dataset by name (see `describe_datasets()`), ready for training.

    Image datasets come as an ImageDataset with images (N, C, H, W) in [-1, 1].
    `root` is where downloads land (default: the course's data/ folder);
    `split` is 'train', 'test' or 'train+test'; `classes` keeps a subset by name;
    `flip` flips each image horizontally with probability 0.5 when indexed;
    `download` fetches a missing real dataset (default: yes, except in quick mode
    and in a rehearsal, which reads stand-in files);
    `path` is the folder for 'imagefolder' (relative to `root`).
    2D toy datasets come as a ToyDataset with `n` points (default 10,000) drawn
    with `seed` (default 0).
    Every option is checked before any work: a wrong one raises one clear error.
    """
    info = dataset_info(name)
    _check_types(split, image_size, classes, flip, download, path)
    root = _data_root(root)
    n_or_seed = n is not None or seed is not None
    _check_options(info, split, image_size, classes, flip, path, n_or_seed)
    if info.kind == "toy":
        n = TOY_POINTS if n is None else n
        return load_toy(info.name, info.loader, n=n, seed=0 if seed is None else seed)
    image_size = int(image_size) if image_size is not None else None  # numpy's too
    names = list(info.classes) if info.classes is not None else None
    if info.kind == "download":
        if download is None:
            download = not (runtime.QUICK or runtime.REHEARSAL)
        images, labels = load_real(info, root, split, download)
    else:
        if info.kind == "folder":
            folder = root / path  # an absolute path stays as it is
            size = image_size or info.image_size
            try:
                images, labels, names = info.loader(folder, size, classes)
            except DatasetUnavailableError as error:
                raise DatasetUnavailableError(
                    f"{error}\n{offline_hint(info.alternative)}"
                ) from None
        elif info.any_size:
            images, labels = info.loader(image_size=image_size or info.image_size)
        else:
            images, labels = info.loader()
        chosen = _shipped_split(labels, split)  # 80/20 per class
        images, labels = images[chosen], labels[chosen]
    images, labels, names = _select_classes(images, labels, names, classes)
    images = _resize(images, image_size)
    return ImageDataset(info.name, images.contiguous(), labels, names, flip=flip)
