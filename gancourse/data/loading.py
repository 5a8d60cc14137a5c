"""`load_dataset`: the one entry point to every dataset of the course."""

from __future__ import annotations

from pathlib import Path

import torch
from torchvision.transforms.v2 import functional as tvf

from gancourse import config
from gancourse.data.base import ImageDataset, ToyDataset, UnknownDatasetError
from gancourse.data.downloads import REAL_SETS, is_downloaded, load_real
from gancourse.data.imagefolder import load_imagefolder
from gancourse.data.mnist_5k import DIGIT_CLASSES, load_mnist_5k
from gancourse.data.shapes import SHAPE_CLASSES, load_shapes
from gancourse.data.tiny_images import load_digits10, load_true_image
from gancourse.data.toy2d import TOY_SETS, load_toy

SPLITS = ("train", "test", "train+test")
TEST_FRACTION = 0.2  # shipped image sets: the last 20% of each class is the test split

# shipped image sets: name -> (loader, class names, description)
SHIPPED_IMAGE_SETS = {
    "mnist-5k": (load_mnist_5k, DIGIT_CLASSES, "5,000 MNIST digits, 500 per digit"),
    "shapes": (load_shapes, SHAPE_CLASSES, "5,000 colour shapes in 4 classes"),
    "true_image": (load_true_image, ["true_image"], "one 10x10 square with a diagonal"),
    "digits10": (load_digits10, [str(d) for d in range(10)], "ten 10x10 digits"),
}
DOWNLOADED_DESCRIPTIONS = {
    "mnist": "MNIST, 70,000 28x28 digits",
    "fashion-mnist": "Fashion-MNIST, 70,000 28x28 clothes in 10 classes",
    "cifar10": "CIFAR-10, 60,000 32x32 colour images in 10 classes",
    "imagefolder": "any folder of images (anime faces, CelebA), resized to 32/64 px",
}
KNOWN_DATASETS = (*TOY_SETS, *SHIPPED_IMAGE_SETS, *DOWNLOADED_DESCRIPTIONS)


def dataset_status(root: str | Path | None = None) -> dict[str, str]:
    """For every dataset name: 'shipped', 'downloaded' or 'not downloaded'."""
    root = Path(root) if root is not None else config.DATA_DIR
    status = {}
    for name in KNOWN_DATASETS:
        if name in TOY_SETS or name in SHIPPED_IMAGE_SETS:
            status[name] = "shipped"
        elif name in REAL_SETS:
            status[name] = (
                "downloaded" if is_downloaded(name, root) else "not downloaded"
            )
        else:
            status[name] = "your own folder"
    return status


def describe_datasets(root: str | Path | None = None) -> str:
    """A table of every dataset: its name, whether it is here, and what it is."""
    descriptions = {name: text for name, (_, _, text) in TOY_SETS.items()}
    descriptions |= {name: text for name, (_, _, text) in SHIPPED_IMAGE_SETS.items()}
    descriptions |= DOWNLOADED_DESCRIPTIONS
    rows = [
        f"{name:<14} {state:<16} {descriptions[name]}"
        for name, state in dataset_status(root).items()
    ]
    return "\n".join([f"{'name':<14} {'status':<16} what it is", *rows])


def _check_options(name, split, image_size, classes, flip, path) -> None:
    """Raise one clear error for any option that does not fit, before any work."""
    if name not in KNOWN_DATASETS:
        raise UnknownDatasetError(
            f"unknown dataset {name!r}. Known datasets: {', '.join(KNOWN_DATASETS)}."
        )
    if name in TOY_SETS:
        given = {
            "image_size": image_size is not None,
            "classes": classes is not None,
            "flip": flip,
            "path": path is not None,
            "split": split != "train",
        }
        wrong = [option for option, used in given.items() if used]
        if wrong:
            raise ValueError(
                f"{name!r} is a 2D toy dataset: {', '.join(wrong)} only apply to "
                "image datasets. Use n=... and seed=... for toy datasets."
            )
        return
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}.")
    if name in ("true_image", "digits10") and split == "test":
        raise ValueError(
            f"{name!r} has one image per class and no test split: "
            "use split='train' (the default)."
        )
    if image_size is not None and (not isinstance(image_size, int) or image_size < 4):
        raise ValueError(
            f"image_size must be an int of at least 4, got {image_size!r}."
        )
    if path is not None and name != "imagefolder":
        raise ValueError(f"path= is only for 'imagefolder', not for {name!r}.")
    if name == "imagefolder" and path is None:
        raise ValueError(
            "'imagefolder' needs path=...: the folder holding your images "
            "(a relative path is taken inside the data folder)."
        )
    if classes is not None:
        if isinstance(classes, str) or not classes:
            raise ValueError(
                f"classes must be a non-empty list of class names, got {classes!r}."
            )
        if len(set(classes)) != len(classes):
            raise ValueError(f"classes lists a name twice: {classes!r}.")
        known = _class_names(name)
        if known is not None:
            unknown = [c for c in classes if c not in known]
            if unknown:
                raise ValueError(
                    f"unknown classes {unknown} for {name!r}: its classes are {known}."
                )


def _class_names(name: str) -> list[str] | None:
    """The class names of a dataset, or None where only its files can tell."""
    if name in SHIPPED_IMAGE_SETS:
        return list(SHIPPED_IMAGE_SETS[name][1])
    if name in REAL_SETS:
        return list(REAL_SETS[name].classes)
    return None


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
    n: int = 10_000,
    seed: int = 0,
) -> ImageDataset | ToyDataset:
    """Load a course dataset by name, ready for training.

    Image datasets come as an ImageDataset with images (N, C, H, W) in [-1, 1].
    `root` is where downloads land (default: the course's data/ folder);
    `split` is 'train', 'test' or 'train+test'; `classes` keeps a subset by name;
    `flip` flips each image horizontally with probability 0.5 when indexed;
    `download` fetches a missing real dataset (default: yes, except in quick mode);
    `path` is the folder for 'imagefolder' (relative to `root`).
    2D toy datasets come as a ToyDataset with `n` points drawn with `seed`.
    """
    _check_options(name, split, image_size, classes, flip, path)
    if name in TOY_SETS:
        return load_toy(name, n=n, seed=seed)
    root = Path(root).resolve() if root is not None else config.DATA_DIR
    if name == "shapes":
        images, labels, names = load_shapes(image_size or 32)
    elif name in SHIPPED_IMAGE_SETS:
        images, labels, names = SHIPPED_IMAGE_SETS[name][0]()
    elif name == "imagefolder":
        folder = root / path  # an absolute path stays as it is
        images, labels, names = load_imagefolder(folder, image_size or 64, classes)
    else:
        if download is None:
            download = not config.QUICK
        images, labels, names = load_real(name, root, split, download)
    if name not in REAL_SETS:  # shipped sets and folders: 80/20 split per class
        chosen = _shipped_split(labels, split)
        images, labels = images[chosen], labels[chosen]
    images, labels, names = _select_classes(images, labels, names, classes)
    images = _resize(images, image_size)
    return ImageDataset(name, images.contiguous(), labels, names, flip=flip)
