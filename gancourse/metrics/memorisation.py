"""Did the generator copy its training images? A nearest-neighbour check in pixels.

Each sample's distance to its nearest training image is compared with the same
distance for held-out real images, which are new by construction: a sample closer
to the training set than nearly all held-out images is flagged as memorised.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from gancourse.errors import UsageError
from gancourse.metrics.scores import check_images

CHUNK = 1024  # query images per distance matrix: (1024, N_train) floats


@dataclass
class MemorisationReport:
    """Nearest-training-image distances of samples and held-out images, and flags."""

    distances: torch.Tensor = field(repr=False)  # (N,) sample -> nearest train image
    nearest: torch.Tensor = field(repr=False)  # (N,) index of that training image
    held_out_distances: torch.Tensor = field(repr=False)  # (M,)
    held_out_nearest: torch.Tensor = field(repr=False)  # (M,)
    quantile: float
    threshold: float  # the `quantile` of held_out_distances
    memorised: torch.Tensor = field(repr=False)  # (N,) bool: distance < threshold
    fraction: float  # of samples memorised
    held_out_fraction: float  # of held-out images under the threshold, about quantile

    def closest_pairs(
        self, k: int = 8
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The k samples nearest a training image: (sample idx, train idx, distance)."""
        n = len(self.distances)
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= n:
            raise UsageError(f"k must be a whole number from 1 to {n}, got {k!r}.")
        order = self.distances.argsort()[:k]  # (k,) closest first
        return order, self.nearest[order], self.distances[order]


def nearest_distances(
    queries: torch.Tensor, references: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel L2 distance of each query to its nearest reference, and its index."""
    flat_refs = references.flatten(1)  # (R, C*H*W)
    found = []
    for chunk in queries.flatten(1).split(CHUNK):  # (<=CHUNK, C*H*W)
        found.append(torch.cdist(chunk, flat_refs).argmin(dim=1))
    nearest = torch.cat(found)  # (Q,)
    # cdist goes through a matrix product; recompute exactly so copies give 0
    distances = (queries.flatten(1) - flat_refs[nearest]).norm(dim=1)  # (Q,)
    return distances, nearest


def memorisation(
    samples, train_images, held_out_images, quantile: float = 0.01
) -> MemorisationReport:
    """Flag samples nearer a training image than the `quantile` of held-out images."""
    if isinstance(quantile, bool) or not 0 < quantile < 1:
        raise UsageError(
            "quantile must be a fraction between 0 and 1 (e.g. 0.01), got "
            f"{quantile!r}."
        )
    samples = check_images(samples, "samples")
    train_images = check_images(train_images, "train_images")
    held_out_images = check_images(held_out_images, "held_out_images")
    for name, images in (("samples", samples), ("held_out_images", held_out_images)):
        if images.shape[1:] != train_images.shape[1:]:
            raise UsageError(
                f"{name} are {tuple(images.shape[1:])} but train_images are "
                f"{tuple(train_images.shape[1:])}: compare images of one shape."
            )
    samples, train_images = samples.cpu(), train_images.cpu()
    held_out_images = held_out_images.cpu()
    distances, nearest = nearest_distances(samples, train_images)
    held_distances, held_nearest = nearest_distances(held_out_images, train_images)
    threshold = torch.quantile(held_distances.double(), quantile).item()
    memorised = distances < threshold
    return MemorisationReport(
        distances=distances,
        nearest=nearest,
        held_out_distances=held_distances,
        held_out_nearest=held_nearest,
        quantile=float(quantile),
        threshold=threshold,
        memorised=memorised,
        fraction=memorised.float().mean().item(),
        held_out_fraction=(held_distances < threshold).float().mean().item(),
    )
