"""Checks for notebook 03's primer: the optimal discriminator and its value.

For discrete distributions p (the data) and q (the generator) on the same points,
the discriminator that maximises V(D, G) = sum p log D + sum q log(1 - D) is
D*(x) = p(x) / (p(x) + q(x)), and V(D*, G) = 2 JS(p || q) - log 4, in nats,
with 0 log 0 = 0 (Goodfellow et al., 2014, Proposition 1 and Theorem 1).
The reference below computes JS from entropies, JS = H(m) - (H(p) + H(q)) / 2
with m = (p + q) / 2, a route the student's code does not take.
"""

from __future__ import annotations

import numpy as np

from gancourse.checks.coerce import as_array, as_float
from gancourse.checks.compare import Mistake, close, first_mistake
from gancourse.checks.core import ExerciseError, call_student

LOG4 = np.log(4.0)


def _entropy(p: np.ndarray) -> float:
    """H(p) = -sum p log p in nats, with 0 log 0 = 0."""
    positive = p[p > 0]
    return float(-(positive * np.log(positive)).sum())


def _kl(p: np.ndarray, q: np.ndarray) -> float:
    """KL(p || q) = sum p log(p / q) in nats; inf where q = 0 < p."""
    if np.any((q == 0) & (p > 0)):
        return float("inf")
    mask = p > 0
    return float((p[mask] * np.log(p[mask] / q[mask])).sum())


def js_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """JS(p || q) = H((p + q) / 2) - (H(p) + H(q)) / 2, in nats."""
    return _entropy((p + q) / 2) - (_entropy(p) + _entropy(q)) / 2


def _distribution(rng: np.random.Generator, shape, zeros=None) -> np.ndarray:
    """A random distribution of the given shape, zero where `zeros` says."""
    p = rng.uniform(0.05, 1.0, shape) ** 2  # far from uniform
    if zeros is not None:
        p[zeros] = 0.0
    return p / p.sum()


def probe_inputs() -> list[tuple[np.ndarray, np.ndarray]]:
    """(p, q) pairs: all positive (8,); zeros in each, (3, 4); p = q; disjoint."""
    rng = np.random.default_rng(7)
    positive = _distribution(rng, (8,)), _distribution(rng, (8,))
    zeros_p = np.zeros((3, 4), dtype=bool)
    zeros_p[0, 1] = zeros_p[2, 3] = True  # p = 0 where q > 0
    zeros_q = np.zeros((3, 4), dtype=bool)
    zeros_q[1, 0] = zeros_q[1, 2] = True  # q = 0 where p > 0
    with_zeros = (
        _distribution(rng, (3, 4), zeros_p),
        _distribution(rng, (3, 4), zeros_q),
    )
    same = _distribution(rng, (5,))
    disjoint_p = np.array([0.5, 0.3, 0.2, 0.0, 0.0])
    disjoint_q = np.array([0.0, 0.0, 0.0, 0.6, 0.4])
    return [positive, with_zeros, (same, same.copy()), (disjoint_p, disjoint_q)]


def _call_unchanged(function, p: np.ndarray, q: np.ndarray):
    """The student's function on (p, q), refusing an answer that changed them."""
    p_in, q_in = p.copy(), q.copy()
    out = call_student(function, p_in, q_in)
    if not (np.array_equal(p_in, p) and np.array_equal(q_in, q)):
        name = getattr(function, "__name__", "your function")
        raise ExerciseError(f"{name} changed the distributions p and q it was given.")
    return out


def check_optimal_d(optimal_d) -> None:
    """Check optimal_d(p, q) -> D*(x) = p(x) / (p(x) + q(x)), one value per x."""
    for p, q in probe_inputs():
        out = _call_unchanged(optimal_d, p, q)
        answer = as_array(out, "D*", p.shape, like="p", finite=False)
        want = p / (p + q)
        if np.isnan(answer).any():
            raise ExerciseError(
                "D* contains nan: every x here has p(x) + q(x) > 0, so "
                "p / (p + q) is a number everywhere (0 where p = 0, 1 where q = 0)."
            )
        mistakes = [
            Mistake(
                "that is q / (p + q), the probability that x is *generated*: D says "
                "how likely x is real, D*(x) = p(x) / (p(x) + q(x)) with p the data.",
                q / (p + q),
            ),
            Mistake(
                "p / q is a density ratio, not a probability: divide by p + q, the "
                "total chance of seeing x from either source.",
                np.divide(p, q, out=np.full_like(p, np.inf), where=q > 0),
            ),
            Mistake(
                "D* = 1/2 everywhere only when q = p: it depends on x through "
                "p(x) / (p(x) + q(x)).",
                np.full_like(p, 0.5),
            ),
        ]
        if message := first_mistake(answer, mistakes, expected=want):
            raise ExerciseError(message)
        if not close(answer, want):
            worst = np.unravel_index(np.abs(answer - want).argmax(), p.shape)
            raise ExerciseError(
                f"at x = {tuple(int(i) for i in worst)}, p(x) = {p[worst]:.4f} and "
                f"q(x) = {q[worst]:.4f}, so D*(x) = {want[worst]:.4f}; you give "
                f"{answer[worst]:.4f}. Maximise p log D + q log(1 - D) over D."
            )
    print("Correct: D*(x) = p(x) / (p(x) + q(x)): 0 where p = 0, 1 where q = 0.")


def check_value_at_optimum(value_at_optimum) -> None:
    """Check value_at_optimum(p, q) -> V(D*, G) = 2 JS(p || q) - log 4, in nats."""
    (p, q), with_zeros, same, disjoint = probe_inputs()
    want = 2 * js_divergence(p, q) - LOG4
    answer = as_float(_call_unchanged(value_at_optimum, p, q), "V(D*, G)")
    m = (p + q) / 2
    bits = (
        "that is the value in bits (log base 2): use the natural log, np.log, for "
        "JS and for log 4 alike, as V(D, G) does."
    )
    mistakes = [
        Mistake(bits, want / np.log(2)),
        Mistake(bits, 2 * js_divergence(p, q) / np.log(2) - LOG4),
        Mistake(
            "you left out the - log 4: V(D*, G) = 2 JS(p || q) - log 4, which is "
            "-log 4 (not 0) when q = p.",
            2 * js_divergence(p, q),
        ),
        Mistake(
            "that is 2 KL(p || q) - log 4: JS is not KL(p || q). It compares each "
            "distribution with their mixture m = (p + q) / 2: "
            "JS = KL(p || m) / 2 + KL(q || m) / 2.",
            2 * _kl(p, q) - LOG4,
        ),
        Mistake(
            "that is 2 KL(q || p) - log 4: JS is not a KL between p and q. It "
            "compares each with their mixture m = (p + q) / 2.",
            2 * _kl(q, p) - LOG4,
        ),
        Mistake(
            "JS has a factor 1/2 on each KL: JS = KL(p || m) / 2 + KL(q || m) / 2.",
            2 * (_kl(p, m) + _kl(q, m)) - LOG4,
        ),
        Mistake(
            "the factor 2 is missing: V(D*, G) = 2 JS(p || q) - log 4.",
            js_divergence(p, q) - LOG4,
        ),
        Mistake(
            "the sign is flipped: V(D*, G) = 2 JS - log 4 lies between -log 4 and 0.",
            -want,
        ),
        Mistake(
            "an expectation is a sum weighted by the probabilities, sum_x p(x) ..., "
            "not a mean over the points x.",
            2 * js_divergence(p, q) / p.size - LOG4,
        ),
    ]
    if message := first_mistake(answer, mistakes, expected=want):
        raise ExerciseError(message)
    if not close(answer, want):
        raise ExerciseError(
            f"for p = {np.round(p, 3).tolist()} and q = {np.round(q, 3).tolist()}, "
            f"V(D*, G) = 2 JS(p || q) - log 4 = {want:.5f}; you give {answer:.5f}."
        )
    for (p, q), case in (
        (with_zeros, "p and q of shape (3, 4), each with zeros where the other is not"),
        (same, "q = p, where V(D*, G) = -log 4, its smallest value"),
        (disjoint, "p and q with no point in common, where JS = log 2 and V = 0"),
    ):
        want = 2 * js_divergence(p, q) - LOG4
        answer = as_float(
            _call_unchanged(value_at_optimum, p, q), "V(D*, G)", finite=False
        )
        if np.isnan(answer) or np.isinf(answer):
            raise ExerciseError(
                f"for {case}, you give {answer}: a term 0 log 0 counts as 0 (sum "
                "only where the probability is above 0, e.g. with a mask p > 0), and "
                "JS stays finite because m = (p + q) / 2 > 0 wherever p or q is."
            )
        if not close(answer, want):
            raise ExerciseError(
                f"for {case}, V(D*, G) = {want:.5f}; you give {answer:.5f}. Sum over "
                "every entry of the arrays, whatever their shape."
            )
    print(
        "Correct: V(D*, G) = 2 JS(p || q) - log 4, from -log 4 (q = p) to 0 "
        "(no overlap)."
    )
