"""The train and sample commands: files, exact resume, one error per bad input."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from PIL import Image

import gancourse.training.trainer as trainer_module
from gancourse import runtime
from gancourse.cli import main
from gancourse.data import load_dataset
from gancourse.training import CheckpointError, GANTrainer, load_checkpoint
from gancourse.training.checkpoint import save_atomic

REPO = Path(__file__).resolve().parent.parent
TINY = ["--width", "8", "--batch-size", "32", "--quiet"]


pytestmark = pytest.mark.usefixtures("one_thread")


def run(capsys, *argv) -> tuple[int, str, str]:
    """main(argv) in this process: (exit status, stdout, stderr)."""
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def train_args(out, *extra, kind="dcgan", dataset="mnist-5k", steps=4):
    budget = [] if any(a in ("--steps", "--epochs") for a in extra) else ["--steps"]
    budget += [str(steps)] if budget else []
    return ["train", kind, "--dataset", dataset, "--out", out, *budget, *TINY, *extra]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder`, by relative path, with its bytes."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def same_weights(a: dict, b: dict, tolerance: float = 1e-6) -> float:
    """Max abs difference over every tensor of G and D (asserting equal names)."""
    worst = 0.0
    for model in ("generator", "discriminator"):
        assert a[model].keys() == b[model].keys()
        for name, tensor in a[model].items():
            other = b[model][name]
            diff = (tensor.double() - other.double()).abs().max().item()
            worst = max(worst, diff)
    assert worst <= tolerance, f"weights differ by {worst}"
    return worst


@pytest.fixture(scope="module")
def dcgan_run(tmp_path_factory) -> Path:
    """A finished 4-step DCGAN run folder (read, never changed, by the tests)."""
    out = tmp_path_factory.mktemp("runs") / "dcgan"
    args = train_args(out, "--checkpoint-every", "2", "--sample-every", "2")
    with runtime.one_thread():
        assert main([str(a) for a in args]) == 0
    return out


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> dict[str, Path]:
    """Untrained checkpoints of other kinds and sizes, saved straight from trainers."""
    folder = tmp_path_factory.mktemp("checkpoints")
    tiny = {"g": {"width": 8}, "d": {"width": 8}, "progress": False}
    paths = {}
    for name, kind, data in [
        ("wgan-gp", "wgan-gp", load_dataset("mnist-5k")),
        ("dcgan-32px", "dcgan", load_dataset("mnist-5k", image_size=32)),
        ("dcgan-colour", "dcgan", load_dataset("shapes", image_size=32)),
        ("cgan-10", "cgan", load_dataset("mnist-5k")),
        ("cgan-shapes", "cgan", load_dataset("shapes", image_size=32)),
    ]:
        paths[name] = GANTrainer.from_preset(kind, data, **tiny).save(
            folder / f"{name}.pt"
        )
    return paths


# ---- happy paths ----------------------------------------------------------------


def test_train_writes_checkpoint_samples_config_and_history(tmp_path, capsys):
    out = tmp_path / "run"
    argv = train_args(out, "--steps", "6", "--sample-every", "3", "--seed", "4")
    code, stdout, stderr = run(capsys, *argv)
    assert code == 0, stderr
    state = load_checkpoint(out / "checkpoint.pt")
    assert state["step"] == 6 and state["kind"] == "dcgan"
    assert state["generator_config"]["width"] == 8
    assert state["train_config"]["seed"] == 4
    grids = sorted(p.name for p in (out / "samples").iterdir())
    assert grids == ["step_0000000.png", "step_0000003.png", "step_0000006.png"]
    config = json.loads((out / "config.json").read_text())
    assert config["runs"][0]["command"][3:5] == ["train", "dcgan"]
    assert config["args"]["steps"] == 6
    assert config["generator"]["width"] == config["discriminator"]["width"] == 8
    assert config["train"]["batch_size"] == 32
    assert config["dataset"]["name"] == "mnist-5k"
    assert config["dataset"]["size"] == 4000
    lines = (out / "history.csv").read_text().splitlines()
    assert lines[0].split(",")[:3] == ["step", "loss_d", "d_real"]
    assert [line.split(",")[0] for line in lines[1:]] == [str(s) for s in range(1, 7)]
    assert "done: 6 steps" in stdout and "real images/s" in stdout
    assert "loss_d" in stdout and str(out / "checkpoint.pt") in stdout


@pytest.mark.parametrize(
    ("extra", "g_bn", "d_bn", "d_sn"),
    [
        ([], True, True, False),
        (["--spectral-norm"], True, False, True),  # SNGAN: no BatchNorm in D
        (["--spectral-norm", "--batchnorm"], True, True, True),  # asked for both
        (["--spectral-norm", "--no-batchnorm"], False, False, True),
        (["--no-spectral-norm"], True, True, False),
    ],
)
def test_spectral_norm_turns_off_d_batchnorm_unless_asked(
    tmp_path, capsys, extra, g_bn, d_bn, d_sn
):
    code, _, stderr = run(capsys, *train_args(tmp_path / "run", *extra, steps=1))
    assert code == 0, stderr
    state = load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert state["generator_config"]["batchnorm"] is g_bn
    assert state["discriminator_config"]["batchnorm"] is d_bn
    assert state["discriminator_config"]["spectral_norm"] is d_sn


def test_sample_writes_a_png_grid_of_the_right_size(dcgan_run, tmp_path, capsys):
    grid = tmp_path / "grid.png"
    code, stdout, stderr = run(
        capsys,
        "sample",
        dcgan_run / "checkpoint.pt",
        "--n",
        10,
        "--nrow",
        5,
        "--out",
        grid,
    )
    assert code == 0, stderr
    # make_grid: 2 px padding around and between 28 px images
    assert Image.open(grid).size == (5 * 30 + 2, 2 * 30 + 2)
    assert "10 images" in stdout
    again = tmp_path / "again.png"
    other = tmp_path / "other.png"
    main(["sample", str(dcgan_run / "checkpoint.pt"), "--n", "10", "--out", str(again)])
    main(
        [
            "sample",
            str(dcgan_run / "checkpoint.pt"),
            "--n",
            "10",
            "--seed",
            "1",
            "--out",
            str(other),
        ]
    )
    assert grid.read_bytes() != again.read_bytes()  # nrow 5 vs the default 8
    assert Image.open(again).size == (8 * 30 + 2, 2 * 30 + 2)
    assert again.read_bytes() != other.read_bytes()  # --seed changes the noise


def test_conditional_run_samples_one_row_per_class_or_one_label(tmp_path, capsys):
    out = tmp_path / "cgan"
    code, _, stderr = run(
        capsys, *train_args(out, "--classes", "3,5,7", kind="cgan", steps=2)
    )
    assert code == 0, stderr
    state = load_checkpoint(out / "checkpoint.pt")
    assert state["dataset"]["classes"] == ["3", "5", "7"]
    assert state["generator_config"]["num_classes"] == 3
    rows = tmp_path / "rows.png"
    assert (
        main(["sample", str(out / "checkpoint.pt"), "--nrow", "4", "--out", str(rows)])
        == 0
    )
    assert Image.open(rows).size == (4 * 30 + 2, 3 * 30 + 2)  # 3 classes, 4 each
    fives, sevens = tmp_path / "5.png", tmp_path / "7.png"
    for label, path in (("5", fives), ("7", sevens)):
        argv = ["sample", out / "checkpoint.pt", "--label", label, "--n", 6]
        assert run(capsys, *argv, "--out", path)[0] == 0
    assert Image.open(fives).size == (6 * 30 + 2, 32)
    assert fives.read_bytes() != sevens.read_bytes()  # the label reaches G


def test_a_label_is_a_class_name_or_an_index(saved, tmp_path, capsys):
    by_name, by_index = tmp_path / "name.png", tmp_path / "index.png"
    for label, path in (("triangle", by_name), ("2", by_index)):
        argv = ["sample", saved["cgan-shapes"], "--label", label, "--out", path]
        assert run(capsys, *argv)[0] == 0
    assert by_name.read_bytes() == by_index.read_bytes()
    assert Image.open(by_name).size == (8 * 34 + 2, 8 * 34 + 2)  # 64 of 32 px


def test_epochs_are_the_total_when_an_interrupted_run_resumes(
    tmp_path, capsys, monkeypatch
):
    # 200 test images of digits 0 and 1, batch 32: 6 steps per epoch, 18 in all
    options = ["--epochs", "3", "--classes", "0,1", "--split", "test"]
    options += ["--checkpoint-every", "4"]
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    assert run(capsys, *train_args(whole, *options))[0] == 0
    assert load_checkpoint(whole / "checkpoint.pt")["step"] == 18

    real_step = GANTrainer.train_step

    def interrupted(self):
        if self.step == 10:
            raise KeyboardInterrupt
        real_step(self)

    monkeypatch.setattr(GANTrainer, "train_step", interrupted)
    code, _, stderr = run(capsys, *train_args(broken, *options))
    assert code == 130 and "--resume" in stderr
    # Ctrl-C saves the last complete step, not the last checkpoint (step 8)
    assert "holds step 10, the last complete step" in stderr
    assert load_checkpoint(broken / "checkpoint.pt")["step"] == 10
    monkeypatch.setattr(GANTrainer, "train_step", real_step)

    code, stdout, _ = run(capsys, *train_args(broken, *options, "--resume"))
    assert code == 0 and "resuming at step 10" in stdout
    resumed = load_checkpoint(broken / "checkpoint.pt")
    reference = load_checkpoint(whole / "checkpoint.pt")
    assert resumed["step"] == 18 and resumed["position"] == reference["position"]
    same_weights(resumed, reference)
    assert resumed["history"] == reference["history"]
    assert (broken / "history.csv").read_text() == (whole / "history.csv").read_text()
    # the data options, model and batch size come back from the run folder
    argv = ["train", "dcgan", "--dataset", "mnist-5k", "--out", broken]
    code, stdout, _ = run(capsys, *argv, "--epochs", 3, "--resume")
    assert code == 0 and "nothing to do" in stdout


def test_init_from_fine_tunes_with_fresh_optimisers(dcgan_run, tmp_path, capsys):
    out = tmp_path / "tuned"
    argv = train_args(
        out,
        "--init-from",
        dcgan_run / "checkpoint.pt",
        "--classes",
        "3",
        "--lr-g",
        "1e-4",
        steps=2,
    )
    code, stdout, stderr = run(capsys, *argv)
    assert code == 0, stderr
    assert "fine-tuning" in stdout
    state = load_checkpoint(out / "checkpoint.pt")
    assert state["step"] == 2 and state["dataset"]["classes"] == ["3"]
    assert state["train_config"]["lr_g"] == 1e-4
    # fresh Adam: 2 steps of moments, not the 4 + 2 of a resumed optimiser
    assert all(s["step"] == 2 for s in state["opt_g"]["state"].values())


def test_a_non_finite_loss_stops_training_with_exit_status_1(
    tmp_path, capsys, monkeypatch
):
    real_d_loss, calls = trainer_module.d_loss, []

    def nan_from_step_3(name, real, fake):
        calls.append(name)
        loss = real_d_loss(name, real, fake)
        return loss * float("nan") if len(calls) >= 3 else loss

    monkeypatch.setattr(trainer_module, "d_loss", nan_from_step_3)
    out = tmp_path / "nan"
    code, _, stderr = run(capsys, *train_args(out, steps=10))
    assert code == 1
    assert "discriminator loss is nan" in stderr
    assert "training stopped early" in stderr
    state = load_checkpoint(out / "checkpoint.pt")
    assert state["step"] == 2  # the weights of the last finite step
    assert all(
        torch.isfinite(t).all()
        for t in state["generator"].values()
        if t.is_floating_point()
    )


# ---- the key test: kill a real training process, resume it, same weights ----------


def test_a_killed_run_resumes_to_the_weights_of_an_uninterrupted_run(tmp_path):
    steps, every = 60, 5
    env = {
        **os.environ,
        "GANCOURSE_QUICK": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }

    def command(out, *extra):
        options = f"--steps {steps} --checkpoint-every {every} --sample-every 50"
        return [
            *(sys.executable, "-m", "gancourse", "train", "dcgan"),
            *("--dataset", "mnist-5k", "--out", str(out), *options.split()),
            *TINY,
            *extra,
        ]

    def start(out, *extra):
        return subprocess.Popen(
            command(out, *extra),
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    whole, killed = tmp_path / "whole", tmp_path / "killed"
    reference, victim = start(whole), start(killed)
    deadline, seen = time.monotonic() + 300, -1
    while seen < 10:
        if victim.poll() is not None:
            pytest.fail(f"the run ended before the kill:\n{victim.stdout.read()}")
        assert time.monotonic() < deadline, "no checkpoint appeared in time"
        try:  # os.replace swaps whole files, so a read sees an old or a new one
            seen = load_checkpoint(killed / "checkpoint.pt")["step"]
        except CheckpointError:
            pass
        time.sleep(0.02)
    victim.kill()  # SIGKILL: no clean-up, no final checkpoint
    victim.wait(timeout=60)
    assert victim.returncode == -signal.SIGKILL
    at_kill = load_checkpoint(killed / "checkpoint.pt")["step"]
    assert 10 <= at_kill < steps and at_kill % every == 0

    resumed = subprocess.run(
        command(killed, "--resume"),
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"resuming at step {at_kill}" in resumed.stdout
    output, _ = reference.communicate(timeout=300)
    assert reference.returncode == 0, output

    final = load_checkpoint(killed / "checkpoint.pt")
    expected = load_checkpoint(whole / "checkpoint.pt")
    assert final["step"] == expected["step"] == steps
    same_weights(final, expected, tolerance=1e-6)
    assert final["history"]["loss_d"] == pytest.approx(
        expected["history"]["loss_d"], abs=1e-6
    )


# ---- bad input: one `error: ...` line, exit status 2, nothing written -------------


def refused(capsys, *argv) -> str:
    """Run main, assert exit status 2 with one error line; return that line."""
    code, stdout, stderr = run(capsys, *argv)
    assert code == 2, (stdout, stderr)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    return lines[0]


def test_unknown_model_kind(tmp_path, capsys):
    message = refused(capsys, *train_args(tmp_path / "o", kind="gan"))
    assert "unknown model kind 'gan'" in message and "wgan-gp" in message
    assert not (tmp_path / "o").exists()


def test_unknown_dataset_lists_the_known_ones(tmp_path, capsys):
    message = refused(capsys, *train_args(tmp_path / "o", dataset="mnist-6k"))
    assert "unknown dataset 'mnist-6k'" in message
    assert "mnist-5k" in message and "cifar10" in message and "shapes" in message
    assert not (tmp_path / "o").exists()


def test_an_image_folder_needs_its_data_path_before_any_work(tmp_path, capsys):
    message = refused(capsys, *train_args(tmp_path / "o", dataset="imagefolder"))
    assert "--dataset imagefolder needs --data-path FOLDER" in message
    assert not (tmp_path / "o").exists()


def test_a_2d_toy_dataset_is_not_images(tmp_path, capsys):
    message = refused(capsys, *train_args(tmp_path / "o", dataset="ring8"))
    assert "'ring8' is a 2D toy dataset" in message


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--image-size", "30"], "--image-size 30 does not fit the models"),
        (["--lr-d", "0"], "--lr-d must be a learning rate above 0"),
        (["--lr-g", "-0.0001"], "--lr-g must be a learning rate above 0"),
        (["--lr-g", "nan"], "--lr-g must be a learning rate above 0"),
        (["--steps", "0"], "--steps must be at least 1"),
        (["--epochs", "0"], "--epochs must be at least 1"),
        (["--steps", "3", "--epochs", "1"], "exactly one of --steps N or --epochs N"),
        (["--batch-size", "0"], "--batch-size must be at least 1"),
        (["--d-steps", "0"], "--d-steps must be at least 1"),
        (["--checkpoint-every", "0"], "--checkpoint-every must be at least 1"),
        (["--classes", "3,x"], "--classes: x not in 'mnist-5k'"),
        (["--classes", "3,3"], "names a class twice"),
        (["--depth", "huge"], "--depth must be one of small, medium, large"),
        (["--split", "val"], "--split must be one of train, test, train+test"),
        (["--device", "tpu"], "unknown --device 'tpu'"),
        (["--steps", "many"], "invalid int value: 'many'"),
    ],
)
def test_bad_settings_are_refused_before_any_work(tmp_path, capsys, extra, expected):
    message = refused(capsys, *train_args(tmp_path / "o", *extra))
    assert expected in message
    assert not (tmp_path / "o").exists()


def test_no_budget_is_refused(tmp_path, capsys):
    argv = ["train", "dcgan", "--dataset", "mnist-5k", "--out", tmp_path / "o"]
    assert "exactly one of --steps N or --epochs N" in refused(capsys, *argv)


def test_a_missing_required_option_is_one_error_line(capsys):
    message = refused(capsys, "train", "dcgan", "--steps", "3")
    assert "--dataset" in message and "--help" in message


def test_image_sizes_the_models_cannot_make(tmp_path, capsys):
    message = refused(capsys, *train_args(tmp_path / "o", dataset="digits10"))
    assert "'digits10' images are 10x10 px" in message
    assert "--image-size 28" in message


@pytest.mark.parametrize(
    ("kind", "dataset", "extra"),
    [("cgan", "mnist-5k", ["--classes", "3"]), ("acgan", "true_image", [])],
)
def test_a_conditional_gan_needs_two_classes(tmp_path, capsys, kind, dataset, extra):
    argv = train_args(tmp_path / "o", *extra, kind=kind, dataset=dataset)
    message = refused(capsys, *argv)
    assert f"{kind} is conditional and needs at least 2 classes" in message
    assert "has 1" in message


def test_an_output_folder_holding_a_run_is_never_overwritten(dcgan_run, capsys):
    before = snapshot(dcgan_run)
    message = refused(capsys, *train_args(dcgan_run))
    assert f"{dcgan_run} already holds a run" in message
    assert "pass --resume" in message and "another --out folder" in message
    assert snapshot(dcgan_run) == before


def test_a_folder_with_a_run_but_no_checkpoint_is_not_overwritten(tmp_path, capsys):
    out = tmp_path / "early"
    (out / "samples").mkdir(parents=True)
    (out / "samples" / "step_0000000.png").write_bytes(b"mine")
    (out / "config.json").write_text("{}")
    before = snapshot(out)
    assert "already holds a run" in refused(capsys, *train_args(out))
    message = refused(capsys, *train_args(out, "--resume"))
    assert "no checkpoint.pt" in message and "before its first checkpoint" in message
    assert snapshot(out) == before


def test_resume_without_a_checkpoint(tmp_path, capsys):
    message = refused(capsys, *train_args(tmp_path / "empty", "--resume"))
    assert "--resume: there is no checkpoint.pt in" in message
    assert "leave out --resume" in message
    assert not (tmp_path / "empty").exists()


@pytest.mark.parametrize(
    ("kind", "extra", "expected"),
    [
        ("wgan", [], "holds a dcgan run, not wgan"),
        ("dcgan", ["--width", "16"], "with --width 8, but --width 16 was given"),
        ("dcgan", ["--no-batchnorm"], "with --batchnorm, but --no-batchnorm was"),
        ("dcgan", ["--batch-size", "16"], "--batch-size 32, but --batch-size 16"),
        ("dcgan", ["--classes", "1,2"], "--classes 0,1,2,3,4,5,6,7,8,9, but"),
        ("dcgan", ["--image-size", "32"], "--image-size 28, but --image-size 32"),
    ],
)
def test_resume_refuses_another_kind_or_architecture(
    dcgan_run, capsys, kind, extra, expected
):
    before = snapshot(dcgan_run)
    argv = train_args(dcgan_run, "--resume", *extra, kind=kind, steps=8)
    message = refused(capsys, *argv)
    assert expected in message and "another --out folder" in message
    assert snapshot(dcgan_run) == before


def test_resume_refuses_another_device(tmp_path, dcgan_run, capsys):
    out = tmp_path / "copy"
    out.mkdir()
    for name in ("checkpoint.pt", "config.json"):
        (out / name).write_bytes((dcgan_run / name).read_bytes())
    config = json.loads((out / "config.json").read_text())
    (out / "config.json").write_text(json.dumps(config | {"device": "mps"}))
    before = snapshot(out)
    argv = train_args(out, "--resume", "--device", "cpu", steps=8)
    message = refused(capsys, *argv)
    assert "was trained on mps" in message and "pass --device mps" in message
    assert snapshot(out) == before


def test_resume_refuses_another_dataset(dcgan_run, capsys):
    before = snapshot(dcgan_run)
    argv = train_args(dcgan_run, "--resume", dataset="shapes", steps=8)
    message = refused(capsys, *argv)
    assert "was trained on 'mnist-5k', not 'shapes'" in message
    assert snapshot(dcgan_run) == before


def corrupt(path: Path, how: str, scratch: Path) -> Path:
    """Write a broken checkpoint: a real one cut short, or random bytes."""
    if how == "truncated":
        good = scratch / "good.pt"
        GANTrainer.from_preset(
            "dcgan",
            load_dataset("mnist-5k"),
            g={"width": 8},
            d={"width": 8},
            progress=False,
        ).save(good)
        data = good.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:
        path.write_bytes(os.urandom(4096))
    return path


@pytest.mark.parametrize("how", ["truncated", "random"])
def test_a_corrupt_checkpoint_is_refused_everywhere(tmp_path, capsys, how):
    out = tmp_path / "run"
    out.mkdir()
    bad = corrupt(out / "checkpoint.pt", how, tmp_path)
    with pytest.raises(CheckpointError):
        load_checkpoint(bad)
    before = snapshot(out)
    for argv in (
        train_args(out, "--resume"),
        train_args(tmp_path / "new", "--init-from", bad),
        ["sample", bad, "--out", tmp_path / "grid.png"],
    ):
        message = refused(capsys, *argv)
        assert f"{bad} is not a readable checkpoint" in message
        assert "corrupt or truncated" in message
    assert snapshot(out) == before
    assert not (tmp_path / "new").exists() and not (tmp_path / "grid.png").exists()


def test_a_checkpoint_of_another_version_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    old = save_atomic({"kind": "dcgan", "step": 3}, out / "checkpoint.pt")
    message = refused(capsys, *train_args(out, "--resume"))
    assert f"{old} lacks 'dataset'" in message and "another version" in message
    message = refused(capsys, "sample", old, "--out", tmp_path / "g.png")
    assert "does not hold a model this version can build" in message


def test_a_missing_checkpoint_for_init_from_or_sample(tmp_path, capsys):
    missing = tmp_path / "nope.pt"
    for argv in (
        train_args(tmp_path / "new", "--init-from", missing),
        ["sample", missing, "--out", tmp_path / "grid.png"],
    ):
        assert f"no checkpoint at {missing}" in refused(capsys, *argv)


def test_init_from_a_checkpoint_of_another_kind(saved, tmp_path, capsys):
    argv = train_args(tmp_path / "o", "--init-from", saved["wgan-gp"])
    message = refused(capsys, *argv)
    assert "is a wgan-gp checkpoint and cannot start a dcgan" in message
    assert not (tmp_path / "o").exists()


def test_init_from_a_checkpoint_of_another_size_or_channels(saved, tmp_path, capsys):
    argv = train_args(tmp_path / "o", "--init-from", saved["dcgan-32px"])
    message = refused(capsys, *argv)
    assert "makes 32x32 px images but 'mnist-5k' images are 28x28 px" in message
    assert "--image-size 32" in message
    argv = train_args(
        tmp_path / "o", "--init-from", saved["dcgan-32px"], "--width", "16"
    )
    assert "has networks with --width 8, but --width 16" in refused(capsys, *argv)
    argv = train_args(
        tmp_path / "o", "--init-from", saved["dcgan-colour"], "--image-size", "32"
    )
    message = refused(capsys, *argv)
    assert "makes 3x32x32 images but 'mnist-5k' images are 1x32x32" in message
    assert "3 channel(s)" in message
    assert not (tmp_path / "o").exists()


def test_sample_label_out_of_range_or_unknown(saved, dcgan_run, tmp_path, capsys):
    grid = tmp_path / "grid.png"
    for label in ("12", "seven", "-1"):
        message = refused(
            capsys, "sample", saved["cgan-10"], "--label", label, "--out", grid
        )
        assert f"--label {label} is not a class of this 10-class model" in message
        assert "give a class name (0, 1, 2, 3, 4, 5, 6, 7, 8, 9)" in message
    message = refused(
        capsys, "sample", dcgan_run / "checkpoint.pt", "--label", "3", "--out", grid
    )
    assert "unconditional dcgan: it takes no --label" in message
    assert not grid.exists()


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--n", "0"], "--n must be at least 1"),
        (["--nrow", "0"], "--nrow must be at least 1"),
        (["--out", "grid"], "give an image file name ending in .png, .jpg, .jpeg"),
        (["--device", "gpu"], "unknown --device 'gpu'"),
    ],
)
def test_bad_sample_settings(dcgan_run, tmp_path, capsys, extra, expected):
    argv = ["sample", dcgan_run / "checkpoint.pt", "--out", tmp_path / "g.png", *extra]
    assert expected in refused(capsys, *argv)
    assert list(tmp_path.iterdir()) == []


def test_sample_writes_the_jpeg_its_message_allows(dcgan_run, tmp_path, capsys):
    out = tmp_path / "grid.jpg"
    code, stdout, _ = run(capsys, "sample", dcgan_run / "checkpoint.pt", "--out", out)
    assert code == 0 and f"wrote {out}" in stdout
    assert Image.open(out).format == "JPEG"


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_a_device_that_is_not_there(tmp_path, capsys):
    message = refused(capsys, *train_args(tmp_path / "o", "--device", "cuda"))
    assert "no CUDA GPU is visible" in message and "--device 'cpu'" in message


def test_the_old_commands_still_work(capsys):
    code, stdout, _ = run(capsys, "datasets")
    assert code == 0 and "mnist-5k" in stdout


def test_gancourse_threads_sets_the_commands_torch_threads(
    tmp_path, capsys, monkeypatch
):
    """Two runs side by side, each told GANCOURSE_THREADS=1, do not fight for cores."""
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        monkeypatch.setenv("GANCOURSE_THREADS", "1")
        code, _, stderr = run(capsys, *train_args(tmp_path / "a", steps=1))
        assert code == 0, stderr
        assert torch.get_num_threads() == 1
        monkeypatch.setenv("GANCOURSE_THREADS", "many")
        code, _, stderr = run(capsys, *train_args(tmp_path / "b", steps=1))
        assert code == 2 and stderr.startswith("error: GANCOURSE_THREADS='many'")
        assert not (tmp_path / "b").exists()  # refused before any work
    finally:
        torch.set_num_threads(before)
