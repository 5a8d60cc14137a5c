"""Notebook 03's primer checks pass the right answers and name the usual mistakes."""

import numpy as np
import pytest

from gancourse.checks.core import ExerciseError
from gancourse.checks.divergences import check_optimal_d, check_value_at_optimum


def stub(*args):
    raise NotImplementedError


def xlogy(x, y):
    """x log y, with 0 where x = 0 (0 log 0 = 0)."""
    return np.where(x > 0, x * np.log(np.where(x > 0, y, 1.0)), 0.0)


def kl(p, q):
    """KL(p || q) in nats; inf where q = 0 < p."""
    if np.any((q == 0) & (p > 0)):
        return np.inf
    return float(xlogy(p, p / np.where(q > 0, q, 1.0)).sum())


def js(p, q):
    """JS(p || q) in nats, through the mixture m."""
    m = (p + q) / 2
    return kl(p, m) / 2 + kl(q, m) / 2


def optimal_d(p, q):
    return p / (p + q)


def value_at_optimum(p, q):
    return 2 * js(p, q) - np.log(4)


def value_from_the_definition(p, q):
    """V(D*, G) = sum p log D* + sum q log(1 - D*), straight from V's definition."""
    d = p / (p + q)
    return float(xlogy(p, d).sum() + xlogy(q, 1 - d).sum())


def naive_kl(p, q):
    """KL without 0 log 0 = 0: nan where p = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float((p * np.log(p / q)).sum())


def naive_value(p, q):
    m = (p + q) / 2
    return naive_kl(p, m) + naive_kl(q, m) - np.log(4)


def value_summed_over_the_first_axis(p, q):
    """Sums only along axis 0: right for 1-D arrays, an array for 2-D ones."""
    m = (p + q) / 2
    js_terms = xlogy(p, p / m).sum(axis=0) / 2 + xlogy(q, q / m).sum(axis=0) / 2
    return 2 * js_terms - np.log(4)


def test_optimal_d_check_accepts_the_solution(capsys):
    check_optimal_d(optimal_d)
    assert "Correct" in capsys.readouterr().out


def _in_place(p, q):
    p /= p + q
    return p


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (stub, "not written yet"),
        (lambda p, q: q / (p + q), "generated"),
        (lambda p, q: p / q, "density ratio"),
        (lambda p, q: np.full_like(p, 0.5), "only when q = p"),
        (lambda p, q: (p / (p + q)).ravel(), "shape"),
        (lambda p, q: p / (p + q + 1e-3), "at x = "),
        (_in_place, "changed the distributions"),
        (lambda p, q: None, "returns nothing"),
    ],
)
def test_optimal_d_check_names_the_mistake(answer, says):
    with np.errstate(divide="ignore", invalid="ignore"):
        with pytest.raises(ExerciseError, match=says):
            check_optimal_d(answer)


@pytest.mark.parametrize("answer", [value_at_optimum, value_from_the_definition])
def test_value_at_optimum_check_accepts_both_routes(answer, capsys):
    check_value_at_optimum(answer)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (stub, "not written yet"),
        (lambda p, q: (2 * js(p, q) - np.log(4)) / np.log(2), "bits"),
        (lambda p, q: 2 * js(p, q) / np.log(2) - np.log(4), "bits"),
        (lambda p, q: 2 * js(p, q), "left out the - log 4"),
        (lambda p, q: 2 * kl(p, q) - np.log(4), "JS is not KL\\(p \\|\\| q\\)"),
        (lambda p, q: 2 * kl(q, p) - np.log(4), "KL\\(q \\|\\| p\\)"),
        (lambda p, q: 4 * js(p, q) - np.log(4), "factor 1/2"),
        (lambda p, q: js(p, q) - np.log(4), "factor 2 is missing"),
        (lambda p, q: np.log(4) - 2 * js(p, q), "sign is flipped"),
        (lambda p, q: 2 * js(p, q) / p.size - np.log(4), "not a mean"),
        (naive_value, "0 log 0 counts as 0"),
        (value_summed_over_the_first_axis, "one number"),
        (lambda p, q: np.array([value_at_optimum(p, q)] * 2), "one number"),
        (lambda p, q: -np.log(4), "you give -1.38629"),
    ],
)
def test_value_at_optimum_check_names_the_mistake(answer, says):
    with pytest.raises(ExerciseError, match=says):
        check_value_at_optimum(answer)


def test_the_reference_agrees_with_the_definition_of_v():
    """2 JS - log 4 (entropies) equals V(D*, G) computed from D* on every input."""
    from gancourse.checks.divergences import LOG4, js_divergence, probe_inputs

    for p, q in probe_inputs():
        assert np.isclose(
            2 * js_divergence(p, q) - LOG4, value_from_the_definition(p, q)
        )
        assert -LOG4 - 1e-12 <= 2 * js_divergence(p, q) - LOG4 <= 1e-12
