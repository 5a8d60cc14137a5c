"""`train`'s options for the modern recipe (notebook 11) and --keep-best.

--loss, --r1-gamma, --r2-gamma, --augment, --ema and --projection set the
TrainConfig and DiscriminatorConfig fields of the same names; --keep-best N
measures the judge's FID every N steps and keeps the best state in best.pt.
"""

from __future__ import annotations

import argparse

from gancourse.augment import POLICIES, check_policy
from gancourse.errors import UsageError
from gancourse.losses import LOSSES
from gancourse.metrics.classifier import SHIPPED_CLASSIFIERS

BEST = "best.pt"  # the lowest-FID state of a run with --keep-best
BEST_SAMPLES = 500  # samples per FID measurement (the same noise every time)
# the TrainConfig fields these options set, under the command line's names
TRAINING = ("loss", "r1_gamma", "r2_gamma", "penalty_every", "augment", "ema")


def add_arguments(train: argparse.ArgumentParser) -> None:
    """The modern recipe's options and --keep-best."""
    modern = train.add_argument_group("modern recipe (notebook 11; default: off)")
    modern.add_argument("--loss", metavar="NAME", help=", ".join(LOSSES))
    modern.add_argument(
        "--r1-gamma",
        type=float,
        metavar="G",
        help="zero-centred gradient penalty on real images, weight G/2 (e.g. 1)",
    )
    modern.add_argument(
        "--r2-gamma",
        type=float,
        metavar="G",
        help="the same penalty on generated images (R2)",
    )
    modern.add_argument(
        "--penalty-every",
        type=int,
        metavar="K",
        help="R1/R2 at every K-th step only, K times as heavy (lazy; default 1)",
    )
    modern.add_argument(
        "--augment",
        metavar="POLICY",
        help=f"DiffAugment on D's inputs: comma-separated {', '.join(POLICIES)}",
    )
    modern.add_argument(
        "--ema",
        type=float,
        metavar="BETA",
        help="sample from a moving average of G's weights (e.g. 0.999)",
    )
    modern.add_argument(
        "--projection",
        action=argparse.BooleanOptionalAction,
        help="cgan: D takes the label by projection (Miyato & Koyama 2018)",
    )
    modern.add_argument(
        "--keep-best",
        type=int,
        metavar="N",
        help=f"every N steps, the judge's FID on {BEST_SAMPLES} samples; the "
        f"lowest-FID state is kept in {BEST} (mnist-5k, shapes)",
    )


def check_arguments(args: argparse.Namespace) -> None:
    """The checks that need only the arguments: one UsageError each."""
    if args.loss is not None and args.loss not in LOSSES:
        raise UsageError(
            f"--loss must be one of {', '.join(LOSSES)}, got {args.loss!r}."
        )
    for flag in ("r1_gamma", "r2_gamma"):
        value = getattr(args, flag)
        if value is not None and not value >= 0:
            raise UsageError(
                f"--{flag.replace('_', '-')} must be 0 or more (e.g. 1), got {value}."
            )
    if args.penalty_every is not None and args.penalty_every < 1:
        raise UsageError(
            f"--penalty-every must be at least 1, got {args.penalty_every}."
        )
    if args.augment is not None and not check_policy(args.augment):
        raise UsageError(
            f"--augment {args.augment!r} names no augmentation: give a policy such "
            f"as translation,cutout (from {', '.join(POLICIES)}), or leave --augment "
            "out for none."
        )
    if args.ema is not None and not 0 <= args.ema < 1:
        raise UsageError(
            f"--ema must be in [0, 1) (e.g. 0.999; 0 turns it off), got {args.ema}."
        )
    if args.projection and args.kind != "cgan":
        raise UsageError(
            f"--projection is how a cgan's D takes the label; {args.kind} "
            f"{'has a class head instead' if args.kind == 'acgan' else 'takes none'}: "
            "train cgan, or leave --projection out."
        )
    if args.keep_best is not None:
        if args.keep_best < 1:
            raise UsageError(f"--keep-best must be at least 1, got {args.keep_best}.")
        if args.steps is not None and args.keep_best > args.steps:
            raise UsageError(
                f"--keep-best {args.keep_best} is more than --steps {args.steps}: "
                "the FID would never be measured and no best.pt written; choose "
                f"--keep-best {max(1, args.steps // 4)} or so."
            )
        if args.dataset not in SHIPPED_CLASSIFIERS:
            raise UsageError(
                f"--keep-best measures FID with a shipped judge, and there is none "
                f"for {args.dataset!r} (only {', '.join(SHIPPED_CLASSIFIERS)}): "
                "leave --keep-best out."
            )


def training_overrides(args: argparse.Namespace) -> dict:
    """TrainConfig fields the modern options set (only those given)."""
    return {
        name: getattr(args, name)
        for name in TRAINING
        if getattr(args, name) is not None
    }


def discriminator_overrides(args: argparse.Namespace) -> dict:
    """DiscriminatorConfig fields: conditioning by projection if asked."""
    return {"conditioning": "projection"} if args.projection else {}


def saved_settings(state: dict) -> dict:
    """A checkpoint's modern settings under the command line's names."""
    t, d = state["train_config"], state["discriminator_config"]
    return {
        "loss": t["loss"],
        "r1_gamma": t.get("r1_gamma", 0.0),
        "r2_gamma": t.get("r2_gamma", 0.0),
        "penalty_every": t.get("penalty_every", 1),
        "augment": t.get("augment"),
        "ema": t.get("ema", 0.0),
        "projection": d["conditioning"] == "projection",
    }


def keep_best(args: argparse.Namespace, dataset, device):
    """--keep-best's BestCheckpoint: the judge, held-out images, out/best.pt."""
    import torch

    from gancourse.data import load_dataset
    from gancourse.metrics import load_classifier
    from gancourse.training.best import BestCheckpoint

    judge = load_classifier(args.dataset, device=device)
    channels, size, _ = dataset.image_shape
    if (judge.channels, judge.image_size) != (channels, size):
        raise UsageError(
            f"--keep-best's judge reads {judge.channels}x{judge.image_size}x"
            f"{judge.image_size} images but this run makes {channels}x{size}x{size}: "
            f"train at --image-size {judge.image_size}, or leave --keep-best out."
        )
    held_out = load_dataset(
        args.dataset, split="test", image_size=size, classes=args.classes
    )
    # 1,000 at random: the data is stored sorted by class
    keep = torch.randperm(len(held_out), generator=torch.Generator().manual_seed(0))
    real = held_out.images[keep[:1000]]  # (<=1000, C, H, W) in [-1, 1]
    return BestCheckpoint(
        judge, real, args.out / BEST, every=args.keep_best, n=BEST_SAMPLES
    )
