"""Checks for the notebooks' exercises: each says in plain words what is wrong.

One module per notebook; a notebook imports its checks from its own module.
"""

from gancourse.checks.backprop_and_activations import (
    check_numerical_gradient,
    check_sigmoid_backward,
)
from gancourse.checks.core import ExerciseError, call_student
from gancourse.checks.numpy_gan_2d import check_count_modes, check_non_saturating_loss
from gancourse.checks.numpy_gan_images import (
    check_discriminator_loss,
    check_generator_step,
)
from gancourse.checks.numpy_layers_and_classifier import (
    check_conv_output_size,
    check_dense_backward,
    check_kfold_split,
)
from gancourse.checks.start_here import check_scale_pixels, check_to_display

__all__ = [
    "ExerciseError",
    "call_student",
    "check_conv_output_size",
    "check_count_modes",
    "check_dense_backward",
    "check_discriminator_loss",
    "check_generator_step",
    "check_kfold_split",
    "check_non_saturating_loss",
    "check_numerical_gradient",
    "check_scale_pixels",
    "check_sigmoid_backward",
    "check_to_display",
]
