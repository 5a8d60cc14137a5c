"""The ladder of notebook 11 on mnist-5k: from the course's DCGAN to a modern GAN.

Every rung (gancourse.training.ladder) trains on the same data with the same seed
and the same number of steps on one CPU thread; the judge (the shipped mnist-5k
classifier) measures 1,000 samples against the 1,000 held-out test digits: FID
on its features, with the FID of 1,000 training digits as the floor a perfect G
would reach, and precision/recall (Kynkaenniemi et al. 2019). BestCheckpoint
records the FID every 250 steps (500 samples), the curve notebook 11 plots.
Then the first and last rungs again at longer budgets, and small data: 10% of
the training digits (400), the same two rungs with and without DiffAugment, and
the DCGAN longer. PLAN lists every run of the recorded results; edit it to add one.

Usage: python benchmarks/modern.py [--rungs NAME ...] [--budgets STEPS ...]
       python benchmarks/modern.py --report   (rewrite results/modern.md only)
       python benchmarks/modern.py --one RUNG SEED STEPS [--small] [--augment POLICY]
Finished runs are kept under build/bench/modern/ and not run again, nor are runs
already in results/modern.json unless --again is given.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from gancourse.files import write_text_atomic
from gancourse.training.ladder import RUNGS

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
RUNS = ROOT / "build" / "bench" / "modern"
WIDTH = 32
SMALL_FRACTION = 0.1
SMALL_AUGMENT = "translation,cutout"
FID_EVERY = 250
LADDER_STEPS = 6000
LONG_STEPS = [16000, 20000, 30000]
ENDS = (RUNGS[0], RUNGS[-1])  # the DCGAN and the full recipe
# Every run of results/modern.md:
# (rungs, seeds, steps, 400 digits?, DiffAugment policies; None is without).
PLAN = [
    (RUNGS, (0, 1), LADDER_STEPS, False, (None,)),  # the ladder
    (ENDS, (0, 1), 16000, False, (None,)),  # the top rung was still improving
    (ENDS, (0, 1, 2, 3), 20000, False, (None,)),  # seeds 2, 3 added for seed noise
    (ENDS, (0, 1, 2, 3), 30000, False, (None,)),  # decided before it ran
    (ENDS[1:], (0,), 3000, True, (None, SMALL_AUGMENT)),
    (ENDS[1:], (0,), 6000, True, (None, SMALL_AUGMENT)),
    (ENDS[:1], (0,), 6000, True, (None, SMALL_AUGMENT, "translation")),
    (ENDS[:1], (0, 1, 2), 16000, True, (None, "translation")),  # D memorises
]
# budgets whose seeds beyond the first two were run later, to measure seed noise
SEEDS_ADDED_LATER = {20000}
# what was decided before a budget ran, written under its heading
DECIDED_BEFORE = {
    30000: "This budget, its four seeds, and the rule to run it once and report "
    "what it showed were written down before it started, after the 20000-step "
    "tables above."
}


def result_key(result: dict) -> str:
    """The run_key of a recorded result."""
    small = result["data"] != 4000  # the full training set has 4,000 digits
    return run_key(
        result["rung"], result["seed"], result["steps"], small, result["augment"]
    )


def run_key(rung: str, seed: int, steps: int, small: bool, augment: str | None) -> str:
    """A file name for one run's result."""
    name = rung.strip("+ ").replace(", ", "_").replace("/", "").replace(" ", "-")
    data = "small" if small else "full"
    policy = "" if augment in (None, SMALL_AUGMENT) else "-" + augment.replace(",", "+")
    return f"{data}_{name}{'_augment' + policy if augment else ''}_s{seed}_{steps}"


def one_run(rung: str, seed: int, steps: int, small: bool, augment: str | None) -> dict:
    """Train one rung and judge it; the figures as a dict."""
    import torch

    from gancourse.data import ImageDataset, load_dataset
    from gancourse.metrics import load_classifier, precision_recall
    from gancourse.metrics.scores import fid_against, fid_metric
    from gancourse.training import GANTrainer
    from gancourse.training.best import BestCheckpoint
    from gancourse.training.ladder import rung_settings

    torch.set_num_threads(1)
    train = load_dataset("mnist-5k")
    held_out = load_dataset("mnist-5k", split="test").images[:1000]  # (1000, 1, 28, 28)
    if small:  # the same 400 digits for every run
        keep = torch.randperm(len(train), generator=torch.Generator().manual_seed(0))
        keep = keep[: int(len(train) * SMALL_FRACTION)]
        train = ImageDataset(
            "mnist-5k-10pc", train.images[keep], train.labels[keep], train.classes
        )
    judge = load_classifier("mnist-5k")
    settings = rung_settings(rung)
    d = {"width": WIDTH, **settings.pop("d")}
    if augment:
        settings["augment"] = augment
    folder = RUNS / run_key(rung, seed, steps, small, augment)
    folder.mkdir(parents=True, exist_ok=True)
    best = BestCheckpoint(judge, held_out, folder / "best.pt", every=FID_EVERY, n=500)
    trainer = GANTrainer.from_preset(
        "dcgan",
        train,
        g={"width": WIDTH},
        d=d,
        seed=seed,
        device="cpu",
        callbacks=[best],
        progress=False,
        **settings,
    )
    start = time.perf_counter()
    trainer.fit(steps=steps)
    seconds = time.perf_counter() - start
    noise = trainer.G.sample_noise(1000, "cpu", torch.Generator().manual_seed(123))
    samples = trainer.sample_from(noise)  # (1000, 1, 28, 28), from the EMA if kept
    metric = fid_metric(judge, held_out)
    pr = precision_recall(judge, held_out, samples)
    from torchvision.utils import save_image

    save_image(samples[:64], folder / "grid.png", nrow=8, normalize=True)
    return {
        "rung": rung,
        "seed": seed,
        "steps": steps,
        "data": len(train),
        "augment": augment,
        "fid": round(fid_against(metric, samples), 3),
        "floor": round(fid_against(metric, real_sample(train)), 3),
        "precision": round(pr.precision, 3),
        "recall": round(pr.recall, 3),
        "best_fid": round(best.best_fid, 3) if best.best_step else None,
        "best_step": best.best_step,
        "fid_curve": [trainer.history.get(k, []) for k in ("fid_step", "fid")],
        "seconds": round(seconds, 1),
        "settings": {**settings, "d": d},
    }


def real_sample(train, n: int = 1000):
    """n training images drawn at random (the data is stored sorted by class)."""
    import torch

    keep = torch.randperm(len(train), generator=torch.Generator().manual_seed(1))
    return train.images[keep[:n]]  # (min(n, N), C, H, W)


def launch(job: tuple) -> dict:
    """Run one job in its own process (one thread each); return its result."""
    key = run_key(*job)
    path = RUNS / f"{key}.json"
    if path.exists():
        return json.loads(path.read_text())
    rung, seed, steps, small, augment = job
    command = [sys.executable, __file__, "--one", rung, str(seed), str(steps)]
    command += ["--small"] * small + (["--augment", augment] if augment else [])
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GANCOURSE_THREADS": "1"}
    print("start", key, flush=True)
    subprocess.run(command, check=True, cwd=ROOT, env=env)
    result = json.loads(path.read_text())
    print(f"done  {key}: FID {result['fid']} in {result['seconds']} s", flush=True)
    return result


def report(
    results: list[dict],
    steps: int,
    long_steps: list[int],
    command: str,
    missing: list[tuple] = (),
) -> str:
    """results/modern.md: the ladder, the longer budgets and the small-data runs.

    `command` is the options modern.py was run with, written into the report;
    `missing` the planned jobs that have no result yet.
    """
    lines = [
        "# The modern-GAN ladder on mnist-5k (notebook 11)",
        "",
        f"{datetime.date.today()}, {platform.machine()}, {os.cpu_count()} cores, "
        f"one thread per run, Python {platform.python_version()}. Each run: "
        f"`benchmarks/modern.py`, width {WIDTH}, batch 64. FID on the "
        "judge's features, 1,000 samples against the 1,000 held-out test digits; "
        "the floor is the FID of 1,000 training digits. Precision and recall on the "
        "same features (k = 3). Seconds are wall time while two to five jobs shared "
        "the two cores, so they compare only runs made side by side (seed 1's "
        f"{steps}-step ladder ran two at a time with nothing else).",
        "",
        f"Written by `python benchmarks/modern.py {command}`, with every run of its "
        "PLAN found among the finished runs or, failing that, in the previous record.",
        "",
        *_missing(missing),
        "The runs are deterministic: a longer run's FID curve repeats a shorter "
        "run's, step for step, up to the shorter one's end (checked for the DCGAN's "
        "seed 0 at 16,000 and 20,000 steps), so each budget's table is what a run "
        "of that length gives, not a continuation.",
        "",
        f"## The ladder at {steps} steps",
        "",
    ]
    full = [r for r in results if r["data"] == 4000]
    lines += _ladder([r for r in full if r["steps"] == steps])
    for n in long_steps:
        longer = [r for r in full if r["steps"] == n]
        if not longer:
            continue
        lines += [
            "",
            f"## A longer budget: {n} steps, the first and last rungs",
            "",
            f"At {steps} steps the top rung's FID was still falling in both seeds. "
            f"Both end rungs were trained again from scratch for {n} steps; the "
            "middle rungs were not."
            + (f" {DECIDED_BEFORE[n]}" if n in DECIDED_BEFORE else ""),
            "",
        ]
        lines += _ladder(longer, added_later=n in SEEDS_ADDED_LATER)
    small = [r for r in results if r["data"] != 4000]
    if small:
        lines += [
            "",
            f"## Small data: {small[0]['data']} training digits (10%), with and "
            "without DiffAugment",
            "",
            "| rung | DiffAugment policy, budget | seed | FID | floor | precision "
            "| recall | best FID (step) | s |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        order = {rung: i for i, rung in enumerate(RUNGS)}
        small.sort(
            key=lambda r: (order[r["rung"]], r["steps"], r["augment"] or "", r["seed"])
        )
        for r in small:
            label = f"{r['augment'] or 'none'}, {r['steps']} steps"
            lines.append(f"| {r['rung']} " + _row(r, label))
        lines += _small_verdict(small)
        lines += [
            "",
            "The FID along the way (every 2,000 steps, 500 samples from fixed noise, "
            "the best-checkpoint callback's measure; not comparable with the "
            "1,000-sample FIDs above):",
            "",
        ]
        for r in small:
            curve = zip(*r["fid_curve"], strict=True)
            points = [f"{s}: {f:.2f}" for s, f in curve if s % 2000 == 0]
            lines.append(
                f"- {r['rung']}, {r['augment'] or 'none'}, {r['steps']} steps, "
                f"seed {r['seed']}: " + ", ".join(points)
            )
    return "\n".join(lines) + "\n"


def _missing(jobs: list[tuple]) -> list[str]:
    """A paragraph naming the planned runs that have no result yet."""
    if not jobs:
        return []
    names = [
        f"{rung}{' on 400 digits' * small}{f' with {augment}' if augment else ''}, "
        f"seed {seed}, {steps} steps"
        for rung, seed, steps, small, augment in jobs
    ]
    return [
        f"**Planned and not run yet** ({len(jobs)}): " + "; ".join(names) + ". "
        "A verdict that needs them says it is not judged.",
        "",
    ]


def _small_verdict(small: list[dict]) -> list[str]:
    """Mean FID without and with DiffAugment at the longest budget with 2+ seeds."""
    for steps in sorted({r["steps"] for r in small}, reverse=True):
        runs = [r for r in small if r["steps"] == steps and r["rung"] == RUNGS[0]]
        policies = {r["augment"] for r in runs if r["augment"]}
        if len(policies) != 1:
            continue
        policy = policies.pop()
        plain = {r["seed"]: r["fid"] for r in runs if not r["augment"]}
        augmented = {r["seed"]: r["fid"] for r in runs if r["augment"] == policy}
        if len(plain) < 2 or plain.keys() != augmented.keys():
            continue  # a verdict needs the same two or more seeds on both sides
        a = sum(plain.values()) / len(plain)
        b = sum(augmented.values()) / len(augmented)
        lower = sum(augmented[seed] < fid for seed, fid in plain.items())
        return [
            "",
            f"{RUNGS[0]}, {steps} steps, {len(plain)} seeds: mean FID {a:.2f} "
            f"without DiffAugment, {b:.2f} with `{policy}`; lower with it in "
            f"{lower} of {len(plain)} seeds. Target: DiffAugment lowers the 10%-data "
            f"FID (on the mean): {'met' if b < a else 'NOT met'}.",
        ]
    return []


def _ladder(full: list[dict], added_later: bool = False) -> list[str]:
    """The table of the rungs in `full`, each rung's mean, and the target's verdict.

    `added_later`: seeds beyond the first two were run afterwards; their verdict is
    shown beside the first two seeds' own.
    """
    lines = [
        "| rung | seed | FID | floor | precision | recall | best FID (step) | s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for rung in RUNGS:
        for r in sorted(
            (r for r in full if r["rung"] == rung), key=lambda r: r["seed"]
        ):
            lines.append(_row(r, rung))
    means = {
        rung: sum(f) / len(f)
        for rung in RUNGS
        if (f := [r["fid"] for r in full if r["rung"] == rung])
    }
    lines += ["", "Mean FID over the seeds per rung:", ""]
    base = means.get(RUNGS[0])
    seeds = {rung: {r["seed"] for r in full if r["rung"] == rung} for rung in means}
    for rung, mean in means.items():
        same = base and seeds[rung] == seeds[RUNGS[0]]  # else the means do not compare
        share = f" ({mean / base:.2f} of the DCGAN's)" if same else ""
        lines.append(f"- {rung}: {mean:.2f}{share}")
    if RUNGS[-1] in means:
        both = sorted(seeds.get(RUNGS[0], set()) & seeds[RUNGS[-1]])
        if not both:
            return lines + ["", "Target not judged: the two rungs share no seed yet."]
        ratio = _ratio(full, both)
        if seeds[RUNGS[0]] != seeds[RUNGS[-1]] or len(both) < 2:
            on = ", ".join(map(str, both))
            measured = f"on the seeds both rungs have ({on}) {ratio:.3f} of it"
            verdict = "not judged: the two rungs need the same two or more seeds"
        else:
            measured = f"{ratio:.3f} of it"
            verdict = "met" if ratio <= 0.5 else "NOT met"
        lines += [
            "",
            f"Target: the top rung at most half the DCGAN's FID. Measured: "
            f"{measured}, target {verdict}.",
        ]
        if added_later and seeds[RUNGS[0]] == seeds[RUNGS[-1]] and len(both) > 2:
            first = both[:2]
            lines += [
                "",
                f"On seeds {first[0]} and {first[1]} alone, the two run first: "
                f"{_ratio(full, first):.3f} of it. The other seeds were added later, "
                "at this budget only, and every seed run is in the table.",
            ]
    return lines


def _ratio(full: list[dict], seeds: list[int]) -> float:
    """The top rung's mean FID over `seeds` as a share of the DCGAN's."""
    top, base = (
        sum(r["fid"] for r in full if r["rung"] == rung and r["seed"] in seeds)
        for rung in (RUNGS[-1], RUNGS[0])
    )
    return top / base


def _row(r: dict, label: str) -> str:
    return (
        f"| {label} | {r['seed']} | {r['fid']:.2f} | {r['floor']:.2f} | "
        f"{r['precision']:.3f} | {r['recall']:.3f} | {r['best_fid'] or 0:.2f} "
        f"({r['best_step']}) | {r['seconds']:.0f} |"
    )


def planned_jobs(rungs: list[str] | None, budgets: list[int] | None) -> list[tuple]:
    """PLAN as (rung, seed, steps, small, augment) jobs, kept to `rungs`, `budgets`."""
    jobs = [
        (rung, seed, steps, small, augment)
        for group_rungs, seeds, steps, small, policies in PLAN
        for rung in group_rungs
        for seed in seeds
        for augment in policies
    ]
    return [
        job
        for job in jobs
        if (not rungs or job[0] in rungs) and (not budgets or job[2] in budgets)
    ]


def not_recorded(jobs: list[tuple], recorded: list[dict]) -> list[tuple]:
    """The jobs whose result is not in `recorded`."""
    done = {result_key(r) for r in recorded}
    return [job for job in jobs if run_key(*job) not in done]


def gather(planned: list[tuple], recorded: list[dict], runs: Path) -> list[dict]:
    """Each planned run's result: from `runs` if there, else recorded; else left out."""
    by_key = {result_key(r): r for r in recorded}
    results = []
    for job in planned:
        path = runs / f"{run_key(*job)}.json"
        if path.exists():
            results.append(json.loads(path.read_text()))
        elif run_key(*job) in by_key:
            results.append(by_key[run_key(*job)])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rungs", nargs="+", help="only the planned runs of these rungs"
    )
    parser.add_argument("--budgets", type=int, nargs="+", help="only these step counts")
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time")
    parser.add_argument("--report", action="store_true", help="rewrite the report only")
    parser.add_argument(
        "--again", action="store_true", help="run again the runs already recorded"
    )
    parser.add_argument("--one", nargs=3, metavar=("RUNG", "SEED", "STEPS"))
    parser.add_argument("--small", action="store_true", help="with --one: 400 digits")
    parser.add_argument("--augment", nargs="?", const=SMALL_AUGMENT, metavar="POLICY")
    args = parser.parse_args()
    if args.one:
        rung, seed, steps = args.one[0], int(args.one[1]), int(args.one[2])
        result = one_run(rung, seed, steps, args.small, args.augment)
        key = run_key(rung, seed, steps, args.small, args.augment)
        write_text_atomic(RUNS / f"{key}.json", json.dumps(result, indent=1))
        return
    if args.jobs < 1:
        parser.error(f"--jobs {args.jobs}: give 1 or more runs at a time.")
    planned = planned_jobs(None, None)
    for name, asked, known in (
        ("rung", args.rungs or [], [job[0] for job in planned]),
        ("budget", args.budgets or [], [job[2] for job in planned]),
    ):
        if unknown := [x for x in asked if x not in known]:
            parser.error(
                f"no planned run has the {name} {unknown[0]!r}: choose from "
                f"{sorted(set(known), key=known.index)}, or add runs to PLAN."
            )
    record = RESULTS / "modern.json"
    recorded = json.loads(record.read_text()) if record.exists() else []
    if not args.report:
        jobs = planned_jobs(args.rungs, args.budgets)
        if not args.again:
            jobs = not_recorded(jobs, recorded)
        RUNS.mkdir(parents=True, exist_ok=True)
        with ThreadPoolExecutor(args.jobs) as pool:
            list(pool.map(launch, jobs))
    results = gather(planned, recorded, RUNS)  # every planned run, not only these
    found = {result_key(r) for r in results}
    missing = [job for job in planned if run_key(*job) not in found]
    RESULTS.mkdir(exist_ok=True)
    record.write_text(json.dumps(results, indent=1))
    command = " ".join(sys.argv[1:])
    text = report(results, LADDER_STEPS, LONG_STEPS, command, missing)
    (RESULTS / "modern.md").write_text(text)
    print(text)
    if not args.report:  # the kept checkpoints, judged again (ema_batchnorm.py)
        subprocess.run(
            [sys.executable, ROOT / "benchmarks" / "ema_batchnorm.py"], check=True
        )


if __name__ == "__main__":
    main()
