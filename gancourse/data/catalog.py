"""The catalogue: the one table of every dataset of the course and its facts.

`load_dataset`, `python -m gancourse` (its choices, size and class checks, the
`datasets` command), notebook 00's table and the error messages all read it.
Adding a dataset is one `DatasetInfo` entry here plus its loader. How
`load_dataset` calls a loader depends on the entry's kind:

- toy:      loader() -> (mode centres (K, 2), std): a 2D mixture of Gaussians
- shipped:  loader() -> (images (N, C, H, W) in [-1, 1], labels (N,)), or
            loader(image_size=S) when the entry says `any_size` (drawn by code)
- download: a `RealSet` (data/downloads.py) that finds or fetches the files
- folder:   loader(folder, image_size, classes) -> (images, labels, class names)

Names are lower case with hyphens (`mnist-5k`, `true-image`); the same name with
underscores, and each entry's `aliases`, are accepted too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gancourse.data import toy2d
from gancourse.data.downloads import CIFAR10, FASHION_MNIST, MNIST
from gancourse.data.imagefolder import load_imagefolder
from gancourse.data.mnist_5k import load_mnist_5k
from gancourse.data.shapes import SHAPE_CLASSES, load_shapes
from gancourse.data.tiny_images import load_digits10, load_true_image
from gancourse.errors import UnknownDatasetError

KINDS = ("toy", "shipped", "download", "folder")
SPLITS = ("train", "test", "train+test")
DIGITS = tuple(str(d) for d in range(10))
CLOTHES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
CIFAR10_CLASSES = (
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
)


@dataclass(frozen=True)
class DatasetInfo:
    """Every fact about one dataset; `classes` is None where only its files know."""

    name: str
    kind: str  # one of KINDS
    description: str  # one line, for `python -m gancourse datasets`
    loader: Callable  # called as the module docstring says for `kind`
    classes: tuple[str, ...] | None = None
    image_size: int | None = None  # native (square) size; None for toy sets
    channels: int | None = None  # 1 grey, 3 colour; None for toy sets
    has_test_split: bool = True  # False where each class has one image
    any_size: bool = False  # drawn by code at the size asked for (no resizing)
    alternative: str | None = None  # the shipped dataset to use offline
    aliases: tuple[str, ...] = ()

    @property
    def is_images(self) -> bool:
        """Whether it holds images (everything but the 2D toy sets)."""
        return self.kind != "toy"


def _entries(*infos: DatasetInfo) -> dict[str, DatasetInfo]:
    return {info.name: info for info in infos}


CATALOG: dict[str, DatasetInfo] = _entries(
    # ---- toy: 2D points from a mixture of Gaussians (notebooks 03 and 07) ----
    DatasetInfo("point", "toy", "a single point at (1, 1)", toy2d.point),
    DatasetInfo(
        "gaussian", "toy", "one Gaussian at the origin, std 0.5", toy2d.gaussian
    ),
    DatasetInfo(
        "two-gaussians",
        "toy",
        "two Gaussians at (-2, 0) and (2, 0), std 0.1",
        toy2d.two_gaussians,
    ),
    DatasetInfo(
        "line5", "toy", "five Gaussians on the x axis at -4..4, std 0.05", toy2d.line5
    ),
    DatasetInfo(
        "ring8", "toy", "8 Gaussians on a circle of radius 2, std 0.02", toy2d.ring8
    ),
    DatasetInfo(
        "grid25", "toy", "5x5 Gaussians at {-4,-2,0,2,4}^2, std 0.05", toy2d.grid25
    ),
    # ---- shipped images: always offline ----
    DatasetInfo(
        "true-image",
        "shipped",
        "one 10x10 square with a diagonal",
        load_true_image,
        classes=("true-image",),
        image_size=10,
        channels=1,
        has_test_split=False,
    ),
    DatasetInfo(
        "digits10",
        "shipped",
        "ten 10x10 digits",
        load_digits10,
        classes=DIGITS,
        image_size=10,
        channels=1,
        has_test_split=False,
    ),
    DatasetInfo(
        "mnist-5k",
        "shipped",
        "5,000 MNIST digits, 500 per digit",
        load_mnist_5k,
        classes=DIGITS,
        image_size=28,
        channels=1,
        aliases=("mnist5k",),
    ),
    DatasetInfo(
        "shapes",
        "shipped",
        "5,000 colour shapes in 4 classes, drawn at any size",
        load_shapes,
        classes=tuple(SHAPE_CLASSES),
        image_size=32,
        channels=3,
        any_size=True,
    ),
    # ---- downloaded on first use through torchvision ----
    DatasetInfo(
        "mnist",
        "download",
        "MNIST, 70,000 28x28 digits",
        MNIST,
        classes=DIGITS,
        image_size=28,
        channels=1,
        alternative="mnist-5k",
    ),
    DatasetInfo(
        "fashion-mnist",
        "download",
        "Fashion-MNIST, 70,000 28x28 clothes in 10 classes",
        FASHION_MNIST,
        classes=CLOTHES,
        image_size=28,
        channels=1,
        alternative="mnist-5k",
        aliases=("fashionmnist",),
    ),
    DatasetInfo(
        "cifar10",
        "download",
        "CIFAR-10, 60,000 32x32 colour images in 10 classes",
        CIFAR10,
        classes=CIFAR10_CLASSES,
        image_size=32,
        channels=3,
        alternative="shapes",
        aliases=("cifar-10",),
    ),
    # ---- your own images ----
    DatasetInfo(
        "imagefolder",
        "folder",
        "any folder of images (anime faces, CelebA), resized to 32/64 px",
        load_imagefolder,
        image_size=64,
        channels=3,
        alternative="shapes",
        aliases=("image-folder",),
    ),
)


def canonical_name(name: str) -> str | None:
    """The catalogue's spelling of `name` (any case, _ or -, an alias), or None."""
    if not isinstance(name, str):
        return None
    spelled = name.strip().lower().replace("_", "-")
    for info in CATALOG.values():
        if spelled == info.name or spelled in info.aliases:
            return info.name
    return None


def dataset_names(*kinds: str) -> list[str]:
    """Every dataset name in catalogue order, or only those of the given kinds."""
    return [n for n, info in CATALOG.items() if not kinds or info.kind in kinds]


def is_toy(name: str) -> bool:
    """Whether `name` (in any accepted spelling) is one of the 2D toy sets."""
    canonical = canonical_name(name)
    return canonical is not None and CATALOG[canonical].kind == "toy"


def image_dataset_names() -> list[str]:
    """The names of every image dataset (everything but the 2D toy sets)."""
    return dataset_names("shipped", "download", "folder")


def dataset_info(name: str) -> DatasetInfo:
    """The catalogue entry of `name`, or one UnknownDatasetError listing the names."""
    canonical = canonical_name(name)
    if canonical is None:
        raise UnknownDatasetError(
            f"unknown dataset {name!r}. Known datasets: {', '.join(CATALOG)} "
            "(`python -m gancourse datasets` describes them)."
        )
    return CATALOG[canonical]


def class_names(name: str) -> list[str] | None:
    """The class names of a dataset, or None where only its files can tell."""
    classes = dataset_info(name).classes
    return list(classes) if classes is not None else None
