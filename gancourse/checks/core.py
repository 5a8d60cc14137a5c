"""What every exercise check shares: its error type and a safe call of the student."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class ExerciseError(AssertionError):
    """The student's answer to an exercise is not right yet; the message says why."""


def call_student(function: Callable, *args: Any, **kwargs: Any) -> Any:
    """Call the student's function, turning a stub or a crash into a clear message."""
    name = getattr(function, "__name__", "your function")
    if not callable(function):
        raise ExerciseError(f"expected a function, got {type(function).__name__}.")
    try:
        return function(*args, **kwargs)
    except NotImplementedError:
        raise ExerciseError(
            f"{name} is not written yet: replace `raise NotImplementedError` "
            "with your code, run that cell, then run this check again."
        ) from None
    except Exception as error:
        raise ExerciseError(f"{name} raised {type(error).__name__}: {error}") from error
