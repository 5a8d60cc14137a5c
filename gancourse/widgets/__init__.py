"""Live controls for the notebooks (needs ipywidgets; `import gancourse` does not)."""

from gancourse.widgets.toy_explorer import ToyGANExplorer, toy_gan_explorer

__all__ = ["ToyGANExplorer", "toy_gan_explorer"]
