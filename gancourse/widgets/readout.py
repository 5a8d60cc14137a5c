"""Numbers in a widget's readout: one format, and a dash where there is no value yet."""

from __future__ import annotations

import math


def number(value: float, spec: str) -> str:
    """`value` formatted with `spec` ('.3f'), or '-' before there is one (nan)."""
    return format(value, spec) if math.isfinite(value) else "-"


def short_lr(lr: float) -> str:
    """A learning rate as the slider shows it: 3.6e-3, never 3.6e-03 or 4e-3."""
    mantissa, exponent = f"{lr:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"
