"""`python -m gancourse classifier` and `evaluate`: every check first, then the work.

`classifier` trains the judge of a dataset's samples on its real training split;
`evaluate` judges a checkpoint's generator with it. Bad input raises one
UsageError (printed as `error: ...`, exit 2) before anything is trained or written.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from gancourse.cli import NATIVE_SIZES, UsageError, _check_device, _parse_classes
from gancourse.data import KNOWN_DATASETS, DatasetUnavailableError, load_dataset
from gancourse.data.loading import TOY_SETS, _class_names
from gancourse.metrics.classifier import (
    Classifier,
    classifier_accuracy,
    default_epochs,
    load_classifier,
    save_classifier,
    shipped_path,
    train_classifier,
)
from gancourse.metrics.evaluate import evaluate_generator, format_report
from gancourse.models import Generator, GeneratorConfig
from gancourse.training import CheckpointError, load_checkpoint

NO_TEST_SPLIT = ("true_image", "digits10")  # one image per class
SMALLEST_IMAGE = 8  # the classifier halves the size twice
DEFAULT_N = 1000  # evaluate's samples, unless the test split is smaller
RECORD = {"name", "classes", "image_shape"}  # what evaluate reads of state["dataset"]


# ---- classifier ---------------------------------------------------------------


def classifier(args: argparse.Namespace) -> int:
    """Train a classifier on a dataset's training split, report its test accuracy."""
    _check_classifier_args(args)
    device = _check_device(args.device)
    options = {
        "image_size": args.image_size,
        "classes": args.classes,
        "path": args.data_path,
    }
    train = _load(args.dataset, "train", **options)
    if train.num_classes < 2:
        raise UsageError(
            f"{args.dataset!r} has {train.num_classes} class ({train.classes[0]}): a "
            "classifier needs a labelled dataset with at least 2 classes."
        )
    test = _load(args.dataset, "test", **options)
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
    save_classifier(model, args.out, info)
    print(f"test accuracy: {accuracy:.4f} on the {len(test)} images of the test split")
    print(f"wrote {args.out}")
    print(f"next: python -m gancourse evaluate CHECKPOINT --classifier {args.out}")
    return 0


def _check_classifier_args(args: argparse.Namespace) -> None:
    """The checks that need nothing but the arguments and the file system."""
    _check_dataset_name(args.dataset)
    if args.dataset in NO_TEST_SPLIT:
        raise UsageError(
            f"{args.dataset!r} has one image per class and no test split to measure "
            "the classifier on: use a dataset such as mnist-5k or shapes."
        )
    if args.epochs is not None and args.epochs < 1:
        raise UsageError(f"--epochs must be at least 1, got {args.epochs}.")
    if args.seed < 0:
        raise UsageError(f"--seed must be 0 or more, got {args.seed}.")
    if args.image_size is not None and args.image_size < SMALLEST_IMAGE:
        raise UsageError(
            f"--image-size must be at least {SMALLEST_IMAGE} px, got {args.image_size}."
        )
    if args.data_path is not None and args.dataset != "imagefolder":
        raise UsageError(
            "--data-path is only for --dataset imagefolder; leave it out for "
            f"{args.dataset!r}."
        )
    if args.dataset == "imagefolder" and args.data_path is None:
        raise UsageError(
            "--dataset imagefolder needs --data-path FOLDER: the folder holding "
            "one subfolder of images per class."
        )
    if args.classes is not None:
        args.classes = _parse_classes(args.classes, args.dataset)
        if len(args.classes) < 2:
            raise UsageError(
                f"--classes names one class ({args.classes[0]}): a classifier "
                "needs at least 2."
            )
    names = args.classes or _class_names(args.dataset)
    if names is not None and len(names) < 2:
        raise UsageError(
            f"{args.dataset!r} has one class: a classifier needs a labelled dataset "
            "with at least 2 classes."
        )
    _check_new_file(args.out, "--out", ".pt", args.overwrite)


def _check_dataset_name(name: str) -> None:
    if name not in KNOWN_DATASETS:
        raise UsageError(
            f"unknown dataset {name!r}. Known datasets: "
            f"{', '.join(n for n in KNOWN_DATASETS if n not in TOY_SETS)} "
            "(`python -m gancourse datasets` lists them)."
        )
    if name in TOY_SETS:
        raise UsageError(
            f"{name!r} is a 2D toy dataset of points, not labelled images: use an "
            "image dataset such as mnist-5k or shapes."
        )


def _check_new_file(path: Path | None, flag: str, suffix: str, overwrite: bool):
    """An output file: the right suffix, not a folder, not overwritten unasked."""
    if path is None:
        return
    if path.suffix.lower() != suffix:
        raise UsageError(f"{flag} {path}: give a file name ending in {suffix}.")
    if path.is_dir():
        raise UsageError(f"{flag} {path} is a folder; give a file name.")
    if path.exists() and not overwrite:
        raise UsageError(
            f"{flag} {path} already exists: pass --overwrite to replace it, or "
            "choose another file name."
        )


def _load(name: str, split: str, **options):
    """load_dataset; a dataset that is not here is bad input, not a crash."""
    try:
        return load_dataset(name, split=split, **options)
    except DatasetUnavailableError as error:  # its lines, as one error line
        raise UsageError(" ".join(str(error).split())) from None


# ---- evaluate -----------------------------------------------------------------


def evaluate(args: argparse.Namespace) -> int:
    """Print the image metrics of a checkpoint's generator (and write --json)."""
    if args.n is not None and args.n < 2:
        raise UsageError(f"--n must be at least 2 (FID needs 2 images), got {args.n}.")
    if args.seed < 0:
        raise UsageError(f"--seed must be 0 or more, got {args.seed}.")
    _check_new_file(args.json, "--json", ".json", args.overwrite)
    _check_new_file(args.pairs, "--pairs", ".png", args.overwrite)
    device = _check_device(args.device)
    state = load_checkpoint(args.checkpoint)
    G, data = _generator(state, args.checkpoint)
    name, classes = data["name"], list(data["classes"])
    channels, size, _ = data["image_shape"]
    if name in NO_TEST_SPLIT:
        raise UsageError(
            f"{args.checkpoint} was trained on {name!r}, which has no held-out "
            "images to compare its samples with: evaluate a model of mnist-5k, "
            "shapes or another dataset with a test split."
        )
    if name == "imagefolder" and args.data_path is None:
        raise UsageError(
            f"{args.checkpoint} was trained on an image folder: pass --data-path "
            "FOLDER, the folder it was trained on."
        )
    if args.data_path is not None and name != "imagefolder":
        raise UsageError(
            f"--data-path is only for models of an image folder; {args.checkpoint} "
            f"was trained on {name!r}: leave it out."
        )
    fix = _classifier_command(name, classes, size, args.data_path)
    judge = _judge(args.classifier, name, fix, device)
    if (judge.channels, judge.image_size) != (channels, size):
        raise UsageError(
            f"the classifier reads {judge.channels}x{judge.image_size}x"
            f"{judge.image_size} images but {args.checkpoint} makes "
            f"{channels}x{size}x{size}: train a fitting one with `{fix}` and pass "
            "--classifier clf.pt."
        )
    missing = [c for c in classes if c not in judge.classes]
    if missing:
        raise UsageError(
            f"the classifier does not know the classes {', '.join(missing)} of "
            f"{args.checkpoint}: train a fitting one with `{fix}` and pass "
            "--classifier clf.pt."
        )
    subset = classes if classes != _class_names(name) else None
    options = {"image_size": size, "classes": subset, "path": args.data_path}
    train = _load(name, "train", **options)
    test = _load(name, "test", **options)
    if args.n is not None and args.n > len(test):
        raise UsageError(
            f"--n {args.n} is more than the {len(test)} held-out images of {name!r} "
            f"that FID and KID compare the samples with: pass --n {len(test)} or "
            "less."
        )
    n = args.n or min(DEFAULT_N, len(test))

    results = evaluate_generator(
        G, judge, train, test, n=n, seed=args.seed, device=device
    )
    results = {
        "checkpoint": str(args.checkpoint),
        "kind": state["kind"],
        "step": state.get("step"),
        "dataset": name,
        "classifier": str(args.classifier or shipped_path(name)),
        **results,
    }
    print(format_report(results))
    if data.get("size") not in (None, len(train)):
        print(
            f"note: the model was trained on {data['size']} images, not the "
            f"{len(train)} of the train split, so the held-out images may not be new "
            "to it: read the memorisation figures with care."
        )
    if args.json is not None:
        _write_text(args.json, json.dumps(results, indent=2) + "\n")
        print(f"wrote {args.json}")
    if args.pairs is not None:
        _write_pairs(args, G, n, train, test, device)
        print(f"wrote {args.pairs}")
    return 0


def _generator(state: dict, path: Path) -> tuple[Generator, dict]:
    """G from a full or slim checkpoint, with the record of its training data."""
    data = state.get("dataset")
    if not isinstance(data, dict) or not RECORD <= data.keys() or "kind" not in state:
        raise CheckpointError(
            f"{path} has no record of its kind and training data: evaluate a "
            "checkpoint written by `python -m gancourse train` or `export`."
        )
    try:
        G = Generator(GeneratorConfig.from_dict(state["generator_config"]))
        G.load_state_dict(state["generator"])
    except (KeyError, TypeError, RuntimeError, ValueError) as error:
        raise CheckpointError(
            f"{path} does not hold a generator this version can build "
            f"({type(error).__name__}: {error}); train it again with "
            "`python -m gancourse train`."
        ) from None
    return G, data


def _classifier_command(name: str, classes: list[str], size: int, folder) -> str:
    """The `classifier` command that makes a judge for a checkpoint's data."""
    words = ["python -m gancourse classifier --dataset", name]
    if folder is not None:
        words += ["--data-path", str(folder)]
    if classes != _class_names(name):
        words += ["--classes", ",".join(classes)]
    if NATIVE_SIZES.get(name) != size:
        words += ["--image-size", str(size)]
    return " ".join([*words, "--out clf.pt"])


def _judge(path: Path | None, name: str, fix: str, device) -> Classifier:
    """--classifier PATH, or the classifier shipped for the dataset."""
    if path is None:
        if not shipped_path(name).exists():
            raise UsageError(
                f"no classifier is shipped for {name!r}: train one with `{fix}` and "
                "pass --classifier clf.pt."
            )
        return load_classifier(name, device=device)
    if not path.is_file():
        raise UsageError(
            f"--classifier {path} does not exist: give a .pt file written by "
            f"`python -m gancourse classifier`, e.g. `{fix}`."
        )
    return load_classifier(path, device=device)


def _write_text(path: Path, text: str) -> None:
    """Write via a temporary file, so a failed run leaves no half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def _write_pairs(args, G, n: int, train, test, device) -> None:
    """--pairs: the samples nearest a training image, above that image."""
    import matplotlib

    matplotlib.use("Agg")  # a file, not a window
    import matplotlib.pyplot as plt

    from gancourse.metrics.evaluate import generate_samples
    from gancourse.metrics.memorisation import memorisation
    from gancourse.plotting import show_closest_pairs

    samples, _ = generate_samples(G, n, seed=args.seed, device=device)
    report = memorisation(samples, train.images, test.images)
    figure = show_closest_pairs(report, samples, train.images, k=min(8, n))
    args.pairs.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.pairs, dpi=100, bbox_inches="tight")
    plt.close(figure)
