"""Trained GANs shipped with the course, so a lecture can jump to a trained state.

`python -m gancourse export RUN/checkpoint.pt OUT.pt` makes a shipped file from a run:
G's and D's weights in half precision, the configs, the dataset record and the loss
history, without the optimiser state. data/pretrained/README.md lists the commands.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from gancourse import runtime
from gancourse.errors import CheckpointError, UsageError
from gancourse.training.checkpoint import (
    FORMAT,
    load_checkpoint,
    sampling_weights,
    save_atomic,
)

# name -> file in data/pretrained/; data/pretrained/README.md has each one's command
PRETRAINED = {
    "dcgan": "dcgan_mnist-5k.pt",  # width 64, mnist-5k's 4,000 training digits
    "wgan-gp": "wgan-gp_mnist-5k.pt",  # width 32, as are the next five
    "cgan": "cgan_mnist-5k.pt",
    "acgan": "acgan_mnist-5k.pt",
    "wgan": "wgan_mnist-5k.pt",  # weight clipping
    "dcgan-32": "dcgan-32_mnist-5k.pt",  # the DCGAN at the WGAN-GP's width
    "dcgan-32-no-bn": "dcgan-32-no-bn_mnist-5k.pt",  # the same without BatchNorm
    "dcgan-shapes": "dcgan_shapes.pt",  # all four shapes at 32 px, colour
    "circles": "circles_shapes.pt",  # only circles: notebook 10's horse model
}
WEIGHTS = ("generator", "discriminator")
KEPT = ("kind", "generator_config", "discriminator_config", "train_config", "step")
EXPORTED = (*KEPT, *WEIGHTS, "history", "dataset")  # what export reads of a checkpoint


def pretrained_path(name: str) -> Path:
    """The shipped checkpoint of a pretrained model, by its name in PRETRAINED."""
    if name not in PRETRAINED:
        raise UsageError(
            f"no pretrained model {name!r}: choose one of {', '.join(PRETRAINED)}."
        )
    return runtime.PRETRAINED_DIR / PRETRAINED[name]


def restore_hint(path: Path) -> str:
    """How to get back a file the course ships, e.g. one deleted by mistake."""
    try:
        shown = path.relative_to(runtime.REPO_DIR)
    except ValueError:  # a PRETRAINED_DIR moved elsewhere (tests)
        shown = path
    return (
        f"{shown} ships with the course: restore it with `git checkout -- {shown}` "
        "in your clone of the course, or download the course again."
    )


def _load_shipped(name: str) -> tuple[Path, dict]:
    """The path and state of a shipped pretrained model; one error saying the fix."""
    path = pretrained_path(name)
    if not path.is_file():
        raise CheckpointError(
            f"the pretrained {name} model is missing: {restore_hint(path)}"
        )
    try:
        return path, load_checkpoint(path)
    except CheckpointError:
        raise CheckpointError(
            f"the pretrained {name} model is damaged (not a readable gancourse "
            f"checkpoint): {restore_hint(path)}"
        ) from None


def _half(weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Floating-point tensors in float16 (half the bytes), the rest unchanged."""
    return {
        key: value.half() if value.is_floating_point() else value
        for key, value in weights.items()
    }


def export_weights(checkpoint: str | Path, out: str | Path) -> Path:
    """Write a small copy of a run's checkpoint: weights, configs, data and history."""
    checkpoint, out = Path(checkpoint), Path(out)
    state = load_checkpoint(checkpoint)
    _check_exportable(state, checkpoint)
    small = {"format": FORMAT, "weights_only": True}
    small |= {key: state[key] for key in KEPT}
    small |= {key: _half(state[key]) for key in WEIGHTS}
    small["generator"] = _half(sampling_weights(state))  # the average, if kept
    small["history"] = {key: list(values) for key, values in state["history"].items()}
    small["dataset"] = dict(state["dataset"])
    run_config = checkpoint.parent / "config.json"
    if run_config.exists():  # the run's split and the commands that made it
        split, commands = read_run_config(run_config)
        small["dataset"]["split"] = split
        small["commands"] = commands
    return save_atomic(small, out)


def _check_exportable(state: dict, path: Path) -> None:
    """A full checkpoint of a run: weights, configs, history and data record."""
    if state.get("weights_only"):
        raise CheckpointError(
            f"{path} is already a weights-only export: export the run's own "
            "checkpoint.pt instead."
        )
    missing = [key for key in EXPORTED if key not in state]
    if missing:
        raise CheckpointError(
            f"{path} lacks {', '.join(map(repr, missing))}: export a checkpoint.pt "
            "written by `python -m gancourse train`."
        )
    dicts = (*WEIGHTS, "history", "dataset")
    if not all(isinstance(state[key], dict) for key in dicts):
        raise CheckpointError(
            f"{path} holds {', '.join(dicts)} in a form this version cannot read: "
            "export a checkpoint.pt written by `python -m gancourse train`."
        )


def read_run_config(path: Path) -> tuple[str, list[str]]:
    """A run's config.json: the split it trained on and each command that ran."""
    try:
        saved = json.loads(path.read_text())
        split = saved["dataset"].get("split") or "train"
        commands = [" ".join(run["command"]) for run in saved["runs"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise CheckpointError(
            f"{path} is not a readable record of the run ({type(error).__name__}: "
            f"{error}): export reads the split and commands from it. Repair it, or "
            "move it out of the folder to export without them."
        ) from None
    if not isinstance(split, str):
        raise CheckpointError(
            f"{path} gives the split {split!r}, not a name like 'train': repair it, "
            "or move it out of the folder to export without it."
        )
    return split, commands


def _dataset_of(state: dict):
    """The dataset a checkpoint was trained on, as recorded in it."""
    from gancourse.data import load_dataset

    record = state["dataset"]
    shape = record.get("image_shape")
    return load_dataset(
        record["name"],
        split=record.get("split", "train"),
        flip=bool(record.get("flip", False)),
        classes=record.get("classes"),  # a subset, e.g. only circles
        image_size=shape[-1] if shape else None,
    )


def load_pretrained(name: str, device=None, progress: bool = True):
    """A GANTrainer holding a pretrained model, ready to sample or to train on.

    G and D have the shipped weights; the optimisers are fresh (the file holds no
    optimiser state), and `history` and `step` are those of the run that made it.
    """
    from gancourse.training import GANTrainer

    path, state = _load_shipped(name)
    trainer = GANTrainer.fine_tune(
        path, _dataset_of(state), device=device, progress=progress
    )
    trainer.history.update({key: list(v) for key, v in state["history"].items()})
    trainer.step = state["step"]
    return trainer


def load_pretrained_generator(name: str, device=None):
    """Only the generator of a pretrained model, in eval mode."""
    from gancourse.training import models_from_state

    path, state = _load_shipped(name)
    G, _ = models_from_state(state, path)
    return G.to(runtime.get_device(device)).eval()
