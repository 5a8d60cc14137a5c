"""Checks for the notebooks' exercises: each says in plain words what is wrong.

Each notebook's checks live in the module named after it, and every check is also
importable from this package: `from gancourse.checks import check_d_step` and
`from gancourse.checks.dcgan import check_d_step` give the same function. A
notebook's module is imported on the first use of one of its checks, so the
first notebooks do not wait for the models and metrics the later ones check.

The modules share core (ExerciseError, call_student), coerce (the student's value
as a float, array or tensor), compare (close, Mistake, first_mistake), reference
(sigmoid, BCE with logits), inputs (seeded random tensors) and probes (the
student's code run as on a GPU, gradients watched, other inputs named).
"""

from __future__ import annotations

import importlib
from typing import Any

from gancourse.checks.core import ExerciseError, call_student

# the notebook modules, in course order, and their exercises: check_<exercise> each
NOTEBOOK_EXERCISES = {
    "start_here": "scale_pixels to_display",
    "backprop_and_activations": "sigmoid_backward numerical_gradient",
    "numpy_layers_and_classifier": "conv_output_size dense_backward kfold_split",
    "numpy_gan_2d": "non_saturating_loss count_modes",
    "divergences": "optimal_d value_at_optimum",
    "numpy_gan_images": "discriminator_loss generator_step",
    "dcgan": "d_step g_step",
    "dcgan_experiments": "sample_diversity add_spectral_norm random_flip",
    "wgan_and_wgan_gp": "generator_loss critic_step gradient_penalty",
    "conditional_cgan_acgan": "conditional_input acgan_d_loss one_row_per_class",
    "evaluating_gans": "inception_score fid_from_features nearest_distances",
    "capstone_pegasus": "pegasus_score top_k_samples",
    "modern_gans": "ema_update r1_penalty translate",
}
# modules for one section of a notebook, not named after it: module -> notebook
SECTION_MODULES = {"divergences": "numpy_gan_2d"}  # 03's primer on KL and JS
_MODULE_OF = {
    f"check_{exercise}": module
    for module, exercises in NOTEBOOK_EXERCISES.items()
    for exercise in exercises.split()
}

__all__ = ["ExerciseError", "call_student", *sorted(_MODULE_OF)]


def __getattr__(name: str) -> Any:
    """A notebook's check, imported from its module on first use."""
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{_MODULE_OF[name]}")
    return getattr(module, name)


def __dir__() -> list[str]:
    """The package's names, the checks not yet imported included."""
    return sorted(set(globals()) | set(_MODULE_OF))
