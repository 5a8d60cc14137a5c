"""GANTrainer against a reference DCGAN loop, side by side, in images per second.

The reference is written the way pytorch/examples' dcgan/main.py is: a
DataLoader over the dataset, `.to(device)` per batch, fp32, a Sigmoid on D and
BCELoss, the fake batch of the D step reused for the G step. Both train the
same DCGAN (gancourse.models at the same width) on the same data with the same
batch size. Trials alternate (reference, trainer, reference, ...) so a busy
machine slows both alike; the ratio of medians is the figure to read.

Usage: python benchmarks/train_speed.py [--device cuda] [--steps 60] [--trials 5]
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


def trainer_loop(dataset, width, batch_size, steps, device) -> float:
    """The same DCGAN through GANTrainer; returns images per second."""
    G, D, config = build(dataset, width)
    config.batch_size = batch_size
    trainer = GANTrainer(G, D, dataset, config, device=device, progress=False)
    trainer.fit(steps=3)  # warm-up
    sync(trainer.device)
    start = time.perf_counter()
    trainer.fit(steps=steps)
    sync(trainer.device)
    return steps * batch_size / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None)
    parser.add_argument("--dataset", default="mnist-5k")
    parser.add_argument("--image-size", type=int, default=None)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--trials", type=int, default=5)
    args = parser.parse_args()
    device = get_device(args.device)
    on_gpu = device.type == "cuda"
    batch_size = args.batch_size or (128 if on_gpu else 64)
    steps = args.steps or (200 if on_gpu else 40)
    dataset = load_dataset(args.dataset, image_size=args.image_size)
    print(
        f"device: {describe_device(device)}; {args.dataset} {dataset.image_shape}, "
        f"width {args.width}, batch {batch_size}, {steps} steps x {args.trials}"
    )
    figures = {"reference": [], "trainer": []}
    for trial in range(args.trials):
        for name, loop in (("reference", reference_loop), ("trainer", trainer_loop)):
            rate = loop(dataset, args.width, batch_size, steps, device)
            figures[name].append(rate)
            print(f"trial {trial}: {name:9s} {rate:8.1f} images/s")
    ref = statistics.median(figures["reference"])
    ours = statistics.median(figures["trainer"])
    ratio = ours / ref
    print(
        f"median: reference {ref:.1f}, GANTrainer {ours:.1f} images/s, "
        f"ratio {ratio:.2f}x"
    )
    record(args, device, dataset, batch_size, steps, figures, ref, ours, ratio)


def record(args, device, dataset, batch_size, steps, figures, ref, ours, ratio):
    """Write results/train_speed_<device>.json and .md."""
    RESULTS.mkdir(exist_ok=True)
    tag = device.type
    result = {
        "date": datetime.date.today().isoformat(),
        "device": describe_device(device),
        "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads",
        "torch": torch.__version__,
        "dataset": args.dataset,
        "image_shape": list(dataset.image_shape),
        "width": args.width,
        "batch_size": batch_size,
        "steps_per_trial": steps,
        "images_per_s": figures,
        "median_reference": ref,
        "median_trainer": ours,
        "ratio": ratio,
    }
    (RESULTS / f"train_speed_{tag}.json").write_text(json.dumps(result, indent=2))
    lines = [
        f"# Training speed on {tag}: GANTrainer vs the pytorch/examples-style loop",
        "",
        f"{result['date']}, {result['device']}, torch {torch.__version__}.",
        f"DCGAN width {args.width} on {args.dataset} {tuple(dataset.image_shape)}, "
        f"batch {batch_size}, {steps} steps per trial, {args.trials} alternating "
        "trials; images per second (real images consumed).",
        "",
        "| trial | reference | GANTrainer |",
        "|---|---|---|",
    ]
    for i, (a, b) in enumerate(
        zip(figures["reference"], figures["trainer"], strict=True)
    ):
        lines.append(f"| {i} | {a:.1f} | {b:.1f} |")
    lines += [
        f"| **median** | **{ref:.1f}** | **{ours:.1f}** |",
        "",
        f"GANTrainer / reference = **{ratio:.2f}x**.",
        "",
    ]
    (RESULTS / f"train_speed_{tag}.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
