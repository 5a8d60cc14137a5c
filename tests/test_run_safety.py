"""Nothing a run had is lost: NaN stops, Ctrl-C, two runs at once, killed writes,
a full disk, an unwritable --out. Each test replays the failure as a user meets it.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import gancourse.files as files_module
from gancourse.cli.run_folder import LOCK, RunFolderLock
from gancourse.training import CheckpointError, load_checkpoint
from tests.test_cli import REPO, TINY, run, train_args

pytestmark = pytest.mark.usefixtures("one_thread")

ENV = {
    **os.environ,
    "GANCOURSE_QUICK": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def assert_same_state(a: dict, b: dict) -> None:
    """Two checkpoints hold exactly the same run: weights, optimisers, RNG, place."""
    assert a["step"] == b["step"]
    assert a["position"] == b["position"]
    for part in ("generator", "discriminator"):
        assert a[part].keys() == b[part].keys()
        for name, tensor in a[part].items():
            assert torch.equal(tensor, b[part][name]), f"{part}.{name} differs"
    for part in ("opt_d", "opt_g"):
        assert a[part]["param_groups"] == b[part]["param_groups"]
        assert a[part]["state"].keys() == b[part]["state"].keys()
        for key, values in a[part]["state"].items():
            for name, tensor in values.items():
                assert torch.equal(tensor, b[part]["state"][key][name]), part
    assert torch.equal(a["rng"]["noise"], b["rng"]["noise"])
    assert a["history"] == b["history"]


def command(out: Path, *extra: str, steps: int = 30, every: int = 5) -> list[str]:
    """`python -m gancourse train dcgan` on mnist-5k into `out`, tiny and quiet."""
    options = f"--steps {steps} --checkpoint-every {every} --sample-every 1000"
    return [
        *(sys.executable, "-m", "gancourse", "train", "dcgan"),
        *("--dataset", "mnist-5k", "--out", str(out), *options.split(), *TINY),
        *extra,
    ]


STARTED: list[subprocess.Popen] = []  # killed after each test if still running


@pytest.fixture(autouse=True)
def _no_process_left():
    yield
    while STARTED:
        process = STARTED.pop()
        if process.poll() is None:
            process.kill()
            process.wait()


def start(out: Path, *extra: str, limit_bytes: int | None = None, **options):
    """A training process; `limit_bytes` caps its file size as a full disk does."""

    def prepare():
        # a shell's background job ignores SIGINT, and Python then keeps ignoring
        # it: give the run the Ctrl-C a person at a terminal has
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        if limit_bytes:  # writes past the cap fail with EFBIG instead of killing
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    process = subprocess.Popen(
        command(out, *extra, **options),
        cwd=REPO,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=prepare,
    )
    STARTED.append(process)
    return process


def finish(process, timeout: float = 300) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def wait_for_step(out: Path, process, step: int) -> None:
    """Block until the history of `out`'s run... or its checkpoint reach `step`."""
    deadline = time.monotonic() + 300
    while True:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "training did not get there in time"
        try:
            if load_checkpoint(out / "checkpoint.pt")["step"] >= step:
                return
        except CheckpointError:
            pass
        time.sleep(0.02)


# ---- a NaN stop keeps the last finite state on disk, exactly ----------------------


def test_a_diverging_resume_leaves_the_checkpoint_exactly_as_it_was(tmp_path, capsys):
    """The red team's case: --resume with --lr-d 1e30 once poisoned checkpoint.pt."""
    out = tmp_path / "run"
    base = train_args(out, kind="wgan-gp", steps=10)
    assert run(capsys, *base)[0] == 0
    before = load_checkpoint(out / "checkpoint.pt")
    code, _, stderr = run(
        capsys, *train_args(out, "--resume", "--lr-d", "1e30", kind="wgan-gp", steps=20)
    )
    assert code == 1
    assert "loss is" in stderr and "state after step 10 is kept" in stderr
    assert "holds the state after step 10" in stderr
    assert "WGAN-GP" not in stderr.split("Lower the learning rates")[1]  # it is one
    assert_same_state(load_checkpoint(out / "checkpoint.pt"), before)
    # and a resume with a sane rate goes on from step 10, as often as asked
    assert run(capsys, *train_args(out, "--resume", kind="wgan-gp", steps=12))[0] == 0
    assert load_checkpoint(out / "checkpoint.pt")["step"] == 12


def test_a_nan_mid_run_saves_the_last_complete_step_exactly(
    tmp_path, capsys, monkeypatch
):
    """NaN in G's loss at step 7, after D has moved: the file holds step 6, whole."""
    import gancourse.training.trainer as trainer_module

    real, calls = trainer_module.g_loss, []

    def nan_at_7(*args):
        calls.append(1)
        loss = real(*args)
        return loss * float("nan") if len(calls) == 7 else loss

    reference, out = tmp_path / "six", tmp_path / "nan"
    assert run(capsys, *train_args(reference, steps=6))[0] == 0
    monkeypatch.setattr(trainer_module, "g_loss", nan_at_7)
    code, _, stderr = run(capsys, *train_args(out, steps=10))
    assert code == 1 and "generator loss is nan" in stderr
    assert_same_state(
        load_checkpoint(out / "checkpoint.pt"),
        load_checkpoint(reference / "checkpoint.pt"),
    )


# ---- Ctrl-C and SIGTERM save the last complete step --------------------------------


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_saves_and_resumes_to_the_same_weights(tmp_path, sig):
    stopped, whole = tmp_path / "stopped", tmp_path / "whole"
    victim = start(stopped, steps=100_000, every=100_000)  # no checkpoint before
    while victim.poll() is None and not (stopped / "config.json").exists():
        time.sleep(0.02)
    time.sleep(1.0)  # some steps in
    victim.send_signal(sig)
    code, _, err = finish(victim)
    assert code == 130, err
    assert "Traceback" not in err
    saved = load_checkpoint(stopped / "checkpoint.pt")
    assert f"holds step {saved['step']}, the last complete step" in err
    assert 0 < saved["step"] < 100_000
    assert len(saved["history"]["step"]) == saved["step"]

    total = saved["step"] + 10
    code, out, err = finish(start(stopped, "--resume", steps=total))
    assert code == 0, err
    assert f"resuming at step {saved['step']}" in out
    assert finish(start(whole, steps=total))[0] == 0
    assert_same_state(
        load_checkpoint(stopped / "checkpoint.pt"),
        load_checkpoint(whole / "checkpoint.pt"),
    )


class InterruptedFile:
    """A file whose write gets Ctrl-C, as a signal arriving during the write does."""

    def __init__(self, file):
        self.file = file

    def write(self, data) -> int:
        raise KeyboardInterrupt

    def __getattr__(self, name):  # flush, fileno, close: the real file's
        return getattr(self.file, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.file.close()


def test_ctrl_c_while_a_checkpoint_is_written_saves_the_last_complete_step(
    tmp_path, capsys, monkeypatch
):
    out, opened = tmp_path / "run", []

    def open_second_checkpoint_badly(path, mode="r", *args, **kwargs):
        file = open(path, mode, *args, **kwargs)
        if Path(path).name.startswith(".checkpoint.pt."):
            opened.append(path)
            if len(opened) == 2:  # the checkpoint of step 10
                return InterruptedFile(file)
        return file

    monkeypatch.setattr(files_module, "open", open_second_checkpoint_badly, False)
    code, _, err = run(capsys, *train_args(out, "--checkpoint-every", "5", steps=20))
    assert code == 130, err
    assert "holds step 10, the last complete step" in err
    saved = load_checkpoint(out / "checkpoint.pt")
    assert saved["step"] == 10 and len(saved["history"]["step"]) == 10
    assert not list(out.glob(".*.tmp"))  # the cut write left nothing behind


CUT_SAVE = """
import gc, sys, torch, torch.serialization as serialization
from gancourse.training.checkpoint import save_atomic, load_checkpoint
path = sys.argv[1]
save_atomic({"w": torch.zeros(3)}, path)

def cut(self, *args):  # Ctrl-C as the writer's __exit__ begins, before its end
    raise KeyboardInterrupt

serialization._open_zipfile_writer_buffer.__exit__ = cut
try:
    save_atomic({"w": torch.ones(3)}, path)
except KeyboardInterrupt:
    print("interrupted")
gc.collect()  # frees torch's unfinished writer, which then finishes its archive
print("alive; the file holds", load_checkpoint(path)["w"].tolist())
"""


def test_ctrl_c_inside_torch_save_does_not_abort_the_process(tmp_path):
    """Saving straight into the open file, a Ctrl-C there once ended in C++'s
    `terminate` (SIGABRT): the writer, freed later, wrote to the closed file.
    In CI the same write turned Ctrl-C into a RuntimeError and exit 1."""
    path = tmp_path / "c.pt"
    done = subprocess.run(
        [sys.executable, "-c", CUT_SAVE, str(path)],
        cwd=REPO, env=ENV, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == [
        "interrupted", "alive; the file holds [0.0, 0.0, 0.0]"
    ]  # fmt: skip
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]


def test_ctrl_c_before_the_first_step_keeps_nothing_and_blocks_nothing(tmp_path):
    out = tmp_path / "early"
    victim = start(out)
    while victim.poll() is None and not (out / LOCK).exists():
        time.sleep(0.005)
    victim.send_signal(signal.SIGINT)
    code, _, err = finish(victim)
    assert code == 130 and "Traceback" not in err, err
    # whatever it had written is gone, so a new run into the same folder starts
    assert not (out / "config.json").exists() or (out / "checkpoint.pt").exists()
    code, _, err = finish(start(out, steps=2))
    assert code == 0, err


# ---- two runs into one folder -------------------------------------------------------


def test_two_runs_into_the_same_new_folder_are_not_both_accepted(tmp_path):
    out = tmp_path / "shared"
    first = start(out, steps=100_000)  # still training when the second comes
    wait_for_step(out, first, 5)
    second = start(out, "--resume", steps=100_000)
    code, _, err = finish(second)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "another `train`" in lines[0], err
    assert str(first.pid) in lines[0]
    first.send_signal(signal.SIGINT)
    assert finish(first)[0] == 130
    # one run's files only: its config names one command, its checkpoint resumes
    config = json.loads((out / "config.json").read_text())
    assert len(config["runs"]) == 1
    assert load_checkpoint(out / "checkpoint.pt")["step"] >= 5


def test_the_lock_is_refused_in_process_and_released_after(tmp_path, capsys):
    out = tmp_path / "held"
    with RunFolderLock(out):
        code, _, err = run(capsys, *train_args(out))
        assert code == 2 and "another `train`" in err
    assert not (out / LOCK).exists()
    assert run(capsys, *train_args(out))[0] == 0


# ---- a killed write leaves a temporary file: the next run removes it --------------


def test_a_killed_writes_leftovers_are_removed_by_the_next_run(tmp_path, capsys):
    out = tmp_path / "run"
    assert run(capsys, *train_args(out, steps=2))[0] == 0
    before = load_checkpoint(out / "checkpoint.pt")
    leftovers = [
        out / ".checkpoint.pt.99999.tmp",  # what write_atomic leaves on kill -9
        out / "samples" / ".step_0000002.png.99999.tmp",
    ]
    for path in leftovers:
        path.write_bytes(b"\0" * 1000)
    assert run(capsys, *train_args(out, "--resume", steps=3))[0] == 0
    assert not any(path.exists() for path in leftovers)
    assert load_checkpoint(out / "checkpoint.pt")["step"] == before["step"] + 1


# ---- a full disk ----------------------------------------------------------------


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def test_a_full_disk_at_the_start_leaves_a_folder_a_new_run_accepts(tmp_path):
    out = tmp_path / "full"
    code, _, err = finish(start(out, limit_bytes=200))
    assert code == 2
    line = one_error_line(err)
    assert "cannot write" in line and "nothing of this run was kept" in line
    assert not (out / "config.json").exists()
    assert not list(out.rglob("*.png"))  # no empty sample grid
    code, _, err = finish(start(out, steps=2))
    assert code == 0, err


def test_a_full_disk_mid_run_keeps_the_last_checkpoint_and_resumes(tmp_path):
    out = tmp_path / "full"
    assert finish(start(out, steps=5, every=5))[0] == 0
    size = (out / "checkpoint.pt").stat().st_size
    before = load_checkpoint(out / "checkpoint.pt")
    # room for config and samples, not for the next checkpoint
    code, _, err = finish(
        start(out, "--resume", steps=10, every=5, limit_bytes=size // 2)
    )
    assert code == 2
    line = one_error_line(err)
    assert "holds step 5" in line and "--resume" in line
    assert_same_state(load_checkpoint(out / "checkpoint.pt"), before)
    assert not list(out.glob(".*.tmp"))
    code, _, err = finish(start(out, "--resume", steps=10, every=5))
    assert code == 0, err


# ---- an --out that cannot be written ---------------------------------------------


def test_an_out_under_a_file_or_with_a_too_long_name_is_one_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    for out in (blocker / "run", tmp_path / ("x" * 300)):
        code, _, err = run(capsys, *train_args(out))
        assert code == 2, err
        assert "cannot write to --out" in one_error_line(err)
    assert blocker.read_text() == "not a folder"


def test_a_read_only_out_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    """As root every folder is writable, so the refusal is made to happen."""
    import errno

    import gancourse.cli.run_folder as run_folder

    def read_only(path, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    out = tmp_path / "locked"
    out.mkdir()
    monkeypatch.setattr(run_folder, "open", read_only, raising=False)
    code, _, err = run(capsys, *train_args(out))
    line = one_error_line(err)
    assert code == 2 and "cannot write to --out" in line and "Permission denied" in line
    assert list(out.iterdir()) == []


# ---- a relative --data-path means the folder the command runs in -----------------


def test_a_relative_data_path_is_taken_from_the_current_folder(
    tmp_path, capsys, monkeypatch
):
    from PIL import Image

    for name in ("a", "b"):
        folder = tmp_path / "mine" / name
        folder.mkdir(parents=True)
        for i in range(20):
            Image.new("L", (28, 28), color=10 * i).save(folder / f"{i}.png")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "run"
    argv = train_args(out, "--data-path", "mine", dataset="imagefolder", steps=1)
    argv[argv.index("--batch-size") + 1] = "8"
    code, _, err = run(capsys, *argv)
    assert code == 0, err
    data = load_checkpoint(out / "checkpoint.pt")["dataset"]
    assert data["classes"] == ["a", "b"]  # the folders under ./mine


def test_a_checkpoint_too_large_to_be_ours_is_refused_unread(tmp_path, monkeypatch):
    import gancourse.training.checkpoint as checkpoint_module

    path = tmp_path / "huge.pt"
    path.write_bytes(b"\0" * 2048)
    monkeypatch.setattr(checkpoint_module, "MAX_CHECKPOINT_BYTES", 1024)
    monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("read it"))
    with pytest.raises(CheckpointError, match="any course checkpoint needs"):
        load_checkpoint(path)
