"""Checks for notebook 03's exercises: the generator's loss and counting modes."""

from __future__ import annotations

import numpy as np

from gancourse.checks.coerce import as_array, as_float
from gancourse.checks.compare import Mistake, close, first_mistake
from gancourse.checks.core import ExerciseError, call_student
from gancourse.checks.probes import call_on
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
    whole = np.array([[-3], [0], [2]])  # integer scores: the results are not
    loss, grad = _loss_and_gradient(
        call_on("integer scores", non_saturating_loss, whole), whole
    )
    want_loss, want_grad = bce_with_logits_numpy(whole.astype(float), 1.0)
    if not (close(loss, want_loss, rtol=1e-6) and close(grad, want_grad, rtol=1e-6)):
        raise ExerciseError(
            f"for the integer scores {whole.ravel().tolist()} the loss is "
            f"{want_loss:.4f} and the gradient {_rounded(want_grad)}; you give "
            f"{loss:.4f} and {_rounded(grad)}. An array "
            "made with np.zeros_like(scores) or np.empty_like(scores) copies their "
            "integer dtype and cuts every value stored in it to a whole number: "
            "compute with whole-array operations, or pass dtype=float."
        )
    print("Correct: the non-saturating loss and its gradient, stable at any score.")


def _rounded(values: np.ndarray) -> list[float]:
    """The values as a flat list, rounded to 4 decimals, for a message."""
    return np.round(values.ravel(), 4).tolist()


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
    _check_distances(count_modes)
    print(
        "Correct: 2 modes covered, 60% of samples high quality; high quality means "
        "a Euclidean distance of at most 3 std, a disc around each centre."
    )


# four modes with std 0.2 (3 std = 0.6), and samples that tell a disc of radius 3 std
# from a square box, from d**2 <= 3 std, from an L1 diamond and from a fixed std
_CENTRES = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0], [5.0, 5.0]])
_SAMPLES = np.array(
    [
        [0.5, 0.0],  # 2.5 std from mode 0: high quality
        [5.0, 0.7],  # 3.5 std from mode 1: not, though d**2 = 0.49 < 0.6
        [5.5, 5.5],  # 3.5 std from mode 3, at a corner of the box |dx|, |dy| <= 0.6
        [0.1, 4.9],  # 0.7 std from mode 2: high quality
        [2.5, 2.5],  # far from every mode
        [5.4, 0.4],  # 2.8 std from mode 1: high quality, though |dx| + |dy| = 0.8
    ]
)


def _euclid(offsets: np.ndarray) -> np.ndarray:
    """The Euclidean lengths of offsets (N, K, 2): (N, K)."""
    return np.sqrt((offsets**2).sum(axis=2))


def _squared(offsets: np.ndarray) -> np.ndarray:
    """Squared lengths: the usual slip of comparing d**2 with 3 std."""
    return (offsets**2).sum(axis=2)


def _box(offsets: np.ndarray) -> np.ndarray:
    """The larger of |dx| and |dy|: a square box, not a disc."""
    return np.abs(offsets).max(axis=2)


def _diamond(offsets: np.ndarray) -> np.ndarray:
    """|dx| + |dy|: the L1 distance, a diamond."""
    return np.abs(offsets).sum(axis=2)


def _count(samples, centres, threshold: float, distance) -> tuple[int, float]:
    """(modes covered, high-quality share) with a given distance and threshold."""
    offsets = samples[:, None, :] - centres[None, :, :]  # (N, K, 2)
    distances = distance(offsets)  # (N, K)
    good = distances.min(axis=1) <= threshold
    return len(np.unique(distances.argmin(axis=1)[good])), float(good.mean())


def _check_distances(count_modes) -> None:
    """Distances in a disc of radius 3 std, with the std that is passed in."""
    std = 0.2
    out = call_on(
        "std = 0.2 and four modes", count_modes, _SAMPLES.copy(), _CENTRES.copy(), std
    )
    if not isinstance(out, tuple) or len(out) != 2:
        raise ExerciseError("return two things: (modes covered, high-quality share).")
    answer = (
        as_float(out[0], "the number of modes covered"),
        as_float(out[1], "the high-quality share"),
    )
    right = _count(_SAMPLES, _CENTRES, 3 * std, _euclid)
    if close(list(answer), list(right)):
        return
    mistakes = [
        Mistake(
            "you compare the SQUARED distance with 3 * std: d**2 <= 0.6 lets in a "
            "sample 0.7 from its centre (3.5 std, d**2 = 0.49). Compare the distance "
            "itself, np.linalg.norm(samples[:, None] - centres[None], axis=2), with "
            "3 * std (or d**2 with (3 * std)**2).",
            list(_count(_SAMPLES, _CENTRES, 3 * std, _squared)),
        ),
        Mistake(
            "you test |dx| <= 3 std and |dy| <= 3 std, a square box: its corners are "
            "3 * sqrt(2) = 4.2 std from the centre, so (5.5, 5.5), 3.5 std from the "
            "mode at (5, 5), counts as high quality. Use the Euclidean distance "
            "sqrt(dx**2 + dy**2): a disc of radius 3 std.",
            list(_count(_SAMPLES, _CENTRES, 3 * std, _box)),
        ),
        Mistake(
            "you use |dx| + |dy| (the L1 distance), a diamond that leaves out (5.4, "
            "0.4), 2.8 std from the mode at (5, 0). Use the Euclidean distance "
            "sqrt(dx**2 + dy**2).",
            list(_count(_SAMPLES, _CENTRES, 3 * std, _diamond)),
        ),
        Mistake(
            "with std = 0.2 you give the answer for std = 0.1: use the std argument "
            "(3 * std), not a fixed number.",
            list(_count(_SAMPLES, _CENTRES, 0.3, _euclid)),
        ),
    ]
    raise ExerciseError(
        first_mistake(list(answer), mistakes)
        or f"with std = 0.2 and modes at {_CENTRES.tolist()}, the samples "
        f"{_SAMPLES.tolist()} cover {right[0]} modes with a high-quality share of "
        f"{right[1]:.3f}; you give {answer[0]:g} and {answer[1]:.3f}. A sample is high "
        "quality when its Euclidean distance to the nearest centre is at most 3 * std."
    )
