"""Time Conv2D and ConvTranspose2D of gancourse.nn_numpy against torch and scipy.

Forward plus backward (input and weight gradients) on a (64, 8, 28, 28) float64
batch, 3 x 3 kernels, one thread for everyone. The scipy version loops over batch
and channels calling correlate2d, as report 004's library did; it is timed on a
batch of 8 and scaled to 64 (its time is linear in the batch).

Usage: python benchmarks/conv_speed.py
"""

import os

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"  # before numpy and torch start their thread pools

import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import torch  # noqa: E402
from scipy.signal import convolve2d, correlate2d  # noqa: E402

from gancourse.nn_numpy import Conv2D, ConvTranspose2D  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
BATCH, SCIPY_BATCH = 64, 8
SMALL, LARGE, SIZE, KERNEL = 8, 16, 28, 3
REPEATS = 10


def scipy_conv_forward_backward(x, weight, bias, grad_out):
    """Conv2D with one correlate2d call per (example, out channel, in channel)."""
    n, c_in = x.shape[:2]
    c_out = weight.shape[0]
    y = np.empty((n, c_out) + grad_out.shape[2:])
    for i in range(n):
        for o in range(c_out):
            y[i, o] = bias[o]
            for c in range(c_in):
                y[i, o] += correlate2d(x[i, c], weight[o, c], mode="valid")
    grad_weight = np.zeros_like(weight)
    grad_x = np.zeros_like(x)
    for i in range(n):
        for o in range(c_out):
            for c in range(c_in):
                grad_weight[o, c] += correlate2d(x[i, c], grad_out[i, o], mode="valid")
                grad_x[i, c] += convolve2d(grad_out[i, o], weight[o, c], mode="full")
    return y, grad_x, grad_weight


def scipy_deconv_forward_backward(x, weight, bias, grad_out):
    """ConvTranspose2D with one convolve2d call per (example, in, out channel)."""
    n, c_in = x.shape[:2]
    c_out = weight.shape[1]
    y = np.empty((n, c_out) + grad_out.shape[2:])
    for i in range(n):
        for o in range(c_out):
            y[i, o] = bias[o]
            for c in range(c_in):
                y[i, o] += convolve2d(x[i, c], weight[c, o], mode="full")
    grad_weight = np.zeros_like(weight)
    grad_x = np.zeros_like(x)
    for i in range(n):
        for c in range(c_in):
            for o in range(c_out):
                grad_weight[c, o] += correlate2d(grad_out[i, o], x[i, c], mode="valid")
                grad_x[i, c] += correlate2d(grad_out[i, o], weight[c, o], mode="valid")
    return y, grad_x, grad_weight


def torch_forward_backward(function, x, weight, bias, grad_out):
    """Forward and backward to the input and the weights with torch autograd."""
    x.grad = weight.grad = bias.grad = None
    y = function(x, weight, bias)
    y.backward(grad_out)
    return y, x.grad, weight.grad


def ours_forward_backward(layer, x, grad_out):
    """Forward and backward of one nn_numpy layer."""
    layer.zero_grad()
    y = layer.forward(x)
    return y, layer.backward(grad_out), layer.grads["W"]


def make_case(layer, function, scipy_function, rng):
    """Inputs for one layer, and a zero-argument call for each implementation."""
    in_channels = layer.params["W"].shape[
        0 if isinstance(layer, ConvTranspose2D) else 1
    ]
    x = rng.normal(size=(BATCH, in_channels, SIZE, SIZE))
    layer.params["b"][:] = rng.normal(size=layer.params["b"].shape)
    grad_out = rng.normal(size=layer.forward(x).shape)
    weight, bias = layer.params["W"], layer.params["b"]
    torch_args = [torch.tensor(a, requires_grad=True) for a in (x, weight, bias)]
    torch_grad = torch.tensor(grad_out)
    small = (x[:SCIPY_BATCH], weight, bias, grad_out[:SCIPY_BATCH])
    calls = {
        "ours": lambda: ours_forward_backward(layer, x, grad_out),
        "torch": lambda: torch_forward_backward(function, *torch_args, torch_grad),
        "scipy": lambda: scipy_function(*small),
    }
    check_agreement(calls)
    return calls


def check_agreement(calls):
    """Make sure the three implementations compute the same numbers."""
    ours = [np.asarray(a)[:SCIPY_BATCH] for a in calls["ours"]()[:2]]
    ours.append(calls["ours"]()[2].copy())
    theirs = [a.detach().numpy() for a in calls["torch"]()]
    theirs[0], theirs[1] = theirs[0][:SCIPY_BATCH], theirs[1][:SCIPY_BATCH]
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine, reference, atol=1e-8)
    scipy_out = calls["scipy"]()
    for mine, reference in zip(ours[:2], scipy_out[:2], strict=True):
        np.testing.assert_allclose(mine, reference, atol=1e-8)


def time_interleaved(cases):
    """Median milliseconds of each call, the calls taking turns in every repeat."""
    times = {(case, name): [] for case, calls in cases.items() for name in calls}
    for _ in range(REPEATS):
        for case, calls in cases.items():
            for name, call in calls.items():
                start = time.perf_counter()
                call()
                times[case, name].append(1000 * (time.perf_counter() - start))
    medians = {key: statistics.median(values) for key, values in times.items()}
    for case in cases:
        medians[case, "scipy"] *= BATCH / SCIPY_BATCH
    return medians


def cpu_model():
    """The processor's model name, from /proc/cpuinfo where there is one."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def machine_info():
    """A one-line description of the machine and the libraries."""
    return (
        f"{cpu_model()}, {os.cpu_count()} cores, {platform.machine()},"
        f" Python {platform.python_version()}, numpy {np.__version__},"
        f" scipy {scipy.__version__}, torch {torch.__version__}"
    )


def main():
    """Time both layers, print a table and record it under results/."""
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    conv = Conv2D(SMALL, LARGE, KERNEL, rng=1)
    deconv = ConvTranspose2D(LARGE, SMALL, KERNEL, rng=2)
    cases = {
        f"Conv2D {SMALL}->{LARGE}": make_case(
            conv, torch.nn.functional.conv2d, scipy_conv_forward_backward, rng
        ),
        f"ConvTranspose2D {LARGE}->{SMALL}": make_case(
            deconv,
            torch.nn.functional.conv_transpose2d,
            scipy_deconv_forward_backward,
            rng,
        ),
    }
    medians = time_interleaved(cases)
    header = "| layer | ours ms | torch ms | scipy ms | ours / torch | scipy / ours |"
    rows, record = [header, "|---|---|---|---|---|---|"], {}
    for case in cases:
        ours, theirs, loops = (medians[case, n] for n in ("ours", "torch", "scipy"))
        rows.append(
            f"| {case} | {ours:.1f} | {theirs:.1f} | {loops:.0f} "
            f"| {ours / theirs:.2f} | {loops / ours:.0f} |"
        )
        record[case] = {
            "ours_ms": round(ours, 2),
            "torch_ms": round(theirs, 2),
            "scipy_ms": round(loops, 1),
            "ours_over_torch": round(ours / theirs, 3),
            "scipy_over_ours": round(loops / ours, 1),
        }
    print("\n".join(rows))
    machine, today = machine_info(), datetime.date.today().isoformat()
    text = [
        "# Conv2D and ConvTranspose2D speed, forward + backward",
        "",
        f"Input ({BATCH}, C_in, {SIZE}, {SIZE}) float64, {KERNEL}x{KERNEL} kernels, "
        "stride 1, no padding, one thread each. Median of "
        f"{REPEATS} interleaved repeats, in milliseconds. The scipy column loops over "
        f"batch and channels with correlate2d; it ran on a batch of {SCIPY_BATCH} "
        f"and is scaled by {BATCH // SCIPY_BATCH}.",
        "Targets: ours / torch <= 2, scipy / ours >= 10. Other work may share the "
        "machine: compare the ratios, measured side by side, more than the times.",
        "",
        f"Machine: {machine}. Date: {today}.",
        "",
        *rows,
    ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "conv_speed.md").write_text("\n".join(text) + "\n")
    summary = {"date": today, "machine": machine, "repeats": REPEATS, "ms": record}
    (RESULTS / "conv_speed.json").write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
