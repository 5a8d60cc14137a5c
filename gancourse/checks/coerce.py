"""A student's returned value as a float, a NumPy array or a torch tensor.

Each helper refuses what cannot be the answer (None, a bool, a complex number, the
wrong type or shape, NaN or inf unless `finite=False`) with an ExerciseError that
names the value: `as_float(out, "the loss d_step returns")`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from gancourse.checks.core import ExerciseError

Shape = Sequence[int | None]  # None: any size along that dimension
_NOT_FINITE = "{name} contains nan or inf: every entry should be finite."


def as_float(value: Any, name: str, *, finite: bool = True) -> float:
    """A Python float from a number or a one-element array or tensor."""
    _refuse_non_numbers(value, name)
    numeric = (
        not isinstance(value, np.ndarray | np.generic) or value.dtype.kind in "iuf"
    )
    if numeric and isinstance(value, torch.Tensor | np.ndarray | np.generic):
        if math.prod(value.shape) != 1:
            raise ExerciseError(_one_number(name, value))
        value = value.detach().cpu() if isinstance(value, torch.Tensor) else value
        value = value.reshape(()).item()
    elif not isinstance(value, numbers.Real):
        raise ExerciseError(
            f"{name} should be one number (a float or a one-element tensor), "
            f"got {describe(value)}."
        )
    number = float(value)
    if finite and not math.isfinite(number):
        raise ExerciseError(f"{name} is {number}: it should be a finite number.")
    return number


def as_array(
    value: Any,
    name: str,
    shape: Shape | None = None,
    *,
    like: str | None = None,
    integer: bool = False,
    finite: bool = True,
) -> np.ndarray:
    """A NumPy array (float, or integer with `integer=True`) of the given shape."""
    _refuse_non_numbers(value, name)
    if isinstance(value, torch.Tensor):
        if value.requires_grad:
            raise ExerciseError(
                f"{name} is a tensor that still needs grad: return a NumPy array "
                "(or call .detach() first)."
            )
        value = value.cpu().numpy()
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        array = np.asarray(None)  # ragged lists: refused just below
    if array.dtype.kind not in "iuf":
        raise ExerciseError(
            f"{name} should be an array of numbers, got {describe(value)}."
        )
    if integer and array.dtype.kind not in "iu" and array.size:
        raise ExerciseError(
            f"{name} should hold integer indices, got {array.dtype} values."
        )
    array = array if integer else array.astype(float)
    _check_shape(array, shape, name, like)
    if finite and not np.isfinite(array).all():
        raise ExerciseError(_NOT_FINITE.format(name=name))
    return array


def as_tensor(
    value: Any,
    name: str,
    shape: Shape | None = None,
    *,
    dtype: torch.dtype | None = None,
    like: str | None = None,
    finite: bool = True,
    allow_numpy: bool = False,
) -> torch.Tensor:
    """A torch tensor of the given shape (shape () takes any one-element tensor)."""
    _refuse_non_numbers(value, name)
    if type(value).__module__ == "torch.return_types":
        raise ExerciseError(
            f"{name} is a (values, indices) pair, what torch.min, max and sort(x, "
            "dim=...) return: take .values, or use torch.minimum(a, b) on two tensors."
        )
    if allow_numpy and isinstance(value, np.ndarray) and value.dtype.kind in "iuf":
        value = torch.from_numpy(value)
    if not isinstance(value, torch.Tensor):
        raise ExerciseError(
            f"{name} should be returned as a torch tensor, got {describe(value)}"
            f"{_TENSOR_HINTS.get(_family(value), '')}."
        )
    if shape is not None and tuple(shape) == () and value.numel() == 1:
        value = value.reshape(())
    _check_shape(value, shape, name, like)
    if dtype is not None:
        value = value.to(dtype)
    if finite and value.is_floating_point() and not torch.isfinite(value).all():
        raise ExerciseError(_NOT_FINITE.format(name=name))
    return value


_TENSOR_HINTS = {
    "number": ": .item() and float() give a plain number, cut off from torch's "
    "graph; return the tensor itself",
    "sequence": ": build the result in torch (index the input tensors, torch.stack), "
    "not lists",
    "numpy": ": stay in torch, without .numpy() or NumPy functions",
}


def _family(value: Any) -> str:
    """Which hint fits a value that is not a tensor."""
    if isinstance(value, numbers.Number):
        return "number"
    if isinstance(value, list | tuple):
        return "sequence"
    return "numpy" if isinstance(value, np.ndarray | np.generic) else "other"


def _refuse_non_numbers(value: Any, name: str) -> None:
    """Refuse None, bools and complex numbers, in any container."""
    if value is None:
        raise ExerciseError(
            f"{name} is None: the function returns nothing. End it with `return ...`."
        )
    if isinstance(value, torch.Tensor):
        kind = "b" if value.dtype == torch.bool else "c" if value.is_complex() else ""
    elif isinstance(value, np.ndarray | np.generic):
        kind = value.dtype.kind
    else:
        kind = "b" if isinstance(value, bool) else "c" if type(value) is complex else ""
    if kind == "b":
        raise ExerciseError(
            f"{name} should be numbers, got True/False ({describe(value)}): return "
            "the values themselves, not a comparison."
        )
    if kind == "c":
        raise ExerciseError(
            f"{name} is complex: torch.linalg.eigvals (or a square root of a "
            "negative number) gives complex results. When the imaginary parts are "
            "(nearly) zero, keep the real part, .real."
        )


def describe(value: Any) -> str:
    """What a value is, in words: 'a tensor of shape (8,)', 'a list'."""
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    if isinstance(value, np.ndarray):
        return f"a NumPy array of shape {value.shape}"
    return f"a {type(value).__name__}"


def _one_number(name: str, value: Any) -> str:
    """The message for an array or tensor that should have been one number."""
    return (
        f"{name} should be one number, got {describe(value)}: reduce it to one "
        "value (for a loss, average over the batch with .mean())."
    )


def _check_shape(value: Any, shape: Shape | None, name: str, like: str | None) -> None:
    """Refuse an array or tensor whose shape is not `shape` (None: any size)."""
    if shape is None:
        return
    actual, shape = tuple(value.shape), tuple(shape)
    if len(actual) == len(shape) and all(
        want is None or want == got for got, want in zip(actual, shape, strict=True)
    ):
        return
    if not shape:
        raise ExerciseError(_one_number(name, value))
    sizes = ["n" if size is None else str(size) for size in shape]
    wanted = f"({', '.join(sizes)}{',' if len(sizes) == 1 else ''})"
    where = f"the shape of {like}, {wanted}" if like else f"shape {wanted}"
    raise ExerciseError(f"{name} should have {where}, got shape {tuple(actual)}.")
