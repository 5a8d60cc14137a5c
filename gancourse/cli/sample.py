"""`python -m gancourse sample`: a PNG grid of a checkpoint's generator's images."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import torch
from torchvision.utils import make_grid, save_image

from gancourse.cli.options import (
    check_at_least_one,
    check_device,
    check_finite_images,
    check_finite_weights,
    check_new_file,
    check_seed,
    check_writable,
    writing,
)
from gancourse.errors import UsageError
from gancourse.files import write_atomic
from gancourse.training import load_checkpoint, models_from_state

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
MAX_IMAGES = 1024  # a grid of 32 x 32 images is already hard to look at
MAX_SIDE = 65_535  # px: the most a JPEG (and most image viewers) can hold
BATCH = 256  # images made at once, to keep the memory small
PADDING = 2  # px around and between the images of the grid (make_grid's default)


def add_arguments(sample: argparse.ArgumentParser) -> None:
    """The `sample` sub-command: a PNG grid from a checkpoint."""
    sample.description = (
        "Draw images from a checkpoint's generator into one PNG grid. A "
        "conditional model without --label gives one row per class. A grid holds "
        f"at most {MAX_IMAGES} images: for more, run it again with another --seed."
    )
    sample.add_argument("checkpoint", type=Path, metavar="CHECKPOINT")
    sample.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="IMAGE",
        help="e.g. grid.png (.png, .jpg or .jpeg)",
    )
    sample.add_argument(
        "--n",
        type=int,
        help=f"images, at most {MAX_IMAGES} (default 64; per class: n/K)",
    )
    sample.add_argument("--label", help="a class name or index (conditional models)")
    sample.add_argument("--seed", type=int, default=0, metavar="S")
    sample.add_argument("--nrow", type=int, default=8, help="images per row")
    sample.add_argument("--device", help="cpu, cuda or mps (default: the best found)")
    sample.add_argument(
        "--overwrite", action="store_true", help="replace an existing --out file"
    )


def run(args: argparse.Namespace) -> int:
    """Write a PNG grid of the checkpoint's generator's images."""
    args.written = []  # for Ctrl-C's message
    _check_sample_args(args)
    device = check_device(args.device)
    state = load_checkpoint(args.checkpoint)
    G, _ = models_from_state(state, args.checkpoint)
    check_finite_weights(G, args.checkpoint)
    G = G.to(device).eval()
    labels, nrow = _labels(args, state, G.config)
    n = len(labels) if labels is not None else args.n or 64
    _check_grid_size(n, nrow, G.config.image_size)
    images = _generate(G, n, labels, args.seed, device)
    check_finite_images(images, args.checkpoint)
    grid = make_grid(images, nrow=nrow, normalize=True, value_range=(-1, 1))
    image_format = "JPEG" if args.out.suffix.lower() != ".png" else "PNG"
    with writing(args.out, "--out"):
        write_atomic(args.out, lambda file: save_image(grid, file, format=image_format))
    args.written.append(args.out)
    print(
        f"wrote {args.out}: {n} images, {nrow} per row, "
        f"{grid.shape[2]}x{grid.shape[1]} px"
    )
    return 0


def _check_sample_args(args: argparse.Namespace) -> None:
    """The checks that need nothing but the arguments and the file system."""
    for flag in ("n", "nrow"):
        check_at_least_one(flag, getattr(args, flag))
    if args.n is not None and args.n > MAX_IMAGES:
        raise UsageError(
            f"--n {args.n}: a grid holds at most {MAX_IMAGES} images; for more, run "
            "sample again with another --seed (each seed draws other images)."
        )
    check_seed(args.seed)
    out = args.out
    if out.suffix.lower() not in IMAGE_SUFFIXES:
        raise UsageError(
            f"--out {out}: give an image file name ending in "
            f"{', '.join(IMAGE_SUFFIXES)}."
        )
    check_writable(out, "--out")
    if out.is_dir():
        raise UsageError(f"--out {out} is a folder; give a file name like grid.png.")
    if out.exists() and out.resolve() == args.checkpoint.resolve():
        raise UsageError("--out is the checkpoint itself; give another file name.")
    check_new_file(out, "--out", IMAGE_SUFFIXES, args.overwrite)


def _labels(args, state: dict, config) -> tuple[torch.Tensor | None, int]:
    """The class of each image (None for an unconditional model) and images per row."""
    n, nrow = args.n or 64, args.nrow
    conditional = config.conditioning != "none"
    if args.label is not None:
        if not conditional:
            raise UsageError(
                f"{args.checkpoint} is an unconditional {state.get('kind')}: it takes "
                "no --label; leave it out."
            )
        record = state.get("dataset")
        classes = list(record.get("classes", [])) if isinstance(record, dict) else []
        index = _label_index(args.label, classes, config.num_classes)
        return torch.full((n,), index), nrow
    if not conditional:
        return None, nrow
    # one row per class: n/K images each, or a full row each without --n
    per_class = -(-args.n // config.num_classes) if args.n else nrow
    if args.n is None and per_class * config.num_classes > MAX_IMAGES:
        raise UsageError(
            f"--nrow {nrow} draws {nrow} images for each of the {config.num_classes} "
            f"classes, {nrow * config.num_classes} in all, but a grid holds at most "
            f"{MAX_IMAGES}: pass a smaller --nrow, or --n."
        )
    return torch.arange(config.num_classes).repeat_interleave(per_class), per_class


def _check_grid_size(n: int, nrow: int, image_size: int) -> None:
    """Refuse a grid too long or too wide for an image file, before drawing it."""
    columns = min(nrow, n)
    rows = math.ceil(n / columns)
    step = image_size + PADDING
    width, height = columns * step + PADDING, rows * step + PADDING
    if max(width, height) > MAX_SIDE:
        raise UsageError(
            f"{n} images with --nrow {nrow} make a grid of {width}x{height} px, "
            f"more than the {MAX_SIDE} px a side an image file can hold: pass "
            f"--nrow {math.ceil(math.sqrt(n))} for a square grid."
        )


def _generate(G, n: int, labels, seed: int, device) -> torch.Tensor:
    """n images of G on the CPU, (n, C, H, W), made BATCH at a time."""
    generator = torch.Generator(device).manual_seed(seed)
    z = G.sample_noise(n, device, generator)  # (n, z_dim)
    y = labels.to(device) if labels is not None else None
    with torch.no_grad():
        return torch.cat(
            [
                G(z[i : i + BATCH], None if y is None else y[i : i + BATCH])
                .float()
                .cpu()
                for i in range(0, n, BATCH)
            ]
        )


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
