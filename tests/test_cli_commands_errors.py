"""sample, evaluate, classifier, export: one `error:` line, before any work, no loss.

Each test runs the command line as a user would, through gancourse.cli.main (or
`python -m gancourse` where start-up matters), and checks exit status 2 with one
error line and no traceback, or 130 with one `interrupted:` line after Ctrl-C.
"""

import json
import os
from pathlib import Path

import pytest
import torch

import gancourse.cli as cli
import gancourse.cli.evaluate as cli_evaluate
import gancourse.cli.sample as cli_sample
from gancourse import runtime
from gancourse.data import load_dataset
from gancourse.metrics import Classifier, save_classifier
from gancourse.models import Generator
from gancourse.training import GANTrainer, load_checkpoint
from gancourse.training.checkpoint import save_atomic
from tests.test_cli import refused as cli_refused
from tests.test_cli import run

pytestmark = pytest.mark.usefixtures("one_thread")

TOO_BIG_SEED = 2**64  # torch itself overflows here


def refused(capsys, *argv) -> str:
    """test_cli's refused, and no traceback or weights_only advice in the line."""
    line = cli_refused(capsys, *argv)
    assert "Traceback" not in line and "weights_only" not in line
    return line


def untrained(kind: str, dataset, path: Path) -> Path:
    """A tiny untrained checkpoint of `kind` on `dataset`, saved at `path`."""
    tiny = {"g": {"width": 8}, "d": {"width": 8}, "progress": False}
    return GANTrainer.from_preset(kind, dataset, batch_size=16, **tiny).save(path)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory, mnist) -> dict[str, Path]:
    """Untrained dcgan and cgan checkpoints, a 64 px one and two broken ones."""
    folder = tmp_path_factory.mktemp("checkpoints")
    paths = {
        "dcgan": untrained("dcgan", mnist, folder / "dcgan.pt"),
        "cgan": untrained("cgan", mnist, folder / "cgan.pt"),
        "64px": untrained(
            "dcgan",
            load_dataset("mnist-5k", split="test", image_size=64),
            folder / "64px.pt",
        ),
    }
    state = load_checkpoint(paths["dcgan"])
    nan_weights = {k: v.clone() for k, v in state["generator"].items()}
    for tensor in nan_weights.values():
        if tensor.is_floating_point():
            tensor.fill_(float("nan"))  # a run that diverged
    paths["nan"] = save_atomic({**state, "generator": nan_weights}, folder / "nan.pt")
    # finite weights, NaN images: a BatchNorm variance below 0 has no square root
    bad_variance = {k: v.clone() for k, v in state["generator"].items()}
    name = next(k for k in bad_variance if k.endswith("running_var"))
    bad_variance[name].fill_(-1.0)
    paths["nan-images"] = save_atomic(
        {**state, "generator": bad_variance}, folder / "nan-images.pt"
    )
    return paths


def evaluate_args(checkpoint, *extra):
    return ["evaluate", checkpoint, "--n", "10", "--device", "cpu", *extra]


# ---- 1. sample's grid is bounded, and made a batch at a time ---------------------


def test_sample_caps_the_number_of_images_and_says_how_to_get_more(
    checkpoints, tmp_path, capsys
):
    grid = tmp_path / "grid.png"
    line = refused(capsys, "sample", checkpoints["dcgan"], "--n", 100000, "--out", grid)
    assert "--n 100000: a grid holds at most 1024 images" in line
    assert "another --seed" in line
    argv = ["sample", checkpoints["cgan"], "--nrow", 200, "--out", grid]
    line = refused(capsys, *argv)
    assert "200 images for each of the 10 classes, 2000 in all" in line
    argv = ["sample", checkpoints["64px"], "--n", 1024, "--nrow", 1, "--out", grid]
    line = refused(capsys, *argv)
    assert "a grid of 68x67586 px" in line and "--nrow 32" in line
    assert not grid.exists()


def test_sample_makes_its_images_a_batch_at_a_time(
    checkpoints, tmp_path, capsys, monkeypatch
):
    sizes, forward = [], Generator.forward

    def recorded(self, z, labels=None):
        sizes.append(len(z))
        return forward(self, z, labels)

    monkeypatch.setattr(Generator, "forward", recorded)
    monkeypatch.setattr(cli_sample, "BATCH", 4)
    grid = tmp_path / "grid.png"
    code, out, err = run(
        capsys, "sample", checkpoints["dcgan"], "--n", 10, "--out", grid
    )
    assert code == 0, err
    assert sizes == [4, 4, 2] and "10 images" in out


def test_classifier_refuses_images_larger_than_any_gan_makes(tmp_path, capsys):
    argv = ["classifier", "--dataset", "shapes", "--image-size", 100000]
    line = refused(capsys, *argv, "--out", tmp_path / "clf.pt")
    assert "--image-size must be at most 64 px, got 100000" in line


# ---- 2. no output file is replaced without --overwrite ---------------------------


def test_sample_refuses_to_overwrite_unless_asked(checkpoints, tmp_path, capsys):
    grid = tmp_path / "grid.png"
    grid.write_bytes(b"my old grid")
    line = refused(capsys, "sample", checkpoints["dcgan"], "--out", grid)
    assert f"--out {grid} already exists: pass --overwrite" in line
    assert grid.read_bytes() == b"my old grid"
    argv = ["sample", checkpoints["dcgan"], "--out", grid, "--overwrite"]
    code, _, err = run(capsys, *argv)
    assert code == 0, err
    assert grid.read_bytes().startswith(b"\x89PNG")


# ---- 3. a generator that makes NaN is refused, not drawn black -------------------


@pytest.mark.parametrize("broken", ["nan", "nan-images"])
def test_a_diverged_generator_is_one_error_in_sample_and_evaluate(
    checkpoints, tmp_path, capsys, broken
):
    grid, scores = tmp_path / "grid.png", tmp_path / "scores.json"
    small = tmp_path / "small.pt"
    for argv in (
        ["sample", checkpoints[broken], "--out", grid],
        evaluate_args(checkpoints[broken], "--json", scores),
        *([["export", checkpoints[broken], small]] if broken == "nan" else []),
    ):
        line = refused(capsys, *argv)
        assert f"the generator of {checkpoints[broken]} is broken" in line
        assert "NaN or infinite" in line and "diverged" in line
        assert "lower learning rates (--lr-g, --lr-d)" in line
    assert not grid.exists() and not scores.exists() and not small.exists()


# ---- 4. seeds beyond what NumPy and torch take -----------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["sample", "CKPT", "--out", "OUT/g.png"],
        ["evaluate", "CKPT"],
        ["classifier", "--dataset", "shapes", "--out", "OUT/c.pt"],
        ["train", "dcgan", "--dataset", "mnist-5k", "--steps", "1", "--out", "OUT/r"],
    ],
)
@pytest.mark.parametrize("seed", [2**32, 2**63, TOO_BIG_SEED])
def test_a_seed_too_large_is_refused(checkpoints, tmp_path, capsys, argv, seed):
    argv = [
        str(checkpoints["dcgan"]) if a == "CKPT" else a.replace("OUT", str(tmp_path))
        for a in argv
    ]
    line = refused(capsys, *argv, "--seed", seed)
    assert f"--seed must be at most 4294967295 (2**32 - 1), got {seed}" in line
    assert list(tmp_path.iterdir()) == []


def test_the_largest_seed_works(checkpoints, tmp_path, capsys):
    grid = tmp_path / "grid.png"
    argv = ["sample", checkpoints["dcgan"], "--out", grid, "--seed", 2**32 - 1]
    code, _, err = run(capsys, *argv)
    assert code == 0, err


# ---- 5. export: a run folder's config.json that cannot be read --------------------


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ("{not json", "JSONDecodeError"),
        (json.dumps({"dataset": {"split": "train"}}), "KeyError"),
        (json.dumps({"dataset": [], "runs": []}), "AttributeError"),
        (json.dumps({"dataset": {"split": 3}, "runs": []}), "gives the split 3"),
    ],
)
def test_export_names_a_broken_config_json(
    checkpoints, tmp_path, capsys, config, problem
):
    folder = tmp_path / "run"
    folder.mkdir()
    checkpoint = folder / "checkpoint.pt"
    checkpoint.write_bytes(checkpoints["dcgan"].read_bytes())
    (folder / "config.json").write_text(config)
    out = tmp_path / "small.pt"
    line = refused(capsys, "export", checkpoint, out)
    assert str(folder / "config.json") in line and problem in line
    assert "move it out of the folder" in line
    assert not out.exists()


def test_export_refuses_a_checkpoint_without_what_it_copies(
    checkpoints, tmp_path, capsys
):
    state = load_checkpoint(checkpoints["dcgan"])
    keep = ("generator", "generator_config", "kind", "dataset", "step")
    slim = save_atomic({k: state[k] for k in keep}, tmp_path / "slim.pt")
    line = refused(capsys, "export", slim, tmp_path / "small.pt")
    assert "lacks 'discriminator_config', 'train_config'" in line
    assert "written by `python -m gancourse train`" in line


# ---- 6. an output path that cannot be written is refused first -------------------


def outputs(tmp_path: Path, checkpoint: Path, out: Path) -> list[list]:
    """Each command with an output file at `out` (named for its suffix)."""
    return [
        ["sample", checkpoint, "--out", out.with_suffix(".png")],
        ["evaluate", checkpoint, "--json", out.with_suffix(".json")],
        ["evaluate", checkpoint, "--pairs", out.with_suffix(".png")],
        ["classifier", "--dataset", "shapes", "--out", out.with_suffix(".pt")],
        ["export", checkpoint, out.with_suffix(".pt")],
    ]


def test_an_output_under_a_file_is_refused_before_any_work(tmp_path, capsys):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    missing = tmp_path / "no-such-checkpoint.pt"  # refused later, if ever reached
    for argv in outputs(tmp_path, missing, a_file / "sub" / "out"):
        line = refused(capsys, *argv)
        assert f"{a_file} is a file, not a folder" in line, line
    assert a_file.read_text() == "mine"


def test_an_output_in_a_read_only_folder_is_refused_before_any_work(
    tmp_path, capsys, monkeypatch
):
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access

    def access(path, mode, **options) -> bool:  # as chmod 555 would, even for root
        return Path(path) != locked and real_access(path, mode, **options)

    monkeypatch.setattr(os, "access", access)
    missing = tmp_path / "no-such-checkpoint.pt"
    for argv in outputs(tmp_path, missing, locked / "out"):
        line = refused(capsys, *argv)
        assert f"the folder {locked} cannot be written in" in line, line


@pytest.mark.parametrize("length", [250, 300])  # the temporary file's, the file's
def test_an_output_name_too_long_for_the_disk_is_refused(tmp_path, capsys, length):
    missing = tmp_path / "no-such-checkpoint.pt"
    for argv in outputs(tmp_path, missing, tmp_path / ("x" * length)):
        assert "the file name is too long" in refused(capsys, *argv)


def test_an_output_that_is_a_folder_is_refused(checkpoints, tmp_path, capsys):
    checkpoint = checkpoints["dcgan"]
    folders = [tmp_path / name for name in ("g.png", "s.json", "c.pt")]
    for folder in folders:
        folder.mkdir()
    grid, scores, model = folders
    for argv in (
        ["sample", checkpoint, "--out", grid],
        ["evaluate", checkpoint, "--json", scores],
        ["evaluate", checkpoint, "--pairs", grid],
        ["classifier", "--dataset", "shapes", "--out", model],
        ["export", checkpoint, model],
    ):
        assert "is a folder" in refused(capsys, *argv)


def test_a_write_that_fails_anyway_is_one_error(
    checkpoints, tmp_path, capsys, monkeypatch
):
    def disk_full(path, write):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cli_sample, "write_atomic", disk_full)
    grid = tmp_path / "grid.png"
    line = refused(capsys, "sample", checkpoints["dcgan"], "--out", grid)
    assert f"cannot write --out {grid}: No space left on device" in line


# ---- 7. files that are not ours: a path is a path, never weights_only=False -------


@pytest.fixture
def foreign_files(tmp_path, checkpoints) -> dict[str, Path]:
    """Files that are not classifiers: random bytes, a torch dict, a GAN."""
    files = {"random": tmp_path / "afile", "random.pt": tmp_path / "random.pt"}
    for path in files.values():
        path.write_bytes(os.urandom(4096))
    files["pickle.pt"] = tmp_path / "pickle.pt"
    torch.save({"model": torch.nn.Linear(2, 2)}, files["pickle.pt"])  # needs pickle
    files["gan.pt"] = checkpoints["dcgan"]
    return files


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("random", "torch cannot read it"),
        ("random.pt", "torch cannot read it"),
        ("pickle.pt", "torch cannot read it"),
        ("gan.pt", "it is a GAN checkpoint"),
    ],
)
def test_evaluate_refuses_a_classifier_that_is_not_ours(
    checkpoints, foreign_files, capsys, name, problem
):
    path = foreign_files[name]
    line = refused(capsys, *evaluate_args(checkpoints["dcgan"], "--classifier", path))
    assert f"{path} is not a classifier written by `python -m gancourse" in line
    assert problem in line and "--out clf.pt" in line


def test_evaluate_names_a_classifier_path_that_is_missing(
    checkpoints, tmp_path, capsys
):
    argv = evaluate_args(checkpoints["dcgan"], "--classifier", "afile")
    line = refused(capsys, *argv)
    assert "--classifier afile does not exist" in line and "PosixPath" not in line
    argv = evaluate_args(checkpoints["dcgan"], "--classifier", tmp_path)
    assert f"--classifier {tmp_path} is a folder" in refused(capsys, *argv)


def test_a_classifier_of_ours_with_impossible_settings_is_refused(
    checkpoints, tmp_path, capsys
):
    path = save_classifier(Classifier(), tmp_path / "clf.pt", {})
    state = torch.load(path, weights_only=True)
    state["settings"]["num_classes"] = 10**9  # would need 512 GB of weights
    torch.save(state, path)
    line = refused(capsys, *evaluate_args(checkpoints["dcgan"], "--classifier", path))
    assert "with settings this version cannot build" in line


@pytest.mark.parametrize("command", ["sample", "evaluate", "export"])
def test_a_checkpoint_of_random_bytes_is_one_error(tmp_path, capsys, command):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(os.urandom(4096))
    argv = {
        "sample": ["sample", bad, "--out", tmp_path / "g.png"],
        "evaluate": ["evaluate", bad],
        "export": ["export", bad, tmp_path / "small.pt"],
    }[command]
    line = refused(capsys, *argv)
    assert f"{bad} is not a readable checkpoint" in line


# ---- 8. a shipped file deleted from the clone: say how to restore it -------------


def test_evaluate_says_how_to_restore_a_missing_shipped_classifier(
    checkpoints, tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr(runtime, "PRETRAINED_DIR", tmp_path)
    line = refused(capsys, *evaluate_args(checkpoints["dcgan"]))
    assert "the shipped classifier for 'mnist-5k' is missing" in line
    assert "ships with the course" in line
    assert f"git checkout -- {tmp_path / 'classifier_mnist-5k.pt'}" in line


# ---- 10. Ctrl-C: one line, status 130, and what was written ----------------------


def interrupted(capsys, *argv) -> str:
    """Run main, assert status 130 with one `interrupted` line; return it."""
    code, out, err = run(capsys, *argv)
    assert code == 130, out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("interrupted"), err
    return lines[0]


def ctrl_c(*args, **kwargs):
    raise KeyboardInterrupt


def test_ctrl_c_while_the_command_starts_writes_nothing(
    checkpoints, tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr(cli, "build_parser", ctrl_c)  # importing the command
    grid = tmp_path / "grid.png"
    argv = ["sample", checkpoints["dcgan"], "--out", grid]
    assert interrupted(capsys, *argv) == "interrupted: nothing written"
    monkeypatch.undo()
    monkeypatch.setattr(cli_sample, "load_checkpoint", ctrl_c)
    assert interrupted(capsys, *argv) == "interrupted: nothing written"
    assert not grid.exists()


def test_ctrl_c_after_evaluate_wrote_its_json_says_so(
    checkpoints, tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr(cli_evaluate, "_write_pairs", ctrl_c)
    scores, pairs = tmp_path / "scores.json", tmp_path / "pairs.png"
    argv = evaluate_args(checkpoints["dcgan"], "--json", scores, "--pairs", pairs)
    assert interrupted(capsys, *argv) == f"interrupted after writing {scores}"
    assert json.loads(scores.read_text())["n"] == 10 and not pairs.exists()


def test_ctrl_c_in_a_command_that_lists_no_files_claims_nothing(capsys, monkeypatch):
    monkeypatch.setattr("gancourse.cli.datasets.describe_datasets", ctrl_c)
    assert interrupted(capsys, "datasets") == "interrupted"
