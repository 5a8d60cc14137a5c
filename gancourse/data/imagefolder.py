"""Any folder of images (anime faces, CelebA, ...), resized and centre-cropped.

The folder holds either images only (one class, named after the folder) or one
subfolder per class with that class's images (nested folders inside a class are
read too). Images beside class subfolders are refused, not silently dropped: move
them into a class folder. Hidden files and folders (names starting with '.', such
as .ipynb_checkpoints or macOS's ._ files) are skipped. Every image becomes 8-bit
RGB; 16-bit grey images are scaled down to 8 bits, not clipped.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision.datasets.folder import IMG_EXTENSIONS
from torchvision.transforms import v2
from tqdm.auto import tqdm

from gancourse.data.base import DatasetUnavailableError
from gancourse.errors import UsageError

MAX_PIXELS = 89_478_485  # PIL's own limit (about 89 megapixels): more is a bomb
# what PIL raises on a file it cannot decode (not an image, cut short, ...)
READ_ERRORS = (OSError, SyntaxError, ValueError, EOFError)
SIXTEEN_BIT_GREY = ("I", "I;16", "I;16B", "I;16L", "I;16N")  # PIL's modes for them


def _is_image(path: Path) -> bool:
    """Whether the path is a visible file with one of torchvision's image extensions."""
    return (
        not path.name.startswith(".")
        and path.suffix.lower() in IMG_EXTENSIONS
        and path.is_file()
    )


def _in_hidden_folder(path: Path, folder: Path) -> bool:
    """Whether a folder between `folder` and `path` is hidden (such as .cache)."""
    return any(part.startswith(".") for part in path.relative_to(folder).parts[:-1])


def _images_in(folder: Path) -> list[Path]:
    """Every image under `folder`, nested folders too, sorted; hidden ones skipped."""
    found = (p for p in folder.rglob("*") if _is_image(p))
    return sorted(p for p in found if not _in_hidden_folder(p, folder))


def _class_folders(folder: Path) -> dict[str, list[Path]]:
    """Each visible subfolder's name and its images, by name."""
    subfolders = sorted(p for p in folder.iterdir() if p.is_dir())
    return {
        sub.name: _images_in(sub) for sub in subfolders if not sub.name.startswith(".")
    }


def _find_images(folder: Path) -> tuple[list[Path], list[int], list[str]]:
    """Image paths, labels and class names: one class per subfolder, or one in all."""
    top_level = sorted(p for p in folder.iterdir() if _is_image(p))
    classes = _class_folders(folder)
    if not any(classes.values()):  # images only: one class named after the folder
        return top_level, [0] * len(top_level), [folder.name]
    if top_level:
        raise DatasetUnavailableError(
            f"{folder} holds {len(top_level)} images (such as {top_level[0].name}) "
            f"beside its class folders {list(classes)}, and they would be left out.\n"
            "To fix: move each image into the folder of its class, or out of "
            f"{folder}."
        )
    empty = [name for name, paths in classes.items() if not paths]
    if empty:
        raise DatasetUnavailableError(
            f"the class folders {empty} in {folder} hold no images "
            f"({', '.join(IMG_EXTENSIONS)}).\n"
            "To fix: put that class's images in it, or move it out of "
            f"{folder}."
        )
    names = list(classes)
    paths = [path for name in names for path in classes[name]]
    labels = [label for label, name in enumerate(names) for _ in classes[name]]
    return paths, labels, names


def _unreadable(path: Path, problem: str) -> DatasetUnavailableError:
    """The one error for an image file that cannot be used: the file and the fix."""
    return DatasetUnavailableError(
        f"{path} {problem}.\n"
        f"To fix: replace it with a working image, or move it out of {path.parent}."
    )


def _to_rgb(image: Image.Image, path: Path) -> Image.Image:
    """The image as 8-bit RGB: 16-bit greys scaled (0..65535 to 0..255), not clipped."""
    if image.mode == "F":
        raise _unreadable(path, "holds floating-point pixels, not 8- or 16-bit ones")
    if image.mode in SIXTEEN_BIT_GREY:
        grey = np.asarray(image, dtype=np.float64)  # (H, W)
        if grey.min() < 0 or grey.max() > 65535:
            raise _unreadable(path, "holds grey values beyond 16 bits (0..65535)")
        image = Image.fromarray(np.round(grey / 257).astype(np.uint8))  # 65535 / 255
    return image.convert("RGB")


def _read_rgb(path: Path) -> Image.Image:
    """The image file as 8-bit RGB, or one clear error naming the file."""
    too_big = f"has more than {MAX_PIXELS:,} pixels, too many for a photo"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise _unreadable(path, f"{too_big} ({width}x{height})")
                image.load()
                return _to_rgb(image, path)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _unreadable(path, too_big) from None
    except READ_ERRORS as error:
        raise _unreadable(path, f"cannot be read as an image ({error})") from error


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
        images[i] = transform(_read_rgb(path))  # (3, S, S) uint8
    return images.float() / 127.5 - 1, torch.tensor(labels, dtype=torch.long), names
