"""The mode, device choice, threads and seeding."""

import os
import random
import subprocess
import sys

import numpy as np
import pytest
import torch

from gancourse import runtime

MODE_VARIABLES = ("GANCOURSE_QUICK", "GANCOURSE_MODE", "GANCOURSE_REHEARSAL")


def _run(
    code: str, quick: str | None = None, **variables: str
) -> subprocess.CompletedProcess:
    """Run Python code in a fresh process with the given GANCOURSE_* variables set."""
    env = {k: v for k, v in os.environ.items() if k not in MODE_VARIABLES}
    if quick is not None:
        env["GANCOURSE_QUICK"] = quick
    env.update({f"GANCOURSE_{name}": value for name, value in variables.items()})
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )


PRINT_MODE = (
    "import gancourse, torch\n"
    "print(gancourse.MODE, gancourse.QUICK, torch.cuda.is_available())\n"
    "print(gancourse.pick(quick=1, laptop=2, full=3))"
)


@pytest.mark.parametrize(
    ("variables", "mode"),
    [
        ({"QUICK": "1"}, "quick"),
        ({"QUICK": "yes"}, "quick"),
        ({"MODE": "quick"}, "quick"),
        ({"MODE": "Laptop"}, "laptop"),
        ({"MODE": "full"}, "full"),
        ({"QUICK": "1", "MODE": "quick"}, "quick"),
        ({"QUICK": "0", "MODE": "laptop"}, "laptop"),
        ({"REHEARSAL": "1"}, "full"),
    ],
)
def test_the_mode_is_read_from_the_environment(variables, mode):
    result = _run(PRINT_MODE, **variables)
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.split("\n")[:2]
    assert first.split()[:2] == [mode, str(mode == "quick")]
    assert second == {"quick": "1", "laptop": "2", "full": "3"}[mode]


@pytest.mark.parametrize("quick", [None, "0", ""])
def test_an_unset_mode_is_full_with_cuda_and_laptop_without(quick):
    result = _run(PRINT_MODE, quick)
    assert result.returncode == 0, result.stderr
    mode, _, cuda = result.stdout.split()[:3]
    assert mode == ("full" if cuda == "True" else "laptop")


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"QUICK": "maybe"}, "GANCOURSE_QUICK='maybe' is not understood"),
        ({"MODE": "fast"}, "GANCOURSE_MODE='fast' is not a mode"),
        ({"QUICK": "1", "MODE": "full"}, "unset one of the two"),
        ({"REHEARSAL": "1", "MODE": "laptop"}, "rehearses full mode"),
        ({"REHEARSAL": "1", "QUICK": "1"}, "rehearses full mode"),
        ({"REHEARSAL": "sometimes"}, "GANCOURSE_REHEARSAL='sometimes'"),
    ],
)
def test_a_mode_setting_that_means_nothing_is_one_clear_error(variables, message):
    result = _run("import gancourse", **variables)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("gancourse.errors.UsageError: ") and message in last
    assert "Traceback" in result.stderr  # a notebook shows where it came from


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"MODE": "bogus"}, "GANCOURSE_MODE='bogus' is not a mode: set it to quick"),
        ({"QUICK": "maybe"}, "GANCOURSE_QUICK='maybe' is not understood: set it"),
        ({"HEADLESS": "perhaps"}, "GANCOURSE_HEADLESS='perhaps' is not understood"),
    ],
)
def test_python_m_gancourse_prints_a_bad_setting_as_one_error_line(variables, message):
    env = {k: v for k, v in os.environ.items() if k not in MODE_VARIABLES}
    env.update({f"GANCOURSE_{name}": value for name, value in variables.items()})
    result = subprocess.run(
        [sys.executable, "-m", "gancourse", "datasets"],
        env=env,
        capture_output=True,
        text=True,
        cwd=runtime.REPO_DIR,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {message}"), lines


def test_pick_needs_all_three_modes_by_name():
    assert (
        runtime.pick(quick="q", laptop="l", full="f")
        == {"quick": "q", "laptop": "l", "full": "f"}[runtime.MODE]
    )
    with pytest.raises(TypeError):
        runtime.pick(
            quick=1, full=2
        )  # laptop forgotten: an error, not a silent default
    with pytest.raises(TypeError):
        runtime.pick(1, 2, 3)


def test_the_first_line_says_the_mode_why_and_how_to_switch(capsys):
    runtime.setup(seed=0, device="cpu")
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith(f"gancourse: {runtime.MODE} mode")
    assert runtime.MODE_REASON in first
    assert "GANCOURSE_MODE=quick|laptop|full make lab" in first
    assert "restarting the kernel is not enough" in first


def test_import_needs_no_jupyter():
    code = (
        "import sys, gancourse, gancourse.data, gancourse.checks, gancourse.plotting\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('ipywidgets', 'IPython', 'jupyter_client', 'nbformat', 'ipykernel')]\n"
        "print(bad)"
    )
    result = _run(code, "1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_device_falls_back_to_cpu_without_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    device = runtime.get_device()
    assert device.type == "cpu"
    assert runtime.describe_device(device).startswith("cpu (")


def test_device_prefers_cuda_then_mps(monkeypatch):
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert runtime.get_device().type == "mps"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert runtime.get_device().type == "cuda"


def test_a_cuda_device_is_described_by_its_name(monkeypatch):
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i: "NVIDIA H100")
    line = runtime.describe_device(torch.device("cuda"))
    assert line == "cuda (NVIDIA H100)"


def test_asking_for_a_missing_gpu_says_how_to_fix_it(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="no CUDA GPU.*device='cpu'"):
        runtime.get_device("cuda")


@pytest.fixture
def keep_threads():
    """Restore torch's thread count after a test that lets setup() change it."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_setup_prints_the_mode_then_device_threads_and_seed(capsys, keep_threads):
    device = runtime.setup(seed=3, device="cpu", threads=1)
    lines = capsys.readouterr().out.strip().splitlines()
    assert device.type == "cpu" and torch.get_num_threads() == 1
    assert lines[0] == runtime.describe_mode()
    assert lines[1].startswith("device cpu (1 torch thread of") and "seed 3" in lines[1]


def test_setup_uses_the_threads_asked_for(keep_threads, capsys, monkeypatch):
    runtime.setup(seed=0, device="cpu", threads=2)
    assert torch.get_num_threads() == 2
    monkeypatch.setenv("GANCOURSE_THREADS", "1")
    runtime.setup(seed=0, device="cpu")
    assert torch.get_num_threads() == 1
    with pytest.raises(ValueError, match="threads must be a whole number"):
        runtime.setup(seed=0, device="cpu", threads=0)


@pytest.mark.parametrize(
    ("value", "cores", "threads"),
    [(None, 2, 1), (None, 1, 1), (None, 8, 7), ("3", 2, 3), (" 4 ", 16, 4)],
)
def test_default_threads_leave_one_core_unless_told(value, cores, threads, monkeypatch):
    monkeypatch.delenv("GANCOURSE_THREADS", raising=False)
    assert runtime.default_threads(value, cores) == threads


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_a_thread_count_that_means_nothing_is_one_clear_error(value):
    with pytest.raises(ValueError, match=f"GANCOURSE_THREADS={value!r}"):
        runtime.default_threads(value, 2)


def test_seed_everything_repeats_python_numpy_and_torch():
    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()

    runtime.seed_everything(123)
    first = draw()
    runtime.seed_everything(123)
    assert draw() == first
    runtime.seed_everything(124)
    assert draw() != first


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_seed_must_be_a_non_negative_int(seed):
    with pytest.raises(ValueError, match="non-negative int"):
        runtime.seed_everything(seed)


BUDGETS = [
    (5_000, 2),
    (1, 1),
    ({"epochs": 20}, {"steps": 2}),
    ({"steps": 400, "lr_d": 1e-3}, {"steps": 2, "lr_d": 1e-3}),
    ((50_000, 5), (2, 2)),
    (None, None),
]


@pytest.mark.parametrize(("full", "rehearsed"), BUDGETS)
def test_a_rehearsal_cuts_full_budgets_to_a_few_steps(monkeypatch, full, rehearsed):
    monkeypatch.setattr(runtime, "REHEARSAL", True)
    monkeypatch.setattr(runtime, "MODE", "full")
    assert runtime.budget(quick="q", laptop="l", full=full) == rehearsed
    assert runtime.pick(quick="q", laptop="l", full=full) == full  # settings stay


@pytest.mark.parametrize("mode", ["quick", "laptop", "full"])
def test_outside_a_rehearsal_budget_is_pick(monkeypatch, mode):
    monkeypatch.setattr(runtime, "REHEARSAL", False)
    monkeypatch.setattr(runtime, "MODE", mode)
    chosen = runtime.budget(quick=1, laptop={"epochs": 3}, full=(9, 9))
    assert chosen == {"quick": 1, "laptop": {"epochs": 3}, "full": (9, 9)}[mode]


@pytest.mark.parametrize("full", [2.5, "mnist", True, {"lr": 1e-3}])
def test_a_budget_that_is_not_one_is_refused_in_a_rehearsal(monkeypatch, full):
    monkeypatch.setattr(runtime, "REHEARSAL", True)
    with pytest.raises(TypeError, match="use pick for other settings"):
        runtime.budget(quick=1, laptop=1, full=full)


def test_expect_checks_claims_except_in_a_rehearsal(monkeypatch):
    monkeypatch.setattr(runtime, "REHEARSAL", False)
    runtime.expect(True, "holds")
    with pytest.raises(AssertionError, match="the loss fell"):
        runtime.expect(False, "the loss fell")
    monkeypatch.setattr(runtime, "REHEARSAL", True)
    runtime.expect(False, "the loss fell")  # a few steps prove nothing: skipped


def test_a_rehearsal_is_full_mode_with_cut_budgets_in_a_fresh_process():
    code = (
        "import gancourse\n"
        "print(gancourse.MODE, gancourse.budget(quick=1, laptop=2, full={'epochs': 9}))"
    )
    result = _run(code, REHEARSAL="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "full {'steps': 2}"
