"""Notebook 09's checks pass the right answers and name the usual mistakes."""

import math

import pytest
import torch

from gancourse.checks.core import ExerciseError
from gancourse.checks.evaluating_gans import (
    check_fid_from_features,
    check_inception_score,
    check_nearest_distances,
    reference_fid,
)

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny models, busy machine


def stub(*args):
    raise NotImplementedError


# ---- exercise 1: the Inception Score ----------------------------------------------


def inception_score(probs):
    marginal = probs.mean(dim=0, keepdim=True)  # (1, K)
    kl = (torch.xlogy(probs, probs) - torch.xlogy(probs, marginal)).sum(dim=1)
    return kl.mean().exp().item()


def _kl(p, q):
    return (p * (p.log() - q.log())).sum(dim=1)


def _naive_log(probs):
    return _kl(probs, probs.mean(dim=0, keepdim=True)).mean().exp().item()


def _clamped(probs):
    p = probs.clamp_min(1e-12)
    return _kl(p, p.mean(dim=0, keepdim=True)).mean().exp()


def _entropy_form(probs):
    """exp(H(y) - mean H(y|x)): the same number written another way."""
    marginal = probs.mean(dim=0)
    entropy = -torch.xlogy(marginal, marginal).sum()
    conditional = -torch.xlogy(probs, probs).sum(dim=1).mean()
    return torch.exp(entropy - conditional)


def _with_kl(kl_of):
    """An IS built from a wrong per-image KL, on safe (clamped) probabilities."""

    def answer(probs):
        p = probs.clamp_min(1e-12)
        return kl_of(p).mean().exp().item()

    return answer


def _xlogy_of_the_ratio(probs):
    """Finite while every class is predicted; 0 / 0 = NaN when one is not."""
    marginal = probs.mean(dim=0, keepdim=True)
    return torch.xlogy(probs, probs / marginal).sum(dim=1).mean().exp().item()


def _clamped_p_only(probs):
    marginal = probs.mean(dim=0, keepdim=True)
    kl = probs * (probs.clamp_min(1e-12).log() - marginal.log())  # log 0 = -inf
    return kl.sum(dim=1).mean().exp().item()


def _eps_on_the_cpu(probs):
    eps = torch.full(probs.shape, 1e-12)  # no device=
    p = probs + eps
    return _kl(p, p.mean(dim=0, keepdim=True)).mean().exp().item()


def _no_exp(probs):
    p = probs.clamp_min(1e-12)
    return _kl(p, p.mean(dim=0, keepdim=True)).mean().item()


def _mean_of_exp(probs):
    p = probs.clamp_min(1e-12)
    return _kl(p, p.mean(dim=0, keepdim=True)).exp().mean().item()


def _summed_over_images(probs):
    p = probs.clamp_min(1e-12)
    return _kl(p, p.mean(dim=0, keepdim=True)).sum().exp().item()


def _per_image_vector(probs):
    p = probs.clamp_min(1e-12)
    return _kl(p, p.mean(dim=0, keepdim=True)).exp()


def test_inception_score_check_accepts_the_solution(capsys):
    check_inception_score(inception_score)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize("answer", [_clamped, _entropy_form])
def test_inception_score_check_accepts_other_correct_forms(answer, capsys):
    check_inception_score(answer)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (stub, "not written yet"),
        (_no_exp, "log IS"),
        (
            _with_kl(lambda p: _kl(p.mean(dim=0, keepdim=True).expand_as(p), p)),
            "wrong way round",
        ),
        (_with_kl(lambda p: _kl(p, p.mean(dim=1, keepdim=True))), "over the IMAGES"),
        (_with_kl(lambda p: _kl(p, p)), "computed per image"),
        (_mean_of_exp, "not the mean of exp"),
        (
            _with_kl(lambda p: _kl(p, p.log().mean(dim=0, keepdim=True).exp())),
            "mean of the logs",
        ),
        (
            _with_kl(lambda p: _kl(p, p.mean(dim=0, keepdim=True)) / p.shape[1]),
            "averaged over the classes",
        ),
        (_summed_over_images, "summed the KL over the images"),
        (_naive_log, "NaN"),
        (_xlogy_of_the_ratio, "NaN for rows that never predict class 4.*0 / 0"),
        (_clamped_p_only, "NaN for rows that never predict class 4"),
        (_eps_on_the_cpu, "would fail on a GPU.*device=x.device"),
        (_per_image_vector, "one number"),
        (lambda p: inception_score(p) + 0.1, "yours is"),
        (lambda p: "high", "should be one number"),
    ],
)
def test_inception_score_check_names_the_mistake(answer, says):
    with pytest.raises(ExerciseError, match=says):
        check_inception_score(answer)


# ---- exercise 2: FID from features ------------------------------------------------


def fid_from_features(features_a, features_b):
    mu_a, mu_b = features_a.mean(dim=0), features_b.mean(dim=0)
    s_a, s_b = torch.cov(features_a.T), torch.cov(features_b.T)
    cross = torch.linalg.eigvals(s_a @ s_b).sqrt().real.sum()
    return ((mu_a - mu_b).square().sum() + s_a.trace() + s_b.trace() - 2 * cross).item()


def _fid_with(mean_term=None, cov=None, cross=None, factor=2.0, rooted=False):
    """A FID with one part replaced by a usual mistake."""

    def answer(fa, fb):
        covariance = cov or (lambda f: torch.cov(f.T))
        s_a, s_b = covariance(fa), covariance(fb)
        means = (mean_term or (lambda a, b: (a.mean(0) - b.mean(0)).square().sum()))(
            fa, fb
        )
        crossed = (
            cross or (lambda x, y: torch.linalg.eigvals(x @ y).sqrt().real.sum())
        )(s_a, s_b)
        value = means + s_a.trace() + s_b.trace() - factor * crossed
        return value.sqrt() if rooted else value

    return answer


def _diagonal_only(fa, fb):
    means = (fa.mean(0) - fb.mean(0)).square().sum()
    return means + (fa.std(0) - fb.std(0)).square().sum()


def _complex_result(fa, fb):
    s_a, s_b = torch.cov(fa.T), torch.cov(fb.T)
    cross = torch.linalg.eigvals(s_a @ s_b).sqrt().sum()  # no .real
    return (
        (fa.mean(0) - fb.mean(0)).square().sum() + s_a.trace() + s_b.trace() - 2 * cross
    )


def _scipy_sqrtm(fa, fb):
    scipy_linalg = pytest.importorskip("scipy.linalg")
    a, b = fa.double().numpy(), fb.double().numpy()
    s_a, s_b = torch.cov(torch.from_numpy(a).T), torch.cov(torch.from_numpy(b).T)
    root = scipy_linalg.sqrtm((s_a @ s_b).numpy()).real
    means = ((a.mean(0) - b.mean(0)) ** 2).sum()
    return float(means + s_a.trace() + s_b.trace() - 2 * root.trace())


def test_fid_check_accepts_the_solution(capsys):
    check_fid_from_features(fid_from_features)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "answer",
    [
        _scipy_sqrtm,
        _fid_with(
            cross=lambda x, y: torch.linalg.eigvals(x @ y).real.clamp(0).sqrt().sum()
        ),
    ],
)
def test_fid_check_accepts_scipy_sqrtm_and_clamped_eigenvalues(answer, capsys):
    check_fid_from_features(answer)
    assert "Correct" in capsys.readouterr().out


def test_reference_fid_is_torchmetrics_formula():
    fid_module = pytest.importorskip("torchmetrics.image.fid")
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(50, 4, generator=gen, dtype=torch.float64)
    b = torch.randn(60, 4, generator=gen, dtype=torch.float64) * 1.5 + 0.3
    expected = fid_module._compute_fid(
        a.mean(0), torch.cov(a.T), b.mean(0), torch.cov(b.T)
    )
    assert math.isclose(reference_fid(a, b), expected.item(), rel_tol=1e-9)
    assert abs(reference_fid(a, a)) < 1e-9


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (stub, "not written yet"),
        (
            _fid_with(mean_term=lambda a, b: (a.mean(0) - b.mean(0)).norm()),
            "not squared",
        ),
        (_fid_with(cross=lambda x, y: (x @ y).trace()), "square root is missing"),
        (
            _fid_with(cross=lambda x, y: (x @ y).trace().sqrt()),
            "square root of the trace",
        ),
        (_fid_with(factor=1.0), "factor 2"),
        (_fid_with(cov=lambda f: torch.cov(f.T, correction=0)), "divide by N"),
        (_fid_with(cov=torch.cov), "N x N"),
        (_diagonal_only, "only each feature's variance"),
        (_fid_with(rooted=True), "returned the square root"),
        (_fid_with(mean_term=lambda a, b: torch.zeros(())), "mean term"),
        (
            lambda fa, fb: (fa.mean(0) - fb.mean(0)).square().sum(),
            "covariance part",
        ),
        (
            _fid_with(mean_term=lambda a, b: (a.mean(1) - b.mean(1)).square().sum()),
            "one number per IMAGE",
        ),
        (_fid_with(cross=lambda x, y: (x @ y).sqrt().trace()), "each ENTRY"),
        (_fid_with(cross=lambda x, y: (x @ y).sqrt().sum()), "NaN"),
        (_complex_result, "complex"),
        (
            _fid_with(cross=lambda x, y: torch.linalg.eigvals(x @ y).real.sqrt().sum()),
            "NaN for 4 and 5 vectors of 16 features.*a hair below 0",
        ),
        (lambda fa, fb: fid_from_features(fa, fb) * 1.1, "yours is"),
    ],
)
def test_fid_check_names_the_mistake(answer, says):
    with pytest.raises(ExerciseError, match=says):
        check_fid_from_features(answer)


# ---- exercise 3: nearest training image -------------------------------------------


def nearest_distances(samples, train):
    return torch.cdist(samples.flatten(1), train.flatten(1)).min(dim=1).values


def _matrix(samples, train):
    return torch.cdist(samples.flatten(1), train.flatten(1))  # (N, M)


def _flattened_as_square(samples, train):
    n, c, h, _ = samples.shape
    flat = samples.reshape(n, c * h * h)  # right only for square images
    return torch.cdist(flat, train.reshape(len(train), c * h * h)).min(dim=1).values


def _filled_on_the_cpu(samples, train):
    out = torch.zeros(len(samples), dtype=samples.dtype)  # no device=
    for i, sample in enumerate(samples):
        out[i] = (train.flatten(1) - sample.flatten()).norm(dim=1).min()
    return out


def test_nearest_distances_check_accepts_the_solution(capsys):
    check_nearest_distances(nearest_distances)
    assert "Correct" in capsys.readouterr().out


def test_nearest_distances_check_accepts_broadcasting(capsys):
    def broadcast(samples, train):
        differences = samples.flatten(1)[:, None] - train.flatten(1)[None]
        return differences.square().sum(dim=2).sqrt().min(dim=1).values

    check_nearest_distances(broadcast)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (stub, "not written yet"),
        (lambda s, t: _matrix(s, t).square().min(dim=1).values, "SQUARED"),
        (
            lambda s, t: (s.flatten(1) - t.flatten(1).mean(dim=0)).norm(dim=1),
            "MEAN training image",
        ),
        (lambda s, t: _matrix(s, t)[:, 0], "first training image only"),
        (lambda s, t: _matrix(s, t).mean(dim=1), "averaged the distances"),
        (lambda s, t: _matrix(s, t).max(dim=1).values, "farthest"),
        (
            lambda s, t: torch.cdist(s.flatten(1), t.flatten(1), p=1).min(dim=1).values,
            "L1",
        ),
        (
            lambda s, t: (_matrix(s, t) / s[0].numel() ** 0.5).min(dim=1).values,
            "root mean",
        ),
        (lambda s, t: _matrix(s, t).min(dim=0).values, "one value per TRAINING image"),
        (lambda s, t: _matrix(s, t).min(dim=1), "not a tuple"),
        (lambda s, t: _matrix(s, t).argmin(dim=1), "INDEX"),
        (lambda s, t: _matrix(s, t), "shape"),
        (lambda s, t: _matrix(s, t).min(dim=1).values + 0.01, "yours are"),
        (lambda s, t: _matrix(s, t).min(dim=1).values.tolist(), "as a torch tensor"),
        (_flattened_as_square, r"2 x 5 pixels.*images.flatten\(1\)"),
        (_filled_on_the_cpu, "returns a tensor on the CPU.*device="),
    ],
)
def test_nearest_distances_check_names_the_mistake(answer, says):
    with pytest.raises(ExerciseError, match=says):
        check_nearest_distances(answer)


def test_checks_leave_the_global_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    check_inception_score(inception_score)
    check_fid_from_features(fid_from_features)
    check_nearest_distances(nearest_distances)
    assert torch.equal(torch.rand(3), expected)
