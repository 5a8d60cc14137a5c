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


def _gradient_in_zeros_like(scores):
    grad = np.zeros_like(scores)  # integer when the scores are
    grad[:] = -(1 - _sigmoid(scores)) / len(scores)
    return float(np.logaddexp(0, -scores).mean()), grad


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
        (_gradient_in_zeros_like, "integer scores .* integer dtype"),
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


def _count_with(distance):
    """count_modes with another distance (of the offsets (N, K, 2)) than the L2."""

    def answer(samples, centres, std):
        distances = distance(samples[:, None] - centres[None])  # (N, K)
        good = distances.min(axis=1) <= 3 * std
        return len(np.unique(distances.argmin(axis=1)[good])), float(good.mean())

    return answer


@pytest.mark.parametrize(
    "answer",
    [
        count_modes,
        _count_with(lambda d: np.sqrt((d**2).sum(axis=2))),
        lambda x, c, s: _count_with(lambda d: (d**2).sum(axis=2))(x, c, 3 * s * s),
    ],
)
def test_count_modes_check_accepts_the_solution(answer, capsys):
    check_count_modes(answer)  # the last compares d**2 with (3 std)**2: right too
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
        (_count_with(lambda d: (d**2).sum(axis=2)), "SQUARED distance with 3 \\* std"),
        (_count_with(lambda d: np.abs(d).max(axis=2)), "square box"),
        (_count_with(lambda d: np.abs(d).sum(axis=2)), "L1 distance"),
        (lambda x, c, s: count_modes(x, c, 0.1), "use the std argument"),
        (lambda x, c, s: count_modes(x, c, s) if s == 0.1 else (9, 0.5), "std = 0.2"),
    ],
)
def test_count_modes_check_names_the_mistake(answer, says):
    with pytest.raises(ExerciseError, match=says):
        check_count_modes(answer)
