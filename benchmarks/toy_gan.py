"""Time the NumPy toy GAN on one core and record how many modes it covers.

Usage: python benchmarks/toy_gan.py [NOTE]   (NOTE: what else the machine was doing,
written at the top of the results; targets: 500 steps/s at batch 256; on ring8
8 of 8 modes with 95% high-quality samples in 4 of 5 seeds, under 60 s each; on
grid25 25 of 25 modes with 90% high-quality samples in 4 of 5 seeds, under 60 s
each; and a plain GAN that visibly collapses on ring8). grid25 trains with InfoGAN
codes, measured beside the defaults and beside the codes without Q's loss. Each
run's samples are also split at the median of G's steepness, to show where the poor
ones come from.
"""

from __future__ import annotations

import os

for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[name] = "1"  # one core, set before numpy is imported

import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from gancourse.metrics import mode_counts, mode_coverage  # noqa: E402
from gancourse.numpy_gans.toy import ToyGAN, ToyGANConfig, train_toy_gan  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
SAMPLES = 2000
SEEDS = range(5)
# grid25 trains with 50 InfoGAN codes, as in notebook 03; options override defaults
GRID25 = {"codes": 50}
# ... measured beside the defaults and beside the codes without Q's loss
GRID25_BESIDE = {
    "grid25, no code": {},
    "grid25, codes without Q's loss": {"codes": 50, "info": 0.0},
}
# the plain GAN of notebook 03: no packing, a high lr and a small batch
COLLAPSE = {
    "loss": "non-saturating",
    "pack": 1,
    "lr_d": 1e-2,
    "lr_g": 1e-2,
    "batch_size": 32,
    "steps": 3000,
}


def steps_per_second(steps: int = 1000, repeats: int = 3) -> float:
    """Training steps per second of the default ToyGAN at batch 256, best of 3."""
    gan = ToyGAN(batch_size=256)
    gan.fit(100)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        gan.fit(steps)
        times.append(time.perf_counter() - start)
    return steps / min(times)


def timed_run(**options) -> dict:
    """Train with `options`; return modes covered, high-quality fraction, seconds.

    cpu_seconds is this process's CPU time: on a shared machine, wall time grows
    with the other work, CPU time far less.
    """
    start, cpu_start = time.perf_counter(), time.process_time()
    gan = train_toy_gan(**options)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    noise = gan.noise(SAMPLES, np.random.default_rng(123))  # (SAMPLES, noise_dim)
    points = gan.generator(noise).astype(np.float64)  # (SAMPLES, 2)
    counts = mode_counts(points, gan.dataset)  # (K,): high-quality samples per mode
    return {
        "modes": int((counts > 0).sum()),
        "of": gan.dataset.num_modes,
        "high_quality": round(float(counts.sum() / SAMPLES), 4),
        "per_mode": [int(counts.min()), int(counts.max())],  # fewest, most
        "steps": gan.step,
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu_seconds, 1),
        "steepness": steepness_split(gan, noise, points),
    }


def steepness_split(gan: ToyGAN, noise: np.ndarray, points: np.ndarray) -> dict:
    """Modes and high quality of the flatter and the steeper half of the samples.

    Steepness is the norm of G's Jacobian at each sample's noise
    (ToyGAN.generator_steepness); the halves split at its median.
    """
    steepness = gan.generator_steepness(noise)  # (SAMPLES,)
    steep = steepness > np.median(steepness)  # (SAMPLES,)
    split, poor = {}, {}
    for name, half in (("flatter_half", ~steep), ("steeper_half", steep)):
        modes, high_quality = mode_coverage(points[half], gan.dataset)
        split[name] = {"modes": modes, "high_quality": round(high_quality, 4)}
        poor[name] = half.sum() * (1.0 - high_quality)  # poor samples in this half
    total = poor["flatter_half"] + poor["steeper_half"]
    share = poor["steeper_half"] / total if total else None  # None: none poor
    split["poor_in_steeper_half"] = None if share is None else round(float(share), 4)
    return split


def show(label: str, row: dict) -> None:
    """Print one result line."""
    print(
        f"{label:<22} {row['modes']:>2}/{row['of']} modes  "
        f"HQ {row['high_quality']:.3f}  {row['steps']} steps  {row['seconds']:.1f} s "
        f"(CPU {row['cpu_seconds']:.1f} s)",
        flush=True,
    )


def main() -> None:
    """Measure speed, ring8 and grid25 over five seeds, and the collapse setting."""
    record = {
        "note": " ".join(sys.argv[1:]),
        "date": datetime.date.today().isoformat(),
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores (1 used), "
            f"Python {sys.version.split()[0]}, numpy {np.__version__}"
        ),
        "defaults": vars(ToyGANConfig()),
    }
    record["steps_per_second"] = round(steps_per_second(), 1)
    print(
        f"steps per second (batch 256, 1 core): {record['steps_per_second']}",
        flush=True,
    )
    record["ring8"] = {}
    for seed in SEEDS:
        record["ring8"][seed] = timed_run(dataset="ring8", seed=seed)
        show(f"ring8 seed {seed}", record["ring8"][seed])
    record["grid25_setting"] = GRID25
    record["grid25"] = {}
    for seed in SEEDS:
        record["grid25"][seed] = timed_run(dataset="grid25", seed=seed, **GRID25)
        show(f"grid25 seed {seed}", record["grid25"][seed])
    record["grid25_beside"] = {}
    for label, options in GRID25_BESIDE.items():
        runs = record["grid25_beside"][label] = {"setting": options}
        for seed in SEEDS:
            runs[seed] = timed_run(dataset="grid25", seed=seed, **options)
            show(f"{label} seed {seed}", runs[seed])
    record["collapse_setting"] = COLLAPSE
    record["collapse"] = {}
    for seed in SEEDS:
        record["collapse"][seed] = timed_run(dataset="ring8", seed=seed, **COLLAPSE)
        show(f"plain GAN seed {seed}", record["collapse"][seed])
    write(record)


def write(record: dict) -> None:
    """Write the record as json and as a markdown table."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "toy_gan.json").write_text(json.dumps(record, indent=2) + "\n")
    good = {
        name: [
            row["modes"] == row["of"] and row["high_quality"] >= quality
            for row in record[name].values()
        ]
        for name, quality in (("ring8", 0.95), ("grid25", 0.90))
    }
    lines = [
        "# The NumPy toy GAN: speed and mode coverage",
        "",
        *([f"Note: {record['note']}", ""] if record["note"] else []),
        f"{record['date']}, {record['machine']}. "
        f"Coverage from {SAMPLES} samples; high quality = within 3 std of a centre. "
        "Seconds are wall time; CPU seconds are the process's own CPU time.",
        "",
        f"Steps per second, defaults, batch 256, one core, best of 3: "
        f"**{record['steps_per_second']}** (target 500).",
        "",
        "Defaults: "
        + ", ".join(f"{key}={value}" for key, value in record["defaults"].items()),
        "",
        "| run | modes | high quality | high-quality samples per mode, fewest to most "
        "(the data: 250 per mode on ring8, 80 on grid25) | steps | seconds "
        "| CPU seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    rows = [(f"ring8, seed {seed}", row) for seed, row in record["ring8"].items()]
    rows += [(f"grid25, seed {seed}", row) for seed, row in record["grid25"].items()]
    for label, runs in record["grid25_beside"].items():
        rows += [(f"{label}, seed {seed}", runs[seed]) for seed in SEEDS]
    split_rows = len(rows)  # the collapse runs are left out of the steepness split
    rows += [
        (f"plain GAN on ring8, seed {seed}", row)
        for seed, row in record["collapse"].items()
    ]
    for label, row in rows:
        lines.append(
            f"| {label} | {row['modes']}/{row['of']} | {row['high_quality']:.3f} | "
            f"{row['per_mode'][0]} to {row['per_mode'][1]} | "
            f"{row['steps']} | {row['seconds']} | {row['cpu_seconds']} |"
        )
    lines += [
        "",
        "## Where the poor samples come from",
        "",
        "The same samples split at the median of G's steepness, the norm of its "
        "Jacobian dG/dz at each sample's noise (`ToyGAN.generator_steepness`). "
        "Poor: not high quality.",
        "",
        "| run | high quality, flatter half | high quality, steeper half "
        "| modes, flatter half | modes, steeper half "
        "| poor samples in the steeper half |",
        "|---|---|---|---|---|---|",
    ]
    for label, row in rows[:split_rows]:
        split = row["steepness"]
        flat, steep = split["flatter_half"], split["steeper_half"]
        poor = split["poor_in_steeper_half"]
        lines.append(
            f"| {label} | {flat['high_quality']:.3f} | {steep['high_quality']:.3f} | "
            f"{flat['modes']}/{row['of']} | {steep['modes']}/{row['of']} | "
            + ("none poor" if poor is None else f"{poor:.0%}")
            + " |"
        )
    lines += [
        "",
        f"ring8 seeds with 8/8 modes and at least 95% high quality: "
        f"{sum(good['ring8'])} of {len(good['ring8'])} (target: 4 of 5).",
        "",
        f"grid25 seeds with 25/25 modes and >= 90% high quality: "
        f"{sum(good['grid25'])} of {len(good['grid25'])} (target 4 of 5).",
        "",
        "grid25 setting: defaults"
        + "".join(f", {key}={value}" for key, value in GRID25.items()),
        "",
        "Beside it: "
        + "; ".join(
            f"{label}: defaults"
            + "".join(f", {key}={value}" for key, value in options.items())
            for label, options in GRID25_BESIDE.items()
        ),
        "",
        "Plain GAN setting: "
        + ", ".join(f"{key}={value}" for key, value in COLLAPSE.items()),
        "",
    ]
    (RESULTS / "toy_gan.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
