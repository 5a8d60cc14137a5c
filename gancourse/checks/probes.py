"""Probes the checks share: code run as on a GPU, gradients watched, other inputs.

`check_device_safe` runs the student's function once more with its inputs on
torch's "meta" device, which has shapes and dtypes but no data, under a mode that
refuses what a GPU refuses: one call mixing an input's device with a tensor made
on the CPU (torch.ones(n) without device=). So a tensor made without `device=`
or `dtype=` is caught on a CPU-only machine. Code that meta cannot run (an
operation with no meta kernel, an `if` on a value) proves nothing and passes:
the checks on real values have already decided.

`gradients_reaching(parameters)` records whether autograd computed a gradient for
any of them, however the .grad fields look afterwards.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from gancourse.checks.core import ExerciseError, call_student

META = torch.device("meta")
NEW_TENSORS = (
    "Make new tensors with device=x.device, dtype=x.dtype (or torch.*_like: "
    "ones_like, zeros_like, rand_like, full_like), x one of the inputs."
)
# calls that take tensors on two devices on a GPU too: indexing a GPU tensor with
# CPU indices, and explicit copies
_CROSS_DEVICE_OK = {"__getitem__", "__setitem__", "index_put_", "copy_", "to"}
_WRITES = {"__setitem__", "index_put_", "copy_"}  # into a CPU tensor: left as it is
# what meta tensors cannot give: a value. item() and float() get a stand-in so a
# function that returns loss.item() still runs; a branch on a value stops the probe
_STAND_INS = {"item": 1.0, "__float__": 1.0, "__int__": 1, "__index__": 1}


class Recorder(nn.Module):
    """Wraps a critic and records every input it is called on."""

    def __init__(self, critic: nn.Module):
        super().__init__()
        self.critic = critic
        self.inputs: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.inputs.append(x)
        return self.critic(x)


class _NoValueError(Exception):
    """The probe cannot go on (a branch on a value): it proves nothing."""


class _DeviceMixError(Exception):
    """A call got tensors on two devices, as a GPU would refuse."""

    def __init__(self, function: str):
        super().__init__(function)
        self.function = function


def _tensors(value: Any) -> Iterator[torch.Tensor]:
    """The tensors in a value, looking into lists, tuples and dicts."""
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _tensors(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)


class _LikeAGpu(TorchFunctionMode):
    """Refuse calls that mix meta tensors with CPU tensors of one or more entries."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        first = args[0] if args else None
        if isinstance(first, torch.Tensor) and first.is_meta:
            if name in _STAND_INS:
                return _STAND_INS[name]
            if name in ("__bool__", "tolist", "numpy"):
                raise _NoValueError(name)
        if name in _WRITES and isinstance(first, torch.Tensor) and not first.is_meta:
            if any(t.is_meta for t in _tensors((args[1:], kwargs))):
                return None if name == "__setitem__" else first  # meta has no values
        if name not in _CROSS_DEVICE_OK:
            # a 0-dim CPU tensor is a number to a GPU kernel, as a Python float is
            devices = {
                t.device.type for t in _tensors((args, kwargs)) if t.is_meta or t.ndim
            }
            if len(devices) > 1 and "meta" in devices:
                raise _DeviceMixError(name)
        return func(*args, **kwargs)


def on_meta(value: Any, dtype: torch.dtype | None = None) -> Any:
    """A copy of a tensor or module on the meta device (floats cast to `dtype`)."""
    if isinstance(value, nn.Module):
        return copy.deepcopy(value).to(device=META, dtype=dtype)
    if isinstance(value, torch.Tensor):
        cast = dtype if dtype is not None and value.is_floating_point() else None
        moved = value.detach().to(device=META, dtype=cast)
        return moved.requires_grad_(value.requires_grad)
    return value


def check_device_safe(
    function: Callable,
    args: Iterable[Any],
    name: str,
    *,
    dtype: torch.dtype | None = None,
) -> bool:
    """Run function(*args) (args on meta) as a GPU would, and refuse what it refuses.

    With `dtype`, every floating tensor returned must have that dtype (the inputs'),
    so a result built in a tensor made without dtype= shows as well. Returns whether
    the function ran to the end (False: meta could not run it, nothing is proved).
    """
    args = tuple(args)
    try:
        with torch.random.fork_rng(devices=[]), _LikeAGpu():
            out = function(*args)
    except Exception as error:  # what meta cannot run proves nothing, except:
        if isinstance(error, _DeviceMixError) or _names_two_devices(str(error)):
            where = getattr(error, "function", "").strip("_") or "one operation"
            raise ExerciseError(
                f"{name} works on the CPU but would fail on a GPU: with its inputs "
                f"on the GPU, {where} got a tensor made on the CPU "
                "(torch.ones/zeros/rand/arange/tensor without device=, or with a "
                f"fixed one such as the notebook's `device`). {NEW_TENSORS}"
            ) from None
        return False
    for tensor in _tensors(out):
        if not tensor.is_meta and tensor.ndim:
            raise ExerciseError(
                f"{name} returns a tensor on the {tensor.device.type.upper()} when "
                "its inputs are on another device (a GPU): the result was made "
                f"without device=. {NEW_TENSORS}"
            )
        if dtype is not None and tensor.is_floating_point() and tensor.dtype != dtype:
            got, want = (str(t).removeprefix("torch.") for t in (tensor.dtype, dtype))
            raise ExerciseError(
                f"{name} returns a {got} result for {want} inputs: a tensor made "
                f"without dtype= sets the result's precision, whatever the inputs' "
                f"(float64 here, float16 under mixed precision). {NEW_TENSORS}"
            )
    return True


def _names_two_devices(message: str) -> bool:
    """Whether an error message is torch's complaint about meta and CPU tensors."""
    return "device" in message and "meta" in message and "cpu" in message.lower()


@contextmanager
def gradients_reaching(parameters: Iterable[torch.Tensor]) -> Iterator[list[int]]:
    """Record, for the `with` block, every gradient autograd computes for these."""
    reached: list[int] = []
    handles = [
        p.register_hook(lambda grad: reached.append(1))
        for p in parameters
        if p.requires_grad
    ]
    try:
        yield reached
    finally:
        for handle in handles:
            handle.remove()


def call_on(case: str, function: Callable, *args: Any, hint: str = "") -> Any:
    """call_student, saying which input the function failed on (and `hint`)."""
    try:
        return call_student(function, *args)
    except ExerciseError as error:
        if "not written yet" in str(error):
            raise
        message = f"for {case}, {str(error).rstrip('.')}. {hint}"
        raise ExerciseError(message.strip()) from error.__cause__
