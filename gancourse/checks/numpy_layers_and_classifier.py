"""Checks for notebook 02's exercises: conv output size, Dense backward, k-fold."""

from __future__ import annotations

import math
import numbers

import numpy as np

from gancourse.checks.coerce import as_array, as_float, describe
from gancourse.checks.compare import Mistake, close, first_mistake
from gancourse.checks.core import ExerciseError, call_student

# (size, kernel, stride, padding) cases, chosen so that each usual mistake shows
_CONV_CASES = [
    (28, 3, 1, 0),
    (28, 3, 1, 1),
    (28, 4, 2, 1),
    (8, 3, 2, 0),
    (10, 5, 3, 2),
    (7, 7, 1, 0),
    (64, 4, 2, 1),
]


def check_conv_output_size(conv_output_size) -> None:
    """Check conv_output_size(size, kernel, stride, padding) = (H + 2p - k) // s + 1."""
    got, wanted, returned = [], [], []
    for size, kernel, stride, padding in _CONV_CASES:
        out = call_student(conv_output_size, size, kernel, stride, padding)
        got.append(as_float(out, "the size conv_output_size returns"))
        wanted.append((size + 2 * padding - kernel) // stride + 1)
        returned.append(out)
    cases = list(zip(_CONV_CASES, got, wanted, strict=True))
    if any(o != int(o) for o in got):
        (h, k, s, p), out, _ = next(c for c in cases if c[1] != int(c[1]))
        raise ExerciseError(
            f"for H={h}, k={k}, s={s}, p={p} you return {out}, a fraction: a kernel "
            "position exists only where the whole kernel fits, so round down with //."
        )
    mistakes = [
        Mistake(
            "every answer is one too small: you forgot the + 1. With H = k and no "
            "padding the kernel fits exactly once, so the output has 1 pixel.",
            [w - 1 for w in wanted],
        ),
        Mistake(
            "you added the padding once: padding p adds p pixels on each side, "
            "top and bottom (left and right), so the padded size is H + 2p.",
            [(h + p - k) // s + 1 for h, k, s, p in _CONV_CASES],
        ),
        Mistake(
            "you rounded up: with H=8, k=3, s=2 the kernel fits at columns 0, 2 and "
            "4 only (at 6 it would stick out), so round down with //.",
            [math.ceil((h + 2 * p - k) / s) + 1 for h, k, s, p in _CONV_CASES],
        ),
    ]
    if message := first_mistake(got, mistakes, expected=wanted):
        raise ExerciseError(message)
    for (h, k, s, p), out, w in cases:
        if out != w:
            raise ExerciseError(
                f"for H={h}, k={k}, s={s}, p={p} the output has {w} pixels, "
                f"you return {out:g}: the formula is (H + 2p - k) // s + 1."
            )
    if not all(isinstance(out, numbers.Integral) for out in returned):
        out = next(o for o in returned if not isinstance(o, numbers.Integral))
        raise ExerciseError(
            f"the sizes are right, but you return {out}, a {type(out).__name__}: a "
            "size is a whole number of pixels, and layers refuse floats "
            "(np.zeros((14.0, 14.0)) and nn.Linear(14.0, 1) raise). Return an int: "
            "// keeps ints ints, and int(...) converts."
        )
    print("Correct: (H + 2p - k) // s + 1, e.g. 28 px, k=4, s=2, p=1 -> 14 px.")


def _dense_answers(dense_backward, x, W, grad_out):
    """Call the student and return three arrays, or say what is missing."""
    before = (x.copy(), W.copy(), grad_out.copy())
    out = call_student(dense_backward, x, W, grad_out)
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        raise ExerciseError(
            "dense_backward should return three arrays: (grad_W, grad_b, grad_x)."
        )
    for given, kept in zip((x, W, grad_out), before, strict=True):
        if not np.array_equal(given, kept):
            raise ExerciseError(
                "dense_backward changed one of its inputs in place: compute new arrays."
            )
    names = ("grad_W", "grad_b", "grad_x")
    return [as_array(a, name) for a, name in zip(out, names, strict=True)]


def check_dense_backward(dense_backward) -> None:
    """Check dense_backward(x, W, grad_out) returns (g.T @ x, sum of g, g @ W)."""
    rng = np.random.default_rng(0)
    n, n_in, n_out = 5, 3, 3  # square W first, so that a transpose is not a crash
    x, W = rng.normal(size=(n, n_in)), rng.normal(size=(n_out, n_in))
    grad_out = rng.normal(size=(n, n_out))
    grad_W, grad_b, grad_x = _dense_answers(dense_backward, x, W, grad_out)
    bias_mistakes = [
        Mistake(
            "grad_b has one row per example: the bias is shared by the whole batch, "
            "so sum grad_out over the batch (axis 0) to get one value per output.",
            grad_out,
        ),
        Mistake(
            "grad_b is the batch mean: the loss already averages over the batch, "
            "so each example's contribution adds up. Sum over axis 0, do not average.",
            grad_out.mean(axis=0),
        ),
    ]
    if not close(grad_b, grad_out.sum(axis=0)):
        raise ExerciseError(
            first_mistake(grad_b, bias_mistakes)
            or f"grad_b should have shape ({n_out},) like b and equal grad_out summed "
            "over the batch (axis 0)."
        )
    if not close(grad_W, grad_out.T @ x):
        transposed = Mistake(
            "grad_W is transposed: W has shape (n_out, n_in), so its gradient is "
            "grad_out.T @ x, of the same shape, not x.T @ grad_out.",
            x.T @ grad_out,
        )
        raise ExerciseError(
            first_mistake(grad_W, [transposed])
            or "grad_W should be grad_out.T @ x: entry (j, i) adds up, over the batch, "
            "the gradient at output j times input i."
        )
    if not close(grad_x, grad_out @ W):
        transposed = Mistake(
            "grad_x uses W.T: the forward pass is x @ W.T, so going back multiplies "
            "by W itself: grad_x = grad_out @ W, of shape (N, n_in).",
            grad_out @ W.T,
        )
        raise ExerciseError(
            first_mistake(grad_x, [transposed])
            or "grad_x should be grad_out @ W, with the shape of x: each input feeds "
            "every output j through weight W[j, i]."
        )
    n, n_in, n_out = 4, 6, 2  # and a non-square layer
    x, W = rng.normal(size=(n, n_in)), rng.normal(size=(n_out, n_in))
    grad_out = rng.normal(size=(n, n_out))
    answers = _dense_answers(dense_backward, x, W, grad_out)
    expected = (grad_out.T @ x, grad_out.sum(axis=0), grad_out @ W)
    names = ("grad_W", "grad_b", "grad_x")
    for name, got, want in zip(names, answers, expected, strict=True):
        if not close(got, want):
            raise ExerciseError(
                f"right for a square layer but not for Dense({n_in}, {n_out}): "
                f"{name} should have shape {want.shape}, got {got.shape}."
            )
    print("Correct: grad_W = g.T @ x, grad_b = g.sum(axis=0), grad_x = g @ W.")


def check_kfold_split(kfold_split) -> None:
    """Check kfold_split(n, k, rng) gives k shuffled, disjoint, covering folds."""
    n, k = 103, 5
    tests = _check_folds(kfold_split, n, k, seed=0)
    if all(np.array_equal(np.sort(t), np.arange(t.min(), t.max() + 1)) for t in tests):
        raise ExerciseError(
            "the folds are contiguous blocks of 0..n-1: shuffle the indices first "
            "(rng.permutation(n)). mnist-5k is sorted by digit, so unshuffled folds "
            "would each test on one or two digits the model has barely seen."
        )
    again = _check_folds(kfold_split, n, k, seed=0)
    if not all(np.array_equal(a, b) for a, b in zip(tests, again, strict=True)):
        raise ExerciseError(
            "two calls with generators of the same seed give different folds: shuffle "
            "with the rng you are given (rng.permutation(n)), not np.random, so that "
            "a seed repeats the same split."
        )
    other = _check_folds(kfold_split, n, k, seed=1)
    if all(np.array_equal(a, b) for a, b in zip(tests, other, strict=True)):
        raise ExerciseError(
            "generators with different seeds give the same folds: your function "
            "ignores its rng argument (a seed of its own?). Shuffle with the rng you "
            "are given, rng.permutation(n)."
        )
    _check_folds(kfold_split, 10, 3, seed=2)  # other sizes: nothing hard-coded
    print(f"Correct: {k} shuffled folds; every sample is tested exactly once.")


def _check_folds(kfold_split, n: int, k: int, seed: int) -> list[np.ndarray]:
    """The student's k folds of n samples: disjoint, covering; the test parts."""
    out = call_student(kfold_split, n, k, np.random.default_rng(seed))
    if out is None:
        raise ExerciseError(
            "kfold_split returns None: the function returns nothing. End it with "
            "`return ...`, the list of k pairs (train_idx, test_idx)."
        )
    try:  # a list or tuple, or anything that iterates into one
        folds = None if isinstance(out, str) else list(out)
    except TypeError:  # a number, None, a 0-d array
        folds = None
    if folds is None:
        raise ExerciseError(
            "kfold_split should return a list of k pairs (train_idx, test_idx), "
            f"got {describe(out)}."
        )
    if len(folds) != k:
        raise ExerciseError(f"asked for k={k} folds, got {len(folds)}.")
    tests, trains = [], []
    for i, fold in enumerate(folds):
        if not isinstance(fold, (tuple, list)) or len(fold) != 2:
            raise ExerciseError("each fold should be a pair (train_idx, test_idx).")
        train, test = (
            as_array(part, f"fold {i}'s {name}", (None,), integer=True)
            for part, name in zip(fold, ("train_idx", "test_idx"), strict=True)
        )
        trains.append(train)
        tests.append(test)
    everything = np.concatenate(tests)
    if len(np.unique(everything)) < len(everything):
        raise ExerciseError(
            "the test folds overlap: a sample is tested in two folds. Split one "
            "shuffled order of the indices into k separate pieces."
        )
    if len(everything) != n or not np.array_equal(np.sort(everything), np.arange(n)):
        missing = n - len(set(everything.tolist()) & set(range(n)))
        raise ExerciseError(
            f"with n={n} and k={k} the test folds miss {missing} samples (or hold "
            "indices outside 0..n-1): every sample must be tested exactly once. "
            "np.array_split shares out the remainder when n is not a multiple of k."
        )
    sizes = [len(t) for t in tests]
    if max(sizes) - min(sizes) > 1:
        raise ExerciseError(
            f"the test folds have sizes {sizes}: make them equal, give or take one."
        )
    for i, (train, test) in enumerate(zip(trains, tests, strict=True)):
        if np.intersect1d(train, test).size:
            raise ExerciseError(
                f"fold {i}: some samples are in both train_idx and test_idx, so the "
                "model is tested on what it trained on. Train on the other folds only."
            )
        if len(np.union1d(train, test)) != n or len(train) != n - len(test):
            raise ExerciseError(
                f"fold {i}: train_idx should hold every sample not in test_idx, "
                f"once each ({n - len(test)} indices), got {len(train)}."
            )
    return tests
