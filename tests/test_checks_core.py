"""What the checks share: coercing the value, close, the catalogue of mistakes."""

import importlib
import inspect
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import gancourse.checks as checks
from gancourse.checks.coerce import as_array, as_float, as_tensor
from gancourse.checks.compare import Mistake, close, first_mistake
from gancourse.checks.core import ExerciseError
from gancourse.checks.probes import (
    call_on,
    check_device_safe,
    gradients_reaching,
    on_meta,
)
from gancourse.checks.reference import bce_with_logits, bce_with_logits_numpy

ROOT = Path(__file__).resolve().parent.parent
inf, nan = math.inf, math.nan

# ---- close ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actual", "expected"),
    [(1.0, inf), (inf, 1.0), (nan, nan), (1.0, nan), (nan, 1.0), (-inf, inf)],
)
def test_close_refuses_nan_and_a_lone_infinity(actual, expected):
    assert not close(actual, expected)
    assert not close(np.array([0.0, actual]), np.array([0.0, expected]))
    assert not close(torch.tensor([actual]), torch.tensor([expected]))


@pytest.mark.parametrize("x", [0.0, 1.0, -1.0, 1e300, -1e308, 3.4e38])
def test_close_is_never_true_for_a_finite_number_against_inf(x):
    assert not close(x, inf) and not close(x, -inf)
    assert not close(x, inf, rtol=1.0, atol=1e300)


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        (inf, inf),
        (-inf, -inf),
        (1.0, 1.0 + 1e-9),
        (np.array([1.0, inf]), np.array([1.0 + 1e-9, inf])),
        (torch.tensor([0.5, 2.0], requires_grad=True), np.array([0.5, 2.0])),
        (torch.tensor(0.25, dtype=torch.float32), 0.25),
        (np.full((2, 3), 0.5), 0.5),  # one number against every entry
        ([1.0, np.ones(2)], (1.0, torch.ones(2))),  # item by item
    ],
)
def test_close_accepts_equal_infinities_and_near_values(actual, expected):
    assert close(actual, expected)


def test_close_uses_its_tolerances_and_compares_shapes():
    assert not close(1.0, 1.001) and close(1.0, 1.001, rtol=1e-2)
    assert not close(0.0, 1e-6) and close(0.0, 1e-6, atol=1e-5)
    assert not close(np.ones(3), np.ones(2)) and not close(np.ones((3, 1)), np.ones(3))
    assert not close([1.0, 2.0], [1.0]) and not close("1.0", 1.0)


# ---- the mistake catalogue --------------------------------------------------------

MISTAKES = [
    Mistake("the sign is flipped", -2.0),
    Mistake("halved", 1.0),
    Mistake("also halved, listed later", 1.0),
]


def test_first_mistake_returns_the_message_of_the_first_match():
    assert first_mistake(1.0, MISTAKES) == "halved"
    assert first_mistake(-2.0 + 1e-9, MISTAKES) == "the sign is flipped"
    assert first_mistake(3.0, MISTAKES) is None
    assert first_mistake(torch.tensor(-2.0), MISTAKES) == "the sign is flipped"


def test_first_mistake_skips_a_mistake_that_gives_the_right_answer():
    assert first_mistake(1.0, MISTAKES, expected=1.0) is None
    assert first_mistake(1.05, MISTAKES, rtol=0.1) == "halved"
    assert first_mistake(1.05, MISTAKES, rtol=0, atol=0.01) is None


def test_first_mistake_matches_shapes_and_lists_of_arrays():
    grads = [Mistake("transposed", np.arange(6.0).reshape(3, 2))]
    assert first_mistake(np.arange(6.0).reshape(2, 3), grads) is None
    assert first_mistake(np.arange(6.0).reshape(3, 2), grads) == "transposed"
    weights = [Mistake("not clipped", [torch.ones(2), torch.zeros(1)])]
    assert first_mistake([torch.ones(2), torch.zeros(1)], weights) == "not clipped"


# ---- coercing the student's value -------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [2.5, np.float32(2.5), torch.tensor(2.5), torch.tensor([2.5]), np.array([[2.5]])]
    + [torch.tensor(2.5, requires_grad=True)],
)
def test_as_float_takes_a_number_or_one_element(value):
    assert as_float(value, "the loss") == 2.5
    assert type(as_float(value, "the loss")) is float


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (None, "the loss is None: the function returns nothing"),
        (True, "the loss should be numbers, got True/False"),
        (np.bool_(False), "True/False"),
        (torch.tensor(True), "True/False"),
        (nan, "the loss is nan: it should be a finite number"),
        (torch.tensor(-inf), "the loss is -inf"),
        (torch.ones(3), r"the loss should be one number, got a tensor of shape \(3,\)"),
        (np.ones((2, 2)), "one number"),
        ("2.5", "the loss should be one number .* got a str"),
        (np.array("2.5"), "one number .* got a NumPy array"),
        ((1.0, 2.0), "got a tuple"),
        (1 + 2j, "the loss is complex"),
        (torch.tensor(1 + 0j), "keep the real part"),
    ],
)
def test_as_float_refuses_what_is_not_one_finite_number(value, says):
    with pytest.raises(ExerciseError, match=says):
        as_float(value, "the loss")


def test_as_float_may_let_nan_and_inf_through():
    assert math.isnan(as_float(nan, "FID", finite=False))
    assert as_float(torch.tensor(inf), "FID", finite=False) == inf


def test_as_array_gives_floats_of_the_asked_shape():
    out = as_array([[1, 2], [3, 4]], "grad_W", (2, 2))
    assert out.dtype == np.float64 and out.shape == (2, 2)
    assert as_array(torch.ones(3), "grad_b", (None,)).shape == (3,)
    indices = as_array(np.arange(4), "test_idx", (None,), integer=True)
    assert indices.dtype.kind == "i"


@pytest.mark.parametrize(
    ("value", "kwargs", "says"),
    [
        (np.ones(3), {"shape": (3, 1)}, r"grad should have shape \(3, 1\), got"),
        (
            np.ones(3),
            {"shape": (3, 1), "like": "the logits"},
            "the shape of the logits",
        ),
        (np.ones((2, 3)), {"shape": (None,)}, r"shape \(n,\), got shape \(2, 3\)"),
        (np.ones(3), {"integer": True}, "should hold integer indices, got float64"),
        (torch.ones(2, requires_grad=True), {}, "still needs grad"),
        (np.array([True, False]), {}, "True/False"),
        ([[1.0], [1.0, 2.0]], {}, "should be an array of numbers, got a list"),
        (["a", "b"], {}, "array of numbers"),
        (np.array([1.0, nan]), {}, "contains nan or inf"),
        (None, {}, "returns nothing"),
    ],
)
def test_as_array_refuses_what_is_not_that_array(value, kwargs, says):
    with pytest.raises(ExerciseError, match=says):
        as_array(value, "grad", **kwargs)


def test_as_tensor_checks_shape_and_converts_dtype():
    loss = as_tensor(torch.tensor([0.5], requires_grad=True), "the loss", ())
    assert loss.shape == () and loss.requires_grad
    out = as_tensor(np.ones(3, dtype=np.float32), "scores", (3,), allow_numpy=True)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    assert as_tensor(torch.ones(2), "x", dtype=torch.float64).dtype == torch.float64


@pytest.mark.parametrize(
    ("value", "kwargs", "says"),
    [
        (0.5, {}, r"as a torch tensor, got a float: \.item\(\)"),
        ([torch.ones(2)], {}, "got a list: .* not lists"),
        (np.ones(2), {}, r"got a NumPy array of shape \(2,\): stay in torch"),
        ("0.5", {}, "as a torch tensor, got a str"),
        (torch.ones(3, 2).min(dim=1), {}, r"\(values, indices\) pair"),
        (torch.ones(4), {"shape": ()}, "one number, got a tensor of shape \\(4,\\)"),
        (torch.ones(4), {"shape": (2, 2), "like": "the images"}, "shape of the images"),
        (torch.tensor([1.0, nan]), {}, "contains nan or inf"),
        (torch.tensor([True]), {}, "True/False"),
        (None, {}, "returns nothing"),
    ],
)
def test_as_tensor_refuses_what_is_not_that_tensor(value, kwargs, says):
    with pytest.raises(ExerciseError, match=says):
        as_tensor(value, "the scores", **kwargs)


# ---- the reference BCE ------------------------------------------------------------


@pytest.mark.parametrize("target", [0.0, 1.0, 0.3])
def test_the_two_reference_bces_agree_with_torch(target):
    logits = np.array([[-1000.0], [-3.0], [0.0], [2.5], [1000.0]])
    loss, grad = bce_with_logits_numpy(logits, target)
    z = torch.tensor(logits, requires_grad=True)
    want = F.binary_cross_entropy_with_logits(z, torch.full_like(z, target))
    want.backward()
    assert np.isfinite(loss) and close(loss, want.item())
    assert close(grad, z.grad.numpy())
    assert close(bce_with_logits(z, target), want)


# ---- the probes: as on a GPU, gradients watched, other inputs --------------------


def _meta(*shape, dtype=torch.float64):
    return on_meta(torch.zeros(*shape), dtype)


@pytest.mark.parametrize(
    "function",
    [
        lambda x: (x + 1) / 2,
        lambda x: x * torch.tensor(2.0),  # a 0-dim CPU tensor is a number on a GPU
        lambda x: x[torch.tensor([0, 2])],  # CPU indices are fine on a GPU too
        lambda x: (
            torch.ones_like(x) - torch.zeros(3, 4, device=x.device, dtype=x.dtype)
        ),
        lambda x: x.sum().item() + float(x.mean()),  # values: stand-ins on meta
    ],
)
def test_check_device_safe_passes_device_safe_code_to_the_end(function):
    assert check_device_safe(function, [_meta(3, 4)], "f", dtype=torch.float64)


@pytest.mark.parametrize(
    ("function", "says"),
    [
        (lambda x: x * torch.ones(4), "f works on the CPU but would fail on a GPU"),
        (lambda x: torch.cat([x, torch.zeros(1, 4)]), "cat got a tensor made on"),
        (
            lambda x: torch.where(torch.ones(3, 1, dtype=torch.bool), x, x),
            "device=x.device, dtype=x.dtype",
        ),
        (lambda x: torch.zeros(3, 4).copy_(x), "returns a tensor on the CPU"),
        (
            lambda x: torch.zeros(3, 4, device=x.device).copy_(x),
            "a float32 result for float64 inputs",
        ),
    ],
)
def test_check_device_safe_refuses_tensors_made_without_device_or_dtype(function, says):
    with pytest.raises(ExerciseError, match=says):
        check_device_safe(function, [_meta(3, 4)], "f", dtype=torch.float64)


@pytest.mark.parametrize(
    "function",
    [
        lambda x: x if x.sum() > 0 else -x,  # a branch on a value
        lambda x: x.numpy(),
        lambda x: torch.cov(x),  # no meta kernel
        lambda x: 1 / 0,
    ],
)
def test_check_device_safe_passes_what_meta_cannot_run(function):
    assert check_device_safe(function, [_meta(3, 4)], "f") is False


def test_check_device_safe_runs_models_and_optimisers_on_meta_and_keeps_the_rng():
    model = on_meta(torch.nn.Sequential(torch.nn.Linear(4, 2), torch.nn.Tanh()))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

    def step(model, optimizer, x):
        loss = model(x).square().mean() + torch.rand(1, device=x.device).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    torch.manual_seed(0)
    expected = torch.rand(2)
    torch.manual_seed(0)
    assert check_device_safe(step, [model, optimizer, on_meta(torch.ones(5, 4))], "s")
    assert torch.equal(torch.rand(2), expected)


def test_on_meta_copies_and_keeps_requires_grad():
    x = torch.ones(2, 3, requires_grad=True)
    moved = on_meta(x, torch.float64)
    assert moved.is_meta and moved.dtype == torch.float64 and moved.requires_grad
    assert on_meta(torch.arange(3), torch.float64).dtype == torch.int64
    layer = torch.nn.Linear(2, 2)
    assert on_meta(layer).weight.is_meta and not layer.weight.is_meta
    assert on_meta(3) == 3


def test_gradients_reaching_sees_a_backward_pass_that_zeroed_grads_hide():
    weight = torch.nn.Parameter(torch.ones(2))
    with gradients_reaching([weight]) as reached:
        (weight * 3).sum().backward()
        weight.grad = None
    assert reached
    with gradients_reaching([weight]) as reached:
        (weight.detach() * 3).sum()
    assert not reached
    (weight * 3).sum().backward()  # the hooks are gone afterwards
    assert not reached


def test_call_on_names_the_input_and_keeps_the_stub_message():
    def stub(x):
        raise NotImplementedError

    with pytest.raises(ExerciseError, match="not written yet"):
        call_on("a (5,) array", stub, 1)
    with pytest.raises(
        ExerciseError, match=r"^for a \(5,\) array, f raised IndexError: no\. Hint\.$"
    ):

        def f(x):
            raise IndexError("no")

        call_on("a (5,) array", f, 1, hint="Hint.")


# ---- the package: every notebook's checks ---------------------------------------


def test_the_package_reexports_every_check_of_every_notebook_module():
    shared = {"__init__", "core", "coerce", "compare", "reference", "inputs", "probes"}
    modules = {p.stem for p in (ROOT / "gancourse" / "checks").glob("*.py")} - shared
    assert set(checks.NOTEBOOK_EXERCISES) == modules
    stems = {p.stem.split("_", 1)[1] for p in (ROOT / "notebooks").glob("*.ipynb")}
    # each module is named after its notebook, or says which notebook it serves
    assert {checks.SECTION_MODULES.get(m, m) for m in modules} <= stems
    for name, exercises in checks.NOTEBOOK_EXERCISES.items():
        listed = [f"check_{exercise}" for exercise in exercises.split()]
        module = importlib.import_module(f"gancourse.checks.{name}")
        public = {
            f
            for f, obj in vars(module).items()
            if f.startswith("check_")
            and inspect.isfunction(obj)
            and obj.__module__ == module.__name__  # not a helper it imports
        }
        assert set(listed) == public, name
        for check in listed:
            assert getattr(checks, check) is getattr(module, check)
            assert check in checks.__all__ and check in dir(checks)
    with pytest.raises(AttributeError, match="no attribute 'check_nothing'"):
        checks.check_nothing  # noqa: B018
