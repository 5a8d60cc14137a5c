"""Notebook 06's checks pass the right answers and name the usual mistakes."""

import pytest
import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm, weight_norm

from gancourse.checks.core import ExerciseError
from gancourse.checks.dcgan_experiments import (
    check_add_spectral_norm,
    check_random_flip,
    check_sample_diversity,
)

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny models, busy machine


def stub(*args):
    raise NotImplementedError


# ---- sample_diversity ----------------------------------------------------------


def diversity(images):
    return torch.pdist(images.flatten(1)).mean()


def diversity_with_cdist(images):
    flat = images.flatten(1)
    n = len(flat)
    return float(torch.cdist(flat, flat).sum() / (n * (n - 1)))


def diversity_masked_on_the_cpu(images):
    flat = images.flatten(1)
    n = len(flat)
    off_diagonal = 1 - torch.eye(n)  # made on the CPU: fails next to CUDA images
    return ((torch.cdist(flat, flat) * off_diagonal).sum() / (n * (n - 1))).item()


def diversity_in_place(images):
    images -= images.mean(0)  # distances do not change, the caller's images do
    return diversity(images)


@pytest.mark.parametrize("answer", [diversity, diversity_with_cdist])
def test_sample_diversity_check_accepts_solutions(answer, capsys):
    check_sample_diversity(answer)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (stub, "not written yet"),
        (lambda x: torch.cdist(x.flatten(1), x.flatten(1)).mean(), "with itself"),
        (
            lambda x: (
                (torch.cdist(x.flatten(1), x.flatten(1)) ** 2).sum()
                / (len(x) * (len(x) - 1))
            ),
            "squared distances",
        ),
        (
            lambda x: torch.pdist(x.flatten(1)).sum() / (len(x) * (len(x) - 1)),
            "each pair once",
        ),
        (lambda x: x.std(0).mean(), "spread of each pixel"),
        (lambda x: x.std(0, unbiased=False).mean(), "spread of each pixel"),
        (lambda x: torch.cdist(x, x).mean(), "flatten each image"),
        (lambda x: torch.pdist(x[:, 0].flatten(1)).mean(), "all channels"),
        (diversity_in_place, "changed the images"),
        (lambda x: (diversity(x), len(x)), "one number"),
        (diversity_masked_on_the_cpu, "would fail on a GPU.*device=x.device"),
        (lambda x: diversity(x) + 1, "the mean is 3.3333"),
    ],
)
def test_sample_diversity_check_names_the_mistake(answer, says):
    with pytest.raises(ExerciseError, match=says):
        check_sample_diversity(answer)


# ---- add_spectral_norm ----------------------------------------------------------


def _wrap(discriminator, wanted, wrapper=spectral_norm):
    for module in list(discriminator.modules()):
        if wanted(module):
            wrapper(module)
    return discriminator


def add_spectral_norm(discriminator):
    return _wrap(discriminator, lambda m: isinstance(m, (nn.Conv2d, nn.Linear)))


def only_first_layer(discriminator):
    first = next(m for m in discriminator.modules() if isinstance(m, nn.Conv2d))
    spectral_norm(first)
    return discriminator


def twice(discriminator):
    return add_spectral_norm(add_spectral_norm(discriminator))


def in_place_only(discriminator):
    add_spectral_norm(discriminator)


def test_add_spectral_norm_check_accepts_the_solution(capsys):
    check_add_spectral_norm(add_spectral_norm)
    assert "Correct" in capsys.readouterr().out


def test_add_spectral_norm_check_leaves_the_global_seed_alone():
    torch.manual_seed(3)
    expected = torch.rand(3)
    torch.manual_seed(3)
    check_add_spectral_norm(add_spectral_norm)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (stub, "not written yet"),
        (only_first_layer, "only the first layer"),
        (
            lambda d: _wrap(
                d, lambda m: isinstance(m, (nn.Conv2d, nn.Linear)), weight_norm
            ),
            "weight normalisation",
        ),  # fmt: skip
        (
            lambda d: _wrap(d, lambda m: getattr(m, "weight", None) is not None),
            "BatchNorm",
        ),
        (
            lambda d: _wrap(
                d,
                lambda m: isinstance(m, (nn.Conv2d, nn.Linear)),
                torch.nn.utils.spectral_norm,
            ),
            "old torch.nn.utils.spectral_norm",
        ),
        (lambda d: _wrap(d, lambda m: isinstance(m, nn.Conv2d)), "missing: Linear"),
        (
            lambda d: _wrap(
                d,
                lambda m: isinstance(m, (nn.Conv2d, nn.Linear)),
                lambda m: spectral_norm(m, dim=1),
            ),
            "largest singular value",
        ),  # normalises the wrong reshape of a conv weight
        (twice, "wrapped twice"),
        (in_place_only, "return the discriminator"),
    ],
)
def test_add_spectral_norm_check_names_the_mistake(answer, says):
    with pytest.raises(ExerciseError, match=says):
        check_add_spectral_norm(answer)


# ---- random_flip ------------------------------------------------------------


def _flip_where(images, chosen, dims=(-1,)):
    return torch.where(chosen[:, None, None, None], images.flip(dims), images)


def random_flip(images, generator):
    chosen = torch.rand(len(images), generator=generator) < 0.5
    return _flip_where(images, chosen)


def whole_batch(images, generator):
    if torch.rand(1, generator=generator).item() < 0.5:
        return images.flip(-1)
    return images.clone()


def flip_in_place(images, generator):
    chosen = torch.rand(len(images), generator=generator) < 0.5
    images[chosen] = images[chosen].flip(-1)
    return images


def test_random_flip_check_accepts_the_solution(capsys):
    check_random_flip(random_flip)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (stub, "not written yet"),
        (
            lambda x, g: _flip_where(x, torch.rand(len(x), generator=g) < 0.5, (-2,)),
            "upside down",
        ),
        (
            lambda x, g: _flip_where(x, torch.rand(len(x), generator=g) < 0.5, (1,)),
            "colour channels",
        ),
        (
            lambda x, g: _flip_where(
                x, torch.rand(len(x), generator=g) < 0.5, (-1, -2)
            ),
            "both ways",
        ),
        (whole_batch, "whole batch"),
        (lambda x, g: x.flip(-1), "every image is flipped"),
        (lambda x, g: x.clone(), "no image is ever flipped"),
        (lambda x, g: _flip_where(x, torch.rand(len(x)) < 0.5), "generator"),
        (
            lambda x, g: _flip_where(x, torch.rand(len(x), generator=g) < 0.1),
            "probability 0.5",
        ),
        (flip_in_place, "in place"),
        (lambda x, g: random_flip(x, g)[:10], "shape of the input"),
        (lambda x, g: random_flip(x, g) * 0.5, "neither the input image"),
    ],
)
def test_random_flip_check_names_the_mistake(answer, says):
    with pytest.raises(ExerciseError, match=says):
        check_random_flip(answer)
