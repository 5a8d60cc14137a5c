"""The run time: quick mode, headless, device, seeds, threads, where data lives."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch

from gancourse.errors import DeviceError, UsageError

T = TypeVar("T")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}

REPO_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("GANCOURSE_DATA", REPO_DIR / "data")).resolve()
SHIPPED_DIR = REPO_DIR / "data"
PRETRAINED_DIR = SHIPPED_DIR / "pretrained"  # shipped classifiers and GANs


def _read_flag(name: str, value: str | None, fix: str) -> bool:
    """Parse a true/false environment variable such as GANCOURSE_QUICK."""
    text = (value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise UsageError(f"{name}={value!r} is not understood: {fix}")


def _read_quick(value: str | None) -> bool:
    """Parse the GANCOURSE_QUICK environment variable."""
    return _read_flag(
        "GANCOURSE_QUICK",
        value,
        "set it to 1 for quick mode or 0 (or leave it unset) for the full course.",
    )


def _read_headless(value: str | None) -> bool:
    """Parse the GANCOURSE_HEADLESS environment variable."""
    return _read_flag(
        "GANCOURSE_HEADLESS",
        value,
        "set it to 1 where no person is watching (tests, nbval: live panels train "
        "before the cell returns) or 0 (or leave it unset) for live panels that "
        "train in the background.",
    )


# The one place that reads quick mode; everything else asks gancourse.runtime.
QUICK: bool = _read_quick(os.environ.get("GANCOURSE_QUICK"))
# Headless: no person at the notebook, so live panels train in the calling thread.
HEADLESS: bool = _read_headless(os.environ.get("GANCOURSE_HEADLESS"))


def pick(quick: T, full: T) -> T:
    """Return `quick` in quick mode and `full` otherwise (budgets, dataset names)."""
    return quick if QUICK else full


def get_device(name: str | None = None) -> torch.device:
    """Pick CUDA, then MPS, then CPU; or check and return the device `name`."""
    if name is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise DeviceError(
            f"device {name!r} was asked for but no CUDA GPU is visible to torch; "
            "use device='cpu' or leave the device unset to pick automatically."
        )
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise DeviceError(
            f"device {name!r} was asked for but MPS is not available; "
            "use device='cpu' or leave the device unset to pick automatically."
        )
    return device


def describe_device(device: torch.device) -> str:
    """One readable line saying which device is used and why."""
    if device.type == "cuda":
        index = (
            device.index if device.index is not None else torch.cuda.current_device()
        )
        return f"cuda ({torch.cuda.get_device_name(index)})"
    if device.type == "mps":
        return "mps (Apple GPU)"
    return (
        f"cpu ({torch.get_num_threads()} threads; no CUDA or MPS GPU found, "
        "so full-size training will be slow)"
    )


def seed_everything(seed: int) -> None:
    """Seed Python's `random`, NumPy's global generator and torch (CPU and CUDA)."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise UsageError(f"seed must be a non-negative int, got {seed!r}.")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def setup(seed: int = 0, device: str | None = None) -> torch.device:
    """Seed everything, pick the device and print one line saying what was chosen."""
    seed_everything(seed)
    chosen = get_device(device)
    mode = "quick (shipped data, tiny budgets)" if QUICK else "full"
    print(f"gancourse: mode {mode} | device {describe_device(chosen)} | seed {seed}")
    return chosen


@contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on one CPU thread inside the block: faster for tiny networks.

    With several threads, each tiny operation pays for waking the others, and on a
    busy machine that can cost far more than the work itself.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
