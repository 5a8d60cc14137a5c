"""The layer protocol, Dense, the activations and the Sequential container."""

import numpy as np

from gancourse.nn_numpy.init import initialise


class Layer:
    """A block with forward, backward, and parameters paired with their gradients."""

    def __init__(self):
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}

    def add_param(self, name, value):
        """Register a parameter and allocate its gradient, once."""
        self.params[name] = value
        self.grads[name] = np.zeros_like(value)

    def forward(self, x):
        """Compute the output and keep what backward needs."""
        raise NotImplementedError

    def backward(self, grad_out):
        """Add the parameter gradients into self.grads and return d(loss)/d(input)."""
        raise NotImplementedError

    def __call__(self, x):
        return self.forward(x)

    def zero_grad(self):
        """Set every gradient to zero, in place."""
        for grad in self.grads.values():
            grad.fill(0.0)

    def parameters(self):
        """Return the (parameter, gradient) pairs, the arrays themselves."""
        return [(self.params[name], self.grads[name]) for name in self.params]

    def __repr__(self):
        return f"{type(self).__name__}()"


class Dense(Layer):
    """A fully connected layer y = x @ W.T + b, W of shape (n_out, n_in)."""

    def __init__(self, n_in, n_out, init="xavier", rng=None, dtype=np.float64):
        super().__init__()
        self.n_in, self.n_out = n_in, n_out
        self.add_param("W", initialise(init, (n_out, n_in), rng).astype(dtype))
        self.add_param("b", np.zeros(n_out, dtype=dtype))
        self.x = None

    def forward(self, x):
        self.x = x  # (N, n_in)
        y = x @ self.params["W"].T  # (N, n_out)
        y += self.params["b"]
        return y

    def backward(self, grad_out):
        self.grads["W"] += grad_out.T @ self.x  # (n_out, n_in)
        self.grads["b"] += grad_out.sum(axis=0)
        return grad_out @ self.params["W"]  # (N, n_in)

    def __repr__(self):
        return f"Dense({self.n_in}, {self.n_out})"


class Sigmoid(Layer):
    """The logistic function 1 / (1 + exp(-x))."""

    def forward(self, x):
        self.y = 0.5 * (1.0 + np.tanh(0.5 * x))  # never overflows, unlike exp(-x)
        return self.y

    def backward(self, grad_out):
        return grad_out * self.y * (1.0 - self.y)


class Tanh(Layer):
    """The hyperbolic tangent."""

    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, grad_out):
        return grad_out * (1.0 - self.y * self.y)


class ReLU(Layer):
    """max(x, 0)."""

    def forward(self, x):
        self.positive = x > 0
        return np.maximum(x, 0.0)

    def backward(self, grad_out):
        return grad_out * self.positive


class LeakyReLU(Layer):
    """x where x > 0, alpha * x elsewhere."""

    def __init__(self, alpha=0.2):
        super().__init__()
        self.alpha = alpha

    def forward(self, x):
        self.slope = np.where(x > 0, 1.0, self.alpha).astype(x.dtype, copy=False)
        return x * self.slope

    def backward(self, grad_out):
        return grad_out * self.slope

    def __repr__(self):
        return f"LeakyReLU(alpha={self.alpha})"


class Reshape(Layer):
    """Reshape each example to `shape`, keeping the batch dimension."""

    def __init__(self, shape):
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x):
        self.input_shape = x.shape
        return x.reshape(len(x), *self.shape)

    def backward(self, grad_out):
        return grad_out.reshape(self.input_shape)

    def __repr__(self):
        return f"Reshape({self.shape})"


class Flatten(Layer):
    """Flatten each example to a vector: (N, ...) -> (N, D)."""

    def forward(self, x):
        self.input_shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, grad_out):
        return grad_out.reshape(self.input_shape)


class Sequential(Layer):
    """Layers applied one after another; backward runs them in reverse."""

    def __init__(self, *layers):
        super().__init__()
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad_out):
        for layer in reversed(self.layers):
            grad_out = layer.backward(grad_out)
        return grad_out

    def zero_grad(self):
        for layer in self.layers:
            layer.zero_grad()

    def parameters(self):
        return [pair for layer in self.layers for pair in layer.parameters()]

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(*self.layers[index])
        return self.layers[index]

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def __repr__(self):
        inner = "".join(f"\n  {layer!r}," for layer in self.layers)
        return f"Sequential({inner}\n)"
