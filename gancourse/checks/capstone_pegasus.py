"""Checks for notebook 10's exercises: the Pegasus score and the top-k samples."""

from __future__ import annotations

import torch

from gancourse.checks.coerce import as_tensor
from gancourse.checks.compare import Mistake, close, first_mistake
from gancourse.checks.core import ExerciseError, call_student
from gancourse.checks.inputs import random_normal, random_uniform
from gancourse.checks.probes import call_on, check_device_safe, on_meta

# Rows of class probabilities (K = 4) with the horse in column 2, the bird in column 0:
# a hybrid, a confident horse, an airplane, a mostly-horse and an undecided image.
_PROBS = torch.tensor(
    [
        [0.45, 0.05, 0.45, 0.05],  # horse-bird hybrid
        [0.02, 0.02, 0.94, 0.02],  # a confident horse
        [0.05, 0.88, 0.05, 0.02],  # an airplane
        [0.08, 0.00, 0.90, 0.02],  # mostly horse, a little bird
        [0.27, 0.20, 0.27, 0.26],  # undecided
    ]
)
_HORSE, _BIRD = 2, 0


def _pegasus_mistakes(probs: torch.Tensor, horse: int, bird: int) -> list[Mistake]:
    """What the usual wrong answers return, each with what to say about it."""
    p_h, p_b = probs[:, horse], probs[:, bird]
    log = probs.clamp_min(1e-12).log()
    again = probs.softmax(dim=1)
    return [
        Mistake(
            "that is the larger of the two probabilities: a confident horse (0.94) "
            "scores as high as a Pegasus can. Take the smaller one, torch.minimum: "
            "high only when the image is both horse AND bird.",
            torch.maximum(p_h, p_b),
        ),
        Mistake(
            "that is the product p(horse) * p(bird): a mostly-horse image (0.90, "
            "0.08) scores 0.072, as much as an undecided one (0.27, 0.27) with "
            "0.073, so it still pays G to draw a plain horse. Take the minimum: "
            "0.08 against 0.27.",
            p_h * p_b,
        ),
        Mistake(
            "that is the sum p(horse) + p(bird): it is about 1 for a confident horse "
            "as for a hybrid, so it rewards anything that is horse OR bird. Take "
            "the minimum, high only for horse AND bird.",
            p_h + p_b,
        ),
        Mistake(
            "that is the mean of p(horse) and p(bird): about 0.5 for a confident "
            "horse as for a hybrid, so it rewards anything that is horse OR bird. "
            "Take the minimum, high only for horse AND bird.",
            (p_h + p_b) / 2,
        ),
        Mistake(
            "you applied softmax to probs: they are already probabilities (each row "
            "sums to 1), and a second softmax squashes them towards 1/K. Use them "
            "as they are.",
            torch.minimum(again[:, horse], again[:, bird]),
        ),
        Mistake(
            "those are log-probabilities (negative, like logits): the score should "
            "be a probability between 0 and 0.5. Use probs as they are.",
            torch.minimum(log[:, horse], log[:, bird]),
        ),
        Mistake(
            "that is the smallest probability over all K classes: use only the two "
            "columns that matter, probs[:, horse] and probs[:, bird].",
            probs.min(dim=1).values,
        ),
        Mistake(
            "you used columns 0 and 1: use the `horse` and `bird` arguments, the "
            "columns of those classes (here horse is column 2, bird column 0).",
            torch.minimum(probs[:, 0], probs[:, 1]),
        ),
    ]


def _check_pegasus_on(pegasus_score, probs: torch.Tensor, horse: int, bird: int):
    """Compare the student's score on one batch with the reference and the mistakes."""
    before = probs.clone()
    out = call_student(pegasus_score, probs, horse, bird)
    out = as_tensor(out, "the scores", dtype=torch.float64, allow_numpy=True)
    if not torch.equal(probs, before):
        raise ExerciseError("pegasus_score changed the probabilities it was given.")
    n, k = probs.shape
    if out.shape != (n,):
        rows = torch.minimum(probs[horse], probs[bird])
        if close(out, rows, atol=1e-6):
            raise ExerciseError(
                f"you took rows {horse} and {bird} of probs, which are two samples. "
                "probs is (N, K): one row per sample, one column per class. Take "
                "columns: probs[:, horse] and probs[:, bird]."
            )
        raise ExerciseError(
            f"probs has shape ({n}, {k}): the score needs one number per sample, "
            f"shape ({n},); yours has shape {tuple(out.shape)}. Take the minimum "
            "over the two classes of each sample (the wrong axis gives one number "
            "per class or per pair)."
        )
    expected = torch.minimum(probs[:, horse], probs[:, bird])
    if close(out, expected, atol=1e-6):
        return
    rows = "\n".join(f"  {[round(v, 2) for v in row.tolist()]}" for row in probs[:5])
    mistakes = _pegasus_mistakes(probs, horse, bird)
    raise ExerciseError(
        first_mistake(out, mistakes, atol=1e-6)
        or f"for the probabilities (first rows)\n{rows}\nwith horse = column {horse} "
        f"and bird = column {bird}, the scores start "
        f"{[round(v, 3) for v in expected[:5].tolist()]}; yours start "
        f"{[round(v, 3) for v in out[:5].tolist()]}."
    )


def check_pegasus_score(pegasus_score) -> None:
    """Check the per-sample minimum of p(horse) and p(bird)."""
    _check_pegasus_on(pegasus_score, _PROBS.clone(), _HORSE, _BIRD)
    logits = random_normal(50, 10, seed=0) * 3
    _check_pegasus_on(pegasus_score, logits.softmax(dim=1), 7, 2)  # CIFAR's order
    probs = on_meta(logits.softmax(dim=1), torch.float64)
    check_device_safe(
        pegasus_score, [probs, 7, 2], "pegasus_score", dtype=torch.float64
    )
    print(
        "Correct: min(p(horse), p(bird)) is high only when the classifier sees both, "
        "at most 0.5."
    )


def _unpack_top_k(out, k: int, images: torch.Tensor):
    """The (images, scores) pair the student returned, with shapes checked."""
    if not isinstance(out, tuple | list) or len(out) != 2:
        raise ExerciseError(
            "return two things, the chosen images and their scores: "
            "`return images[order], scores[order]`."
        )
    picked = as_tensor(out[0], "the chosen images").detach()
    picked_scores = as_tensor(out[1], "their scores").detach()
    shape = (k, *images.shape[1:])
    if picked.ndim == 1 and len(picked) == k:
        raise ExerciseError(
            "the first thing returned is 1-dimensional: indices or scores, not "
            f"images. Return the images themselves, shape {shape}."
        )
    if tuple(picked.shape) != shape:
        raise ExerciseError(
            f"for {len(images)} images of shape {tuple(images.shape[1:])} and k = {k} "
            f"the chosen images have shape {shape}; yours have "
            f"{tuple(picked.shape)}. Keep exactly k."
        )
    if tuple(picked_scores.shape) != (k,):
        raise ExerciseError(
            f"return k = {k} scores, shape ({k},); yours have shape "
            f"{tuple(picked_scores.shape)}."
        )
    return picked, picked_scores


def _check_top_k_on(top_k_samples, n: int, k: int, seed: int, shape=(3, 4, 4)):
    """Compare the student's choice of k of n numbered images with the reference."""
    scores = random_uniform(n, seed=seed)  # (n,), distinct with probability 1
    ids = torch.arange(n, dtype=torch.float32)
    images = ids.view(n, *[1] * len(shape)).expand(n, *shape).clone()  # all i
    before = (images.clone(), scores.clone())
    case = f"{n} rows of shape {shape} and k = {k}"
    out = call_on(
        case,
        top_k_samples,
        images,
        scores,
        k,
        hint="images may be any tensor with one row per sample: index it with the "
        "order of the scores, images[order], whatever its other dimensions.",
    )
    if not (torch.equal(images, before[0]) and torch.equal(scores, before[1])):
        raise ExerciseError(
            "top_k_samples changed the images or scores it was given (an in-place "
            "sort?): return new tensors and leave the inputs alone."
        )
    picked, picked_scores = _unpack_top_k(out, k, images)
    best = scores.argsort(descending=True)[:k]  # (k,), highest first
    if not torch.equal(picked_scores, scores[best]):
        lowest = scores.argsort()[:k]
        if k < n and (
            torch.equal(picked_scores, scores[lowest])
            or torch.equal(picked_scores, scores[lowest.flip(0)])
        ):
            raise ExerciseError(
                "you picked the k LOWEST scores, the least Pegasus-like samples: "
                "sort in descending order (scores.argsort(descending=True), or "
                "torch.topk)."
            )
        if torch.equal(picked_scores, scores[best.flip(0)]):
            raise ExerciseError(
                "the right k scores but lowest first: the best sample must come "
                "first, so that images[0] is the winner. Sort in descending order."
            )
        raise ExerciseError(
            f"the {k} highest of the scores, highest first, are "
            f"{[round(v, 3) for v in scores[best].tolist()]}; yours are "
            f"{[round(v, 3) for v in picked_scores.tolist()]}."
        )
    if torch.equal(picked, images[best]):
        return
    if torch.equal(picked.flatten(1)[:, 0], ids[:k]):
        raise ExerciseError(
            "the scores are sorted but the images are the first k, unsorted: each "
            "image must move with its score. Sort the indices once and index both: "
            "order = scores.argsort(descending=True)[:k]; images[order], "
            "scores[order]."
        )
    raise ExerciseError(
        "the images do not belong to their scores: the j-th image you return "
        "must be the one whose score is the j-th score you return. Index the "
        "images with the same indices as the scores."
    )


def check_top_k_samples(top_k_samples) -> None:
    """Check the k highest-scoring images, best first, each with its own score."""
    for n, k, seed in ((12, 4, 0), (30, 8, 1), (5, 1, 2), (6, 6, 3)):
        _check_top_k_on(top_k_samples, n, k, seed)
    for shape in ((2, 3, 5), (7,)):  # "any tensor with one row per sample"
        _check_top_k_on(top_k_samples, 9, 3, 4, shape)
    images, scores = random_normal(9, 2, 3, 5, seed=5), random_uniform(9, seed=6)
    check_device_safe(
        top_k_samples,
        [on_meta(images, torch.float64), on_meta(scores, torch.float64), 3],
        "top_k_samples",
        dtype=torch.float64,
    )
    print("Correct: the k best samples, best first, each with its own score.")
