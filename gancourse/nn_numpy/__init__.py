"""A small NumPy layer library with backpropagation written by hand.

Every layer has forward(x) and backward(grad_out); backward adds into the
layer's grads and returns the gradient for the layer below. Optimisers are kept
apart: they read the gradients and update the parameters in place.
"""

from gancourse.nn_numpy import init
from gancourse.nn_numpy.conv import Conv2D, ConvTranspose2D, Pad2D
from gancourse.nn_numpy.layers import (
    Dense,
    Flatten,
    Layer,
    LeakyReLU,
    ReLU,
    Reshape,
    Sequential,
    Sigmoid,
    Tanh,
)
from gancourse.nn_numpy.losses import bce, bce_with_logits, mse, softmax_cross_entropy
from gancourse.nn_numpy.optim import SGD, Adam
from gancourse.nn_numpy.pool import MaxPool2D

__all__ = [
    "SGD",
    "Adam",
    "Conv2D",
    "ConvTranspose2D",
    "Dense",
    "Flatten",
    "Layer",
    "LeakyReLU",
    "MaxPool2D",
    "Pad2D",
    "ReLU",
    "Reshape",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "bce",
    "bce_with_logits",
    "init",
    "mse",
    "softmax_cross_entropy",
]
