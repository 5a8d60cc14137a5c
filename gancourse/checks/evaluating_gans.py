"""Checks for notebook 09's exercises: the Inception Score, FID, nearest distances."""

from __future__ import annotations

import math

import torch

from gancourse.checks.coerce import as_float, as_tensor
from gancourse.checks.compare import Mistake, close, first_mistake
from gancourse.checks.core import ExerciseError, call_student
from gancourse.checks.inputs import random_normal, random_uniform
from gancourse.checks.probes import call_on, check_device_safe, on_meta
from gancourse.metrics.memorisation import nearest_distances as reference_nearest
from gancourse.metrics.scores import inception_score as reference_inception_score

TOLERANCE = {"rtol": 1e-4, "atol": 1e-5}
FID_TOLERANCE = {"rtol": 1e-3, "atol": 1e-4}  # an eigendecomposition in float32


def _uniform(*shape: int, seed: int) -> torch.Tensor:
    """Reproducible values in [-1, 1), like images."""
    return random_uniform(*shape, seed=seed) * 2 - 1


# ---- exercise 1: the Inception Score ----------------------------------------------


def _kl_rows(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """KL(p_i || q_i) for each row, (N,), with 0 log 0 = 0."""
    return (torch.xlogy(p, p) - torch.xlogy(p, q)).sum(dim=1)


def _inception_mistakes(probs: torch.Tensor) -> list[Mistake]:
    """The usual wrong versions of the Inception Score, each with what to say."""
    p = probs.double()  # (N, K)
    marginal = p.mean(dim=0, keepdim=True)  # (1, K)
    kl = _kl_rows(p, marginal)  # (N,)
    geometric = p.log().mean(dim=0, keepdim=True).exp()  # exp(mean log p), (1, K)
    across_classes = p.mean(dim=1, keepdim=True)  # (N, 1): 1/K for every image
    return [
        Mistake(
            "you returned the mean KL divergence, which is log IS: the Inception "
            "Score is exp of it, exp(mean_i KL(p(y|x_i) || p(y))).",
            kl.mean().item(),
        ),
        Mistake(
            "the KL divergence is the wrong way round: IS uses KL(p(y|x) || p(y)) = "
            "sum_y p(y|x) log(p(y|x) / p(y)), weighted by each image's own "
            "p(y|x), not by the marginal p(y).",
            math.exp(_kl_rows(marginal.expand_as(p), p).mean().item()),
        ),
        Mistake(
            "your p(y) is each image's average over its classes (1/K everywhere): "
            "the marginal p(y) averages the rows over the IMAGES, "
            "probs.mean(dim=0), one probability per class.",
            math.exp(_kl_rows(p, across_classes).mean().item()),
        ),
        Mistake(
            "your score is exactly 1 here: the marginal p(y) is computed per image, "
            "so it equals p(y|x) and every KL is 0. p(y) is ONE distribution, the "
            "mean of all the rows, probs.mean(dim=0).",
            1.0,
        ),
        Mistake(
            "you averaged exp(KL) over the images: the Inception Score is the exp "
            "of the MEAN KL, exp(kl.mean()), not the mean of exp(kl).",
            kl.exp().mean().item(),
        ),
        Mistake(
            "your log p(y) is the mean of the logs, mean_i log p(y|x_i): p(y) is the "
            "mean of the probabilities, so log p(y) = log(mean_i p(y|x_i)), the log "
            "of the mean.",
            math.exp(_kl_rows(p, geometric).mean().item()),
        ),
        Mistake(
            "the KL divergence was averaged over the classes: sum over the classes "
            "y, then average over the images.",
            math.exp((kl / p.shape[1]).mean().item()),
        ),
        Mistake(
            "you summed the KL over the images: average it, exp(kl.mean()), or the "
            "score grows with the number of images.",
            math.exp(kl.sum().item()),
        ),
    ]


def _probs_cases() -> list[tuple[str, torch.Tensor]]:
    """Softmax rows to score: random, confident and spread, all alike."""
    soft = torch.softmax(
        1.5 * random_normal(12, 5, seed=11), dim=1
    )  # (12, 5), no zeros
    one_hot = torch.eye(5).repeat(2, 1)  # (10, 5): each class twice, certain
    alike = soft[:1].repeat(8, 1)  # (8, 5): every image gets the same distribution
    unseen = soft.clone()  # (12, 5): class 4 is never predicted, p(y = 4) = 0
    unseen[:, 4] = 0
    unseen /= unseen.sum(dim=1, keepdim=True)
    return [
        ("random softmax rows", soft),
        ("confident one-hot rows, two per class", one_hot),
        ("eight identical rows", alike),
        ("rows that never predict class 4", unseen),
        ("one-hot rows that never predict class 4", torch.eye(5)[[0, 1, 2, 3, 0, 2]]),
    ]


def check_inception_score(inception_score) -> None:
    """Check exp(mean_i KL(p(y|x_i) || p(y))) against gancourse's inception_score."""
    for name, probs in _probs_cases():
        out = call_student(inception_score, probs.clone())
        value = as_float(out, "the score", finite=False)
        expected = reference_inception_score(probs)
        if math.isnan(value) and "never predict" in name:
            raise ExerciseError(
                f"your score is NaN for {name}: a class that no image predicts has "
                "p(y) = 0 as well as p(y|x) = 0, so p(y|x) / p(y) = 0 / 0 = NaN and "
                "log p(y) = -inf, and 0 times either is NaN, where these terms count "
                "as 0 (the score is finite). Write the KL as torch.xlogy(p, p) - "
                "torch.xlogy(p, p_y), not xlogy(p, p / p_y), or clamp both p and "
                "p_y to at least 1e-12."
            )
        if math.isnan(value):
            raise ExerciseError(
                f"your score is NaN for {name}: a probability of exactly 0 gives "
                "0 * log(0) = 0 * -inf = NaN. Its term should count as 0: use "
                "torch.xlogy(p, p) - torch.xlogy(p, q), or clamp p to at least 1e-12 "
                "before the log."
            )
        if close(value, expected, **TOLERANCE):
            continue
        mistakes = _inception_mistakes(probs)
        raise ExerciseError(
            first_mistake(value, mistakes, expected=expected, **TOLERANCE)
            or f"for {name} the Inception Score is {expected:.4f}; yours is "
            f"{value:.4f}. Compute p(y) = probs.mean(dim=0), each image's "
            "KL(p(y|x) || p(y)) summed over the classes, then exp of their mean."
        )
    probs = _probs_cases()[0][1]
    check_device_safe(inception_score, [on_meta(probs)], "inception_score")
    print(
        "Correct: IS = exp(mean KL(p(y|x) || p(y))); 1 for identical rows, K for "
        "confident and evenly spread ones, finite when a class is never predicted."
    )


# ---- exercise 2: the Frechet distance --------------------------------------------


def _moments(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The mean (D,) and the unbiased covariance (D, D) of features (N, D)."""
    features = features.double()
    return features.mean(dim=0), torch.cov(features.T)


def _trace_sqrt_product(a: torch.Tensor, b: torch.Tensor) -> float:
    """Tr((A B)^(1/2)) as the sum of the square roots of A B's eigenvalues."""
    return torch.linalg.eigvals(a @ b).sqrt().real.sum().item()


def reference_fid(features_a: torch.Tensor, features_b: torch.Tensor) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)), in float64."""
    mu_a, s_a = _moments(features_a)
    mu_b, s_b = _moments(features_b)
    return _frechet((mu_a - mu_b).square().sum().item(), s_a, s_b)


def _frechet(mean_part: float, s_a: torch.Tensor, s_b: torch.Tensor) -> float:
    """The mean part, given, plus Tr(S_a + S_b - 2 (S_a S_b)^(1/2))."""
    traces = (s_a.trace() + s_b.trace()).item()
    return mean_part + traces - 2 * _trace_sqrt_product(s_a, s_b)


def _fid_mistakes(fa: torch.Tensor, fb: torch.Tensor) -> list[Mistake]:
    """The usual wrong versions of FID, each with what to say about it."""
    fa, fb = fa.double(), fb.double()
    mu_a, s_a = _moments(fa)
    mu_b, s_b = _moments(fb)
    mean_part = (mu_a - mu_b).square().sum().item()
    traces = (s_a.trace() + s_b.trace()).item()
    cross = _trace_sqrt_product(s_a, s_b)
    right = mean_part + traces - 2 * cross
    biased_a, biased_b = torch.cov(fa.T, correction=0), torch.cov(fb.T, correction=0)
    rows_a, rows_b = torch.cov(fa), torch.cov(fb)  # variables in rows: (N, N)
    sd_a, sd_b = s_a.diagonal().sqrt(), s_b.diagonal().sqrt()
    per_image = (fa.mean(dim=1) - fb.mean(dim=1)).square().sum().item()
    return [
        Mistake(
            "the mean term is not squared: FID adds ||mu_a - mu_b||^2, the SQUARED "
            "distance between the means, (mu_a - mu_b).square().sum().",
            math.sqrt(mean_part) + traces - 2 * cross,
        ),
        Mistake(
            "the square root is missing: the cross term is "
            "2 Tr((S_a S_b)^(1/2)), a matrix square root, not 2 Tr(S_a S_b).",
            mean_part + traces - 2 * (s_a @ s_b).trace().item(),
        ),
        Mistake(
            "you took the square root of each ENTRY of S_a @ S_b (.sqrt() works "
            "elementwise): the matrix square root is another thing. "
            "Tr((S_a S_b)^(1/2)) is the sum of the square roots of the EIGENVALUES "
            "of S_a @ S_b: torch.linalg.eigvals(S_a @ S_b).sqrt().real.sum().",
            mean_part + traces - 2 * (s_a @ s_b).diagonal().sqrt().sum().item(),
        ),
        Mistake(
            "you took the square root of the trace, sqrt(Tr(S_a S_b)): the cross "
            "term is the trace of the matrix square root, Tr((S_a S_b)^(1/2)) = "
            "sum of the square roots of S_a S_b's eigenvalues.",
            mean_part + traces - 2 * math.sqrt((s_a @ s_b).trace().item()),
        ),
        Mistake(
            "the factor 2 in front of Tr((S_a S_b)^(1/2)) is missing.",
            mean_part + traces - cross,
        ),
        Mistake(
            "your covariances divide by N: FID (and torchmetrics) uses the unbiased "
            "covariance, which divides by N - 1, as torch.cov(features.T) does.",
            _frechet(mean_part, biased_a, biased_b),
        ),
        Mistake(
            "your covariance matrices are N x N, one row per IMAGE: torch.cov treats "
            "each row as a variable, so give it the features as rows, "
            "torch.cov(features.T), a D x D matrix.",
            _frechet(mean_part, rows_a, rows_b),
        ),
        Mistake(
            "you used only each feature's variance (the diagonal): FID compares the "
            "full covariance matrices, S = torch.cov(features.T), because the "
            "features are correlated.",
            mean_part + (sd_a - sd_b).square().sum().item(),
        ),
        Mistake(
            "you returned the square root: FID is the SQUARED Frechet distance d^2, "
            "||mu_a - mu_b||^2 + Tr(...), with no square root over the whole.",
            math.sqrt(max(right, 0.0)),
        ),
        Mistake(
            "the mean term ||mu_a - mu_b||^2 is missing: two sets with the same "
            "spread but different averages must differ.",
            traces - 2 * cross,
        ),
        Mistake(
            "the covariance part Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) is missing: with "
            "the means alone, a generator that always returns the average image "
            "would score 0.",
            mean_part,
        ),
        Mistake(
            "your means are one number per IMAGE (the mean over dim 1): take the "
            "mean over the images, features.mean(dim=0), one mean per feature.",
            per_image + traces - 2 * cross,
        ),
    ]


def _fid_cases() -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    """Feature sets to compare: equal counts, unequal counts, the same set twice."""
    mix = torch.tensor(
        [[1.0, 0.3, 0, 0, 0], [0, 0.8, 0.5, 0, 0], [0, 0, 1.2, 0, 0.4]]
        + [[0.2, 0, 0, 0.7, 0], [0, 0, 0, 0.3, 1.1]]
    )  # (5, 5): correlated features
    a = random_normal(24, 5, seed=21) @ mix  # (24, 5)
    b = (
        0.7 * random_normal(24, 5, seed=22) @ mix.T + 0.5
    )  # (24, 5): other mean and spread
    c = random_normal(40, 5, seed=23) @ mix + 0.2  # (40, 5)
    d = 1.3 * random_normal(30, 5, seed=24)  # (30, 5)
    few_a = random_normal(4, 16, seed=25)  # (4, 16): fewer vectors than features,
    few_b = 1.2 * random_normal(5, 16, seed=26) + 0.3  # so S_a, S_b are singular
    return [
        ("two sets of 24 feature vectors", a, b),
        ("sets of 40 and 30 feature vectors", c, d),
        ("a set compared with itself", a, a),
        (_FEW, few_a, few_b),
    ]


# as with 128 features of a small batch: some eigenvalues of S_a S_b are 0, and
# rounding leaves them a hair below 0
_FEW = "4 and 5 vectors of 16 features (singular covariances)"


def check_fid_from_features(fid_from_features) -> None:
    """Check ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) on features."""
    for name, fa, fb in _fid_cases():
        out = call_student(fid_from_features, fa.clone(), fb.clone())
        value = as_float(out, "FID", finite=False)
        expected = reference_fid(fa, fb)
        if math.isnan(value) and name == _FEW:
            raise ExerciseError(
                f"your FID is NaN for {name}: with fewer feature vectors than "
                "features the covariances are singular, S_a S_b has eigenvalues 0, "
                "and rounding leaves some a hair below 0, where a real square root "
                "is NaN. Take the complex square root, torch.linalg.eigvals(S_a @ "
                "S_b).sqrt().real.sum(), or clamp the eigenvalues at 0 first."
            )
        if math.isnan(value):
            raise ExerciseError(
                f"your FID is NaN for {name}: an ELEMENTWISE square root "
                "(.sqrt() of the matrix S_a @ S_b) fails on its negative entries. "
                "Tr((S_a S_b)^(1/2)) is the sum of the square roots of the "
                "EIGENVALUES of S_a @ S_b: torch.linalg.eigvals(S_a @ S_b).sqrt()"
                ".real.sum()."
            )
        if close(value, expected, **FID_TOLERANCE):
            continue
        mistakes = _fid_mistakes(fa, fb)
        raise ExerciseError(
            first_mistake(value, mistakes, expected=expected, **FID_TOLERANCE)
            or f"for {name} FID is {expected:.4f}; yours is {value:.4f}. Compute "
            "mu = features.mean(dim=0) and S = torch.cov(features.T) for each set, "
            "then ||mu_a - mu_b||^2 + Tr(S_a) + Tr(S_b) - 2 Tr((S_a S_b)^(1/2))."
        )
    print(
        "Correct: FID = ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)), "
        "0 for a set against itself."
    )


# ---- exercise 3: nearest training image -------------------------------------------


def _nearest_mistakes(samples: torch.Tensor, train: torch.Tensor) -> list[Mistake]:
    """The usual wrong versions of the nearest distances, each with what to say."""
    s, t = samples.flatten(1).double(), train.flatten(1).double()  # (N, D), (M, D)
    squared = (s[:, None] - t[None]).square().sum(dim=2)  # (N, M)
    distances = squared.sqrt()  # (N, M)
    return [
        Mistake(
            "these are SQUARED distances: take the square root (the L2 distance, "
            "as torch.cdist gives), so the threshold of section 5 is in pixel units.",
            squared.min(dim=1).values,
        ),
        Mistake(
            "you measured the distance to the MEAN training image, a blurry average "
            "no sample could copy: a copy of one training image must come out at 0. "
            "Take the minimum over all the training images.",
            (s - t.mean(dim=0)).norm(dim=1),
        ),
        Mistake(
            "you compared each sample with the first training image only: take the "
            "minimum over ALL training images, distances.min(dim=1).",
            distances[:, 0],
        ),
        Mistake(
            "you averaged the distances over the training images: memorisation is "
            "about the NEAREST one, distances.min(dim=1).values.",
            distances.mean(dim=1),
        ),
        Mistake(
            "you took the largest distance, the farthest training image: the "
            "nearest one is the minimum.",
            distances.max(dim=1).values,
        ),
        Mistake(
            "these are L1 distances (sums of absolute differences): use the L2 "
            "distance, the square root of the summed squared differences.",
            (s[:, None] - t[None]).abs().sum(dim=2).min(dim=1).values,
        ),
        Mistake(
            "you averaged the squared differences over the pixels (a root mean "
            "square): sum them over all C*H*W values, then take the square root.",
            (squared / s.shape[1]).sqrt().min(dim=1).values,
        ),
    ]


def _nearest_cases() -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    """Grey samples with one exact copy of a training image, and colour images."""
    train = _uniform(9, 1, 4, 4, seed=31)  # (9, 1, 4, 4)
    samples = _uniform(6, 1, 4, 4, seed=32)  # (6, 1, 4, 4)
    samples[2] = train[5]  # a copy: its distance is 0
    samples[4] = train[7] + 0.05 * random_normal(1, 4, 4, seed=33)  # a near copy
    colour_train = _uniform(7, 3, 2, 5, seed=34)  # (7, 3, 2, 5): not square
    colour = _uniform(4, 3, 2, 5, seed=35)  # (4, 3, 2, 5)
    return [
        (
            "6 grey samples (sample 2 copies train[5]) and 9 training images",
            samples,
            train,
        ),
        (
            "4 colour samples of 2 x 5 pixels and 7 training images",
            colour,
            colour_train,
        ),
    ]


def check_nearest_distances(nearest_distances) -> None:
    """Check each sample's L2 distance to its nearest training image, (N,)."""
    for name, samples, train in _nearest_cases():
        out = call_on(
            name,
            nearest_distances,
            samples.clone(),
            train.clone(),
            hint="Flatten each image to one vector, images.flatten(1), whatever its "
            "size.",
        )
        if isinstance(out, tuple):
            raise ExerciseError(
                f"return only the distances, one tensor of shape ({len(samples)},), "
                f"not a tuple of {len(out)} things."
            )
        out = as_tensor(out, "the distances", finite=False).detach().cpu()
        if out.shape == (len(train),):
            raise ExerciseError(
                "the result has one value per TRAINING image, shape "
                f"{tuple(out.shape)}: for each sample take the minimum over the "
                "training images, dim=1 of the (N_samples, N_train) distance matrix."
            )
        if out.shape != (len(samples),):
            raise ExerciseError(
                f"for {len(samples)} samples return {len(samples)} distances, shape "
                f"({len(samples)},); yours has shape {tuple(out.shape)}. Flatten each "
                "image to one vector first: images.flatten(1)."
            )
        if not out.is_floating_point():
            raise ExerciseError(
                "the result holds whole numbers: you returned the INDEX of the "
                "nearest training image (argmin); return its distance (min)."
            )
        expected = reference_nearest(samples, train)[0]
        if close(out, expected, atol=1e-4):
            continue
        mistakes = _nearest_mistakes(samples, train)
        raise ExerciseError(
            first_mistake(out, mistakes, expected=expected, atol=1e-4)
            or f"for {name} the nearest distances are "
            f"{[round(v, 3) for v in expected.tolist()]}; yours are "
            f"{[round(v, 3) for v in out.tolist()]}. Flatten the images, take "
            "torch.cdist(samples, train) and its minimum over the training images."
        )
    _, samples, train = _nearest_cases()[1]
    check_device_safe(
        nearest_distances,
        [on_meta(samples, torch.float64), on_meta(train, torch.float64)],
        "nearest_distances",
        dtype=torch.float64,
    )
    print(
        "Correct: each sample's L2 distance to its nearest training image; "
        "0 for a copy."
    )
