"""Checks for notebook 03's exercises: the generator's loss and counting modes."""

from __future__ import annotations

import numpy as np

from gancourse.checks.coerce import as_array, as_float
from gancourse.checks.compare import Mistake, close, first_mistake
from gancourse.checks.core import ExerciseError, call_student
from gancourse.checks.reference import bce_with_logits_numpy


def _loss_and_gradient(out, scores: np.ndarray, finite: bool = True):
    """The student's (loss, gradient wrt the scores), or a plain-words error."""
    if not isinstance(out, tuple) or len(out) != 2:
        raise ExerciseError("return two things: (loss, gradient wrt the scores).")
    loss = as_float(out[0], "the loss", finite=finite)
    grad = as_array(out[1], "the gradient", scores.shape, finite=finite)
    return loss, grad


def check_non_saturating_loss(non_saturating_loss) -> None:
    """Check the loss -mean(log sigmoid(s)) and its gradient wrt the scores s."""
    scores = np.array([[-8.0], [-1.0], [0.0], [2.0]])  # (4, 1) logits of D
    out = call_student(non_saturating_loss, scores.copy())
    loss, grad = _loss_and_gradient(out, scores)
    n = len(scores)
    want_loss, want_grad = bce_with_logits_numpy(scores, 1.0)  # -log D(G(z))
    minimax_loss, minimax_grad = bce_with_logits_numpy(scores, 0.0)
    minimax = (
        "that is the minimax loss log(1 - D(G(z))): its gradient vanishes "
        "exactly when D confidently rejects the samples (score -8 here). "
        "The non-saturating loss is -log D(G(z)) = softplus(-s)."
    )
    mean = "average over the batch (a mean), not a sum."
    loss_mistakes = [
        Mistake(minimax, -minimax_loss),
        Mistake("the sign is flipped: G minimises -log D(G(z)).", -want_loss),
        Mistake(mean, want_loss * n),
    ]
    grad_mistakes = [Mistake(minimax, -minimax_grad), Mistake(mean, want_grad * n)]
    message = first_mistake(loss, loss_mistakes, expected=want_loss) or first_mistake(
        grad, grad_mistakes, expected=want_grad
    )
    if message:
        raise ExerciseError(message)
    if not close(loss, want_loss, rtol=1e-6):
        raise ExerciseError(
            f"for scores {scores.ravel().tolist()} the loss is {want_loss:.4f}, "
            f"you give {loss:.4f}."
        )
    if not close(grad, want_grad, rtol=1e-6):
        raise ExerciseError(
            "the loss is right but the gradient is not: d/ds softplus(-s) is "
            "-(1 - sigmoid(s)), divided by the batch size for the mean."
        )
    big = np.array([[-1000.0], [1000.0]])
    loss, grad = _loss_and_gradient(
        call_student(non_saturating_loss, big), big, finite=False
    )
    if not (np.isfinite(loss) and np.isfinite(grad).all()):
        raise ExerciseError(
            "scores of -1000 or 1000 give inf or nan: use np.logaddexp(0, -s) for "
            "softplus(-s) rather than log(1 + exp(-s))."
        )
    print("Correct: the non-saturating loss and its gradient, stable at any score.")


def check_count_modes(count_modes) -> None:
    """Check count_modes(samples, centres, std) -> (modes covered, good share)."""
    centres = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    std = 0.1
    samples = np.array(
        [
            [0.05, 0.0],  # good sample of mode 0
            [0.0, -0.1],  # good sample of mode 0
            [4.0, 0.2],  # good sample of mode 1 (2 std away)
            [2.1, 0.0],  # between modes 0 and 1: nearest is mode 1, far from both
            [0.0, 2.5],  # nearest is mode 2, but 15 std away
        ]
    )
    out = call_student(count_modes, samples.copy(), centres.copy(), std)
    if not isinstance(out, tuple) or len(out) != 2:
        raise ExerciseError("return two things: (modes covered, high-quality share).")
    covered = as_float(out[0], "the number of modes covered")
    quality = as_float(out[1], "the high-quality share")
    quality_mistakes = [
        Mistake(
            "every sample is called high quality: compare each sample's distance "
            "to its nearest centre with 3 * std.",
            1.0,
        ),
        Mistake("the second value is a share of samples, between 0 and 1.", 3),
        Mistake(
            "the sample 2 std away is high quality too: the threshold is 3 std, "
            "not 1 std.",
            2 / 5,
        ),
    ]
    if message := first_mistake(quality, quality_mistakes):
        raise ExerciseError(message)
    if covered == 3:
        raise ExerciseError(
            "you count a mode as covered by samples far from it (15 std away): "
            "only high-quality samples, within 3 std of their nearest centre, count."
        )
    if not close(quality, 3 / 5):
        raise ExerciseError(
            f"3 of the 5 samples are within 3 std of a centre (share 0.6); you give "
            f"{quality:.3f}."
        )
    if covered != 2:
        raise ExerciseError(
            "two modes have a high-quality sample (modes 0 and 1); "
            f"you count {covered:g}."
        )
    print("Correct: 2 modes covered, 60% of samples high quality.")
