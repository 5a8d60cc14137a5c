"""Quick mode, device choice and seeding."""

import os
import random
import subprocess
import sys

import numpy as np
import pytest
import torch

from gancourse import runtime


def _run(code: str, quick: str | None) -> subprocess.CompletedProcess:
    """Run Python code in a fresh process with GANCOURSE_QUICK set to `quick`."""
    env = {k: v for k, v in os.environ.items() if k != "GANCOURSE_QUICK"}
    if quick is not None:
        env["GANCOURSE_QUICK"] = quick
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("true", True),
        ("YES", True),
        ("0", False),
        ("", False),
        (None, False),
    ],
)
def test_quick_mode_is_read_from_the_environment(value, expected):
    result = _run(
        "import gancourse; print(gancourse.QUICK, gancourse.pick(1, 2))", value
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(expected), "1" if expected else "2"]


def test_a_quick_value_that_means_nothing_is_one_clear_error():
    result = _run("import gancourse", "maybe")
    assert result.returncode != 0
    assert "GANCOURSE_QUICK='maybe' is not understood" in result.stderr


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


def test_setup_prints_one_line_with_mode_device_and_seed(capsys):
    device = runtime.setup(seed=3, device="cpu")
    lines = capsys.readouterr().out.strip().splitlines()
    assert device.type == "cpu"
    assert len(lines) == 1
    assert "device cpu" in lines[0] and "seed 3" in lines[0]


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
