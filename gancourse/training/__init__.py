"""Training PyTorch GANs: GANTrainer, its callbacks, configs and checkpoints."""

from gancourse.training.callbacks import (
    Callback,
    CancelFit,
    Checkpoints,
    CollapseMonitor,
    EpochGrid,
    History,
    LivePlot,
    NonFiniteGuard,
    NonFiniteLossError,
    SampleGrid,
)
from gancourse.training.checkpoint import CheckpointError, load_checkpoint
from gancourse.training.config import KINDS, GANSetup, TrainConfig, preset
from gancourse.training.trainer import GANTrainer, models_from_state

__all__ = [
    "KINDS",
    "Callback",
    "CancelFit",
    "CheckpointError",
    "Checkpoints",
    "CollapseMonitor",
    "EpochGrid",
    "GANSetup",
    "GANTrainer",
    "History",
    "LivePlot",
    "NonFiniteGuard",
    "NonFiniteLossError",
    "SampleGrid",
    "TrainConfig",
    "load_checkpoint",
    "models_from_state",
    "preset",
]
