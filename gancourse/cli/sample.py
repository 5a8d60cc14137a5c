"""`python -m gancourse sample`: a PNG grid of a checkpoint's generator's images."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from torchvision.utils import make_grid, save_image

from gancourse.cli.options import check_at_least_one, check_device, check_seed
from gancourse.errors import UsageError
from gancourse.training import load_checkpoint, models_from_state

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def add_arguments(sample: argparse.ArgumentParser) -> None:
    """The `sample` sub-command: a PNG grid from a checkpoint."""
    sample.description = (
        "Draw images from a checkpoint's generator into one PNG grid. A "
        "conditional model without --label gives one row per class."
    )
    sample.add_argument("checkpoint", type=Path, metavar="CHECKPOINT")
    sample.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="IMAGE",
        help="e.g. grid.png (.png, .jpg or .jpeg)",
    )
    sample.add_argument("--n", type=int, help="images (default 64; per class: n/K)")
    sample.add_argument("--label", help="a class name or index (conditional models)")
    sample.add_argument("--seed", type=int, default=0, metavar="S")
    sample.add_argument("--nrow", type=int, default=8, help="images per row")
    sample.add_argument("--device", help="cpu, cuda or mps (default: the best found)")


def run(args: argparse.Namespace) -> int:
    """Write a PNG grid of the checkpoint's generator's images."""
    for flag in ("n", "nrow"):
        check_at_least_one(flag, getattr(args, flag))
    check_seed(args.seed)
    out = args.out
    if out.suffix.lower() not in IMAGE_SUFFIXES:
        raise UsageError(
            f"--out {out}: give an image file name ending in "
            f"{', '.join(IMAGE_SUFFIXES)}."
        )
    if out.is_dir():
        raise UsageError(f"--out {out} is a folder; give a file name like grid.png.")
    if out.exists() and out.resolve() == args.checkpoint.resolve():
        raise UsageError("--out is the checkpoint itself; give another file name.")
    device = check_device(args.device)
    state = load_checkpoint(args.checkpoint)
    G, _ = models_from_state(state, args.checkpoint)
    G = G.to(device).eval()
    classes = list(state.get("dataset", {}).get("classes", []))
    num_classes = G.config.num_classes
    conditional = G.config.conditioning != "none"
    n, nrow = args.n or 64, args.nrow
    labels = None
    if args.label is not None:
        if not conditional:
            raise UsageError(
                f"{args.checkpoint} is an unconditional {state['kind']}: it takes no "
                "--label; leave it out."
            )
        labels = torch.full((n,), _label_index(args.label, classes, num_classes))
    elif conditional:  # one row per class
        per_class = -(-args.n // num_classes) if args.n else nrow
        labels = torch.arange(num_classes).repeat_interleave(per_class)
        n, nrow = len(labels), per_class
    generator = torch.Generator(device).manual_seed(args.seed)
    with torch.no_grad():
        z = G.sample_noise(n, device, generator)  # (n, z_dim)
        images = G(z, labels.to(device) if labels is not None else None).float()
    grid = make_grid(images.cpu(), nrow=nrow, normalize=True, value_range=(-1, 1))
    out.parent.mkdir(parents=True, exist_ok=True)
    save_image(grid, out)
    print(
        f"wrote {out}: {n} images, {nrow} per row, {grid.shape[2]}x{grid.shape[1]} px"
    )
    return 0


def _label_index(text: str, classes: list[str], num_classes: int) -> int:
    """A --label given as a class name or as an index, checked against the model."""
    names = classes if len(classes) == num_classes else []
    if text in names:
        return names.index(text)
    numeric_names = bool(names) and all(name.isdigit() for name in names)
    index = int(text) if text.isdigit() and not numeric_names else None
    if index is None or index >= num_classes:
        listed = ", ".join(names)
        fix = (
            f"a class name ({listed})"
            if numeric_names
            else f"a class name ({listed}) or an index from 0 to {num_classes - 1}"
            if names
            else f"an index from 0 to {num_classes - 1}"
        )
        raise UsageError(
            f"--label {text} is not a class of this {num_classes}-class model: "
            f"give {fix}."
        )
    return index
