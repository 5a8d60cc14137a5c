"""The classifier and evaluate commands: reports, files, one error per bad input."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import gancourse.cli.evaluate as cli_evaluate
from gancourse import runtime
from gancourse.data import load_dataset
from gancourse.metrics import Classifier, load_classifier, save_classifier
from gancourse.training import GANTrainer, load_checkpoint
from gancourse.training.checkpoint import save_atomic
from tests.test_cli import refused, run

REPO = Path(__file__).resolve().parent.parent
SHAPES_8PX = ["--dataset", "shapes", "--classes", "circle,square", "--image-size", "8"]

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory, mnist) -> dict[str, Path]:
    """Tiny 5-step mnist-5k checkpoints: dcgan, cgan and a slim dcgan export."""
    folder = tmp_path_factory.mktemp("checkpoints")
    paths = {}
    with runtime.one_thread():
        for kind in ("dcgan", "cgan"):
            trainer = GANTrainer.from_preset(
                kind, mnist, g={"width": 8}, d={"width": 8}, progress=False
            )
            paths[kind] = trainer.fit(steps=5).save(folder / f"{kind}.pt")
    state = load_checkpoint(paths["dcgan"])
    keep = ("generator", "generator_config", "kind", "dataset", "step")
    paths["slim"] = save_atomic({k: state[k] for k in keep}, folder / "slim.pt")
    return paths


def test_evaluate_prints_the_report_and_writes_json(checkpoints, tmp_path):
    """The real command line, in a fresh process."""
    out = tmp_path / "scores.json"
    command = [sys.executable, "-m", "gancourse", "evaluate", checkpoints["dcgan"]]
    command += ["--n", "20", "--device", "cpu", "--json", out]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [str(c) for c in command], capture_output=True, text=True, cwd=REPO, env=env
    )
    assert done.returncode == 0, done.stderr
    for words in ("dcgan at step 5", "inception score", "FID vs train", "KID"):
        assert words in done.stdout
    assert "conditional accuracy" not in done.stdout  # unconditional
    figures = json.loads(out.read_text())
    assert figures["kind"] == "dcgan" and figures["n"] == 20
    assert figures["conditional_accuracy"] is None
    assert sum(figures["histogram"].values()) == 20
    assert figures["fid"]["held_out"] < figures["fid"]["samples"]
    assert f"wrote {out}" in done.stdout


def test_evaluate_a_cgan_prints_conditional_accuracy(checkpoints, tmp_path, capsys):
    pairs, out = tmp_path / "pairs.png", tmp_path / "cgan.json"
    code, text, err = run(
        capsys, "evaluate", checkpoints["cgan"], "--n", "20", "--device", "cpu",
        "--pairs", pairs, "--json", out,
    )  # fmt: skip
    assert code == 0, err
    assert "conditional accuracy" in text and "per class: 0 " in text
    figures = json.loads(out.read_text())
    assert 0 <= figures["conditional_accuracy"] <= 1
    assert list(figures["per_class_accuracy"]) == [str(d) for d in range(10)]
    assert pairs.read_bytes().startswith(b"\x89PNG")
    assert figures["classifier"].endswith("classifier_mnist-5k.pt")


def test_evaluate_reads_a_slim_checkpoint(checkpoints, capsys):
    code, text, err = run(
        capsys, "evaluate", checkpoints["slim"], "--n", "10", "--device", "cpu"
    )
    assert code == 0, err
    assert "dcgan at step 5" in text and "inception score" in text


@pytest.fixture(scope="module")
def other_classifier(tmp_path_factory) -> Path:
    """An untrained classifier of 32 px colour shapes: it fits no mnist model."""
    model = Classifier(channels=3, num_classes=4, image_size=32)
    model.classes = ["circle", "square", "triangle", "cross"]
    return save_classifier(model, tmp_path_factory.mktemp("clf") / "shapes.pt", {})


def test_evaluate_refuses_bad_input(
    checkpoints, other_classifier, tmp_path, capsys, monkeypatch
):
    dcgan, existing = checkpoints["dcgan"], tmp_path / "old.json"
    existing.write_text("{}")
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(2)}, foreign)
    cases = [
        (["--n", "1"], "--n must be at least 2"),
        (["--seed", "-1"], "--seed must be 0 or more"),
        (["--json", tmp_path / "out.txt"], "ending in .json"),
        (["--json", existing], "already exists: pass --overwrite"),
        (["--pairs", tmp_path / "pairs.jpg"], "ending in .png"),
        (["--device", "tpu"], "unknown --device 'tpu'"),
        (["--n", "5000"], "more than the 1000 held-out images"),
        (["--classifier", tmp_path / "none.pt"], "none.pt does not exist"),
        (["--classifier", other_classifier], "reads 3x32x32 images"),
        (["--data-path", tmp_path], "--data-path is only for models of an image"),
    ]
    for extra, problem in cases:
        line = refused(capsys, "evaluate", dcgan, "--n", "10", *extra)
        assert problem in line, line
    assert existing.read_text() == "{}" and not (tmp_path / "out.txt").exists()
    line = refused(capsys, "evaluate", tmp_path / "missing.pt")
    assert "no checkpoint at" in line
    assert "not a gancourse GAN checkpoint" in refused(capsys, "evaluate", foreign)
    no_record = save_atomic({"generator": {}}, tmp_path / "bare.pt")
    assert "no record of its kind" in refused(capsys, "evaluate", no_record)
    monkeypatch.setattr(cli_evaluate, "SHIPPED_CLASSIFIERS", ())
    line = refused(capsys, "evaluate", dcgan)
    assert "no classifier is shipped for 'mnist-5k'" in line
    assert "`python -m gancourse classifier --dataset mnist-5k --out clf.pt`" in line


def test_classifier_trains_saves_and_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "shapes8.pt"
    argv = ["classifier", *SHAPES_8PX, "--epochs", "1", "--out", out, "--quiet"]
    code, text, err = run(capsys, *argv)
    assert code == 0, err
    assert "test accuracy: " in text and f"wrote {out}" in text
    model = load_classifier(out, device="cpu")
    assert model.classes == ["circle", "square"] and model.image_size == 8
    info = model.info
    test = load_dataset("shapes", split="test", image_size=8, classes=model.classes)
    assert info["test_accuracy"] == pytest.approx(
        (model(test.images).argmax(1) == test.labels).float().mean().item()
    )
    assert info["dataset"] == "shapes" and info["classes"] == ["circle", "square"]
    assert info["image_shape"] == [3, 8, 8] and info["epochs"] == 1
    assert info["seed"] == 0 and info["command"][:4] == [
        "python", "-m", "gancourse", "classifier",
    ]  # fmt: skip
    saved = out.read_bytes()
    assert "already exists: pass --overwrite" in refused(capsys, *argv)
    assert out.read_bytes() == saved
    code, _, err = run(capsys, *argv, "--overwrite", "--seed", "1")
    assert code == 0, err
    assert load_classifier(out).info["seed"] == 1


def test_classifier_refuses_bad_input(tmp_path, capsys, no_network):
    out = tmp_path / "clf.pt"
    cases = [
        (["--dataset", "nope"], "unknown dataset 'nope'"),
        (["--dataset", "ring8"], "2D toy dataset"),
        (["--dataset", "true_image"], "no test split"),
        (["--dataset", "digits10"], "no test split"),
        ([*SHAPES_8PX, "--epochs", "0"], "--epochs must be at least 1"),
        ([*SHAPES_8PX, "--seed", "-2"], "--seed must be 0 or more"),
        (["--dataset", "shapes", "--classes", "circle"], "needs at least 2"),
        (["--dataset", "shapes", "--classes", "blob"], "blob not in 'shapes'"),
        (["--dataset", "shapes", "--image-size", "4"], "at least 8 px"),
        (["--dataset", "imagefolder"], "needs --data-path"),
        (["--dataset", "mnist"], "'mnist' is not available"),
    ]
    for extra, problem in cases:
        line = refused(capsys, "classifier", *extra, "--out", out)
        assert problem in line, line
    line = refused(capsys, "classifier", *SHAPES_8PX, "--out", tmp_path / "c.pth")
    assert "ending in .pt" in line
    assert not list(tmp_path.iterdir())
