"""Checkpoints of a GANTrainer: what they hold, saving, resuming and fine-tuning.

A checkpoint holds everything an exact resume needs (weights, optimisers, every
random state, the position in the data, the history) and a record of the data;
files are written atomically and read back with one clear CheckpointError.
GANTrainer.save, .resume and .fine_tune call the functions here.
"""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from gancourse.data.catalog import canonical_name
from gancourse.errors import CheckpointError
from gancourse.files import write_atomic
from gancourse.models import (
    Discriminator,
    DiscriminatorConfig,
    Generator,
    GeneratorConfig,
)
from gancourse.training.config import TrainConfig

if TYPE_CHECKING:
    from gancourse.data import ImageDataset
    from gancourse.training.trainer import GANTrainer

FORMAT = "gancourse-gan-checkpoint"
VERSION = 1
# a width-128 colour DCGAN at 64 px with its Adam state is about 285 MB
MAX_CHECKPOINT_BYTES = 2**30


def save_atomic(state: dict, path: str | Path) -> Path:
    """Write `state` to `path` atomically: a kill leaves the old file whole."""
    state = {"format": FORMAT, "version": VERSION, **state}
    # In memory first: torch's writer, cut short by Ctrl-C, finishes its archive
    # when it is freed, and on a file already closed that aborts the process.
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return write_atomic(path, lambda file: file.write(buffer.getbuffer()))


def load_checkpoint(path: str | Path) -> dict:
    """Read a checkpoint written by `save_atomic`, or raise one CheckpointError."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(
            f"no checkpoint at {path}: give the path of a checkpoint.pt written by "
            "`python -m gancourse train` or GANTrainer.save()."
        )
    if path.stat().st_size > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(
            f"{path} is {path.stat().st_size / 2**20:,.0f} MiB, more than the "
            f"{MAX_CHECKPOINT_BYTES / 2**20:,.0f} MiB any course checkpoint needs: it "
            "is not a gancourse checkpoint; give a checkpoint.pt written by train."
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise CheckpointError(
            f"{path} is not a readable checkpoint ({type(error).__name__}): the file "
            "is corrupt or truncated. Use another checkpoint or train again."
        ) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(
            f"{path} is a torch file but not a gancourse GAN checkpoint; "
            "give a checkpoint.pt written by `python -m gancourse train`."
        )
    return state


def rng_states(noise: torch.Generator) -> dict:
    """Every random state a run depends on, as plain values and tensors."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    states = {
        "noise": noise.get_state(),
        "torch": torch.get_rng_state(),
        "numpy": [
            kind,
            torch.from_numpy(keys.astype(np.int64)),
            pos,
            has_gauss,
            cached,
        ],
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict, noise: torch.Generator) -> None:
    """Restore what `rng_states` saved."""
    noise.set_state(states["noise"])
    torch.set_rng_state(states["torch"])
    kind, keys, pos, has_gauss, cached = states["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def data_record(dataset: ImageDataset) -> dict:
    """What a checkpoint remembers of its data, to refuse resuming on other data."""
    return {
        "name": dataset.name,
        "classes": list(dataset.classes),
        "image_shape": list(dataset.image_shape),
        "size": len(dataset),
        "flip": bool(dataset.flip),
    }


def trainer_state(trainer: GANTrainer) -> dict:
    """Everything needed to resume exactly: weights, optimisers, RNGs, position.

    With TrainConfig.ema, "generator_average" holds the average samples come from.
    """
    average = trainer.g_average
    return {
        "kind": trainer.config.kind,
        "generator_config": trainer.G.config.to_dict(),
        "discriminator_config": trainer.D.config.to_dict(),
        "train_config": trainer.config.to_dict(),
        "generator": trainer.G.state_dict(),
        "discriminator": trainer.D.state_dict(),
        "opt_g": trainer.opt_g.state_dict(),
        "opt_d": trainer.opt_d.state_dict(),
        "rng": rng_states(trainer.noise_rng),
        "position": {"epoch": trainer.epoch, "batch": trainer.batch_in_epoch},
        "step": trainer.step,
        "history": {name: list(values) for name, values in trainer.history.items()},
        "dataset": data_record(trainer.dataset),
    } | ({"generator_average": average.state_dict()} if average is not None else {})


def sampling_weights(state: dict) -> dict:
    """G's weights to sample from: the moving average's if the run kept one."""
    average = state.get("generator_average")
    return average["weights"] if isinstance(average, dict) else state["generator"]


def save_trainer(trainer: GANTrainer, path: str | Path) -> Path:
    """Write the trainer's checkpoint atomically; return its path."""
    return save_atomic(trainer_state(trainer), path)


def models_from_state(
    state: dict, path: str | Path = "checkpoint", *, sampling: bool = True
):
    """Rebuild G and D from a checkpoint's configs and load their weights.

    G gets the weights to sample from (`sampling_weights`); sampling=False gives
    the trained G itself, to resume training.
    """
    try:
        G = Generator(GeneratorConfig.from_dict(state["generator_config"]))
        D = Discriminator(DiscriminatorConfig.from_dict(state["discriminator_config"]))
        G.load_state_dict(sampling_weights(state) if sampling else state["generator"])
        D.load_state_dict(state["discriminator"])
    except (KeyError, RuntimeError, TypeError, ValueError) as error:
        raise CheckpointError(
            f"{path} does not hold a model this version can build ({error}); "
            "train it again with `python -m gancourse train`."
        ) from None
    return G, D


def _check_resumable(state: dict, path: str | Path, dataset: ImageDataset) -> None:
    """A checkpoint resumes exactly only with its optimiser state and its data."""
    if state.get("weights_only"):
        raise CheckpointError(
            f"{path} holds weights only (a shipped or exported model, without "
            "optimiser or random state), so it cannot be resumed exactly; start "
            "from its weights with GANTrainer.fine_tune instead."
        )
    saved = state.get("dataset")
    if not isinstance(saved, dict):
        raise CheckpointError(
            f"{path} has no record of its training data, so it cannot be resumed "
            "exactly; start from its weights with GANTrainer.fine_tune instead."
        )
    now = data_record(dataset)
    # a name saved in an older spelling (true_image) is the same dataset
    saved = {**saved, "name": canonical_name(saved.get("name")) or saved.get("name")}
    if any(saved.get(key) != value for key, value in now.items()):
        raise CheckpointError(
            f"{path} was trained on {saved['name']!r} (classes {saved['classes']}, "
            f"{saved['size']} images of {saved['image_shape']}) but the data given "
            f"is {now['name']!r} (classes {now['classes']}, {now['size']} images "
            f"of {now['image_shape']}, flip {saved.get('flip')} vs {now['flip']}): "
            "resume with the same data, or fine-tune."
        )


def resume_trainer(
    cls: type[GANTrainer], path: str | Path, dataset: ImageDataset, **options
) -> GANTrainer:
    """A `cls` trainer that continues the run saved at `path`, exactly.

    `options` (device, callbacks, progress) go to the trainer.
    """
    state = load_checkpoint(path)
    _check_resumable(state, path, dataset)
    G, D = models_from_state(state, path, sampling=False)
    config = TrainConfig.from_dict(state["train_config"])
    trainer = cls(G, D, dataset, config, **options)
    if trainer.g_average is not None:
        try:
            trainer.g_average.load_state_dict(state["generator_average"])
        except (KeyError, RuntimeError, TypeError) as error:
            raise CheckpointError(
                f"{path} was trained with a moving average of G (ema) but does not "
                f"hold a readable one ({type(error).__name__}: {error}); start from "
                "its weights with GANTrainer.fine_tune instead."
            ) from None
    trainer.opt_g.load_state_dict(state["opt_g"])
    trainer.opt_d.load_state_dict(state["opt_d"])
    try:
        set_rng_states(state["rng"], trainer.noise_rng)
    except RuntimeError:
        raise CheckpointError(
            f"{path} was saved on another kind of device, so its random state "
            f"does not fit {trainer.device}: resume it on the device it was "
            "trained on, or start from its weights with GANTrainer.fine_tune."
        ) from None
    trainer.epoch = state["position"]["epoch"]
    trainer.batch_in_epoch = state["position"]["batch"]
    trainer.step = state["step"]
    trainer.history.update({k: list(v) for k, v in state["history"].items()})
    return trainer


def fine_tune_trainer(
    cls: type[GANTrainer], path: str | Path, dataset: ImageDataset, train, **options
) -> GANTrainer:
    """A `cls` trainer from a checkpoint's weights on `dataset`, fresh optimisers.

    `train` overrides the saved TrainConfig fields; `options` (device,
    callbacks, progress) go to the trainer.
    """
    state = load_checkpoint(path)
    _check_same_label_numbers(state, path, dataset)
    G, D = models_from_state(state, path)
    config = TrainConfig.from_dict(state["train_config"]).update(train)
    return cls(G, D, dataset, config, **options)


def _check_same_label_numbers(state: dict, path, dataset: ImageDataset) -> None:
    """A conditional G's label k means its k-th class: fine-tuning must keep that.

    Data with some of the checkpoint's classes, in another order or a subset,
    numbers them 0, 1, ... anew, which would teach label 0 to draw another class
    while the record of the run says otherwise.
    """
    if state["generator_config"].get("conditioning", "none") == "none":
        return
    saved = list((state.get("dataset") or {}).get("classes") or [])
    now = list(dataset.classes)
    shared = [name for name in now if name in saved]
    if shared and now != saved[: len(now)]:
        raise CheckpointError(
            f"{path} is a conditional model whose labels 0..{len(saved) - 1} mean "
            f"the classes {saved}, but the data's labels 0..{len(now) - 1} mean "
            f"{now}: fine-tuning would teach its labels other classes. Fine-tune "
            "on data with its classes in the same order (a leading subset keeps "
            "the numbers), or train a new conditional model on these classes."
        )
