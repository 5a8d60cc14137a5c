"""Weight initialisers with the fan-in and fan-out that torch computes."""

import math

import numpy as np


def as_generator(rng=None):
    """Return a np.random.Generator from a seed, a Generator or None."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def fans(shape):
    """Return (fan_in, fan_out) of a Linear (out, in) or conv (out, in, k, k) shape."""
    if len(shape) < 2:
        raise ValueError(f"need at least 2 dimensions to compute fans, got {shape}")
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def normal(shape, std=0.02, rng=None):
    """Draw from N(0, std^2), the DCGAN initialisation."""
    return as_generator(rng).normal(0.0, std, size=shape)


def xavier(shape, rng=None):
    """Draw from the Glorot uniform distribution U(-a, a), a = sqrt(6 / (in + out))."""
    fan_in, fan_out = fans(shape)
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    return as_generator(rng).uniform(-bound, bound, size=shape)


def he(shape, rng=None):
    """Draw from the Kaiming normal distribution N(0, 2 / fan_in)."""
    fan_in, _ = fans(shape)
    return as_generator(rng).normal(0.0, math.sqrt(2.0 / fan_in), size=shape)


INITIALISERS = {"normal": normal, "xavier": xavier, "he": he}


def initialise(name, shape, rng=None):
    """Draw weights of `shape` with the initialiser called `name`."""
    if name not in INITIALISERS:
        raise ValueError(f"unknown init {name!r}, expected one of {list(INITIALISERS)}")
    return INITIALISERS[name](shape, rng=rng)
