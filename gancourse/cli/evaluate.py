"""`python -m gancourse evaluate`: judge a checkpoint's generator.

It scores samples with a classifier trained on real images, next to the same
figures for held-out real images. Bad input raises one UsageError (printed as
`error: ...`, exit 2) before anything is computed or written.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gancourse.cli.options import (
    check_device,
    check_finite_images,
    check_finite_weights,
    check_new_file,
    check_seed,
    check_writable,
    folder_here,
    writing,
)
from gancourse.data import canonical_name, class_names, dataset_info, load_dataset
from gancourse.errors import CheckpointError, UsageError
from gancourse.files import write_atomic, write_text_atomic
from gancourse.metrics.classifier import (
    SHIPPED_CLASSIFIERS,
    Classifier,
    load_classifier,
    shipped_path,
)
from gancourse.metrics.evaluate import evaluate_samples, format_report, generate_samples
from gancourse.models import Generator, GeneratorConfig
from gancourse.training import load_checkpoint
from gancourse.training.checkpoint import sampling_weights

DEFAULT_N = 1000  # evaluate's samples, unless the test split is smaller
RECORD = {"name", "classes", "image_shape"}  # what evaluate reads of state["dataset"]


def add_arguments(command: argparse.ArgumentParser) -> None:
    """The `evaluate` sub-command: image metrics of a checkpoint's generator."""
    command.description = (
        "Judge a checkpoint's generator with a classifier trained on real images "
        "(the one shipped for its dataset unless --classifier), next to the same "
        "figures for held-out real images."
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
        "--data-path",
        type=folder_here,
        metavar="FOLDER",
        help="for a model of an imagefolder",
    )


def run(args: argparse.Namespace) -> int:
    """Print the image metrics of a checkpoint's generator (and write --json)."""
    args.written = []  # for Ctrl-C's message
    if args.n is not None and args.n < 2:
        raise UsageError(f"--n must be at least 2 (FID needs 2 images), got {args.n}.")
    check_seed(args.seed)
    check_writable(args.json, "--json")
    check_writable(args.pairs, "--pairs")
    check_new_file(args.json, "--json", ".json", args.overwrite)
    check_new_file(args.pairs, "--pairs", ".png", args.overwrite)
    device = check_device(args.device)
    state = load_checkpoint(args.checkpoint)
    G, data = _generator(state, args.checkpoint)
    check_finite_weights(G, args.checkpoint)
    name, classes = canonical_name(data["name"]), list(data["classes"])
    if name is None:
        raise CheckpointError(
            f"{args.checkpoint} was trained on {data['name']!r}, a dataset this "
            "version does not know: evaluate it with the version that trained it."
        )
    info = dataset_info(name)
    channels, size, _ = data["image_shape"]
    if not info.has_test_split:
        raise UsageError(
            f"{args.checkpoint} was trained on {name!r}, which has no held-out "
            "images to compare its samples with: evaluate a model of mnist-5k, "
            "shapes or another dataset with a test split."
        )
    if info.kind == "folder" and args.data_path is None:
        raise UsageError(
            f"{args.checkpoint} was trained on an image folder: pass --data-path "
            "FOLDER, the folder it was trained on."
        )
    if args.data_path is not None and info.kind != "folder":
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
    subset = classes if classes != class_names(name) else None
    options = {"image_size": size, "classes": subset, "path": args.data_path}
    train = load_dataset(name, split="train", **options)
    test = load_dataset(name, split="test", **options)
    if args.n is not None and args.n > len(test):
        raise UsageError(
            f"--n {args.n} is more than the {len(test)} held-out images of {name!r} "
            f"that FID and KID compare the samples with: pass --n {len(test)} or "
            "less."
        )
    n = args.n or min(DEFAULT_N, len(test))

    samples, labels = generate_samples(G, n, seed=args.seed, device=device)
    check_finite_images(samples, args.checkpoint)
    results = evaluate_samples(samples, labels, judge, train, test, seed=args.seed)
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
        with writing(args.json, "--json"):
            write_text_atomic(args.json, json.dumps(results, indent=2) + "\n")
        args.written.append(args.json)
        print(f"wrote {args.json}")
    if args.pairs is not None:
        _write_pairs(args.pairs, samples, train, test)
        args.written.append(args.pairs)
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
        G.load_state_dict(sampling_weights(state))
    except (KeyError, TypeError, RuntimeError, ValueError) as error:
        raise CheckpointError(
            f"{path} does not hold a generator this version can build "
            f"({type(error).__name__}: {error}); train it again with "
            "`python -m gancourse train`."
        ) from None
    if not _record_fits(data, G):
        raise CheckpointError(
            f"{path}'s record of its training data (name, classes, image shape) "
            "does not fit its generator: evaluate a checkpoint written by "
            "`python -m gancourse train` or `export`."
        )
    return G, data


def _record_fits(data: dict, G: Generator) -> bool:
    """The record names the dataset, its classes and the shape of G's images."""
    config, classes, shape = G.config, data["classes"], data["image_shape"]
    return (
        isinstance(data["name"], str)
        and isinstance(classes, list)
        and all(isinstance(name, str) for name in classes)
        and (config.conditioning == "none" or len(classes) == config.num_classes)
        and isinstance(shape, list)
        and shape == [config.channels, config.image_size, config.image_size]
    )


def _classifier_command(name: str, classes: list[str], size: int, folder) -> str:
    """The `classifier` command that makes a judge for a checkpoint's data."""
    words = ["python -m gancourse classifier --dataset", name]
    if folder is not None:
        words += ["--data-path", str(folder)]
    if classes != class_names(name):
        words += ["--classes", ",".join(classes)]
    if dataset_info(name).image_size != size:
        words += ["--image-size", str(size)]
    return " ".join([*words, "--out clf.pt"])


def _judge(path: Path | None, name: str, fix: str, device) -> Classifier:
    """--classifier PATH, or the classifier shipped for the dataset."""
    if path is None:
        if name not in SHIPPED_CLASSIFIERS:
            raise UsageError(
                f"no classifier is shipped for {name!r}: train one with `{fix}` and "
                "pass --classifier clf.pt."
            )
        return load_classifier(name, device=device)
    if not path.is_file():
        problem = "is a folder" if path.is_dir() else "does not exist"
        raise UsageError(
            f"--classifier {path} {problem}: give a .pt file written by "
            f"`python -m gancourse classifier`, e.g. `{fix}`."
        )
    return load_classifier(path, device=device)


def _write_pairs(path: Path, samples, train, test) -> None:
    """--pairs: the samples nearest a training image, above that image."""
    import matplotlib

    matplotlib.use("Agg")  # a file, not a window
    import matplotlib.pyplot as plt

    from gancourse.metrics.memorisation import memorisation
    from gancourse.plotting import show_closest_pairs

    report = memorisation(samples, train.images, test.images)
    figure = show_closest_pairs(report, samples, train.images, k=min(8, len(samples)))

    def save(file) -> None:
        figure.savefig(file, format="png", dpi=100, bbox_inches="tight")

    try:
        with writing(path, "--pairs"):
            write_atomic(path, save)
    finally:
        plt.close(figure)
