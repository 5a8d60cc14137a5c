"""Checkpoint files: written atomically, read back with clear errors."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch

from gancourse.errors import CheckpointError
from gancourse.files import write_atomic

FORMAT = "gancourse-gan-checkpoint"
VERSION = 1


def save_atomic(state: dict, path: str | Path) -> Path:
    """Write `state` to `path` atomically: a kill leaves the old file whole."""
    state = {"format": FORMAT, "version": VERSION, **state}
    return write_atomic(path, lambda file: torch.save(state, file))


def load_checkpoint(path: str | Path) -> dict:
    """Read a checkpoint written by `save_atomic`, or raise one CheckpointError."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(
            f"no checkpoint at {path}: give the path of a checkpoint.pt written by "
            "`python -m gancourse train` or GANTrainer.save()."
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
