"""Live controls for the notebooks (needs ipywidgets; `import gancourse` does not)."""

from gancourse.widgets.toy_explorer import ToyGANExplorer, toy_gan_explorer
from gancourse.widgets.training_panel import TrainingPanel, training_panel

__all__ = ["ToyGANExplorer", "TrainingPanel", "toy_gan_explorer", "training_panel"]
