"""Every image metric of a generator at once, next to the same figures for real data.

Held-out real images are the yardstick: a perfect generator would score what
they score. FID and KID compare n samples and n held-out images with the same n
training images, since both are biased by the number of images.
"""

from __future__ import annotations

import torch

from gancourse.errors import UsageError
from gancourse.metrics.classifier import Classifier, predict_probs
from gancourse.metrics.memorisation import memorisation
from gancourse.metrics.scores import (
    check_images,
    check_labels,
    fid_against,
    fid_metric,
    histogram_summary,
    inception_score,
    kid_against,
    kid_metric,
)

KID_SUBSET_SIZE, KID_SUBSETS = 100, 50
CLOSEST = 5  # closest sample-training pairs listed in the results


def generate_samples(
    G, n: int, *, seed: int = 0, device=None, batch_size: int = 500
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """n images of G on the CPU and, for a conditional G, their labels i % K.

    G runs on `device` (moved there if given) in eval mode, then is put back.
    """
    _check_count("n", n)
    device = torch.device(device) if device is not None else _device_of(G)
    G = G.to(device)
    labels = None
    if G.config.conditioning != "none":
        labels = torch.arange(n) % G.config.num_classes  # (n,) 0, 1, ..., K-1, 0, ...
    generator = torch.Generator(device).manual_seed(seed)
    was_training = G.training
    G.eval()
    with torch.no_grad():
        z = G.sample_noise(n, device, generator)  # (n, z_dim)
        y = labels.to(device) if labels is not None else None
        images = [
            G(z[i : i + batch_size], None if y is None else y[i : i + batch_size])
            .float()
            .cpu()
            for i in range(0, n, batch_size)
        ]  # each (<= batch_size, C, H, W)
    G.train(was_training)
    return torch.cat(images), labels


def _device_of(module: torch.nn.Module) -> torch.device:
    return next(module.parameters()).device


def _check_count(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 2:
        raise UsageError(f"{name} must be a whole number >= 2, got {value!r}.")


def class_index_map(classifier: Classifier, classes: list[str]) -> torch.Tensor:
    """The classifier's index of each dataset class, (K_data,); one error if absent."""
    missing = [name for name in classes if name not in classifier.classes]
    if missing:
        raise UsageError(
            f"the classifier knows the classes {classifier.classes}, not "
            f"{missing}: use a classifier trained on this dataset (`python -m "
            "gancourse classifier`)."
        )
    return torch.tensor([classifier.classes.index(name) for name in classes])


def _check_data(classifier, train, held_out, n: int) -> torch.Tensor:
    """Check the two datasets fit each other, the classifier and n; return the map."""
    if list(held_out.classes) != list(train.classes):
        raise UsageError(
            f"train has the classes {train.classes} but held_out has "
            f"{held_out.classes}: load both with the same classes=."
        )
    for name, data in (("train", train), ("held_out", held_out)):
        check_images(data.images[:1], f"{name}.images", classifier)
        if len(data) < n:
            raise UsageError(
                f"n is {n} but {name} has only {len(data)} images: FID and KID "
                f"compare n images of each set, so pass n={len(data)} or less."
            )
    return class_index_map(classifier, list(train.classes))


def evaluate_generator(
    G,
    classifier: Classifier,
    train,
    held_out,
    *,
    n: int = 1000,
    seed: int = 0,
    device=None,
) -> dict:
    """Judge n samples of G with the classifier; returns plain numbers (JSON-ready).

    `train` and `held_out` are the ImageDatasets G was trained on and a split it
    never saw; a conditional G draws labels cycling over the classes.
    """
    _check_count("n", n)
    label_map = _check_data(classifier, train, held_out, n)
    if G.config.conditioning != "none" and G.config.num_classes != len(train.classes):
        raise UsageError(
            f"G makes {G.config.num_classes} classes but the data has "
            f"{len(train.classes)}: evaluate it on the dataset it was trained on."
        )
    wanted = (G.config.channels, G.config.image_size, G.config.image_size)
    if tuple(train.image_shape) != wanted:
        raise UsageError(
            f"G makes {'x'.join(map(str, wanted))} images but the data's are "
            f"{'x'.join(map(str, train.image_shape))}: load the data at G's size."
        )
    samples, labels = generate_samples(G, n, seed=seed, device=device)
    return evaluate_samples(
        samples, labels, classifier, train, held_out, seed=seed, label_map=label_map
    )


def evaluate_samples(
    samples: torch.Tensor,
    labels: torch.Tensor | None,
    classifier: Classifier,
    train,
    held_out,
    *,
    seed: int = 0,
    label_map: torch.Tensor | None = None,
) -> dict:
    """evaluate_generator's figures for given samples (and the labels asked for)."""
    samples = check_images(samples, "samples", classifier)
    n = len(samples)
    if label_map is None:
        label_map = _check_data(classifier, train, held_out, n)
    if labels is not None:
        labels = check_labels(labels, n, len(train.classes))
    picker = torch.Generator().manual_seed(seed)
    reference = train.images[torch.randperm(len(train), generator=picker)[:n]]
    held = held_out.images[torch.randperm(len(held_out), generator=picker)[:n]]

    probs = predict_probs(classifier, samples)  # (n, K)
    held_probs = predict_probs(classifier, held)  # (n, K)
    predicted = probs.argmax(dim=1)  # (n,)
    counts = torch.bincount(predicted, minlength=classifier.num_classes)
    held_counts = torch.bincount(
        held_probs.argmax(dim=1), minlength=classifier.num_classes
    )
    results = {
        "n": n,
        "seed": seed,
        "classes": list(train.classes),
        "conditional": labels is not None,
        "conditional_accuracy": None,
        "per_class_accuracy": None,
        "histogram": {
            name: int(c) for name, c in zip(classifier.classes, counts, strict=True)
        },
        "histogram_summary": histogram_summary(counts),
        "held_out_histogram_summary": histogram_summary(held_counts),
    }
    if labels is not None:
        asked = label_map[labels]  # (n,) the classifier's index of each label
        hits = (predicted == asked).float()  # (n,)
        results["conditional_accuracy"] = hits.mean().item()
        results["per_class_accuracy"] = {
            name: hits[labels == k].mean().item()
            for k, name in enumerate(train.classes)
            if (labels == k).any()
        }

    subset_size = min(KID_SUBSET_SIZE, max(2, n // 2))  # subsets must differ
    fid = fid_metric(classifier, reference)
    kid = kid_metric(classifier, reference, subset_size, KID_SUBSETS)
    results["inception_score"] = {
        "samples": inception_score(probs),
        "held_out": inception_score(held_probs),
    }
    results["fid"] = {
        "samples": fid_against(fid, samples),
        "held_out": fid_against(fid, held),
    }
    results["kid"] = {
        "samples": list(kid_against(kid, samples, seed)),
        "held_out": list(kid_against(kid, held, seed)),
        "subset_size": subset_size,
        "subsets": KID_SUBSETS,
    }
    report = memorisation(samples, train.images, held_out.images)
    order, nearest, distances = report.closest_pairs(min(CLOSEST, n))
    results["memorisation"] = {
        "quantile": report.quantile,
        "threshold": report.threshold,
        "fraction": report.fraction,
        "held_out_fraction": report.held_out_fraction,
        "closest": [
            {"sample": int(i), "train": int(j), "distance": float(d)}
            for i, j, d in zip(order, nearest, distances, strict=True)
        ],
    }
    return results


def _pair(results: dict, key: str, fmt) -> tuple[str, str]:
    """One figure for the samples and for the held-out images, formatted."""
    return fmt(results[key]["samples"]), fmt(results[key]["held_out"])


def format_report(results: dict) -> str:
    """A text table of evaluate_generator's results, with a bar chart of the classes."""
    lines = []
    if "checkpoint" in results:
        lines.append(
            f"{results['checkpoint']}: {results.get('kind')} at step "
            f"{results.get('step')}, trained on {results.get('dataset')}"
        )
    if "classifier" in results:
        lines.append(f"judged by the classifier {results['classifier']}")
    n, k = results["n"], len(results["histogram"])
    lines += [
        f"{n} samples (seed {results['seed']}) and {n} held-out real images, "
        f"each compared with {n} training images",
        "",
    ]
    kid, memo = results["kid"], results["memorisation"]
    samples, held = results["histogram_summary"], results["held_out_histogram_summary"]
    shares = {key: {"samples": samples[key], "held_out": held[key]} for key in samples}
    table = [
        ("", "samples", "held-out real"),
        (f"inception score (1 to {k})",)
        + _pair(results, "inception_score", "{:.3f}".format),
        ("FID vs train (0: alike)",) + _pair(results, "fid", "{:.3f}".format),
        (f"KID vs train ({kid['subsets']} x {kid['subset_size']})",)
        + _pair(results, "kid", lambda pair: "{:.4f} +- {:.4f}".format(*pair)),
        (
            f"nearer a train image than {memo['threshold']:.2f}",
            f"{memo['fraction']:.1%}",
            f"{memo['held_out_fraction']:.1%}",
        ),
        ("classes seen",) + _pair(shares, "classes_seen", f"{{}} of {k}".format),
        ("largest class share",) + _pair(shares, "largest_share", "{:.1%}".format),
        ("class entropy (1: even)",) + _pair(shares, "entropy", "{:.3f}".format),
    ]
    first = max(len(row[0]) for row in table)
    lines += [f"{a:<{first}}  {b:>17}  {c:>17}" for a, b, c in table]
    if results["conditional_accuracy"] is not None:
        per_class = results["per_class_accuracy"].items()
        lines += [
            "",
            "conditional accuracy (the classifier sees the class asked for): "
            f"{results['conditional_accuracy']:.4f}",
            "per class: " + ", ".join(f"{name} {acc:.2f}" for name, acc in per_class),
        ]
    lines += ["", "classes the classifier sees in the samples:"]
    width = max(len(name) for name in results["histogram"])
    for name, count in results["histogram"].items():
        share = count / n
        bar = "#" * round(30 * share)
        lines.append(f"  {name:>{width}} | {bar:<30} {count:>5} ({share:.1%})")
    closest = ", ".join(
        f"sample {pair['sample']} ~ train {pair['train']} ({pair['distance']:.2f})"
        for pair in memo["closest"][:3]
    )
    lines += ["", f"nearest sample-training pairs (pixel L2): {closest}"]
    return "\n".join(lines)
