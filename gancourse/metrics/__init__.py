"""Measures of how good a GAN's samples are: toy 2D sets and images."""

from gancourse.metrics.classifier import (
    Classifier,
    ClassifierError,
    classifier_accuracy,
    load_classifier,
    predict,
    predict_probs,
    save_classifier,
    train_classifier,
)
from gancourse.metrics.evaluate import (
    evaluate_generator,
    evaluate_samples,
    format_report,
    generate_samples,
)
from gancourse.metrics.memorisation import MemorisationReport, memorisation
from gancourse.metrics.precision_recall import (
    PrecisionRecall,
    classifier_features,
    in_manifold,
    knn_radii,
    precision_recall,
    precision_recall_from_features,
)
from gancourse.metrics.scores import (
    ClassifierFeatures,
    class_histogram,
    classifier_inception_score,
    conditional_accuracy,
    frechet_distance,
    histogram_summary,
    inception_score,
    kernel_distance,
)
from gancourse.metrics.toy import (
    RADIUS_FLOOR,
    mode_counts,
    mode_coverage,
    quality_radius,
)

__all__ = [
    "RADIUS_FLOOR",
    "Classifier",
    "ClassifierError",
    "ClassifierFeatures",
    "MemorisationReport",
    "PrecisionRecall",
    "class_histogram",
    "classifier_accuracy",
    "classifier_features",
    "classifier_inception_score",
    "conditional_accuracy",
    "evaluate_generator",
    "evaluate_samples",
    "format_report",
    "frechet_distance",
    "generate_samples",
    "histogram_summary",
    "in_manifold",
    "inception_score",
    "kernel_distance",
    "knn_radii",
    "load_classifier",
    "memorisation",
    "mode_counts",
    "mode_coverage",
    "precision_recall",
    "precision_recall_from_features",
    "predict",
    "predict_probs",
    "quality_radius",
    "save_classifier",
    "train_classifier",
]
