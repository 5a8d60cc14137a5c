"""SGD and Adam, with the update rules of torch.optim, applied in place."""

import math

import numpy as np


class Optimizer:
    """Holds (parameter, gradient) pairs; step() updates the parameters in place."""

    def __init__(self, parameters, lr):
        self.parameters = list(parameters)
        self.lr = lr

    def step(self):
        """Update every parameter from its gradient."""
        raise NotImplementedError

    def zero_grad(self):
        """Set the gradients of these parameters to zero, in place."""
        for _, grad in self.parameters:
            grad.fill(0.0)


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum, as torch."""

    def __init__(self, parameters, lr, momentum=0.0, nesterov=False):
        super().__init__(parameters, lr)
        if nesterov and momentum <= 0:
            raise ValueError("Nesterov momentum needs momentum > 0")
        self.momentum = momentum
        self.nesterov = nesterov
        self.velocities = [np.zeros_like(param) for param, _ in self.parameters]
        self.scratch = [np.empty_like(param) for param, _ in self.parameters]

    def step(self):
        for (param, grad), velocity, scratch in zip(
            self.parameters, self.velocities, self.scratch, strict=True
        ):
            if self.momentum == 0:
                np.multiply(grad, self.lr, out=scratch)
                param -= scratch
                continue
            velocity *= self.momentum
            velocity += grad  # v = momentum * v + g
            if self.nesterov:
                np.multiply(velocity, self.momentum, out=scratch)
                scratch += grad  # g + momentum * v
            else:
                scratch[...] = velocity
            scratch *= self.lr
            param -= scratch


class Adam(Optimizer):
    """Adam with bias correction, as torch.optim.Adam."""

    def __init__(self, parameters, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(parameters, lr)
        self.betas = betas
        self.eps = eps
        self.t = 0
        self.means = [np.zeros_like(param) for param, _ in self.parameters]
        self.squares = [np.zeros_like(param) for param, _ in self.parameters]
        self.scratch = [np.empty_like(param) for param, _ in self.parameters]

    def step(self):
        beta1, beta2 = self.betas
        self.t += 1
        step_size = self.lr / (1.0 - beta1**self.t)
        correction2_sqrt = math.sqrt(1.0 - beta2**self.t)
        for (param, grad), mean, square, scratch in zip(
            self.parameters, self.means, self.squares, self.scratch, strict=True
        ):
            np.multiply(grad, 1.0 - beta1, out=scratch)
            mean *= beta1
            mean += scratch  # m = beta1 * m + (1 - beta1) * g
            np.multiply(grad, grad, out=scratch)
            scratch *= 1.0 - beta2
            square *= beta2
            square += scratch  # v = beta2 * v + (1 - beta2) * g^2
            np.sqrt(square, out=scratch)
            scratch /= correction2_sqrt
            scratch += self.eps
            np.divide(mean, scratch, out=scratch)
            scratch *= step_size
            param -= scratch  # p -= lr * m_hat / (sqrt(v_hat) + eps)
