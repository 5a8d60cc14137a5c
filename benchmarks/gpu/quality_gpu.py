"""How fast the course's GANs get good on a GPU: the CGAN to 0.98, a 64 px DCGAN.

1. The CGAN of benchmarks/quality.py (mnist-5k's 4,000 training digits, width 32,
   the preset's batch of 64) trains until the shipped classifier labels 98% of
   1,000 samples as the digit they were made for. The accuracy is measured every
   500 steps (labels 0-9, 100 each); training stops at the first measurement at
   or above 0.98, or at 30,000 steps, or after 240 s. One more measurement on
   fresh samples then says how much of the last one was luck (with 1,000 samples
   a measurement's standard error is about 0.4 points).
2. A DCGAN of width 64 on `shapes` at 64 px (random flips) trains for 3,000 steps
   or 120 s, whichever comes first.

The figures go to results/quality_gpu_<gpu>.json and .md next to the CPU
reference of results/quality.md, with a sample grid of each GAN.

Usage: python benchmarks/gpu/quality_gpu.py [--cgan-seconds 240] [--dcgan-seconds 120]
       python benchmarks/gpu/quality_gpu.py --smoke --device cpu   (a 1-minute check)
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torchvision.utils import save_image

from gancourse.data import load_dataset
from gancourse.metrics import classifier_accuracy, load_classifier, predict
from gancourse.runtime import default_threads, describe_device
from gancourse.training import Callback, CancelFit, GANTrainer

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"
CPU_REFERENCE = RESULTS / "quality.json"
SAMPLES_PER_DIGIT = 100  # 1,000 samples per measurement


@dataclass
class Settings:
    """The budgets of one run: the real one on a GPU, or a tiny smoke test."""

    cgan_width: int = 32
    cgan_max_steps: int = 30_000
    cgan_seconds: float = 240.0
    measure_every: int = 500
    target_accuracy: float = 0.98
    dcgan_width: int = 64
    dcgan_steps: int = 3_000
    dcgan_seconds: float = 120.0
    dcgan_image_size: int = 64


SMOKE = {
    "cgan_width": 8,
    "cgan_max_steps": 20,
    "measure_every": 10,
    "dcgan_width": 8,
    "dcgan_steps": 20,
}


def sync(device: torch.device) -> None:
    """Wait for the GPU's queued work, so a clock read after it is honest."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Clock:
    """Wall time since start, and the part of it spent measuring (not training)."""

    def __init__(self, device: torch.device):
        self.device = device
        sync(device)
        self.start = time.perf_counter()
        self.measuring = 0.0

    def total(self) -> float:
        return time.perf_counter() - self.start

    def training(self) -> float:
        return self.total() - self.measuring


class AccuracyCurve(Callback):
    """Measures the CGAN's conditional accuracy every `every` steps; stops at target.

    It also stops training once `seconds` of wall time have passed.
    """

    def __init__(self, judge, clock: Clock, every: int, target: float, seconds: float):
        self.judge, self.clock = judge, clock
        self.every, self.target, self.seconds = every, target, seconds
        self.curve: list[dict] = []  # one entry per measurement

    def acts_at(self, step: int) -> bool:
        return step % self.every == 0

    def after_step(self, trainer: GANTrainer) -> None:
        if trainer.step % self.every:
            return
        sync(trainer.device)
        started = time.perf_counter()
        accuracy = measure(trainer, self.judge)
        self.clock.measuring += time.perf_counter() - started
        point = {
            "step": trainer.step,
            "accuracy": round(accuracy, 4),
            "train_seconds": round(self.clock.training(), 2),
        }
        self.curve.append(point)
        print(f"cgan step {point['step']}: accuracy {accuracy:.4f}", flush=True)
        if accuracy >= self.target:
            raise CancelFit(f"accuracy {accuracy:.4f} reached the target")
        if self.clock.total() >= self.seconds:
            raise CancelFit(f"the {self.seconds:.0f} s time cap")


class TimeCap(Callback):
    """Stops training once `seconds` of wall time have passed (read every 50 steps)."""

    def __init__(self, clock: Clock, seconds: float, every: int = 50):
        self.clock, self.seconds, self.every = clock, seconds, every

    def acts_at(self, step: int) -> bool:
        return False  # reads the clock only: no need for the trainer's figures

    def after_step(self, trainer: GANTrainer) -> None:
        if trainer.step % self.every == 0 and self.clock.total() >= self.seconds:
            raise CancelFit(f"the {self.seconds:.0f} s time cap")


def digit_labels() -> torch.Tensor:
    """0-9, 0-9, ...: SAMPLES_PER_DIGIT of each digit."""
    return torch.arange(10).repeat(SAMPLES_PER_DIGIT)


def measure(trainer: GANTrainer, judge) -> float:
    """The conditional accuracy of 1,000 fresh samples, judged by the classifier."""
    labels = digit_labels()
    return classifier_accuracy(judge, trainer.generate(len(labels), labels), labels)


def per_digit_accuracy(trainer: GANTrainer, judge) -> dict[str, float]:
    """The accuracy of 1,000 fresh samples, digit by digit."""
    labels = digit_labels()
    hits = predict(judge, trainer.generate(len(labels), labels)) == labels
    return {
        str(k): round(hits[labels == k].float().mean().item(), 3) for k in range(10)
    }


def train_cgan(settings: Settings, device: torch.device, out: Path) -> dict:
    """The CGAN until the target accuracy (or a cap); its curve, time and grid."""
    data = load_dataset("mnist-5k", split="train")
    judge = load_classifier("mnist-5k", device=device)
    width = {"width": settings.cgan_width}
    trainer = GANTrainer.from_preset(
        "cgan", data, g=width, d=width, device=device, progress=False
    )
    clock = Clock(device)
    curve = AccuracyCurve(
        judge,
        clock,
        settings.measure_every,
        settings.target_accuracy,
        settings.cgan_seconds,
    )
    trainer.add_callback(curve)
    trainer.fit(steps=settings.cgan_max_steps)
    sync(device)
    train_seconds, total_seconds = clock.training(), clock.total()
    reached = [p for p in curve.curve if p["accuracy"] >= settings.target_accuracy]
    grid = out / "quality_gpu_cgan.png"
    rows = torch.arange(10).repeat_interleave(10)  # row k holds digit k
    save_image(
        trainer.generate(100, rows), grid, nrow=10, normalize=True, value_range=(-1, 1)
    )
    return {
        "steps": trainer.step,
        "batch_size": trainer.config.batch_size,
        "width": settings.cgan_width,
        "bf16_autocast": trainer.amp,
        "train_seconds": round(train_seconds, 1),
        "total_seconds": round(total_seconds, 1),
        "stop_reason": trainer.stop_reason or f"the {settings.cgan_max_steps}-step cap",
        "reached_target": bool(reached),
        "first_step_at_target": reached[0]["step"] if reached else None,
        "final_accuracy": curve.curve[-1]["accuracy"] if curve.curve else None,
        "confirm_accuracy": round(measure(trainer, judge), 4),
        "confirm_per_digit": per_digit_accuracy(trainer, judge),
        "curve": curve.curve,
        "grid": grid.name,
    }


def train_dcgan(settings: Settings, device: torch.device, out: Path) -> dict:
    """The 64 px DCGAN for its step budget (or its time cap); time and grid."""
    data = load_dataset("shapes", image_size=settings.dcgan_image_size, flip=True)
    width = {"width": settings.dcgan_width}
    trainer = GANTrainer.from_preset(
        "dcgan", data, g=width, d=width, device=device, progress=False
    )
    clock = Clock(device)
    trainer.add_callback(TimeCap(clock, settings.dcgan_seconds))
    trainer.fit(steps=settings.dcgan_steps)
    sync(device)
    seconds = clock.total()
    grid = out / "quality_gpu_shapes64.png"
    save_image(
        trainer.fixed_samples(), grid, nrow=8, normalize=True, value_range=(-1, 1)
    )
    images = trainer.step * trainer.config.batch_size
    return {
        "image_size": settings.dcgan_image_size,
        "width": settings.dcgan_width,
        "batch_size": trainer.config.batch_size,
        "bf16_autocast": trainer.amp,
        "steps": trainer.step,
        "seconds": round(seconds, 1),
        "images_per_second": round(images / seconds, 1),
        "stop_reason": trainer.stop_reason or f"the {settings.dcgan_steps}-step budget",
        "last_100_steps": last_losses(trainer.history),
        "grid": grid.name,
    }


def last_losses(history: dict, n: int = 100) -> dict[str, float]:
    """The mean of each loss and D output over the last n steps."""
    keys = ("loss_d", "loss_g", "d_real", "d_fake")
    return {
        k: round(sum(history[k][-n:]) / len(history[k][-n:]), 4)
        for k in keys
        if history.get(k)
    }


def cpu_reference() -> dict:
    """The CPU run of results/quality.json: minutes, steps and accuracy."""
    if not CPU_REFERENCE.exists():
        return {"minutes": 13.4, "source": "benchmarks/results/quality.md"}
    ref = json.loads(CPU_REFERENCE.read_text())
    return {
        "minutes": round(ref["train_seconds"] / 60, 1),
        "steps": ref["metrics"]["step"],
        "accuracy": round(ref["metrics"]["conditional_accuracy"], 4),
        "torch_threads": ref["torch_threads"],
        "source": "benchmarks/results/quality.md",
    }


def device_slug(device: torch.device) -> str:
    """The GPU's name as a file-name part, e.g. nvidia-h100-80gb-hbm3 (or cpu)."""
    if device.type != "cuda":
        return device.type
    name = torch.cuda.get_device_name(device).lower()
    slug = "".join(c if c.isalnum() else "-" for c in name)
    return "-".join(part for part in slug.split("-") if part)


def precision(run: dict) -> str:
    """How a run computed: the trainer's default is bf16 autocast on a GPU."""
    return "bf16 autocast" if run["bf16_autocast"] else "float32"


def report(result: dict) -> str:
    """The markdown page of results/quality_gpu_<gpu>.md."""
    cgan, dcgan, ref = result["cgan"], result["dcgan"], result["cpu_reference"]
    target = result["settings"]["target_accuracy"]
    if cgan["reached_target"]:
        verdict = (
            f"reached {target} at step {cgan['first_step_at_target']:,} after "
            f"**{cgan['train_seconds']:.0f} s of training** "
            f"({cgan['total_seconds']:.0f} s with the measurements)"
        )
    else:
        verdict = (
            f"did **not** reach {target}: it stopped at step {cgan['steps']:,} "
            f"({cgan['stop_reason']}) after {cgan['train_seconds']:.0f} s of training"
        )
    curve = ", ".join(f"{p['step']:,}: {p['accuracy']:.3f}" for p in cgan["curve"])
    return "\n".join([
        f"# The course's GANs on a GPU: {result['device']}",
        "",
        f"{result['date']}, torch {result['torch']}; "
        "`python benchmarks/gpu/quality_gpu.py`.",
        "",
        "## CGAN on mnist-5k to a conditional accuracy of 0.98",
        "",
        f"Width {cgan['width']}, batch {cgan['batch_size']}, {precision(cgan)}; "
        "1,000 samples judged by "
        f"the shipped classifier every {result['settings']['measure_every']} steps.",
        "",
        f"- The CGAN {verdict}.",
        f"- A fresh 1,000 samples at the end: accuracy {cgan['confirm_accuracy']:.4f} "
        "(one measurement's standard error is about 0.004, so stopping at the first "
        "one at the target favours luck a little). Per digit: "
        + ", ".join(f"{k} {v:.2f}" for k, v in cgan["confirm_per_digit"].items())
        + ".",
        f"- CPU reference (results/quality.md): {ref.get('steps', 21_080):,} steps in "
        f"**{ref['minutes']} minutes** on the 2-core CPU, accuracy "
        f"{ref.get('accuracy', 0.984)}.",
        f"- Accuracy by step: {curve}.",
        "",
        f"![CGAN, one row per digit]({cgan['grid']})",
        "",
        f"## DCGAN on shapes at {dcgan['image_size']} px",
        "",
        f"Width {dcgan['width']}, batch {dcgan['batch_size']}, {precision(dcgan)}, "
        "random flips: "
        f"{dcgan['steps']:,} steps in **{dcgan['seconds']:.0f} s** "
        f"({dcgan['images_per_second']:.0f} images/s; {dcgan['stop_reason']}). "
        "Last 100 steps: "
        + ", ".join(f"{k} {v:.3f}" for k, v in dcgan["last_100_steps"].items())
        + ".",
        "",
        f"![DCGAN fixed-noise samples]({dcgan['grid']})",
        "",
    ])  # fmt: skip


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda, or cpu with --smoke")
    parser.add_argument("--smoke", action="store_true", help="tiny settings, temp dir")
    parser.add_argument("--cgan-seconds", type=float, default=Settings.cgan_seconds)
    parser.add_argument("--dcgan-seconds", type=float, default=Settings.dcgan_seconds)
    parser.add_argument("--out", type=Path, default=None, help="default: results/")
    args = parser.parse_args()
    if args.cgan_seconds <= 0 or args.dcgan_seconds <= 0:
        parser.error("--cgan-seconds and --dcgan-seconds must be above 0")
    return args


def refuse(message: str) -> None:
    """Stop with one clear line and exit status 2."""
    print(f"quality_gpu.py: {message}", file=sys.stderr)
    sys.exit(2)


def pick_device(name: str, smoke: bool) -> torch.device:
    """The device to run on; refuses (exit status 2) one that cannot be used."""
    try:
        device = torch.device(name)
    except RuntimeError as error:  # torch.device("nonsense")
        refuse(str(error))
    if device.type == "cuda" and not torch.cuda.is_available():
        refuse(
            "no CUDA GPU is visible to torch; this benchmark is for a GPU "
            "(for a check on a CPU: --smoke --device cpu)"
        )
    if device.type != "cuda" and not smoke:
        refuse(f"--device {name} is only for --smoke runs")
    return device


def main() -> None:
    args = parse_args()
    device = pick_device(args.device, args.smoke)
    torch.set_num_threads(default_threads())
    settings = Settings(
        cgan_seconds=args.cgan_seconds, dcgan_seconds=args.dcgan_seconds
    )
    if args.smoke:
        settings = Settings(**{**asdict(settings), **SMOKE})
    out = args.out or (
        Path(tempfile.mkdtemp(prefix="quality-gpu-smoke-")) if args.smoke else RESULTS
    )
    out.mkdir(parents=True, exist_ok=True)
    print(f"device: {describe_device(device)}; writing to {out}", flush=True)
    result = {
        "date": datetime.date.today().isoformat(),
        "device": describe_device(device),
        "torch": torch.__version__,
        "smoke": args.smoke,
        "settings": asdict(settings),
        "cgan": train_cgan(settings, device, out),
    }
    result["dcgan"] = train_dcgan(settings, device, out)
    result["cpu_reference"] = cpu_reference()
    name = f"quality_gpu_{device_slug(device)}"
    (out / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / f"{name}.md").write_text(report(result))
    print((out / f"{name}.md").read_text())


if __name__ == "__main__":
    main()
