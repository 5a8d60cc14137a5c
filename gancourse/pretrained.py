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
from gancourse.errors import UsageError
from gancourse.training.checkpoint import FORMAT, load_checkpoint, save_atomic

# name -> file in data/pretrained/, each trained on mnist-5k's train split
PRETRAINED = {
    "dcgan": "dcgan_mnist-5k.pt",
    "wgan-gp": "wgan-gp_mnist-5k.pt",
    "cgan": "cgan_mnist-5k.pt",
}
WEIGHTS = ("generator", "discriminator")
KEPT = ("kind", "generator_config", "discriminator_config", "train_config", "step")


def pretrained_path(name: str) -> Path:
    """The shipped checkpoint of a pretrained model: 'dcgan', 'wgan-gp' or 'cgan'."""
    if name not in PRETRAINED:
        raise UsageError(
            f"no pretrained model {name!r}: choose one of {', '.join(PRETRAINED)}."
        )
    return runtime.PRETRAINED_DIR / PRETRAINED[name]


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
    small = {"format": FORMAT, "weights_only": True}
    small |= {key: state[key] for key in KEPT}
    small |= {key: _half(state[key]) for key in WEIGHTS}
    small["history"] = {key: list(values) for key, values in state["history"].items()}
    small["dataset"] = dict(state["dataset"])
    run_config = checkpoint.parent / "config.json"
    if run_config.exists():  # the run's split and the commands that made it
        saved = json.loads(run_config.read_text())
        small["dataset"]["split"] = saved["dataset"].get("split") or "train"
        small["commands"] = [" ".join(run["command"]) for run in saved["runs"]]
    return save_atomic(small, out)


def _dataset_of(state: dict):
    """The dataset a checkpoint was trained on, as recorded in it."""
    from gancourse.data import load_dataset

    record = state["dataset"]
    return load_dataset(
        record["name"],
        split=record.get("split", "train"),
        flip=bool(record.get("flip", False)),
    )


def load_pretrained(name: str, device=None, progress: bool = True):
    """A GANTrainer holding a pretrained model, ready to sample or to train on.

    G and D have the shipped weights; the optimisers are fresh (the file holds no
    optimiser state), and `history` and `step` are those of the run that made it.
    """
    from gancourse.training import GANTrainer

    path = pretrained_path(name)
    state = load_checkpoint(path)
    trainer = GANTrainer.fine_tune(
        path, _dataset_of(state), device=device, progress=progress
    )
    trainer.history.update({key: list(v) for key, v in state["history"].items()})
    trainer.step = state["step"]
    return trainer


def load_pretrained_generator(name: str, device=None):
    """Only the generator of a pretrained model, in eval mode."""
    from gancourse.training import models_from_state

    path = pretrained_path(name)
    G, _ = models_from_state(load_checkpoint(path), path)
    return G.to(runtime.get_device(device)).eval()
