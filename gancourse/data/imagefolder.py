"""Any folder of images (anime faces, CelebA, ...), resized and centre-cropped."""

from __future__ import annotations

from pathlib import Path

import torch
from torchvision import datasets
from torchvision.datasets.folder import IMG_EXTENSIONS, default_loader
from torchvision.transforms import v2
from tqdm.auto import tqdm

from gancourse.data.base import DatasetUnavailableError
from gancourse.errors import UsageError


def _is_image(path: Path) -> bool:
    """Whether the file has one of torchvision's image extensions."""
    return path.is_file() and path.suffix.lower() in IMG_EXTENSIONS


def _find_images(folder: Path) -> tuple[list[Path], list[int], list[str]]:
    """Image paths, labels and class names: one class per subfolder, or one in all."""
    subfolders = sorted(p for p in folder.iterdir() if p.is_dir())
    if any(_is_image(f) for sub in subfolders for f in sub.rglob("*")):
        tv_folder = datasets.ImageFolder(str(folder), loader=lambda p: p)
        paths = [Path(p) for p, _ in tv_folder.samples]
        return paths, list(tv_folder.targets), list(tv_folder.classes)
    paths = sorted(p for p in folder.iterdir() if _is_image(p))
    return paths, [0] * len(paths), [folder.name]


def load_imagefolder(folder: Path, image_size: int, classes: list[str] | None = None):
    """Images (N, 3, S, S) in [-1, 1], labels and class names from a folder."""
    if not folder.is_dir():
        raise DatasetUnavailableError(
            f"'imagefolder' needs a folder of images, and {folder} does not exist.\n"
            "To fix: put your images (e.g. anime faces or CelebA) in that folder, "
            "either directly or one subfolder per class, and pass its path as "
            "load_dataset('imagefolder', path=...)."
        )
    paths, labels, names = _find_images(folder)
    if not paths:
        raise DatasetUnavailableError(
            f"{folder} holds no images ({', '.join(IMG_EXTENSIONS)}).\n"
            "To fix: copy your images into it, directly or one subfolder per class."
        )
    if classes is not None:
        unknown = sorted(set(classes) - set(names))
        if unknown:
            raise UsageError(
                f"unknown classes {unknown} for {folder}: its classes are {names}."
            )
    transform = v2.Compose(
        [
            v2.PILToTensor(),
            v2.Resize(image_size, antialias=True),
            v2.CenterCrop(image_size),
        ]
    )
    images = torch.empty(len(paths), 3, image_size, image_size, dtype=torch.uint8)
    for i, path in enumerate(tqdm(paths, desc=f"loading {folder.name}", leave=False)):
        images[i] = transform(default_loader(str(path)))  # (3, S, S) uint8
    return images.float() / 127.5 - 1, torch.tensor(labels, dtype=torch.long), names
