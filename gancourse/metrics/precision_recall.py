"""Improved precision and recall (Kynkäänniemi et al., 2019) on the judge's features.

Each set of feature vectors stands for a manifold: the union of balls, one around
every vector phi, of radius NND_k(phi), the distance from phi to its k-th nearest
neighbour in the same set (phi itself not counted). With f(phi, Phi) = 1 when phi
lies in the manifold of Phi (within the radius of at least one of its vectors):

    precision = mean over fake phi_g of f(phi_g, Phi_real)
    recall    = mean over real phi_r of f(phi_r, Phi_fake)

Precision is the share of samples that look like some real image; recall the share
of real images that some sample looks like. The paper's k is 3; "within" is <=, as
in its code. The images' features are the judge's 128 penultimate features
(`Classifier.features`), the ones FID and KID read through `ClassifierFeatures`.
torchmetrics (1.9) has no such metric, so distances are computed here with
torch.cdist in blocks of at most batch_size x batch_size, so memory stays bounded
for any number of images. Features are compared in float64; cdist goes through a
matrix product (10x faster than the exact path), so a point exactly on a ball's edge
may fall either side by rounding, and an image with k copies gets a radius of about
1e-7 instead of 0. Taught in notebook 09.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from gancourse.errors import UsageError
from gancourse.metrics.classifier import Classifier
from gancourse.metrics.scores import BATCH, check_images

K_NEIGHBOURS = 3  # the paper's default
BLOCK = 1024  # rows and columns per distance block: (1024, 1024) float64, 8 MiB


class PrecisionRecall(NamedTuple):
    """Precision (samples inside the real manifold) and recall (real inside fake)."""

    precision: float
    recall: float


def _check_count(name: str, value, least: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise UsageError(
            f"{name} must be a whole number of at least {least}, got {value!r}."
        )


def _check_features(features, name: str) -> torch.Tensor:
    """Return features as a float64 CPU tensor (N, D), or raise one clear error."""
    if not isinstance(features, torch.Tensor):
        raise UsageError(
            f"{name} must be a torch tensor of feature vectors (N, D), "
            f"got {type(features).__name__}."
        )
    if features.ndim != 2 or len(features) == 0 or not features.is_floating_point():
        raise UsageError(
            f"{name} must be float feature vectors (N, D), one row per image, got "
            f"{features.dtype} of shape {tuple(features.shape)}."
        )
    if not torch.isfinite(features).all():
        raise UsageError(f"{name} hold NaN or infinite values.")
    return features.detach().cpu().double()


def knn_radii(features, k: int = K_NEIGHBOURS, batch_size: int = BLOCK):
    """Each vector's distance to its k-th nearest other vector of the set, (N,)."""
    features = _check_features(features, "features")
    _check_count("k", k)
    _check_count("batch_size", batch_size)
    if k >= len(features):
        raise UsageError(
            f"k is {k} but the set has {len(features)} vectors: each needs k others, "
            f"so pass k={len(features) - 1} or less, or more images."
        )
    radii = []
    for rows in features.split(batch_size):  # (B, D)
        # the k + 1 smallest distances of each row so far; the smallest is the row's
        # distance to itself (0), so the (k + 1)-th is its k-th real neighbour
        nearest = torch.empty(len(rows), 0, dtype=features.dtype)  # (B, 0)
        for columns in features.split(batch_size):  # (C, D)
            block = torch.cdist(rows, columns)  # (B, C)
            candidates = torch.cat([nearest, block], dim=1)  # (B, <= k + 1 + C)
            keep = min(k + 1, candidates.shape[1])
            nearest = candidates.topk(keep, dim=1, largest=False).values  # sorted
        radii.append(nearest[:, k])  # (B,)
    return torch.cat(radii)  # (N,)


def in_manifold(queries, points, radii, batch_size: int = BLOCK) -> torch.Tensor:
    """For each query (Q, D): is it within radii[j] of some points[j]? (Q,) bool."""
    queries = _check_features(queries, "queries")
    points = _check_features(points, "points")
    radii = torch.as_tensor(radii).detach().cpu().double()
    if radii.shape != (len(points),):
        raise UsageError(
            f"radii must hold one radius per point, shape ({len(points)},), got "
            f"{tuple(radii.shape)}."
        )
    _check_count("batch_size", batch_size)
    inside = []
    for rows in queries.split(batch_size):  # (B, D)
        found = torch.zeros(len(rows), dtype=torch.bool)  # (B,)
        for columns, columns_radii in zip(
            points.split(batch_size), radii.split(batch_size), strict=True
        ):  # (C, D), (C,)
            block = torch.cdist(rows, columns)  # (B, C)
            found |= (block <= columns_radii[None, :]).any(dim=1)
        inside.append(found)
    return torch.cat(inside)  # (Q,)


def precision_recall_from_features(
    real_features, fake_features, k: int = K_NEIGHBOURS, batch_size: int = BLOCK
) -> PrecisionRecall:
    """Precision and recall of fake (N_g, D) against real (N_r, D) feature vectors."""
    real = _check_features(real_features, "real_features")
    fake = _check_features(fake_features, "fake_features")
    if real.shape[1] != fake.shape[1]:
        raise UsageError(
            f"real_features have {real.shape[1]} numbers per image but "
            f"fake_features {fake.shape[1]}: use the same feature network for both."
        )
    _check_count("k", k)
    for name, features in (("real", real), ("fake", fake)):
        if k >= len(features):
            raise UsageError(
                f"k is {k} but there are {len(features)} {name} vectors: each needs "
                f"k others, so pass k={len(features) - 1} or less, or more images."
            )
    real_radii = knn_radii(real, k, batch_size)  # (N_r,) the real manifold
    fake_radii = knn_radii(fake, k, batch_size)  # (N_g,) the fake manifold
    precision = in_manifold(fake, real, real_radii, batch_size)  # (N_g,) fakes in real
    recall = in_manifold(real, fake, fake_radii, batch_size)  # (N_r,) reals in fake
    return PrecisionRecall(
        precision.double().mean().item(), recall.double().mean().item()
    )


def classifier_features(classifier: Classifier, images) -> torch.Tensor:
    """The judge's features (N, 128), float64 on the CPU, for images in [-1, 1]."""
    images = check_images(images, classifier=classifier)
    device = next(classifier.parameters()).device
    was_training = classifier.training
    classifier.eval()  # BatchNorm must use its running statistics
    with torch.no_grad():
        features = [
            classifier.features(chunk.to(device)).cpu() for chunk in images.split(BATCH)
        ]  # each (<= BATCH, 128)
    classifier.train(was_training)
    return torch.cat(features).double()


def precision_recall(
    classifier: Classifier, real, fake, k: int = K_NEIGHBOURS
) -> PrecisionRecall:
    """Precision and recall of fake images against real ones, on judge features."""
    real_features = classifier_features(classifier, real)  # (N_r, 128)
    fake_features = classifier_features(classifier, fake)  # (N_g, 128)
    return precision_recall_from_features(real_features, fake_features, k)
