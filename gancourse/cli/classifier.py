"""`python -m gancourse classifier`: train the judge of a dataset's samples.

It trains on the real training split and reports accuracy on the test split.
Bad input raises one UsageError (printed as `error: ...`, exit 2) before
anything is trained or written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gancourse.cli.options import (
    add_dataset_option,
    check_at_least_one,
    check_data_path,
    check_device,
    check_new_file,
    check_seed,
    check_writable,
    folder_here,
    parse_classes,
    writing,
)
from gancourse.data import class_names, dataset_info, load_dataset
from gancourse.errors import UsageError
from gancourse.metrics.classifier import (
    classifier_accuracy,
    default_epochs,
    save_classifier,
    train_classifier,
)
from gancourse.models.config import IMAGE_SIZES

SMALLEST_IMAGE = 8  # the classifier halves the size twice
LARGEST_IMAGE = max(IMAGE_SIZES)  # evaluate judges GAN images, at most this size


def add_arguments(command: argparse.ArgumentParser) -> None:
    """The `classifier` sub-command: the judge of a dataset's generated images."""
    command.description = (
        "Train a small CNN on the training split of a labelled image dataset, "
        "print its accuracy on the test split and save it for `evaluate`."
    )
    add_dataset_option(command, "a labelled image dataset")
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
        "--data-path",
        type=folder_here,
        metavar="FOLDER",
        help="for --dataset imagefolder",
    )


def run(args: argparse.Namespace) -> int:
    """Train a classifier on a dataset's training split, report its test accuracy."""
    args.written = []  # for Ctrl-C's message
    _check_classifier_args(args)
    device = check_device(args.device)
    options = {
        "image_size": args.image_size,
        "classes": args.classes,
        "path": args.data_path,
    }
    train = load_dataset(args.dataset, split="train", **options)
    if train.num_classes < 2:
        raise UsageError(
            f"{args.dataset!r} has {train.num_classes} class ({train.classes[0]}): a "
            "classifier needs a labelled dataset with at least 2 classes."
        )
    test = load_dataset(args.dataset, split="test", **options)
    if len(test) == 0:
        raise UsageError(
            f"{args.dataset!r} has no test images to measure the classifier on: "
            "give it more images per class (its last 20% form the test split)."
        )
    epochs = args.epochs or default_epochs(len(train))
    print(
        f"classifier on {train!r} | device {device} | {epochs} epoch(s) | "
        f"seed {args.seed} | writing {args.out}"
    )
    model = train_classifier(
        train, epochs=epochs, seed=args.seed, device=device, progress=not args.quiet
    )
    accuracy = classifier_accuracy(model, test.images, test.labels)
    info = {
        "dataset": args.dataset,
        "classes": list(train.classes),
        "image_shape": list(train.image_shape),
        "epochs": epochs,
        "seed": args.seed,
        "test_accuracy": accuracy,
        "command": ["python", "-m", "gancourse", *args.argv],
    }
    with writing(args.out, "--out"):
        save_classifier(model, args.out, info)
    args.written.append(args.out)
    print(f"test accuracy: {accuracy:.4f} on the {len(test)} images of the test split")
    print(f"wrote {args.out}")
    print(f"next: python -m gancourse evaluate CHECKPOINT --classifier {args.out}")
    return 0


def _check_classifier_args(args: argparse.Namespace) -> None:
    """The checks that need nothing but the arguments and the file system."""
    info = dataset_info(args.dataset)
    if not info.has_test_split:
        raise UsageError(
            f"{args.dataset!r} has one image per class and no test split to measure "
            "the classifier on: use a dataset such as mnist-5k or shapes."
        )
    check_at_least_one("epochs", args.epochs)
    check_seed(args.seed)
    if args.image_size is not None and args.image_size < SMALLEST_IMAGE:
        raise UsageError(
            f"--image-size must be at least {SMALLEST_IMAGE} px, got {args.image_size}."
        )
    if args.image_size is not None and args.image_size > LARGEST_IMAGE:
        raise UsageError(
            f"--image-size must be at most {LARGEST_IMAGE} px, got {args.image_size}: "
            f"the GANs make {', '.join(map(str, IMAGE_SIZES))} px images, the sizes "
            "evaluate can judge."
        )
    check_data_path(info, args.data_path, needed=True)
    if args.classes is not None:
        args.classes = parse_classes(args.classes, args.dataset)
        if len(args.classes) < 2:
            raise UsageError(
                f"--classes names one class ({args.classes[0]}): a classifier "
                "needs at least 2."
            )
    names = args.classes or class_names(args.dataset)
    if names is not None and len(names) < 2:
        raise UsageError(
            f"{args.dataset!r} has one class: a classifier needs a labelled dataset "
            "with at least 2 classes."
        )
    check_writable(args.out, "--out")
    check_new_file(args.out, "--out", ".pt", args.overwrite)
