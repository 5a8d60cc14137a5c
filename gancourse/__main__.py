"""The course's command line: `python -m gancourse COMMAND`.

python -m gancourse datasets
python -m gancourse train dcgan --dataset mnist-5k --steps 2000 --out runs/a
python -m gancourse train dcgan --dataset mnist-5k --steps 4000 --out runs/a --resume
python -m gancourse sample runs/a/checkpoint.pt --n 64 --out grid.png
python -m gancourse classifier --dataset mnist-5k --out clf.pt
python -m gancourse evaluate runs/a/checkpoint.pt --n 1000 --json scores.json
python -m gancourse export runs/a/checkpoint.pt small.pt
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gancourse import config


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors reach `main` instead of exiting."""

    def error(self, message: str):
        from gancourse.cli import UsageError

        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _datasets(args: argparse.Namespace) -> None:
    """Print every dataset with its status."""
    from gancourse.data import describe_datasets

    print(describe_datasets(args.root))


def _student(args: argparse.Namespace) -> None:
    """Write student copies of the notebooks with the solutions cleared."""
    from gancourse.student import make_student_copies

    for path in make_student_copies(args.notebooks, args.out):
        print(f"wrote {path}")


def _train(args: argparse.Namespace) -> int:
    from gancourse.cli import train

    return train(args)


def _sample(args: argparse.Namespace) -> int:
    from gancourse.cli import sample

    return sample(args)


def _classifier(args: argparse.Namespace) -> int:
    from gancourse.cli_evaluate import classifier

    return classifier(args)


def _evaluate(args: argparse.Namespace) -> int:
    from gancourse.cli_evaluate import evaluate

    return evaluate(args)


def _export(args: argparse.Namespace) -> int:
    from gancourse.cli import export

    return export(args)


def _add_train(commands) -> None:
    """The `train` sub-command and its options (None means: not given)."""
    train = commands.add_parser(
        "train",
        help="train a GAN, writing checkpoints and sample grids to --out",
        description="Train a GAN. --steps/--epochs are the total for the run, so "
        "`--resume` continues an interrupted run to the same total.",
    )
    train.add_argument(
        "kind", metavar="KIND", help="dcgan, wgan, wgan-gp, cgan or acgan"
    )
    train.add_argument(
        "--dataset", required=True, metavar="NAME", help="e.g. mnist-5k, shapes"
    )
    train.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="the run's folder"
    )
    budget = train.add_argument_group("budget (give exactly one)")
    budget.add_argument("--steps", type=int, metavar="N", help="total steps")
    budget.add_argument(
        "--epochs", type=int, metavar="N", help="total passes over the data"
    )
    run = train.add_argument_group("run")
    run.add_argument("--resume", action="store_true", help="continue --out's run")
    run.add_argument(
        "--init-from",
        type=Path,
        metavar="CKPT",
        help="fine-tune: start from CKPT's weights with fresh optimisers",
    )
    run.add_argument("--seed", type=int, metavar="S", help="random seed (default 0)")
    run.add_argument("--device", help="cpu, cuda or mps (default: the best found)")
    run.add_argument(
        "--checkpoint-every",
        type=int,
        default=500,
        metavar="N",
        help="write checkpoint.pt every N steps and at the end (default 500)",
    )
    run.add_argument(
        "--sample-every",
        type=int,
        default=500,
        metavar="N",
        help="write samples/step_N.png every N steps (default 500)",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    optim = train.add_argument_group("training (default: the kind's preset)")
    optim.add_argument("--lr-d", type=float, metavar="LR", help="D's learning rate")
    optim.add_argument("--lr-g", type=float, metavar="LR", help="G's learning rate")
    optim.add_argument("--d-steps", type=int, metavar="N", help="D updates per step")
    optim.add_argument("--g-steps", type=int, metavar="N", help="G updates per step")
    optim.add_argument("--batch-size", type=int, metavar="N")
    data = train.add_argument_group("data")
    data.add_argument(
        "--image-size", type=int, metavar="PX", help="28, 32 or 64 (resizes)"
    )
    data.add_argument(
        "--classes", metavar="NAMES", help="a class subset, e.g. horse,bird"
    )
    data.add_argument("--split", help="train (default), test or train+test")
    data.add_argument(
        "--flip", action=argparse.BooleanOptionalAction, help="random h-flips"
    )
    data.add_argument(
        "--data-path",
        type=Path,
        metavar="FOLDER",
        help="the image folder for --dataset imagefolder",
    )
    model = train.add_argument_group("model (default: the kind's preset)")
    model.add_argument(
        "--width", type=int, metavar="N", help="channels of G's last layer"
    )
    model.add_argument("--depth", help="small, medium or large")
    model.add_argument(
        "--spectral-norm",
        action=argparse.BooleanOptionalAction,
        help="spectral norm in D (SNGAN)",
    )
    model.add_argument(
        "--batchnorm",
        action=argparse.BooleanOptionalAction,
        help="BatchNorm in G and D (--no-batchnorm turns it off)",
    )
    train.set_defaults(run=_train)


def _add_sample(commands) -> None:
    """The `sample` sub-command: a PNG grid from a checkpoint."""
    sample = commands.add_parser(
        "sample",
        help="draw a grid of images from a checkpoint",
        description="Draw images from a checkpoint's generator into one PNG grid. "
        "A conditional model without --label gives one row per class.",
    )
    sample.add_argument("checkpoint", type=Path, metavar="CHECKPOINT")
    sample.add_argument(
        "--out", type=Path, required=True, metavar="PNG", help="e.g. grid.png"
    )
    sample.add_argument("--n", type=int, help="images (default 64; per class: n/K)")
    sample.add_argument("--label", help="a class name or index (conditional models)")
    sample.add_argument("--seed", type=int, default=0, metavar="S")
    sample.add_argument("--nrow", type=int, default=8, help="images per row")
    sample.add_argument("--device", help="cpu, cuda or mps (default: the best found)")
    sample.set_defaults(run=_sample)


def _add_classifier(commands) -> None:
    """The `classifier` sub-command: the judge of a dataset's generated images."""
    command = commands.add_parser(
        "classifier",
        help="train a classifier on a dataset's real images (for `evaluate`)",
        description="Train a small CNN on the training split of a labelled image "
        "dataset, print its accuracy on the test split and save it for `evaluate`.",
    )
    command.add_argument(
        "--dataset", required=True, metavar="NAME", help="e.g. mnist-5k, shapes"
    )
    command.add_argument(
        "--out", type=Path, required=True, metavar="PATH", help="e.g. clf.pt"
    )
    command.add_argument(
        "--epochs",
        type=int,
        metavar="N",
        help="passes over the data (default: ~1000 steps)",
    )
    command.add_argument("--seed", type=int, default=0, metavar="S")
    command.add_argument("--device", help="cpu, cuda or mps (default: the best found)")
    command.add_argument(
        "--overwrite", action="store_true", help="replace an existing --out file"
    )
    command.add_argument("--quiet", action="store_true", help="no progress bar")
    data = command.add_argument_group("data (to fit a GAN trained on a variant)")
    data.add_argument("--image-size", type=int, metavar="PX", help="resize to PX")
    data.add_argument("--classes", metavar="NAMES", help="a class subset, e.g. 3,5")
    data.add_argument(
        "--data-path", type=Path, metavar="FOLDER", help="for --dataset imagefolder"
    )
    command.set_defaults(run=_classifier)


def _add_evaluate(commands) -> None:
    """The `evaluate` sub-command: image metrics of a checkpoint's generator."""
    command = commands.add_parser(
        "evaluate",
        help="score a checkpoint's samples: accuracy, IS, FID, KID, memorisation",
        description="Judge a checkpoint's generator with a classifier trained on "
        "real images (the one shipped for its dataset unless --classifier), next "
        "to the same figures for held-out real images.",
    )
    command.add_argument("checkpoint", type=Path, metavar="CHECKPOINT")
    command.add_argument(
        "--n",
        type=int,
        help="samples, and held-out images to compare (default 1000, or the test "
        "split if smaller)",
    )
    command.add_argument(
        "--classifier", type=Path, metavar="PATH", help="a .pt from `classifier`"
    )
    command.add_argument("--seed", type=int, default=0, metavar="S")
    command.add_argument("--device", help="cpu, cuda or mps (default: the best found)")
    command.add_argument(
        "--pairs", type=Path, metavar="PNG", help="draw the closest sample-train pairs"
    )
    command.add_argument("--json", type=Path, metavar="PATH", help="write the figures")
    command.add_argument(
        "--overwrite", action="store_true", help="replace existing --pairs/--json files"
    )
    command.add_argument(
        "--data-path", type=Path, metavar="FOLDER", help="for a model of an imagefolder"
    )
    command.set_defaults(run=_evaluate)


def _add_export(commands) -> None:
    """The `export` sub-command: a small weights-only copy of a checkpoint."""
    command = commands.add_parser(
        "export",
        help="write a small copy of a checkpoint to share (weights only, fp16)",
        description="Write G's and D's weights in half precision with the configs, "
        "the dataset record, the loss history and the run's commands; no optimiser "
        "state, so the copy is for sampling, evaluating and fine-tuning.",
    )
    command.add_argument("checkpoint", type=Path, metavar="CHECKPOINT")
    command.add_argument("out", type=Path, metavar="OUT", help="e.g. small.pt")
    command.add_argument(
        "--overwrite", action="store_true", help="replace an existing OUT file"
    )
    command.set_defaults(run=_export)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per task."""
    parser = Parser(
        prog="python -m gancourse",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    datasets = commands.add_parser("datasets", help="list datasets and their status")
    datasets.add_argument("--root", type=Path, default=None, help="the data folder")
    datasets.set_defaults(run=_datasets)
    student = commands.add_parser("student", help="write student copies")
    student.add_argument(
        "--notebooks", type=Path, default=config.REPO_DIR / "notebooks"
    )
    student.add_argument("--out", type=Path, default=Path("build/student"))
    student.set_defaults(run=_student)
    _add_train(commands)
    _add_sample(commands)
    _add_classifier(commands)
    _add_evaluate(commands)
    _add_export(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (2 for bad input)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
        args.argv = argv
        return args.run(args) or 0
    except SystemExit as stop:  # --help
        return stop.code if isinstance(stop.code, int) else 0
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
