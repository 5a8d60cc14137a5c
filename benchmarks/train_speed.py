"""GANTrainer against a reference DCGAN loop, side by side, in images per second.

The reference is written the way pytorch/examples' dcgan/main.py is: a
DataLoader over the dataset, `.to(device)` per batch, fp32, a Sigmoid on D and
BCELoss, the fake batch of the D step reused for the G step. Both train the
same DCGAN (gancourse.models at the same width) on the same data with the same
batch size. Trials alternate (reference, trainer, reference, ...) so a busy
machine slows both alike; the ratio of medians is the figure to read.

GANTrainer runs in up to three variants: as a user gets it ("trainer"), reading
its figures to the host every step ("trainer, sync every step": the cost the
sync window removes) and with torch.compile ("trainer, compiled"). `--profile`
adds a torch.profiler table of the trainer's busiest operations.

Usage: python benchmarks/train_speed.py [--device cuda] [--batch-sizes 64,128]
       [--dataset shapes --image-size 32] [--variants trainer,compiled] [--profile]
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import statistics
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader

from gancourse.data import load_dataset
from gancourse.models import Discriminator, Generator
from gancourse.runtime import describe_device, get_device, seed_everything
from gancourse.training import GANTrainer, preset

RESULTS = Path(__file__).resolve().parent / "results"


def build(dataset, width: int):
    """A fresh DCGAN pair sized to the data, seeded."""
    channels, size, _ = dataset.image_shape
    setup = preset("dcgan", image_size=size, channels=channels)
    setup.generator.width = setup.discriminator.width = width
    seed_everything(0)
    return Generator(setup.generator), Discriminator(setup.discriminator), setup.train


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def reference_loop(dataset, width, batch_size, steps, device) -> float:
    """pytorch/examples-style DCGAN training; returns images per second."""
    netG, netD, _ = build(dataset, width)
    netG, netD = netG.to(device), nn.Sequential(netD, nn.Sigmoid()).to(device)
    criterion = nn.BCELoss()
    optimizerD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optimizerG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, drop_last=True)
    nz = netG.config.z_dim
    done, start = 0, None
    while done < steps + 3:
        for real_cpu, _ in loader:
            if done == 3:  # after warm-up
                sync(device)
                start = time.perf_counter()
            if done == steps + 3:
                break
            ############################
            # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
            ###########################
            netD.zero_grad()
            real = real_cpu.to(device)
            b = real.size(0)
            label = torch.full((b,), 1.0, device=device)
            output = netD(real)
            errD_real = criterion(output, label)
            errD_real.backward()
            D_x = output.mean().item()  # noqa: F841 (the example prints it)
            noise = torch.randn(b, nz, device=device)
            fake = netG(noise)
            label.fill_(0.0)
            output = netD(fake.detach())
            errD_fake = criterion(output, label)
            errD_fake.backward()
            optimizerD.step()
            ############################
            # (2) Update G network: maximize log(D(G(z)))
            ###########################
            netG.zero_grad()
            label.fill_(1.0)
            output = netD(fake)
            errG = criterion(output, label)
            errG.backward()
            errG.item()
            optimizerG.step()
            done += 1
    sync(device)
    return steps * batch_size / (time.perf_counter() - start)


def make_trainer(dataset, width, batch_size, device, **settings) -> GANTrainer:
    """The same DCGAN as the reference, in a GANTrainer with `settings`."""
    G, D, config = build(dataset, width)
    config.batch_size = batch_size
    config.update(settings)
    return GANTrainer(G, D, dataset, config, device=device, progress=False)


def trainer_loop(dataset, width, batch_size, steps, device, **settings) -> float:
    """The same DCGAN through GANTrainer; returns images per second."""
    trainer = make_trainer(dataset, width, batch_size, device, **settings)
    trainer.fit(steps=3 if not trainer.compiled else 10)  # warm-up (and compile)
    sync(trainer.device)
    start = time.perf_counter()
    trainer.fit(steps=steps)
    sync(trainer.device)
    return steps * batch_size / (time.perf_counter() - start)


# name -> GANTrainer settings; "reference" is the pytorch/examples-style loop
VARIANTS = {
    "trainer": {},
    "sync-every-step": {"sync_every": 1},
    "compiled": {"compile": True},
}


def check_compiled_matches(dataset, width, batch_size, device) -> float:
    """Largest gap between compiled and eager losses over 5 steps (same seed)."""
    runs = [
        make_trainer(dataset, width, batch_size, device, compile=c).fit(steps=5)
        for c in (False, True)
    ]
    gaps = [
        abs(a - b)
        for key in ("loss_d", "loss_g")
        for a, b in zip(runs[0].history[key], runs[1].history[key], strict=True)
    ]
    return max(gaps)


def profile(dataset, width, batch_size, device, rows: int = 15) -> str:
    """torch.profiler's table of the trainer's busiest operations over 20 steps."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as profiler

    trainer = make_trainer(dataset, width, batch_size, device)
    trainer.fit(steps=5)
    activities = [ProfilerActivity.CPU]
    if device.type == "cuda":
        activities.append(ProfilerActivity.CUDA)
    with profiler(activities=activities) as prof:
        trainer.fit(steps=20)
        sync(device)
    key = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    return prof.key_averages().table(sort_by=key, row_limit=rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None)
    parser.add_argument("--dataset", default="mnist-5k")
    parser.add_argument("--image-size", type=int, default=None)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--batch-sizes", default=None, help="e.g. 64,128")
    parser.add_argument("--variants", default="trainer", help=", ".join(VARIANTS))
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    device = get_device(args.device)
    on_gpu = device.type == "cuda"
    sizes = [
        int(b) for b in (args.batch_sizes or ("64,128" if on_gpu else "64")).split(",")
    ]
    variants = args.variants.split(",")
    if unknown := set(variants) - set(VARIANTS):
        parser.error(
            f"unknown variants {sorted(unknown)}: choose from {list(VARIANTS)}"
        )
    steps = args.steps or (200 if on_gpu else 40)
    dataset = load_dataset(args.dataset, image_size=args.image_size)
    print(
        f"device: {describe_device(device)}; {args.dataset} {dataset.image_shape}, "
        f"width {args.width}, batches {sizes}, {steps} steps x {args.trials}"
    )
    tables = {}
    for batch_size in sizes:
        names = ["reference", *variants]
        figures = {name: [] for name in names}
        for trial in range(args.trials):
            for name in names:  # alternating: a busy machine slows all alike
                if name == "reference":
                    rate = reference_loop(
                        dataset, args.width, batch_size, steps, device
                    )
                else:
                    rate = trainer_loop(
                        dataset, args.width, batch_size, steps, device, **VARIANTS[name]
                    )
                figures[name].append(rate)
                print(
                    f"batch {batch_size} trial {trial}: {name:16s} {rate:9.1f} images/s"
                )
        medians = {name: statistics.median(v) for name, v in figures.items()}
        print(
            f"batch {batch_size} medians: "
            + ", ".join(
                f"{n} {m:.1f} ({m / medians['reference']:.2f}x)"
                for n, m in medians.items()
            )
        )
        tables[batch_size] = (figures, medians)
    extra = {}
    if "compiled" in variants:
        extra["compiled_loss_gap"] = check_compiled_matches(
            dataset, args.width, sizes[0], device
        )
        print(
            "compiled vs eager: largest loss gap over 5 steps "
            f"{extra['compiled_loss_gap']:.2e}"
        )
    if args.profile:
        extra["profile"] = profile(dataset, args.width, sizes[0], device)
        print(extra["profile"])
    record(args, device, dataset, steps, tables, extra)


def device_tag(device: torch.device) -> str:
    """cpu, or cuda_<gpu name> (results are kept per GPU kind)."""
    if device.type != "cuda":
        return device.type
    name = torch.cuda.get_device_name(device).lower()
    return "cuda_" + "".join(c if c.isalnum() else "-" for c in name).strip("-")


def record(args, device, dataset, steps, tables, extra):
    """Write results/train_speed_<device>.json and .md."""
    RESULTS.mkdir(exist_ok=True)
    tag = device_tag(device)
    result = {
        "date": datetime.date.today().isoformat(),
        "device": describe_device(device),
        "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads",
        "torch": torch.__version__,
        "dataset": args.dataset,
        "image_shape": list(dataset.image_shape),
        "width": args.width,
        "steps_per_trial": steps,
        "batches": {
            str(b): {"images_per_s": f, "medians": m} for b, (f, m) in tables.items()
        },
        **{k: v for k, v in extra.items() if k != "profile"},
    }
    (RESULTS / f"train_speed_{tag}.json").write_text(json.dumps(result, indent=2))
    lines = [
        f"# Training speed on {tag}: GANTrainer vs the pytorch/examples-style loop",
        "",
        f"{result['date']}, {result['device']}, torch {torch.__version__}.",
        f"DCGAN width {args.width} on {args.dataset} {tuple(dataset.image_shape)}, "
        f"{steps} steps per trial, {args.trials} alternating trials; images per "
        "second (real images consumed). The ratio column divides by the reference.",
        "",
    ]
    for batch_size, (figures, medians) in tables.items():
        names = list(figures)
        lines += [
            f"## batch {batch_size}",
            "",
            "| trial | " + " | ".join(names) + " |",
            "|---|" + "---|" * len(names),
        ]
        for i in range(args.trials):
            lines.append(
                f"| {i} | " + " | ".join(f"{figures[n][i]:.1f}" for n in names) + " |"
            )
        lines.append(
            "| **median** | "
            + " | ".join(f"**{medians[n]:.1f}**" for n in names)
            + " |"
        )
        lines.append(
            "| ratio | "
            + " | ".join(f"{medians[n] / medians['reference']:.2f}x" for n in names)
            + " |"
        )
        lines.append("")
    if "compiled_loss_gap" in extra:
        lines += [
            "Compiled vs eager, largest loss gap over 5 steps: "
            f"{extra['compiled_loss_gap']:.2e}.",
            "",
        ]
    if "profile" in extra:
        lines += [
            "## profile (trainer, first batch size, 20 steps)",
            "",
            "```",
            extra["profile"],
            "```",
            "",
        ]
    (RESULTS / f"train_speed_{tag}.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
