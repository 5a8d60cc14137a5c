"""`train`'s modern-recipe options (notebook 11) and --keep-best, end to end."""

import pytest
import torch

from gancourse.training import load_checkpoint
from tests.test_cli import refused, run, train_args

pytestmark = pytest.mark.usefixtures("one_thread")

MODERN = [
    "--loss", "relativistic", "--r1-gamma", "1", "--r2-gamma", "0.5",
    "--augment", "translation,cutout", "--ema", "0.99", "--spectral-norm",
    "--penalty-every", "2",
]  # fmt: skip


def test_the_modern_options_reach_the_saved_configs(tmp_path, capsys):
    out = tmp_path / "run"
    code, _, err = run(capsys, *train_args(out, *MODERN, steps=3))
    assert code == 0, err
    state = load_checkpoint(out / "checkpoint.pt")
    t = state["train_config"]
    assert (t["loss"], t["r1_gamma"], t["r2_gamma"]) == ("relativistic", 1.0, 0.5)
    assert (t["augment"], t["ema"]) == ("translation,cutout", 0.99)
    assert t["penalty_every"] == 2
    assert state["generator_average"]["updates"] == 3


def test_a_projection_cgan_keeps_its_best_fid_state(tmp_path, capsys):
    out = tmp_path / "run"
    argv = train_args(out, "--projection", "--keep-best", "2", kind="cgan", steps=6)
    code, stdout, err = run(capsys, *argv)
    assert code == 0, err
    state = load_checkpoint(out / "checkpoint.pt")
    assert state["discriminator_config"]["conditioning"] == "projection"
    fids, steps = state["history"]["fid"], state["history"]["fid_step"]
    assert steps == [2, 4, 6] and all(f > 0 for f in fids)
    best = load_checkpoint(out / "best.pt")
    assert best["step"] == steps[fids.index(min(fids))]  # the lowest, not the last
    assert f"FID {min(fids):.2f} at step {best['step']}" in stdout


def test_a_resumed_run_keeps_its_recipe_and_its_best(tmp_path, capsys):
    out = tmp_path / "run"
    first = train_args(out, "--keep-best", "2", "--ema", "0.9", steps=4)
    assert run(capsys, *first)[0] == 0
    best_before = load_checkpoint(out / "best.pt")
    message = refused(capsys, *train_args(out, "--resume", "--ema", "0.5", steps=6))
    assert "holds a run with --ema 0.9, but --ema 0.5 was given" in message
    assert (
        run(capsys, *train_args(out, "--resume", "--keep-best", "2", steps=6))[0] == 0
    )
    state = load_checkpoint(out / "checkpoint.pt")
    assert state["train_config"]["ema"] == 0.9
    fids = state["history"]["fid"]
    assert state["history"]["fid_step"] == [2, 4, 6]
    best = load_checkpoint(out / "best.pt")
    # best.pt moves only if a later state beats the best of the first run
    assert best["step"] == state["history"]["fid_step"][fids.index(min(fids))]
    if min(fids[2:]) >= min(fids[:2]):
        for key, value in best_before["generator"].items():
            assert torch.equal(best["generator"][key], value)


@pytest.mark.parametrize(
    ("extra", "kind", "expected"),
    [
        (["--loss", "hinged"], "dcgan", "--loss must be one of"),
        (["--r1-gamma", "-1"], "dcgan", "--r1-gamma must be 0 or more"),
        (["--r2-gamma", "nan"], "dcgan", "--r2-gamma must be 0 or more"),
        (["--augment", "flip"], "dcgan", "unknown DiffAugment policy"),
        (["--penalty-every", "0"], "dcgan", "--penalty-every must be at least 1"),
        (["--ema", "1"], "dcgan", "--ema must be in [0, 1)"),
        (["--projection"], "dcgan", "--projection is how a cgan's D"),
        (["--projection"], "acgan", "acgan has a class head instead"),
        (["--keep-best", "0"], "dcgan", "--keep-best must be at least 1"),
        (["--augment", ""], "dcgan", "--augment '' names no augmentation"),
        (["--augment", " , "], "dcgan", "names no augmentation"),
        (["--keep-best", "5"], "dcgan", "--keep-best 5 is more than --steps 4"),
    ],
)
def test_bad_modern_options_are_refused_before_any_work(
    tmp_path, capsys, extra, kind, expected
):
    message = refused(capsys, *train_args(tmp_path / "o", *extra, kind=kind))
    assert expected in message
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--dataset", "cifar10"], "there is none for 'cifar10'"),
        (["--image-size", "32"], "judge reads 1x28x28 images but this run makes"),
    ],
)
def test_keep_best_needs_a_judge_for_the_data(tmp_path, capsys, extra, expected):
    argv = train_args(tmp_path / "o", "--keep-best", "2")
    if extra[0] == "--dataset":
        argv[argv.index("mnist-5k")] = extra[1]
        extra = []
    message = refused(capsys, *argv, *extra)
    assert expected in message
    assert not (tmp_path / "o").exists()
