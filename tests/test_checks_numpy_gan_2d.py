"""Notebook 03's checks pass the right answers and name the usual mistakes."""

import numpy as np
import pytest

from gancourse.checks.core import ExerciseError
from gancourse.checks.numpy_gan_2d import check_count_modes, check_non_saturating_loss


def stub(*args):
    raise NotImplementedError


def _sigmoid(s):
    return 0.5 * (1 + np.tanh(s / 2))


def non_saturating(scores):
    return float(np.logaddexp(0, -scores).mean()), -(1 - _sigmoid(scores)) / len(scores)


def test_non_saturating_check_accepts_the_solution(capsys):
    check_non_saturating_loss(non_saturating)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (stub, "not written yet"),
        (
            lambda s: (-float(np.logaddexp(0, s).mean()), -_sigmoid(s) / len(s)),
            "minimax",
        ),
        (lambda s: (-non_saturating(s)[0], -non_saturating(s)[1]), "sign is flipped"),
        (lambda s: (non_saturating(s)[0] * len(s), non_saturating(s)[1]), "a mean"),
        (
            lambda s: (
                float(np.log(1 + np.exp(-s)).mean()),
                -(1 - _sigmoid(s)) / len(s),
            ),
            "inf or nan",
        ),
        (lambda s: (non_saturating(s)[0], _sigmoid(s) / len(s)), "gradient is not"),
        (lambda s: non_saturating(s)[0], "return two things"),
    ],
)
def test_non_saturating_check_names_the_mistake(answer, says):
    with np.errstate(over="ignore"), pytest.raises(ExerciseError, match=says):
        check_non_saturating_loss(answer)


def count_modes(samples, centres, std):
    distances = np.linalg.norm(samples[:, None] - centres[None], axis=2)
    nearest = distances.argmin(axis=1)
    good = distances.min(axis=1) <= 3 * std
    return len(np.unique(nearest[good])), float(good.mean())


def test_count_modes_check_accepts_the_solution(capsys):
    check_count_modes(count_modes)
    assert "Correct" in capsys.readouterr().out


def _no_threshold(samples, centres, std):
    distances = np.linalg.norm(samples[:, None] - centres[None], axis=2)
    return len(np.unique(distances.argmin(axis=1))), count_modes(samples, centres, std)[
        1
    ]


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (stub, "not written yet"),
        (_no_threshold, "covered by samples far from it"),
        (lambda x, c, s: (count_modes(x, c, s)[0], 1.0), "every sample"),
        (lambda x, c, s: count_modes(x, c, s / 3), "not 1 std"),
        (lambda x, c, s: (count_modes(x, c, s)[0], 3.0), "a share of samples"),
        (lambda x, c, s: (1, 0.6), "you count 1"),
    ],
)
def test_count_modes_check_names_the_mistake(answer, says):
    with pytest.raises(ExerciseError, match=says):
        check_count_modes(answer)
