"""slerp against the endpoints, the sphere it should stay on and a float64 formula."""

import math

import numpy as np
import pytest
import torch

from gancourse.errors import UsageError
from gancourse.latent import angle, slerp


def pair(dim=100, seed=0):
    """Two independent standard normal vectors, (dim,) each."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(2, dim, generator=gen)


def direct(z0, z1, t):
    """The slerp formula in float64 NumPy, with the angle from arccos."""
    a, b = z0.double().numpy(), z1.double().numpy()
    omega = math.acos(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
    return (math.sin((1 - t) * omega) * a + math.sin(t * omega) * b) / math.sin(omega)


def test_endpoints():
    z0, z1 = pair()
    assert torch.allclose(slerp(z0, z1, 0.0), z0, atol=1e-6)
    assert torch.allclose(slerp(z0, z1, 1.0), z1, atol=1e-6)


def test_equal_norms_stay_on_the_sphere():
    z0, z1 = pair()
    z1 = z1 * z0.norm() / z1.norm()  # the same length as z0
    path = slerp(z0, z1, torch.linspace(0, 1, 11))  # (11, 100)
    norms = path.norm(dim=1)
    assert torch.allclose(norms, z0.norm().expand(11), rtol=1e-5)
    linear_midpoint = (z0 + z1) / 2  # cuts through the inside of the sphere
    assert linear_midpoint.norm() < 0.9 * norms[5]


def test_angle_grows_linearly_in_t():
    z0, z1 = pair(seed=1)
    z1 = z1 * z0.norm() / z1.norm()  # equal lengths: the path is a great circle
    omega = angle(z0, z1)
    for t in (0.25, 0.5, 0.8):
        point = slerp(z0, z1, t)
        assert math.isclose(angle(z0, point).item(), t * omega.item(), rel_tol=1e-4)
        assert math.isclose(
            angle(point, z1).item(), (1 - t) * omega.item(), rel_tol=1e-4
        )


@pytest.mark.parametrize("t", [0.1, 0.3, 0.5, 0.9])
def test_matches_the_formula_for_unequal_norms(t):
    z0, z1 = pair(seed=2)
    z1 = 1.7 * z1
    expected = direct(z0, z1, t)
    assert np.allclose(slerp(z0, z1, t).numpy(), expected, rtol=1e-5, atol=1e-5)


def test_nearly_parallel_and_identical_vectors():
    z0, _ = pair(seed=3)
    t = torch.linspace(0, 1, 5)[:, None]  # (5, 1)
    same = slerp(z0, z0.clone(), t.flatten())  # angle 0: sin(0) / sin(0) would be NaN
    assert torch.isfinite(same).all() and torch.allclose(same, z0.expand(5, -1))
    nudge = 1e-5 * pair(seed=4)[0]
    z1 = 1.5 * z0 + nudge  # almost the same direction, another length
    near = slerp(z0, z1, t.flatten())
    assert torch.isfinite(near).all()
    assert torch.allclose(near, (1 - t) * z0 + t * z1, rtol=1e-5, atol=1e-5)
    direction = pair(seed=5)[0] / pair(seed=5)[0].norm()
    z1 = z0 + 1e-3 * z0.norm() * direction  # an angle of about 1e-3: the formula
    assert np.allclose(slerp(z0, z1, 0.3).numpy(), direct(z0, z1, 0.3), atol=1e-5)


def test_shapes_and_one_angle_per_row():
    z0, z1 = torch.randn(2, 4, 100, generator=torch.Generator().manual_seed(6))
    t = torch.linspace(0, 1, 7)
    path = slerp(z0, z1, t)
    assert path.shape == (7, 4, 100)
    for row in range(4):  # each pair of rows is interpolated with its own angle
        assert torch.allclose(path[:, row], slerp(z0[row], z1[row], t), atol=1e-6)
    assert slerp(z0, z1, 0.5).shape == (4, 100)


def test_refuses_what_has_no_arc():
    z0, z1 = pair()
    with pytest.raises(UsageError, match="opposite"):
        slerp(z0, -2 * z0, 0.5)
    with pytest.raises(UsageError, match="zero vector"):
        slerp(z0, torch.zeros_like(z0), 0.5)
    with pytest.raises(UsageError, match="same shape"):
        slerp(z0, z1[:50], 0.5)
