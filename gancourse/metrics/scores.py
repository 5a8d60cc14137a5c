"""Scores of generated images judged by a classifier trained on real images.

Conditional accuracy and the Inception-Score formula read the classifier's softmax;
FID and KID compare its 128 penultimate features through torchmetrics, which takes
any feature extractor in place of Inception v3.
"""

from __future__ import annotations

import math
import warnings

import torch
from torch import nn
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.kid import KernelInceptionDistance

from gancourse.errors import UsageError, UsageTypeError
from gancourse.metrics.classifier import Classifier, predict_probs

BATCH = 500  # images per forward pass of the classifier
RANGE_SLACK = 1e-3  # images may overshoot [-1, 1] by this much (resizing, rounding)


class ClassifierFeatures(nn.Module):
    """torchmetrics' feature extractor: images in [0, 1] -> the classifier's features.

    With normalize=True torchmetrics expects float images in [0, 1] and hands them
    to a custom extractor unchanged, so this maps them back to the [-1, 1] the
    classifier was trained on.
    """

    def __init__(self, classifier: Classifier):
        super().__init__()
        self.classifier = classifier
        self.num_features = classifier.num_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) in [0, 1] -> (N, num_features) float64 CPU features."""
        was_training = self.classifier.training
        self.classifier.eval()  # BatchNorm must use its running statistics
        with torch.no_grad():
            features = self.classifier.features(x * 2 - 1)  # (N, 128)
        self.classifier.train(was_training)
        # on the CPU, where the metric keeps its sums (MPS has no float64); float64
        # because KID's kernel sums lose precision in float32
        return features.cpu().double()


def check_images(images, name: str = "images", classifier=None) -> torch.Tensor:
    """Return images as a float (N, C, H, W) tensor in [-1, 1], or raise one error."""
    if not isinstance(images, torch.Tensor):
        raise UsageTypeError(
            f"{name} must be a torch tensor of images (N, C, H, W), "
            f"got {type(images).__name__}."
        )
    if images.ndim != 4 or len(images) == 0:
        raise UsageError(
            f"{name} must be a non-empty batch of images (N, C, H, W), got shape "
            f"{tuple(images.shape)}."
        )
    if not images.is_floating_point():
        raise UsageError(
            f"{name} must be float images in [-1, 1], got dtype {images.dtype}: "
            "convert uint8 images with x / 127.5 - 1."
        )
    if classifier is not None:
        wanted = (classifier.channels, classifier.image_size, classifier.image_size)
        if tuple(images.shape[1:]) != wanted:
            raise UsageError(
                f"{name} are {_shape(images.shape[1:])} but the classifier reads "
                f"{_shape(wanted)} images: use a classifier trained on this data "
                "(`python -m gancourse classifier`)."
            )
    if not torch.isfinite(images).all():
        raise UsageError(f"{name} hold NaN or infinite values.")
    low, high = images.min().item(), images.max().item()
    if low < -1 - RANGE_SLACK or high > 1 + RANGE_SLACK:
        raise UsageError(
            f"{name} must be in [-1, 1] like the course's data and generators, but "
            f"range from {low:.3g} to {high:.3g}: map [0, 1] images with x * 2 - 1."
        )
    return images.float()


def _shape(shape) -> str:
    return "x".join(map(str, shape))


def check_labels(labels, n: int, num_classes: int) -> torch.Tensor:
    """Return labels as an int64 CPU tensor (n,) in 0..K-1, or raise one error."""
    labels = torch.as_tensor(labels).cpu()
    if labels.shape != (n,) or labels.is_floating_point() or labels.is_complex():
        raise UsageError(
            f"labels must be {n} whole class indices, one per image, got "
            f"{labels.dtype} of shape {tuple(labels.shape)}."
        )
    if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
        raise UsageError(
            f"labels must be class indices from 0 to {num_classes - 1}, got values "
            f"from {labels.min().item()} to {labels.max().item()}."
        )
    return labels.long()


def conditional_accuracy(classifier: Classifier, images, labels) -> float:
    """The fraction of images whose predicted class is the label they were made for."""
    images = check_images(images, classifier=classifier)
    labels = check_labels(labels, len(images), classifier.num_classes)
    predicted = predict_probs(classifier, images).argmax(dim=1)  # (N,)
    return (predicted == labels).float().mean().item()


def inception_score(probs) -> float:
    """exp(mean_i KL(p(y|x_i) || p(y))) for softmax rows (N, K); p(y) = mean row.

    1 when every image gets the same distribution; K when the images are
    confidently classified and spread evenly over K classes.
    """
    probs = torch.as_tensor(probs).detach().cpu().double()
    if probs.ndim != 2 or probs.shape[0] == 0 or probs.shape[1] < 2:
        raise UsageError(
            "probs must be class probabilities (N, K) with N >= 1 rows and K >= 2 "
            f"classes, got shape {tuple(probs.shape)}."
        )
    sums = probs.sum(dim=1)
    if (
        not torch.isfinite(probs).all()
        or probs.min() < 0
        or (sums - 1).abs().max() > 1e-3
    ):
        raise UsageError(
            "probs must be rows of probabilities (each >= 0, each row summing to 1): "
            "pass softmax(logits, dim=1), not the logits. Row sums range from "
            f"{sums.min().item():.4g} to {sums.max().item():.4g}."
        )
    marginal = probs.mean(dim=0, keepdim=True)  # (1, K) = p(y)
    # xlogy(0, .) = 0, so a zero probability adds nothing instead of NaN
    kl = (torch.xlogy(probs, probs) - torch.xlogy(probs, marginal)).sum(dim=1)  # (N,)
    return math.exp(kl.mean().item())


def classifier_inception_score(classifier: Classifier, images) -> float:
    """The Inception-Score formula with the course classifier's softmax."""
    images = check_images(images, classifier=classifier)
    return inception_score(predict_probs(classifier, images))


def _feed(metric, images: torch.Tensor, real: bool) -> None:
    """Give a torchmetrics FID/KID images in [-1, 1] as [0, 1], in batches."""
    device = _device(metric.inception.classifier)
    for chunk in images.split(BATCH):
        metric.update(((chunk.to(device) + 1) / 2).clamp(0, 1), real=real)


def _device(module: nn.Module) -> torch.device:
    return next(module.parameters()).device


def fid_metric(classifier: Classifier, real: torch.Tensor) -> FrechetInceptionDistance:
    """A torchmetrics FID on the classifier's features, with `real` already fed.

    It keeps the real features through reset(), so each new fake set costs one pass.
    """
    metric = FrechetInceptionDistance(
        feature=ClassifierFeatures(classifier),
        normalize=True,
        reset_real_features=False,
    )
    _feed(metric, real, real=True)
    return metric


def fid_against(metric: FrechetInceptionDistance, fake: torch.Tensor) -> float:
    """The FID between the metric's real images and `fake`."""
    metric.reset()
    _feed(metric, fake, real=False)
    return max(0.0, metric.compute().item())  # a squared distance; clip rounding


def _check_pair(classifier, real, fake, least: int):
    real = check_images(real, "real", classifier)
    fake = check_images(fake, "fake", classifier)
    for name, images in (("real", real), ("fake", fake)):
        if len(images) < least:
            raise UsageError(
                f"{name} has {len(images)} images; this needs at least {least}."
            )
    return real, fake


def frechet_distance(classifier: Classifier, real, fake) -> float:
    """FID: the Frechet distance of Gaussians fitted to the classifier's features."""
    real, fake = _check_pair(classifier, real, fake, least=2)
    return fid_against(fid_metric(classifier, real), fake)


def kid_metric(
    classifier: Classifier, real: torch.Tensor, subset_size: int, subsets: int
) -> KernelInceptionDistance:
    """A torchmetrics KID on the classifier's features, with `real` already fed."""
    with warnings.catch_warnings():  # "will save all extracted features": it is small
        warnings.filterwarnings("ignore", message=".*save all extracted features.*")
        metric = KernelInceptionDistance(
            feature=ClassifierFeatures(classifier),
            subsets=subsets,
            subset_size=subset_size,
            normalize=True,
            reset_real_features=False,
        )
    _feed(metric, real, real=True)
    return metric


def kid_against(
    metric: KernelInceptionDistance, fake: torch.Tensor, seed: int = 0
) -> tuple[float, float]:
    """KID (mean, std over subsets) between the metric's real images and `fake`."""
    metric.reset()
    _feed(metric, fake, real=False)
    with torch.random.fork_rng(devices=[]):  # the subsets are drawn with torch.randperm
        torch.manual_seed(seed)
        mean, std = metric.compute()
    return mean.item(), std.item()


def kernel_distance(
    classifier: Classifier,
    real,
    fake,
    subset_size: int = 100,
    subsets: int = 50,
    seed: int = 0,
) -> tuple[float, float]:
    """KID: the polynomial-kernel MMD of the classifier's features, (mean, std).

    Unbiased, so it can dip below 0 for two samples of the same distribution.
    """
    for name, value in (("subset_size", subset_size), ("subsets", subsets)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 2:
            raise UsageError(f"{name} must be a whole number >= 2, got {value!r}.")
    real, fake = _check_pair(classifier, real, fake, least=1)
    smallest = min(len(real), len(fake))
    if subset_size > smallest:
        raise UsageError(
            f"subset_size {subset_size} is more than the {smallest} images of the "
            f"smaller set: pass subset_size={smallest} or less, or more images."
        )
    return kid_against(kid_metric(classifier, real, subset_size, subsets), fake, seed)


def class_histogram(classifier: Classifier, images) -> torch.Tensor:
    """How many images the classifier puts in each class, (K,) int64."""
    images = check_images(images, classifier=classifier)
    predicted = predict_probs(classifier, images).argmax(dim=1)  # (N,)
    return torch.bincount(predicted, minlength=classifier.num_classes)


def histogram_summary(counts) -> dict:
    """Mode-collapse signs of a class histogram: classes seen, largest share, entropy.

    The entropy is divided by log K: 1 for an even spread, 0 for a single class.
    """
    counts = torch.as_tensor(counts)
    if counts.ndim != 1 or len(counts) < 2 or counts.is_floating_point():
        raise UsageError(
            "counts must be whole counts per class (K,) with K >= 2, got "
            f"{counts.dtype} of shape {tuple(counts.shape)}."
        )
    if counts.min() < 0 or counts.sum() == 0:
        raise UsageError("counts must be >= 0 and not all zero.")
    shares = counts.double() / counts.sum()  # (K,)
    entropy = -torch.xlogy(shares, shares).sum().item()
    return {
        "classes_seen": int((counts > 0).sum()),
        "num_classes": len(counts),
        "largest_share": shares.max().item(),
        "entropy": max(0.0, entropy / math.log(len(counts))),  # not -0.0
    }
