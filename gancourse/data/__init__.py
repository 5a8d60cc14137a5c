"""Every dataset of the course behind one call: `load_dataset(name, ...)`."""

from gancourse.data.base import (
    DatasetUnavailableError,
    ImageDataset,
    ToyDataset,
    UnknownDatasetError,
)
from gancourse.data.loading import (
    KNOWN_DATASETS,
    dataset_status,
    describe_datasets,
    load_dataset,
)

__all__ = [
    "KNOWN_DATASETS",
    "DatasetUnavailableError",
    "ImageDataset",
    "ToyDataset",
    "UnknownDatasetError",
    "dataset_status",
    "describe_datasets",
    "load_dataset",
]
