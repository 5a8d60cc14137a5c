"""Checks for notebook 06's exercises: sample diversity, spectral norm, random flips."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import _SpectralNorm, _WeightNorm

from gancourse.checks.coerce import as_float, as_tensor
from gancourse.checks.compare import Mistake, close, first_mistake
from gancourse.checks.core import ExerciseError, call_student
from gancourse.checks.inputs import random_normal
from gancourse.checks.probes import call_on, check_device_safe, on_meta
from gancourse.models import Discriminator, DiscriminatorConfig

RTOL = 1e-4  # diversities are computed in float32


def _diversity(sample_diversity, images: torch.Tensor) -> float:
    """The student's diversity of `images` as a float."""
    out = call_student(sample_diversity, images)
    return as_float(out, "the diversity sample_diversity returns")


def _reference_diversity(images: torch.Tensor) -> float:
    """Mean Euclidean distance over all pairs of different images."""
    return torch.pdist(images.flatten(1).double()).mean().item()


def check_sample_diversity(sample_diversity) -> None:
    """Check the mean distance between all pairs of different images of a batch."""
    # three 1x1x2 "images": distances 5 (a-b), 0 (a-c), 5 (b-c), mean 10/3
    images = torch.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 0.0]]).view(3, 1, 1, 2)
    value = _diversity(sample_diversity, images.clone())
    expected = 10 / 3
    pixels = images.flatten(1)
    spread = (
        "that is the spread of each pixel across the batch, averaged: it "
        "measures pixels one at a time, not how far whole images are from "
        "each other. Compute distances between flattened images."
    )
    mistakes = [
        Mistake(
            "you average over all n * n pairs, including each image with itself "
            "(distance 0): that pulls the mean down, most for small batches. "
            "Average over the n * (n - 1) pairs of different images.",
            20 / 9,
        ),
        Mistake(
            "those are squared distances: take the Euclidean distance "
            "||x_i - x_j||, the square root of the sum of squares.",
            50 / 3,
        ),
        Mistake(
            "you count each pair once but divide by n * (n - 1): either sum over "
            "ordered pairs or divide by n * (n - 1) / 2.",
            5 / 3,
        ),
        Mistake(spread, pixels.std(0).mean()),
        Mistake(spread, pixels.std(0, unbiased=False).mean()),
        Mistake(spread, pixels.var(0).mean()),
        Mistake(
            "three images of which two differ give 0: flatten each image to one "
            "vector first (images.flatten(1)), then measure distances between them.",
            0.0,
        ),
    ]
    if not close(value, expected, rtol=RTOL):
        raise ExerciseError(
            first_mistake(value, mistakes, rtol=RTOL)
            or f"for the images (0, 0), (3, 4), (0, 0) the pairwise distances are 5, "
            f"0 and 5, so the mean is {expected:.4f}; you give {value:.4f}."
        )
    same = torch.ones(5, 3, 4, 4).mul(0.3)  # a collapsed batch: five equal images
    collapsed = _diversity(sample_diversity, same)
    if not close(collapsed, 0.0, atol=1e-5):
        raise ExerciseError(
            f"five identical images should have diversity 0, you give {collapsed:.4f}."
        )
    batch = random_normal(16, 3, 6, 10, seed=0)  # colour, and not square
    before = batch.clone()
    out = call_on("16 colour images of 6 x 10 pixels", sample_diversity, batch)
    value = as_float(out, "the diversity sample_diversity returns")
    if not torch.equal(batch, before):
        raise ExerciseError("sample_diversity changed the images it was given.")
    if not close(value, _reference_diversity(batch), rtol=RTOL):
        raise ExerciseError(
            "right on the small example but not on a batch of 16 colour images of "
            f"6 x 10 pixels (expected {_reference_diversity(batch):.4f}, got "
            f"{value:.4f}): use all channels and pixels of each image, "
            "images.flatten(1), whatever the image size."
        )
    check_device_safe(sample_diversity, [on_meta(batch)], "sample_diversity")
    print("Correct: the mean distance between different images (0 when collapsed).")


def _test_networks() -> list[nn.Module]:
    """The course's discriminator and a small net with a BatchNorm and a Linear."""
    torch.manual_seed(0)
    return [_course_network(), _small_network()]


def _course_network() -> nn.Module:
    """A small course discriminator: strided convs, 3x3 convs, BatchNorm."""
    return Discriminator(DiscriminatorConfig(width=8, depth="medium"))


def _small_network() -> nn.Module:
    """Nested blocks, a BatchNorm and a Linear layer, for 16x16 colour images."""
    return nn.Sequential(
        nn.Conv2d(3, 8, 4, 2, 1),  # (N, 8, 8, 8)
        nn.LeakyReLU(0.2),
        nn.Sequential(
            nn.Conv2d(8, 16, 4, 2, 1), nn.BatchNorm2d(16), nn.LeakyReLU(0.2)
        ),  # (N, 16, 4, 4)
        nn.Flatten(),
        nn.Linear(16 * 4 * 4, 1),  # (N, 1)
    )


def _norms_of(layer: nn.Module) -> list[nn.Module]:
    """The parametrizations on a layer's weight (empty when it has none)."""
    if not parametrize.is_parametrized(layer, "weight"):
        return []
    return list(layer.parametrizations.weight)


def _check_layers(network: nn.Module, name: str) -> None:
    """Every Conv2d and Linear spectral-normed once; nothing else touched."""
    weighted = [m for m in network.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    missing = []
    for layer in network.modules():
        norms = _norms_of(layer)
        if hasattr(layer, "weight_orig"):
            raise ExerciseError(
                "that is the old torch.nn.utils.spectral_norm (a forward hook, "
                "deprecated): use torch.nn.utils.parametrizations.spectral_norm, "
                "as the course's models do."
            )
        if isinstance(layer, nn.modules.batchnorm._BatchNorm) and norms:
            raise ExerciseError(
                "a BatchNorm layer got a parametrization: wrap only Conv2d and "
                "Linear layers. A BatchNorm scale is a vector; 'normalising' it "
                "just rescales every channel and bounds nothing."
            )
        if not isinstance(layer, (nn.Conv2d, nn.Linear)):
            continue
        if any(isinstance(p, _WeightNorm) for p in norms):
            raise ExerciseError(
                "that is weight normalisation (weight_norm): it fixes the length "
                "of each filter, not the largest singular value of the layer. "
                "Use torch.nn.utils.parametrizations.spectral_norm."
            )
        spectral = sum(isinstance(p, _SpectralNorm) for p in norms)
        if spectral > 1:
            raise ExerciseError(
                "a layer is wrapped twice: loop over a list of the layers taken "
                "before you start wrapping (list(discriminator.modules()))."
            )
        if spectral == 0:
            missing.append(layer)
    if missing:
        if len(missing) == len(weighted) - 1 and weighted[0] not in missing:
            raise ExerciseError(
                f"only the first layer of {name} has spectral norm: D is "
                "Lipschitz-bounded only if every Conv2d and Linear is. Loop over "
                "discriminator.modules(), which also visits nested blocks."
            )
        kinds = sorted({type(m).__name__ for m in missing})
        raise ExerciseError(
            f"{len(missing)} of the {len(weighted)} Conv2d/Linear layers of {name} "
            f"have no spectral norm (missing: {', '.join(kinds)}). Wrap every "
            "Conv2d and Linear: loop over discriminator.modules(), which also "
            "visits nested blocks."
        )


def check_add_spectral_norm(add_spectral_norm) -> None:
    """Check that every Conv2d and Linear gets spectral norm, and sigma becomes 1."""
    with torch.random.fork_rng(devices=[]):  # leave the notebook's seed alone
        _check_spectral_norm(add_spectral_norm)
    print("Correct: every Conv2d and Linear has spectral norm; each sigma is 1.")


def _check_spectral_norm(add_spectral_norm) -> None:
    """The checks of check_add_spectral_norm, on two networks."""
    for network, name, shape in zip(
        _test_networks(),
        ("the course's Discriminator", "a small net with a Linear layer"),
        ((8, 1, 28, 28), (8, 3, 16, 16)),
        strict=True,
    ):
        out = call_student(add_spectral_norm, network)
        if not isinstance(out, nn.Module):
            raise ExerciseError(
                "return the discriminator (the same module, now with spectral "
                "norm), so that `D = add_spectral_norm(D)` works."
            )
        _check_layers(out, name)
        x = random_normal(*shape, seed=1)
        out.train()
        with torch.no_grad():
            for _ in range(5):  # each training forward runs one power iteration
                scores = out(x)
        if scores.shape[0] != shape[0]:
            raise ExerciseError(f"{name} no longer gives one score per image.")
        for layer in out.modules():
            if isinstance(layer, (nn.Conv2d, nn.Linear)):
                sigma = torch.linalg.matrix_norm(layer.weight.flatten(1), ord=2)
                if not close(sigma, 1.0, rtol=0, atol=0.05):
                    raise ExerciseError(
                        f"a {type(layer).__name__} of {name} has largest singular "
                        f"value {sigma.item():.3f} after forward passes, not 1."
                    )


def _flip_mistakes(image: torch.Tensor) -> list[Mistake]:
    """The wrong flips of one image (C, H, W), each with what to say about it."""
    return [
        Mistake(
            "an image is flipped upside down: dim -2 is the height. A horizontal "
            "flip mirrors the width, dim -1 (images.flip(-1)).",
            image.flip(-2),
        ),
        Mistake(
            "an image is flipped both ways: flip only dim -1, the width.",
            image.flip(-1, -2),
        ),
        Mistake(
            "an image has its colour channels reversed (dim 1 of the batch): flip "
            "dim -1, the width.",
            image.flip(0),
        ),
    ]


def _changed_share(random_flip, images: torch.Tensor, seed: int) -> float:
    """The share of images that random_flip changes with a generator seeded `seed`."""
    out = call_student(random_flip, images, torch.Generator().manual_seed(seed))
    out = as_tensor(out, "the flipped batch", images.shape, like="the input")
    return (out != images).flatten(1).any(1).float().mean().item()


def check_random_flip(random_flip) -> None:
    """Check per-image left-right flips with probability 0.5, from the generator."""
    n = 200
    images = random_normal(n, 3, 5, 6, seed=0)
    before = images.clone()
    out = call_student(random_flip, images, torch.Generator().manual_seed(0))
    if not torch.equal(images, before):
        raise ExerciseError(
            "random_flip changed its input in place: the dataset itself would be "
            "flipped, and flipped again next epoch. Return a new tensor."
        )
    out = as_tensor(out, "the flipped batch", images.shape, like="the input")
    flips = 0
    for image, result in zip(images, out, strict=True):
        if torch.equal(result, image.flip(-1)):
            flips += 1
        elif not torch.equal(result, image):
            raise ExerciseError(
                first_mistake(result, _flip_mistakes(image), rtol=0, atol=0)
                or "an output image is neither the input image nor its mirror image: "
                "each image must be kept as it is or flipped left-right, nothing else."
            )
    flipped = flips / n
    if flipped in (0.0, 1.0):
        shares = {_changed_share(random_flip, images, s) for s in range(1, 20)}
        if shares == {0.0}:
            raise ExerciseError("no image is ever flipped.")
        if shares == {1.0}:
            raise ExerciseError(
                "every image is flipped: flip each one with probability 0.5."
            )
        raise ExerciseError(
            "the whole batch is flipped together, or not at all: draw one random "
            "number per image, e.g. torch.rand(len(images), generator=generator)."
        )
    if not 0.35 <= flipped <= 0.65:
        raise ExerciseError(
            f"{flipped:.0%} of 200 images are flipped; each should be flipped with "
            "probability 0.5."
        )
    again = call_student(random_flip, images, torch.Generator().manual_seed(0))
    other = call_student(random_flip, images, torch.Generator().manual_seed(1))
    again = as_tensor(again, "the flipped batch", images.shape, like="the input")
    other = as_tensor(other, "the flipped batch", images.shape, like="the input")
    if not torch.equal(again, out) or torch.equal(other, out):
        raise ExerciseError(
            "draw the random numbers from the generator you are given "
            "(torch.rand(n, generator=generator)): the same seed must give the "
            "same flips, so a run can be repeated exactly."
        )
    print(
        "Correct: each image is flipped left-right with probability 0.5 "
        f"({flipped:.0%} of this batch)."
    )
