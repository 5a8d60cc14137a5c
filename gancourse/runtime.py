"""The run time: the mode, headless, device, seeds, threads, where data lives."""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

try:
    import numpy as np
    import torch
except KeyboardInterrupt:  # Ctrl-C in the seconds `python -m gancourse` imports
    if sys.argv[:1] != ["-m"]:
        raise
    print("interrupted: nothing written", file=sys.stderr)
    raise SystemExit(130) from None

from gancourse.errors import DeviceError, UsageError, UsageTypeError

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


MODES = ("quick", "laptop", "full")
SWITCH = (
    "To switch, stop JupyterLab and start it again as "
    "`GANCOURSE_MODE=quick|laptop|full make lab` (JupyterLab reads the variable when "
    "it starts: restarting the kernel is not enough). On a hosted Jupyter: restart "
    "the kernel, run `%env GANCOURSE_MODE=laptop` (or quick, full), then this cell."
)


def _read_mode(
    mode: str | None, quick: str | None, rehearsal: bool, has_cuda: bool
) -> tuple[str, str]:
    """Return (mode, why) from GANCOURSE_MODE, its alias GANCOURSE_QUICK, the GPU."""
    quick_on = _read_flag(
        "GANCOURSE_QUICK",
        quick,
        "set it to 1 for quick mode, or leave it unset and use GANCOURSE_MODE.",
    )
    text = (mode or "").strip().lower()
    if text and text not in MODES:
        raise UsageError(
            f"GANCOURSE_MODE={mode!r} is not a mode: set it to quick, laptop or full, "
            "or leave it unset (full with a CUDA GPU, laptop without)."
        )
    if quick_on and text not in ("", "quick"):
        raise UsageError(
            f"GANCOURSE_QUICK=1 asks for quick mode but GANCOURSE_MODE={mode!r}: "
            "unset one of the two."
        )
    if rehearsal and (quick_on or text not in ("", "full")):
        raise UsageError(
            "GANCOURSE_REHEARSAL=1 rehearses full mode: leave GANCOURSE_MODE unset "
            "or set it to full, and unset GANCOURSE_QUICK."
        )
    if rehearsal:
        return "full", "GANCOURSE_REHEARSAL=1: full mode's settings, a few steps each"
    if quick_on:
        return "quick", "GANCOURSE_QUICK=1 is set (another name for quick mode)"
    if text:
        return text, f"GANCOURSE_MODE={text} is set"
    if has_cuda:
        return "full", "a CUDA GPU was found and GANCOURSE_MODE is unset"
    return "laptop", "no CUDA GPU was found and GANCOURSE_MODE is unset"


def _read_headless(value: str | None) -> bool:
    """Parse the GANCOURSE_HEADLESS environment variable."""
    return _read_flag(
        "GANCOURSE_HEADLESS",
        value,
        "set it to 1 where no person is watching (tests, nbval: live panels train "
        "before the cell returns) or 0 (or leave it unset) for live panels that "
        "train in the background.",
    )


def _read_environment() -> tuple[bool, str, str, bool]:
    """(REHEARSAL, MODE, MODE_REASON, HEADLESS) from the GANCOURSE_* variables."""
    rehearsal = _read_flag(
        "GANCOURSE_REHEARSAL",
        os.environ.get("GANCOURSE_REHEARSAL"),
        "set it to 1 to rehearse full mode with a few steps per run (CI), or unset it.",
    )
    mode, reason = _read_mode(
        os.environ.get("GANCOURSE_MODE"),
        os.environ.get("GANCOURSE_QUICK"),
        rehearsal,
        torch.cuda.is_available(),
    )
    return rehearsal, mode, reason, _read_headless(os.environ.get("GANCOURSE_HEADLESS"))


def kernel_environment(mode: str) -> dict[str, str]:
    """Variables for a kernel run with no person at it: this process's, in `mode`.

    The other mode switches (GANCOURSE_QUICK, GANCOURSE_REHEARSAL) are dropped so
    `mode` is the one in force; headless, so live panels train before returning.
    """
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("GANCOURSE_QUICK", "GANCOURSE_REHEARSAL")
    }
    env.update(GANCOURSE_MODE=mode, GANCOURSE_HEADLESS="1")
    return env


def _exit_if_python_m(error: UsageError) -> None:
    """Under `python -m gancourse`, a bad variable is one error line, not a traceback.

    Python sets sys.argv[0] to "-m" while it imports the package of a `-m` module,
    before gancourse.cli.main could catch the error; elsewhere (a notebook, a
    script) the UsageError is raised as usual.
    """
    if sys.argv[:1] == ["-m"]:
        print(f"error: {' '.join(str(error).split())}", file=sys.stderr)
        raise SystemExit(2)


# The one place that reads the mode; everything else asks gancourse.runtime.
# Headless: no person at the notebook, so live panels train in the calling thread.
try:
    REHEARSAL, MODE, MODE_REASON, HEADLESS = _read_environment()
except UsageError as error:
    _exit_if_python_m(error)
    raise
QUICK: bool = MODE == "quick"


def pick(*, quick: T, laptop: T, full: T) -> T:
    """Return the value for this mode: budgets, dataset names, widths."""
    return {"quick": quick, "laptop": laptop, "full": full}[MODE]


REHEARSAL_STEPS = 2  # what a rehearsal of full mode keeps of each training budget


def budget(*, quick: T, laptop: T, full: T) -> T:
    """How long to train in this mode: steps, epochs, or a dict of fit's keywords.

    A rehearsal of full mode (GANCOURSE_REHEARSAL=1, run by CI) keeps every setting
    of full mode but cuts its budgets: a number to at most REHEARSAL_STEPS, a dict
    with 'steps' or 'epochs' to {'steps': REHEARSAL_STEPS}.
    """
    if REHEARSAL:
        return _cut(full)
    return pick(quick=quick, laptop=laptop, full=full)


def _cut(value):
    """A full-mode budget cut to a few steps, for a rehearsal."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return min(value, REHEARSAL_STEPS)
    if isinstance(value, dict) and {"steps", "epochs"} & set(value):
        rest = {k: v for k, v in value.items() if k not in ("steps", "epochs")}
        return {**rest, "steps": REHEARSAL_STEPS}
    if isinstance(value, tuple):
        return tuple(_cut(item) for item in value)
    raise UsageTypeError(
        f"budget takes numbers of steps or epochs, dicts with 'steps' or 'epochs', or "
        f"tuples of those, got {value!r}; use pick for other settings."
    )


def expect(condition: bool, claim: str) -> None:
    """Check a claim about what training achieved (an AssertionError saying `claim`).

    A rehearsal trains a few steps only, so it checks that the code runs and skips
    these claims; every other mode checks them.
    """
    if not REHEARSAL and not condition:
        raise AssertionError(claim)


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
    threads = torch.get_num_threads()
    return (
        f"cpu ({threads} torch thread{'s' if threads > 1 else ''} of "
        f"{os.cpu_count()} cores; no CUDA or MPS GPU found)"
    )


def default_threads(value: str | None = None, cores: int | None = None) -> int:
    """Torch's CPU threads: GANCOURSE_THREADS, else every core but one (at least 1).

    One core is left to the browser, JupyterLab and the rest of the machine. On the
    2-core machine of benchmarks/results/threads.md, with one core kept busy, two
    torch threads made a DCGAN step 1.4-3x slower than one thread, with single steps
    up to 15x slower; on an idle machine two threads were 1.3-2x faster.
    """
    if value is None:
        value = os.environ.get("GANCOURSE_THREADS")
    if value is not None and value.strip():
        try:
            threads = int(value)
        except ValueError:
            threads = 0
        if threads < 1:
            raise UsageError(
                f"GANCOURSE_THREADS={value!r} is not a number of threads: set it to "
                "a whole number from 1 up, or unset it for every core but one."
            )
        return threads
    cores = cores if cores is not None else os.cpu_count() or 1
    return max(1, cores - 1)


def seed_everything(seed: int) -> None:
    """Seed Python's `random`, NumPy's global generator and torch (CPU and CUDA)."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise UsageError(f"seed must be a non-negative int, got {seed!r}.")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


_MODE_MEANS = {
    "quick": "tiny budgets on shipped data, to test that every cell runs",
    "laptop": "shipped data, budgets for a CPU",
    "full": "real datasets, real budgets, for a GPU",
}


def describe_mode() -> str:
    """The line every notebook prints first: the mode, why, and how to switch."""
    rehearsal = " (a rehearsal: a few steps per run)" if REHEARSAL else ""
    return (
        f"gancourse: {MODE} mode{rehearsal} ({_MODE_MEANS[MODE]}), because "
        f"{MODE_REASON}. {SWITCH}"
    )


def setup(
    seed: int = 0, device: str | None = None, threads: int | None = None
) -> torch.device:
    """Seed everything, pick the device and the threads; print the mode and the choice.

    `threads` sets torch's CPU threads (default: GANCOURSE_THREADS, else every core
    but one).
    """
    seed_everything(seed)
    chosen = get_device(device)
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise UsageError(f"threads must be a whole number from 1 up, got {threads!r}.")
    torch.set_num_threads(threads or default_threads())
    print(describe_mode())
    print(f"device {describe_device(chosen)} | seed {seed}")
    if MODE == "full" and chosen.type == "cpu" and not REHEARSAL:
        print(
            "warning: full mode on a CPU trains for hours per notebook; laptop mode "
            "is made for a CPU (GANCOURSE_MODE=laptop make lab)."
        )
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
