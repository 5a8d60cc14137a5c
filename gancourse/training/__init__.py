"""Training PyTorch GANs: GANTrainer, its events and callbacks, configs, checkpoints."""

from gancourse.training.callbacks import (
    Callback,
    CancelFit,
    Checkpoints,
    CollapseMonitor,
    EpochGrid,
    LivePlot,
    NonFiniteGuard,
    NonFiniteLossError,
    SampleGrid,
)
from gancourse.training.checkpoint import (
    CheckpointError,
    load_checkpoint,
    models_from_state,
)
from gancourse.training.config import KINDS, GANSetup, TrainConfig, preset
from gancourse.training.events import Event
from gancourse.training.trainer import GANTrainer

__all__ = [
    "KINDS",
    "Callback",
    "CancelFit",
    "CheckpointError",
    "Checkpoints",
    "CollapseMonitor",
    "EpochGrid",
    "Event",
    "GANSetup",
    "GANTrainer",
    "LivePlot",
    "NonFiniteGuard",
    "NonFiniteLossError",
    "SampleGrid",
    "TrainConfig",
    "load_checkpoint",
    "models_from_state",
    "preset",
]
