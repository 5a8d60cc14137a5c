"""Checks for notebook 01's exercises: sigmoid backward, numerical gradient."""

from __future__ import annotations

import numpy as np

from gancourse.checks.coerce import as_array
from gancourse.checks.compare import Mistake, close, first_mistake
from gancourse.checks.core import ExerciseError, call_student
from gancourse.checks.probes import call_on
from gancourse.checks.reference import sigmoid

_ANY_SHAPE = (
    "Use whole-array operations (np.exp, *, -) rather than loops over rows and "
    "columns, so that any shape works."
)
_INTEGER = (
    "np.zeros_like(z) and np.empty_like(z) copy z's integer dtype, so every value "
    "stored in them is cut to a whole number. Compute with whole-array operations, "
    "or make the array float: np.zeros_like(z, dtype=float)."
)


def check_sigmoid_backward(sigmoid_backward) -> None:
    """Check sigmoid_backward(z, grad_out) returns grad_out * s * (1 - s)."""
    rng = np.random.default_rng(0)
    z = rng.normal(0, 2, (4, 3))
    grad_out = rng.normal(0, 1, (4, 3))
    z_before = z.copy()
    out = call_student(sigmoid_backward, z, grad_out)
    s = sigmoid(z)
    if not np.array_equal(z, z_before):
        raise ExerciseError("sigmoid_backward changed z in place: compute a new array.")
    out = as_array(out, "the result of sigmoid_backward", z.shape, like="z")
    mistakes = [
        Mistake(
            "you returned the local derivative s(1 - s) alone: the chain rule "
            "multiplies it by the gradient arriving from above, grad_out.",
            s * (1 - s),
        ),
        Mistake(
            "you multiplied by s = sigmoid(z), not by its derivative s * (1 - s).",
            grad_out * s,
        ),
        Mistake(
            "you used z * (1 - z): the derivative is s * (1 - s) with s = sigmoid(z), "
            "the output of the forward pass, not its input z.",
            grad_out * z * (1 - z),
        ),
    ]
    if not close(out, grad_out * s * (1 - s), atol=1e-10):
        raise ExerciseError(
            first_mistake(out, mistakes)
            or "the values are wrong: with z = 0 and grad_out = 1 the answer is "
            "0.25 * 1 = 0.25, and it should be grad_out * s * (1 - s) everywhere."
        )
    _check_other_inputs(sigmoid_backward)
    print("Correct: the gradient is grad_out * s * (1 - s), for any shape.")


def _check_other_inputs(sigmoid_backward) -> None:
    """The other shapes the exercise asks for, and integer z."""
    rng = np.random.default_rng(1)
    cases = [
        ("a 1-D z of shape (5,)", rng.normal(0, 2, 5), rng.normal(0, 1, 5)),
        ("a z of shape (2, 3, 4)", rng.normal(0, 2, (2, 3, 4)), rng.normal(0, 1, 24)),
        ("the integer z = [-3, 0, 2]", np.array([-3, 0, 2]), np.array([1.0, 2, -1])),
    ]
    for case, z, grad_out in cases:
        grad_out = grad_out.reshape(z.shape)
        out = call_on(case, sigmoid_backward, z, grad_out, hint=_ANY_SHAPE)
        out = as_array(out, f"the result for {case}", z.shape, like="z")
        s = sigmoid(z)
        if not close(out, grad_out * s * (1 - s), atol=1e-10):
            rounded = np.trunc(grad_out * s * (1 - s))
            first = np.round(out.ravel()[:3], 4).tolist()
            raise ExerciseError(
                f"right for a (4, 3) array but not for {case}: you give {first}"
                f"{'...' if out.size > 3 else ''}. "
                + (_INTEGER if close(out, rounded) else _ANY_SHAPE)
            )


def check_numerical_gradient(numerical_gradient) -> None:
    """Check numerical_gradient(f, x, h) uses central differences and leaves x as is."""
    x = np.array([0.5, -1.0, 2.0])
    before = x.copy()

    def cubic(v):
        return float(np.sum(v**3) + v[0] * v[1])

    exact = 3 * x**2 + np.array([x[1], x[0], 0.0])
    out = call_student(numerical_gradient, cubic, x, 1e-3)
    if not np.array_equal(x, before):
        raise ExerciseError(
            "x was changed by numerical_gradient: after nudging x[i], put it back "
            "(or nudge a copy)."
        )
    out = as_array(
        out, "the gradient", x.shape, like="x, one partial derivative per entry"
    )
    nudges = 1e-3 * np.eye(len(x))
    forward = np.array([(cubic(x + e) - cubic(x)) / 1e-3 for e in nudges])
    central = np.array([(cubic(x + e) - cubic(x - e)) / 2e-3 for e in nudges])
    mistakes = [
        Mistake(
            "that is a forward difference (f(x + h) - f(x)) / h, whose error shrinks "
            "like h; use the central difference (f(x + h) - f(x - h)) / (2h), whose "
            "error shrinks like h**2.",
            forward,
        ),
        Mistake("twice too big: divide by 2h, not by h.", 2 * central),
    ]
    if not close(out, exact, atol=1e-5):
        raise ExerciseError(
            first_mistake(out, mistakes)
            or f"for f(x) = sum(x**3) + x0*x1 at {x.tolist()} the gradient is "
            f"{exact.tolist()}, you give {np.round(out, 6).tolist()}."
        )
    _check_h_and_integers(numerical_gradient)
    print("Correct: central differences, accurate to about h**2.")


def _check_h_and_integers(numerical_gradient) -> None:
    """The step h is used, and an integer x gives float gradients."""
    x = np.array([0.5, -1.0, 2.0])
    h = 0.5  # for x**3 the central difference is 3 x**2 + h**2: h shows
    out = call_on(f"h = {h}", numerical_gradient, _cubic, x, h)
    out = as_array(out, f"the gradient for h = {h}", x.shape, like="x")
    with_h = 3 * x**2 + h**2 + np.array([x[1], x[0], 0.0])
    if not close(out, with_h, atol=1e-8):
        ignored = close(out, with_h - h**2, atol=1e-4)
        raise ExerciseError(
            "your function ignores its argument h: called with h = 0.5 it still "
            "gives the exact gradient. Nudge by the h you are given (x + h e_i), "
            "not by a fixed step."
            if ignored
            else f"with h = {h} the central differences of this f are "
            f"{with_h.tolist()} (3x**2 + h**2 for x**3); you give "
            f"{np.round(out, 6).tolist()}: divide by 2 * h, the h you are given."
        )
    x = np.array([1, -2, 3])  # integers: a copy of x stays integer
    case = f"the integer x = {x.tolist()}"
    out = call_on(case, numerical_gradient, _sevenths, x, 1e-4)
    out = as_array(out, "the gradient for an integer x", x.shape, like="x")
    exact = 3 * x**2 / 7 + np.array([x[1], x[0], 0.0]) / 2
    if not close(out, exact, atol=1e-5):
        raise ExerciseError(
            f"for the integer x = {x.tolist()} the gradient is "
            f"{np.round(exact, 4).tolist()}; you give {np.round(out, 4).tolist()}. "
            "A copy of an integer array stays integer, so x[i] + h is cut back to a "
            "whole number, and np.zeros_like(x) cuts the results too. Nudge with a "
            "float step, x + step with step = np.zeros_like(x, dtype=float), and "
            "store the gradient in a float array."
        )


def _cubic(v):
    """sum(v**3) + v0 * v1: the function whose gradient the checks estimate."""
    return float(np.sum(v**3) + v[0] * v[1])


def _sevenths(v):
    """A cubic whose gradient at whole numbers is not a whole number."""
    return float(np.sum(v**3) / 7 + v[0] * v[1] / 2)
