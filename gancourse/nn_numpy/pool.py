"""Non-overlapping max pooling, as torch.nn.MaxPool2d(k)."""

import numpy as np

from gancourse.nn_numpy.layers import Layer


class MaxPool2D(Layer):
    """Keep the largest value of each pool_size x pool_size block."""

    def __init__(self, pool_size):
        super().__init__()
        self.pool_size = pool_size

    def forward(self, x):
        n, c, h, w = x.shape
        p = self.pool_size
        h_out, w_out = h // p, w // p
        self.input_shape = x.shape
        blocks = x[:, :, : h_out * p, : w_out * p].reshape(n, c, h_out, p, w_out, p)
        blocks = blocks.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h_out, w_out, p * p)
        self.winners = blocks.argmax(axis=-1)[..., None]  # first max, as torch
        return np.take_along_axis(blocks, self.winners, axis=-1)[..., 0]

    def backward(self, grad_out):
        n, c, h_out, w_out = grad_out.shape
        p = self.pool_size
        grad_blocks = np.zeros((n, c, h_out, w_out, p * p), dtype=grad_out.dtype)
        np.put_along_axis(grad_blocks, self.winners, grad_out[..., None], axis=-1)
        grad_blocks = grad_blocks.reshape(n, c, h_out, w_out, p, p)
        grad_x = np.zeros(self.input_shape, dtype=grad_out.dtype)
        grad_x[:, :, : h_out * p, : w_out * p] = grad_blocks.transpose(
            0, 1, 2, 4, 3, 5
        ).reshape(n, c, h_out * p, w_out * p)
        return grad_x  # (N, C, H, W)

    def __repr__(self):
        return f"MaxPool2D({self.pool_size})"
