"""Checks for notebook 01's exercises: sigmoid backward, numerical gradient."""

from __future__ import annotations

import numpy as np

from gancourse.checks.coerce import as_array
from gancourse.checks.compare import Mistake, close, first_mistake
from gancourse.checks.core import ExerciseError, call_student
from gancourse.checks.reference import sigmoid


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
    print("Correct: the gradient is grad_out * s * (1 - s).")


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
    print("Correct: central differences, accurate to about h**2.")
