"""Checks for notebook 03's exercises: the generator's loss and counting modes."""

from __future__ import annotations

import numpy as np

from gancourse.checks.core import ExerciseError, call_student


def _softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + exp(x)), without overflow."""
    return np.logaddexp(0, x)


def check_non_saturating_loss(non_saturating_loss) -> None:
    """Check the loss -mean(log sigmoid(s)) and its gradient wrt the scores s."""
    scores = np.array([[-8.0], [-1.0], [0.0], [2.0]])  # (4, 1) logits of D
    out = call_student(non_saturating_loss, scores.copy())
    if not isinstance(out, tuple) or len(out) != 2:
        raise ExerciseError("return two things: (loss, gradient wrt the scores).")
    loss, grad = float(out[0]), np.asarray(out[1], dtype=float)
    probability = 1 / (1 + np.exp(-scores))
    expected_loss = float(_softplus(-scores).mean())
    expected_grad = -(1 - probability) / len(scores)
    if grad.shape != scores.shape:
        raise ExerciseError(
            f"the gradient should have the scores' shape {scores.shape}."
        )
    minimax_loss = float(-_softplus(scores).mean())
    if np.isclose(loss, minimax_loss) or np.allclose(grad, -probability / len(scores)):
        raise ExerciseError(
            "that is the minimax loss log(1 - D(G(z))): its gradient vanishes "
            "exactly when D confidently rejects the samples (score -8 here). "
            "The non-saturating loss is -log D(G(z)) = softplus(-s)."
        )
    if np.isclose(loss, -expected_loss):
        raise ExerciseError("the sign is flipped: G minimises -log D(G(z)).")
    if np.isclose(loss, expected_loss * len(scores)) or np.allclose(
        grad, expected_grad * len(scores)
    ):
        raise ExerciseError("average over the batch (a mean), not a sum.")
    if not np.isclose(loss, expected_loss, rtol=1e-6):
        raise ExerciseError(
            f"for scores {scores.ravel().tolist()} the loss is {expected_loss:.4f}, "
            f"you give {loss:.4f}."
        )
    if not np.allclose(grad, expected_grad, rtol=1e-6):
        raise ExerciseError(
            "the loss is right but the gradient is not: d/ds softplus(-s) is "
            "-(1 - sigmoid(s)), divided by the batch size for the mean."
        )
    big = call_student(non_saturating_loss, np.array([[-1000.0], [1000.0]]))
    if not np.all(np.isfinite(np.asarray(big[1], dtype=float))) or not np.isfinite(
        float(big[0])
    ):
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
    covered, quality = int(out[0]), float(out[1])
    if np.isclose(quality, 1.0):
        raise ExerciseError(
            "every sample is called high quality: compare each sample's distance "
            "to its nearest centre with 3 * std."
        )
    if covered == 3:
        raise ExerciseError(
            "you count a mode as covered by samples far from it (15 std away): "
            "only high-quality samples, within 3 std of their nearest centre, count."
        )
    if np.isclose(quality, 3):
        raise ExerciseError("the second value is a share of samples, between 0 and 1.")
    if np.isclose(quality, 2 / 5):
        raise ExerciseError(
            "the sample 2 std away is high quality too: the threshold is 3 std, "
            "not 1 std."
        )
    if not np.isclose(quality, 3 / 5):
        raise ExerciseError(
            f"3 of the 5 samples are within 3 std of a centre (share 0.6); you give "
            f"{quality:.3f}."
        )
    if covered != 2:
        raise ExerciseError(
            "two modes have a high-quality sample (modes 0 and 1); "
            f"you count {covered}."
        )
    print("Correct: 2 modes covered, 60% of samples high quality.")
