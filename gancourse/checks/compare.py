"""Comparing a student's answer with the right one and with the usual mistakes.

`close` is the one tolerance test of the checks, for numbers, arrays, tensors and
lists of them: |actual - expected| <= atol + rtol * |expected| everywhere, where
NaN is never close and an infinity is close only to the same infinity. Shapes must
match, except that one number is compared with every entry.

A check lists the usual wrong answers of an exercise as `Mistake`s, each with the
value that wrong answer gives on the check's input, and asks `first_mistake` which
one the student's answer is. A mistake that gives the right answer on this input
(close to `expected`) cannot be told apart from it and is skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np
import torch


def close(actual: Any, expected: Any, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
    """Whether actual is within tolerance of expected; lists item by item."""
    if isinstance(actual, list | tuple) and isinstance(expected, list | tuple):
        return len(actual) == len(expected) and all(
            close(a, e, rtol, atol) for a, e in zip(actual, expected, strict=True)
        )
    a, e = _float_array(actual), _float_array(expected)
    if a is None or e is None or (a.shape != e.shape and a.ndim and e.ndim):
        return False
    a, e = np.broadcast_arrays(a, e)
    with np.errstate(invalid="ignore", over="ignore"):
        near = np.abs(a - e) <= atol + rtol * np.abs(e)
        same_infinity = np.isinf(e) & (a == e)
    return bool(np.all(same_infinity | (np.isfinite(a) & np.isfinite(e) & near)))


def _float_array(value: Any) -> np.ndarray | None:
    """A float64 (or complex128) array of the value, or None if it holds no numbers."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        value = value.to(torch.complex128) if value.is_complex() else value.double()
        return value.numpy()
    try:
        array = np.asarray(value)
    except (TypeError, ValueError, RuntimeError):
        return None
    if array.dtype.kind not in "biufc":
        return None
    return array.astype(complex if array.dtype.kind == "c" else float)


class Mistake(NamedTuple):
    """A usual wrong answer: what to tell the student, and the value it gives."""

    message: str
    value: Any


def first_mistake(
    answer: Any,
    mistakes: Iterable[Mistake],
    *,
    expected: Any = None,
    rtol: float = 1e-5,
    atol: float = 1e-8,
) -> str | None:
    """The message of the first mistake whose value is close to `answer`, or None."""
    for mistake in mistakes:
        if close(answer, mistake.value, rtol, atol) and not (
            expected is not None and close(mistake.value, expected, rtol, atol)
        ):
            return mistake.message
    return None
