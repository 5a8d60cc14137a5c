"""Checks for the notebooks' exercises: each says in plain words what is wrong."""

from gancourse.checks.backprop import check_numerical_gradient, check_sigmoid_backward
from gancourse.checks.core import ExerciseError, call_student
from gancourse.checks.start_here import check_scale_pixels, check_to_display

__all__ = [
    "ExerciseError",
    "call_student",
    "check_numerical_gradient",
    "check_scale_pixels",
    "check_sigmoid_backward",
    "check_to_display",
]
