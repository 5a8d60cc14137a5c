"""Check for notebook 00's exercise: scaling pixels from 0..255 to [-1, 1]."""

from __future__ import annotations

import torch

from gancourse.checks.coerce import as_tensor
from gancourse.checks.compare import Mistake, close, first_mistake
from gancourse.checks.core import ExerciseError, call_student
from gancourse.checks.inputs import random_uniform
from gancourse.checks.probes import call_on, check_device_safe, on_meta

_ANY_SHAPE = (
    "Work on the whole tensor at once (no loops over rows, no fixed sizes), so "
    "that any shape works."
)


def check_scale_pixels(scale_pixels) -> None:
    """Check scale_pixels maps uint8 0..255 to float [-1, 1], linearly, any shape."""
    pixels = torch.tensor([[0, 64, 128], [191, 250, 255]], dtype=torch.uint8)
    out = as_tensor(call_student(scale_pixels, pixels), "the result of scale_pixels")
    if not out.is_floating_point():
        raise ExerciseError(
            f"scale_pixels returned {out.dtype}: convert to float first "
            "(e.g. pixels.float()), or the division rounds to whole numbers."
        )
    if out.shape != pixels.shape:
        raise ExerciseError(
            f"scale_pixels changed the shape from {tuple(pixels.shape)} "
            f"to {tuple(out.shape)}: it should work pixel by pixel."
        )
    expected = pixels.double() / 127.5 - 1
    low, high = float(out.min()), float(out.max())
    if close(low, 0) and close(high, 1):
        raise ExerciseError(
            "your pixels go from 0 to 1: that is [0, 1], not [-1, 1]. "
            "A tanh generator outputs [-1, 1], so stretch and shift: x * 2 - 1."
        )
    wrapped = (pixels * 2).double() / 255 - 1  # uint8 arithmetic wraps round at 256
    if close(out, wrapped, atol=1e-5):
        raise ExerciseError(
            "pixels * 2 overflowed: a uint8 tensor holds whole numbers 0..255 and "
            "wraps round, so 128 * 2 gives 0 and 255 maps to about 0. Convert to "
            "float first (pixels.float() * 2 / 255 - 1), or divide first."
        )
    if close(high, 255 / 125 - 1, atol=1e-4):
        raise ExerciseError(
            "255 maps to 1.04, so you divided by 250 (report 001's slip): "
            "the brightest pixel is 255, so divide by 255 / 2 = 127.5."
        )
    if not close(low, -1) or not close(high, 1):
        raise ExerciseError(
            f"0 should map to -1 and 255 to 1, but you get {low:.4g} and {high:.4g}."
        )
    if not close(out, expected, atol=1e-5):
        raise ExerciseError(
            "the ends are right but the middle is not: the mapping should be the "
            "straight line x / 127.5 - 1."
        )
    every = torch.arange(256).to(torch.uint8)  # (256,): each value once
    big = (random_uniform(2, 1, 5, 7, seed=0) * 256).to(torch.uint8)  # (N, C, H, W)
    for images in (every, big):
        case = f"pixels of shape {tuple(images.shape)}"
        got = call_on(case, scale_pixels, images, hint=_ANY_SHAPE)
        got = as_tensor(got, "the result of scale_pixels")
        if got.shape != images.shape or not close(got, images / 127.5 - 1, atol=1e-5):
            raise ExerciseError(
                f"right for a (2, 3) tensor but not for {case}. {_ANY_SHAPE}"
            )
    check_device_safe(scale_pixels, [on_meta(big)], "scale_pixels")
    print("Correct: 0 -> -1, 127.5 -> 0, 255 -> 1, for any shape.")


def check_to_display(to_display) -> None:
    """Check to_display maps [-1, 1] to [0, 1] without changing its input."""
    images = torch.linspace(-1, 1, 5).reshape(1, 1, 1, 5)
    before = images.clone()
    out = call_student(to_display, images)
    if not torch.equal(images, before):
        raise ExerciseError(
            "to_display changed the images it was given (an in-place operation such "
            "as add_ or +=): return a new tensor and leave the input as it was."
        )
    out = as_tensor(out, "the result of to_display", images.shape, like="the images")
    mistakes = [
        Mistake(
            "to_display returned its input unchanged: values in [-1, 0) would show "
            "as black. Shift and halve: (x + 1) / 2.",
            images,
        ),
        Mistake(
            "you halved but did not shift: add 1 before dividing by 2.", images / 2
        ),
    ]
    if not close(out, (images + 1) / 2, atol=1e-6):
        ends = (float(out.min()), float(out.max()))
        raise ExerciseError(
            first_mistake(out, mistakes)
            or f"-1 should map to 0 and 1 to 1; you get {ends}."
        )
    batch = random_uniform(2, 3, 4, 5, seed=1).double() * 2 - 1  # (N, C, H, W)
    for images in (batch[0, 0], batch):  # (4, 5), then (2, 3, 4, 5)
        case = f"images of shape {tuple(images.shape)}"
        got = call_on(case, to_display, images, hint=_ANY_SHAPE)
        got = as_tensor(got, "the result of to_display")
        if got.shape != images.shape or not close(got, (images + 1) / 2, atol=1e-6):
            raise ExerciseError(
                f"right for the images (1, 1, 1, 5) but not for {case}. {_ANY_SHAPE}"
            )
    check_device_safe(to_display, [on_meta(batch)], "to_display", dtype=batch.dtype)
    print("Correct: -1 -> 0 (black), 0 -> 0.5 (grey), 1 -> 1 (white).")
