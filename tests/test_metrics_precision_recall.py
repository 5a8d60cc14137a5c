"""Improved precision and recall (k-NN manifolds): each test catches a broken one."""

import math

import pytest
import torch

from gancourse.errors import UsageError
from gancourse.metrics import (
    ClassifierFeatures,
    PrecisionRecall,
    classifier_features,
    in_manifold,
    knn_radii,
    precision_recall,
    precision_recall_from_features,
)

pytestmark = pytest.mark.usefixtures("one_thread")

# ---- a tiny example computed by hand ----------------------------------------------
#
# Real points and their distance to the k-th nearest *other* real point:
#   r1 (0, 0)     k=1: 2 (r2)     k=2: 6 (r3)
#   r2 (0, 2)     k=1: 2 (r1)     k=2: sqrt(37) ~ 6.08 (r4)
#   r3 (6, 0)     k=1: 3 (r4)     k=2: 6 (r1)
#   r4 (6, 3)     k=1: 3 (r3)     k=2: sqrt(37) (r2)
#   r5 (-20, 0)   k=1: 20 (r1)    k=2: sqrt(404) ~ 20.1 (r2)
# Fake points, their nearest real point, and their own radii among the fakes:
#   f1 (1, 0)    r1 at 1    k=1: sqrt(17) ~ 4.12 (f2)   k=2: 10 (f3)
#   f2 (0, 4)    r2 at 2    k=1: sqrt(17) (f1)          k=2: sqrt(137) ~ 11.7 (f3)
#   f3 (11, 0)   r3 at 5    k=1: 10 (f1)                k=2: sqrt(137) (f2)
# (r5 is 21 from f1, sqrt(416) ~ 20.4 from f2 and 31 from f3.)
#
# k=1, precision: f1 is inside r1's ball (1 <= 2); f2 lies on r2's boundary (2 <= 2,
#   counted) and outside every other ball (r5's: sqrt(416) > 20); f3 is outside every
#   ball (5 > 3 for r3, sqrt(34) > 3 for r4): 2/3. Recall: r1 and r2 are inside f1's
#   ball (1 and sqrt(5) <= sqrt(17)), r3 and r4 inside f3's (5 and sqrt(34) <= 10),
#   r5 is outside all three: 4/5.
# k=2: the real balls grow and f3 is inside r3's (5 <= 6): precision 3/3. The fake
#   balls grow too, but r5 stays outside (sqrt(416) > sqrt(137)): recall 4/5.
TINY_REAL = torch.tensor([[0.0, 0.0], [0.0, 2.0], [6.0, 0.0], [6.0, 3.0], [-20.0, 0.0]])
TINY_FAKE = torch.tensor([[1.0, 0.0], [0.0, 4.0], [11.0, 0.0]])
TINY_EXPECTED = {1: (2 / 3, 4 / 5), 2: (1.0, 4 / 5)}


def brute_force(real, fake, k, *, self_counts=False, fake_radii_for_precision=False,
                swapped=False, strict=False):  # fmt: skip
    """All-pairs precision and recall, with switches for the usual mistakes."""

    def radii(points):
        distances = torch.cdist(points, points).sort(dim=1).values  # (N, N), 0 first
        return distances[:, k - 1 if self_counts else k]  # (N,)

    def inside(queries, points, point_radii):
        distances = torch.cdist(queries, points)  # (Q, P)
        within = distances < point_radii if strict else distances <= point_radii
        return within.any(dim=1).double().mean().item()

    real_radii, fake_radii = radii(real), radii(fake)
    if fake_radii_for_precision:  # a fake counts when a real point is within its own
        distances = torch.cdist(fake, real)  # (N_g, N_r)
        precision = (distances.min(dim=1).values <= fake_radii).double().mean().item()
    else:
        precision = inside(fake, real, real_radii)
    recall = inside(real, fake, fake_radii)
    return (recall, precision) if swapped else (precision, recall)


@pytest.mark.parametrize("k", [1, 2])
def test_tiny_example_gives_the_values_computed_by_hand(k):
    precision, recall = precision_recall_from_features(TINY_REAL, TINY_FAKE, k=k)
    assert precision == pytest.approx(TINY_EXPECTED[k][0], abs=1e-12)
    assert recall == pytest.approx(TINY_EXPECTED[k][1], abs=1e-12)
    assert brute_force(TINY_REAL, TINY_FAKE, k) == pytest.approx(TINY_EXPECTED[k])


@pytest.mark.parametrize(
    ("k", "mistake"),
    [
        (1, "self_counts"),  # radius 0: a point is its own nearest neighbour
        (2, "self_counts"),  # gives k=1's radii
        (1, "fake_radii_for_precision"),  # (k=2 has precision 1 either way)
        (1, "swapped"),
        (2, "swapped"),
        (1, "strict"),  # f2 lies on r2's boundary (k=2 has no point on one)
    ],
)
def test_tiny_example_tells_the_usual_mistakes_apart(k, mistake):
    """Each wrong version gives other values here, so the test above would catch it."""
    wrong = brute_force(TINY_REAL, TINY_FAKE, k, **{mistake: True})
    assert wrong != pytest.approx(TINY_EXPECTED[k])


def test_radii_are_the_kth_neighbour_not_counting_the_point_itself():
    radii = knn_radii(TINY_REAL, k=1)
    assert radii.tolist() == pytest.approx([2, 2, 3, 3, 20])
    radii = knn_radii(TINY_REAL, k=2)
    assert radii.tolist() == pytest.approx(
        [6, math.sqrt(37), 6, math.sqrt(37), math.sqrt(404)]
    )


def test_a_repeated_point_is_its_copies_neighbour():
    points = torch.tensor([[0.0, 0.0], [0.0, 0.0], [3.0, 4.0]])
    assert knn_radii(points, k=1).tolist() == pytest.approx([0, 0, 5])


@pytest.mark.parametrize("batch_size", [1, 3, 7, 4096])
def test_blocks_of_any_size_give_the_all_pairs_answer(batch_size):
    gen = torch.Generator().manual_seed(0)
    real = torch.randn(50, 6, generator=gen, dtype=torch.float64)
    fake = torch.randn(37, 6, generator=gen, dtype=torch.float64) * 0.7 + 0.3
    expected = torch.cdist(real, real).sort(dim=1).values[:, 3]  # (50,)
    assert torch.allclose(knn_radii(real, 3, batch_size), expected)
    result = precision_recall_from_features(real, fake, 3, batch_size)
    assert result == pytest.approx(brute_force(real, fake, 3))
    assert result == precision_recall_from_features(real, fake, 3)


def test_in_manifold_includes_the_boundary():
    points = torch.tensor([[0.0, 0.0]])
    queries = torch.tensor([[3.0, 4.0], [3.0, 4.1]])
    assert in_manifold(queries, points, torch.tensor([5.0])).tolist() == [True, False]


# ---- behaviour on samples from known distributions ---------------------------------


def gaussian(n, dim=2, mean=0.0, std=1.0, seed=0):
    """n draws of N(mean, std^2 I) in `dim` dimensions, float64."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, dim, generator=gen, dtype=torch.float64) * std + mean


def test_two_samples_of_one_distribution_score_about_one_each():
    # 2-D standard normal, 2,000 points per set, k = 3: only points in the far tails
    # fall outside the other set's balls (both came out at 0.98 with these seeds);
    # the tolerance: both within 0.05 of 1
    precision, recall = precision_recall_from_features(
        gaussian(2000, seed=1), gaussian(2000, seed=2)
    )
    assert precision > 0.95 and recall > 0.95


def test_a_collapsed_generator_has_precision_but_no_recall():
    real = gaussian(500, seed=1)
    noise = gaussian(500, seed=2) * 1e-3
    collapsed = real[0] + noise  # every sample within ~0.003 of one real point
    precision, recall = precision_recall_from_features(real, collapsed)
    assert precision == 1.0  # all inside real[0]'s ball
    assert recall <= 1 / 500  # the fake balls are tiny: at most real[0] is covered


def test_disjoint_distributions_score_zero():
    result = precision_recall_from_features(
        gaussian(300, seed=1), gaussian(300, mean=50.0, seed=2)
    )
    assert result == (0.0, 0.0)


def test_a_larger_k_never_lowers_either_figure():
    real = gaussian(400, dim=8, seed=1)
    fake = gaussian(400, dim=8, mean=0.3, std=0.6, seed=2)  # narrower, shifted
    results = [precision_recall_from_features(real, fake, k=k) for k in (1, 3, 10)]
    for smaller, larger in zip(results, results[1:], strict=False):
        assert larger.precision >= smaller.precision
        assert larger.recall >= smaller.recall
    assert results[-1].precision > results[0].precision + 0.1
    assert results[-1].recall > results[0].recall + 0.1
    # the narrow fake set sits inside the real one: precision beats recall
    assert results[1].precision > results[1].recall + 0.2


def test_bad_input_is_one_clear_error():
    with pytest.raises(UsageError, match="k=4 or less"):
        precision_recall_from_features(TINY_REAL, torch.randn(5, 2), k=5)
    with pytest.raises(UsageError, match="k=2 or less"):
        precision_recall_from_features(TINY_REAL, TINY_FAKE, k=3)
    with pytest.raises(UsageError, match="same feature network"):
        precision_recall_from_features(TINY_REAL, torch.randn(4, 3))
    with pytest.raises(UsageError, match="at least 1"):
        precision_recall_from_features(TINY_REAL, TINY_FAKE, k=0)
    with pytest.raises(UsageError, match="NaN"):
        knn_radii(torch.tensor([[0.0, 1.0], [float("nan"), 0.0]]), k=1)
    with pytest.raises(UsageError, match="one radius per point"):
        in_manifold(TINY_FAKE, TINY_REAL, torch.ones(3))


# ---- on the judge's features -------------------------------------------------------


def test_features_are_the_ones_fid_reads(judge, held_out):
    images = held_out.images[:64]
    fid_features = ClassifierFeatures(judge)((images + 1) / 2)  # as torchmetrics does
    assert torch.allclose(classifier_features(judge, images), fid_features, atol=1e-5)


def test_one_digit_only_is_precise_but_misses_most_of_the_data(judge, mnist, held_out):
    real = held_out.images[::2]  # (500, 1, 28, 28), 50 of each digit
    threes = mnist.images[mnist.labels == 3][:200]  # real training 3s: one class only
    precision, recall = precision_recall(judge, real, threes)
    # real digits against real digits of every class: both about 0.86-0.89 at this
    # size (k = 3, 128 features); one class keeps precision (0.84) and loses recall
    # (0.11: only the held-out 3s, a tenth, are covered)
    assert precision > 0.7
    assert recall < 0.2
    other = mnist.images[::8]  # (500, 1, 28, 28) training digits of every class
    assert min(precision_recall(judge, real, other)) > 0.7
    assert isinstance(precision_recall(judge, real, threes), PrecisionRecall)
