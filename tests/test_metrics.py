"""mode_coverage and mode_counts on hand-made samples whose answer we know."""

import numpy as np
import pytest

from gancourse.data import load_dataset
from gancourse.metrics import RADIUS_FLOOR, mode_counts, mode_coverage, quality_radius


@pytest.fixture(scope="module")
def ring8():
    return load_dataset("ring8")


def test_samples_at_every_centre_cover_every_mode(ring8):
    samples = np.repeat(ring8.centres, 3, axis=0)  # (24, 2)
    assert mode_coverage(samples, ring8) == (8, 1.0)


def test_the_data_itself_covers_every_mode_with_few_misses(ring8):
    modes, high_quality = mode_coverage(ring8.sample(2000, 0), ring8)
    assert modes == 8
    assert high_quality > 0.97  # 3 std in 2D holds 98.9% of a Gaussian


def test_samples_far_from_every_centre_cover_nothing(ring8):
    samples = np.array([[0.0, 0.0], [10.0, 10.0], [1.0, 1.0]])
    assert mode_coverage(samples, ring8) == (0, 0.0)


def test_one_mode_only(ring8):
    samples = ring8.centres[3] + np.zeros((50, 2))
    assert mode_coverage(samples, ring8) == (1, 1.0)


def test_the_boundary_is_inside():
    gaussian = load_dataset("gaussian")  # one centre at (0, 0), std 0.5
    assert quality_radius(gaussian) == 1.5
    assert mode_coverage(np.array([[1.5, 0.0]]), gaussian) == (1, 1.0)
    assert mode_coverage(np.array([[0.0, -1.5]]), gaussian) == (1, 1.0)
    assert mode_coverage(np.array([[1.5 + 1e-9, 0.0]]), gaussian) == (0, 0.0)


def test_half_the_samples_good_gives_one_half():
    gaussian = load_dataset("gaussian")
    samples = np.array([[0.0, 0.0], [0.5, 0.0], [3.0, 0.0], [0.0, 5.0]])
    assert mode_coverage(samples, gaussian) == (1, 0.5)


def test_std_zero_uses_the_radius_floor():
    point = load_dataset("point")  # one centre at (1, 1), std 0
    assert quality_radius(point) == RADIUS_FLOOR == 0.05
    assert mode_coverage(np.array([[1.0, 1.04]]), point) == (1, 1.0)
    assert mode_coverage(np.array([[1.0, 1.06]]), point) == (0, 0.0)


def test_a_mode_counts_only_as_the_nearest_centre():
    two = load_dataset("two_gaussians")  # centres (-2, 0) and (2, 0), std 0.1
    # within 5 of both centres, but the nearest is (2, 0): only that mode is covered
    samples = np.array([[1.0, 0.0], [2.05, 0.0]])
    assert mode_coverage(samples, two, radius=5.0) == (1, 1.0)
    assert mode_coverage(samples, two) == (1, 0.5)


def test_radius_can_be_given_and_a_name_is_accepted():
    samples = np.array([[2.0, 0.1]])  # 0.1 from the ring8 centre at (2, 0)
    assert mode_coverage(samples, "ring8") == (0, 0.0)
    assert mode_coverage(samples, "ring8", radius=0.1) == (1, 1.0)


@pytest.mark.parametrize("bad", [np.zeros((0, 2)), np.zeros((5, 3)), np.zeros(4)])
def test_samples_of_the_wrong_shape_are_refused(ring8, bad):
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        mode_coverage(bad, ring8)


def test_mode_counts_count_high_quality_samples_per_mode_in_centre_order(ring8):
    samples = np.concatenate(
        [
            np.repeat(ring8.centres[[0]], 3, axis=0),  # 3 on mode 0
            ring8.centres[[5]] + [0.0, 0.05],  # 1 on mode 5, inside 3 std (0.06)
            ring8.centres[[5]] + [0.0, 0.07],  # nearest mode 5, outside: poor
            np.zeros((2, 2)),  # the ring's middle: poor
        ]
    )  # (7, 2)
    counts = mode_counts(samples, ring8)  # (8,)
    assert counts.tolist() == [3, 0, 0, 0, 0, 1, 0, 0]
    assert mode_coverage(samples, ring8) == (2, 4 / 7)
    assert mode_counts(samples, "ring8", radius=0.1)[5] == 2


def test_the_data_itself_fills_every_mode_about_equally():
    grid = load_dataset("grid25")
    counts = mode_counts(grid.sample(5000, 0), grid)  # (25,), about 200 each
    assert counts.min() > 150 and counts.max() < 250
