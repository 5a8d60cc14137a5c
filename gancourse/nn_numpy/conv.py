"""Conv2D, ConvTranspose2D and Pad2D on NCHW batches, with torch weight layouts.

Both convolutions rest on two helpers: `im2col` copies every k x k window into a
column of a matrix, so that a convolution is one matrix product, and `col2im`
adds the columns back into an image, which is its adjoint. ConvTranspose2D's
forward is Conv2D's input gradient, and its input gradient is Conv2D's forward.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from gancourse.nn_numpy.init import initialise
from gancourse.nn_numpy.layers import Layer


def im2col(x, kernel_size, stride):
    """Copy the k x k windows of x (N, C, H, W) into columns (C*k*k, N*H_out*W_out)."""
    k = kernel_size
    windows = sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]
    n, c, h_out, w_out = windows.shape[:4]
    columns = windows.transpose(1, 4, 5, 0, 2, 3)  # (C, k, k, N, H_out, W_out)
    return columns.reshape(c * k * k, n * h_out * w_out), (h_out, w_out)


def col2im(columns, image_shape, kernel_size, stride):
    """Add columns (C, k, k, N, H_out, W_out) back into an image (N, C, H, W)."""
    n, c, h, w = image_shape
    h_out, w_out = columns.shape[4:]
    image = np.zeros((c, n, h, w), dtype=columns.dtype)
    rows_end, cols_end = stride * (h_out - 1) + 1, stride * (w_out - 1) + 1
    for i in range(kernel_size):  # k * k whole-batch additions, one per offset
        for j in range(kernel_size):
            window = image[:, :, i : i + rows_end : stride, j : j + cols_end : stride]
            window += columns[:, i, j]
    return image.transpose(1, 0, 2, 3)


def pad(x, padding):
    """Surround the images of x (N, C, H, W) with `padding` zeros."""
    if padding == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))


def crop(x, padding):
    """Remove `padding` pixels from each border, the adjoint of pad."""
    if padding == 0:
        return x
    return x[:, :, padding:-padding, padding:-padding]


def channel_rows(x):
    """Reshape (N, C, H, W) to (C, N * H * W), one row per channel."""
    return x.transpose(1, 0, 2, 3).reshape(x.shape[1], -1)


class Conv2D(Layer):
    """2D cross-correlation as torch.nn.Conv2d; W has shape (C_out, C_in, k, k)."""

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        init="he",
        rng=None,
    ):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        shape = (out_channels, in_channels, kernel_size, kernel_size)
        self.add_param("W", initialise(init, shape, rng))
        self.add_param("b", np.zeros(out_channels))

    def forward(self, x):
        n = len(x)
        x = pad(x, self.padding)
        self.padded_shape = x.shape  # (N, C_in, H + 2p, W + 2p)
        self.columns, (h_out, w_out) = im2col(x, self.kernel_size, self.stride)
        weights = self.params["W"].reshape(self.out_channels, -1)  # (C_out, C_in*k*k)
        y = weights @ self.columns  # (C_out, N * H_out * W_out)
        y = y.reshape(self.out_channels, n, h_out, w_out).transpose(1, 0, 2, 3)
        return y + self.params["b"][:, None, None]  # (N, C_out, H_out, W_out)

    def backward(self, grad_out):
        n, _, h_out, w_out = grad_out.shape
        k = self.kernel_size
        grad_rows = channel_rows(grad_out)  # (C_out, N * H_out * W_out)
        grad_weights = grad_rows @ self.columns.T  # (C_out, C_in * k * k)
        self.grads["W"] += grad_weights.reshape(self.params["W"].shape)
        self.grads["b"] += grad_rows.sum(axis=1)
        weights = self.params["W"].reshape(self.out_channels, -1)
        grad_columns = weights.T @ grad_rows  # (C_in * k * k, N * H_out * W_out)
        grad_columns = grad_columns.reshape(self.in_channels, k, k, n, h_out, w_out)
        grad_padded = col2im(grad_columns, self.padded_shape, k, self.stride)
        return crop(grad_padded, self.padding)  # (N, C_in, H, W)

    def __repr__(self):
        return (
            f"Conv2D({self.in_channels}, {self.out_channels}, {self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding})"
        )


class ConvTranspose2D(Layer):
    """Transposed convolution as torch.nn.ConvTranspose2d; W is (C_in, C_out, k, k).

    Output size (H - 1) * stride - 2 * padding + k: each input pixel stamps the
    kernel, scaled by its value, onto the output, `stride` pixels apart.
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        init="he",
        rng=None,
    ):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        shape = (in_channels, out_channels, kernel_size, kernel_size)
        self.add_param("W", initialise(init, shape, rng))
        self.add_param("b", np.zeros(out_channels))

    def forward(self, x):
        self.input_shape = x.shape
        n, _, h, w = x.shape
        k, s = self.kernel_size, self.stride
        self.x_rows = channel_rows(x)  # (C_in, N * H * W)
        weights = self.params["W"].reshape(self.in_channels, -1)  # (C_in, C_out*k*k)
        stamps = weights.T @ self.x_rows  # (C_out * k * k, N * H * W)
        stamps = stamps.reshape(self.out_channels, k, k, n, h, w)
        full_shape = (n, self.out_channels, (h - 1) * s + k, (w - 1) * s + k)
        y = crop(col2im(stamps, full_shape, k, s), self.padding)
        return y + self.params["b"][:, None, None]  # (N, C_out, H_out, W_out)

    def backward(self, grad_out):
        n, _, h, w = self.input_shape
        grad_columns, _ = im2col(
            pad(grad_out, self.padding), self.kernel_size, self.stride
        )  # (C_out * k * k, N * H * W)
        grad_weights = self.x_rows @ grad_columns.T  # (C_in, C_out * k * k)
        self.grads["W"] += grad_weights.reshape(self.params["W"].shape)
        self.grads["b"] += grad_out.sum(axis=(0, 2, 3))
        weights = self.params["W"].reshape(self.in_channels, -1)
        grad_x = weights @ grad_columns  # (C_in, N * H * W)
        return grad_x.reshape(self.in_channels, n, h, w).transpose(1, 0, 2, 3)

    def __repr__(self):
        return (
            f"ConvTranspose2D({self.in_channels}, {self.out_channels}, "
            f"{self.kernel_size}, stride={self.stride}, padding={self.padding})"
        )


class Pad2D(Layer):
    """Insert `pixel` zeros between neighbouring pixels and `edge` zeros around."""

    def __init__(self, edge=0, pixel=0):
        super().__init__()
        self.edge, self.pixel = edge, pixel

    def forward(self, x):
        n, c, h, w = x.shape
        e, step = self.edge, self.pixel + 1
        h_out, w_out = (h - 1) * step + 1 + 2 * e, (w - 1) * step + 1 + 2 * e
        y = np.zeros((n, c, h_out, w_out), dtype=x.dtype)
        y[:, :, e : h_out - e : step, e : w_out - e : step] = x
        return y  # (N, C, H_out, W_out)

    def backward(self, grad_out):
        e, step = self.edge, self.pixel + 1
        h_out, w_out = grad_out.shape[2:]
        return grad_out[:, :, e : h_out - e : step, e : w_out - e : step]

    def __repr__(self):
        return f"Pad2D(edge={self.edge}, pixel={self.pixel})"
