"""A small CNN classifier trained on real images: the judge of a GAN's samples.

Its softmax gives the Inception-Score formula and the accuracy of conditional samples;
its 128 penultimate features stand in for Inception's in FID and KID.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import v2
from tqdm.auto import tqdm

from gancourse import runtime
from gancourse.errors import ClassifierError, UsageError
from gancourse.pretrained import restore_hint
from gancourse.training.checkpoint import FORMAT as CHECKPOINT_FORMAT
from gancourse.training.checkpoint import save_atomic

FORMAT = "gancourse-classifier"
STEPS_TARGET = 1200  # default epochs give about this many optimiser steps
SHIPPED_CLASSIFIERS = ("mnist-5k", "shapes")  # in data/pretrained/, by dataset name
MAX_FILE_BYTES = 64 * 2**20  # ours are under 1 MB; refuse to read huge files
MAX_CLASSES = 1000
CHANNELS = (1, 3)
TRAIN_ONE = (
    "Train one with `python -m gancourse classifier --dataset NAME --out clf.pt` "
    "and give the path of clf.pt."
)


def _block(c_in: int, c_out: int) -> list[nn.Module]:
    """A 3x3 convolution that keeps the size, BatchNorm and ReLU."""
    return [
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(),
    ]


class Classifier(nn.Module):
    """Three conv stages (32, 64, 128 channels), a global average, one linear head."""

    num_features = 128

    def __init__(self, channels: int = 1, num_classes: int = 10, image_size: int = 28):
        super().__init__()
        if num_classes < 2:
            raise UsageError(
                f"a classifier needs at least 2 classes, not {num_classes}."
            )
        self.channels, self.num_classes, self.image_size = (
            channels,
            num_classes,
            image_size,
        )
        self.classes = [str(k) for k in range(num_classes)]
        self.body = nn.Sequential(
            *_block(channels, 32), nn.MaxPool2d(2),  # (N, 32, H/2, W/2)
            *_block(32, 64), nn.MaxPool2d(2),  # (N, 64, H/4, W/4)
            *_block(64, self.num_features),  # (N, 128, H/4, W/4)
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),  # (N, 128)
        )  # fmt: skip
        self.head = nn.Linear(self.num_features, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The 128 features before the head, (N, 128), for images (N, C, H, W)."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """One logit per class, (N, K), for images in [-1, 1]."""
        return self.head(self.features(x))

    def settings(self) -> dict:
        """What rebuilds this network: channels, classes and image size."""
        return {
            "channels": self.channels,
            "num_classes": self.num_classes,
            "image_size": self.image_size,
        }


class _Augmented(Dataset):
    """Images with small random turns and shifts, one draw per image."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, flip: bool):
        self.images, self.labels = images, labels
        size = images.shape[-1]
        # fill with the background (-1) rather than 0, which is mid-grey here; v2's
        # RandomAffine would do both at once but is 50x slower per small image
        steps = [
            v2.RandomRotation(10, fill=-1.0),
            v2.RandomCrop(size, padding=size // 14, fill=-1.0),  # shifts of 2 px at 28
        ]
        if flip:  # colour objects may face either way; digits must not flip
            steps.append(v2.RandomHorizontalFlip())
        self.transform = v2.Compose(steps)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        return self.transform(self.images[index]), self.labels[index]


def default_epochs(n_images: int, batch_size: int = 128) -> int:
    """Enough passes for about 1,200 optimiser steps, at least 3 and at most 40."""
    steps_per_epoch = math.ceil(n_images / batch_size)
    return max(3, min(40, round(STEPS_TARGET / steps_per_epoch)))


def _check_positive(name: str, value) -> None:
    """Raise one clear error unless value is a whole number above 0."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"{name} must be a whole number of at least 1, got {value!r}.")


def train_classifier(
    dataset,
    *,
    epochs: int | None = None,
    batch_size: int = 128,
    lr: float = 2e-3,
    seed: int = 0,
    augment: bool = True,
    device=None,
    progress: bool = True,
) -> Classifier:
    """Train a Classifier on an dataset's images and labels (eval mode on return)."""
    if epochs is None:
        epochs = default_epochs(len(dataset), batch_size)
    _check_positive("epochs", epochs)
    _check_positive("batch_size", batch_size)
    if not lr > 0:
        raise UsageError(f"lr must be above 0, got {lr!r}.")
    if dataset.num_classes < 2:
        raise UsageError(
            f"{dataset.name!r} has {dataset.num_classes} class: a classifier needs a "
            "labelled dataset with at least 2 classes, e.g. mnist-5k or shapes."
        )
    device = runtime.get_device(device)
    channels, size, _ = dataset.image_shape
    torch.manual_seed(seed)
    model = Classifier(channels, dataset.num_classes, size).to(device)
    model.classes = list(dataset.classes)
    images = dataset.images
    data = (
        _Augmented(images, dataset.labels, flip=channels == 3)
        if augment
        else torch.utils.data.TensorDataset(images, dataset.labels)
    )
    loader = DataLoader(
        data,
        batch_size=batch_size,
        shuffle=True,
        drop_last=len(images) > batch_size,
        generator=torch.Generator().manual_seed(seed),
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=lr, total_steps=epochs * len(loader)
    )
    model.train()
    for _ in tqdm(range(epochs), desc="classifier", unit="epoch", disable=not progress):
        for x, y in loader:
            loss = F.cross_entropy(model(x.to(device)), y.to(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
    return model.eval()


def predict_probs(
    classifier: Classifier, images: torch.Tensor, batch_size: int = 512
) -> torch.Tensor:
    """Softmax class probabilities, (N, K) on the CPU, for images (N, C, H, W)."""
    _check_fits(classifier, images)
    device = next(classifier.parameters()).device
    was_training = classifier.training
    classifier.eval()
    with torch.no_grad():
        probs = [
            F.softmax(classifier(chunk.to(device).float()), dim=1).cpu()
            for chunk in images.split(batch_size)
        ]
    classifier.train(was_training)
    return torch.cat(probs)


def predict(classifier: Classifier, images: torch.Tensor) -> torch.Tensor:
    """The most likely class of each image, (N,) int64."""
    return predict_probs(classifier, images).argmax(dim=1)


def classifier_accuracy(
    classifier: Classifier, images: torch.Tensor, labels: torch.Tensor
) -> float:
    """The fraction of images the classifier labels correctly."""
    labels = torch.as_tensor(labels)
    if len(labels) != len(images):
        raise UsageError(f"{len(images)} images but {len(labels)} labels.")
    return (predict(classifier, images) == labels.cpu()).float().mean().item()


def _check_fits(classifier: Classifier, images: torch.Tensor) -> None:
    """Raise one clear error when images do not have the shape the classifier reads."""
    if images.ndim != 4 or images.shape[1] != classifier.channels or len(images) == 0:
        raise ClassifierError(
            f"the classifier reads a batch of {classifier.channels}-channel images "
            f"(N, {classifier.channels}, H, W), got shape {tuple(images.shape)}."
        )


def shipped_path(name: str) -> Path:
    """Where the shipped classifier for a dataset name lives."""
    return runtime.PRETRAINED_DIR / f"classifier_{name}.pt"


def save_classifier(classifier: Classifier, path: str | Path, info: dict) -> Path:
    """Write the classifier's weights, class names and `info` atomically."""
    state = {
        "format": FORMAT,
        "settings": classifier.settings(),
        "classes": list(classifier.classes),
        "state_dict": classifier.state_dict(),
        "info": dict(info),
    }
    return save_atomic(state, path)


def load_classifier(name_or_path: str | Path = "mnist-5k", device=None) -> Classifier:
    """A trained classifier in eval mode: a dataset name's shipped one, or a file.

    A Path, or a string with a file suffix or a folder in it, is a file; any
    other string is the name of a dataset with a shipped classifier.
    """
    path = _classifier_file(name_or_path)
    state = _read_classifier_state(path)
    try:
        model = Classifier(**state["settings"])
        model.load_state_dict(state["state_dict"])
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        raise ClassifierError(
            f"{path} is a gancourse classifier this version cannot build "
            f"({type(error).__name__}). {TRAIN_ONE}"
        ) from None
    model.classes = list(state["classes"])
    model.info = dict(state.get("info", {}))
    model.requires_grad_(False)
    device = runtime.get_device(device)
    return model.to(device).eval()


def _classifier_file(name_or_path: str | Path) -> Path:
    """The file a name (a shipped classifier) or a path (any file) stands for."""
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or Path(text).suffix or {"/", os.sep} & set(text):
        path = Path(name_or_path)
        if path.is_dir():
            raise ClassifierError(
                f"{path} is a folder, not a classifier file. {TRAIN_ONE}"
            )
        if not path.is_file():
            raise ClassifierError(
                f"no such file {path}: give the path of a classifier .pt file. "
                f"{TRAIN_ONE}"
            )
        return path
    if text not in SHIPPED_CLASSIFIERS:
        raise ClassifierError(
            f"no shipped classifier for {text!r}: the course ships one for "
            f"{', '.join(SHIPPED_CLASSIFIERS)}; for a file, give its path. "
            f"{TRAIN_ONE}"
        )
    path = shipped_path(text)
    if not path.is_file():
        raise ClassifierError(
            f"the shipped classifier for {text!r} is missing: {restore_hint(path)}"
        )
    return path


def _read_classifier_state(path: Path) -> dict:
    """The checked contents of a classifier file, read without running its code."""
    not_ours = f"{path} is not a classifier written by `python -m gancourse classifier`"
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ClassifierError(
            f"{not_ours}: it is {path.stat().st_size / 2**20:.0f} MiB and ours are "
            f"under 1 MiB. {TRAIN_ONE}"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # torch's message suggests weights_only=False: never do that
        raise ClassifierError(
            f"{not_ours}: torch cannot read it (corrupt, cut short, or another kind "
            f"of file). {TRAIN_ONE}"
        ) from None
    if isinstance(state, dict) and state.get("format") == CHECKPOINT_FORMAT:
        raise ClassifierError(
            f"{not_ours}: it is a GAN checkpoint, which evaluate takes as its "
            f"first argument. {TRAIN_ONE}"
        )
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ClassifierError(f"{not_ours} (not a gancourse classifier). {TRAIN_ONE}")
    if not _contents_fit(state):
        raise ClassifierError(
            f"{path} is a gancourse classifier with settings this version cannot "
            f"build. {TRAIN_ONE}"
        )
    return state


def _contents_fit(state: dict) -> bool:
    """Settings Classifier() can build, one class name per class, an info dict."""
    settings, classes = state.get("settings"), state.get("classes")
    if not isinstance(settings, dict) or not isinstance(classes, list):
        return False
    if not isinstance(state.get("info", {}), dict):
        return False
    if set(settings) != {"channels", "num_classes", "image_size"}:
        return False
    if not all(type(value) is int for value in settings.values()):
        return False
    return (
        settings["channels"] in CHANNELS
        and 2 <= settings["num_classes"] <= MAX_CLASSES
        and settings["image_size"] >= 8
        and len(classes) == settings["num_classes"]
        and all(isinstance(name, str) for name in classes)
    )
