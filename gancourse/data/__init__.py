"""Every dataset of the course behind one call: `load_dataset(name, ...)`.

The catalogue (gancourse.data.catalog) is the one table of what each dataset is.
"""

from gancourse.data.base import ImageDataset, ToyDataset
from gancourse.data.catalog import (
    CATALOG,
    SPLITS,
    DatasetInfo,
    canonical_name,
    class_names,
    dataset_info,
    dataset_names,
    image_dataset_names,
)
from gancourse.data.loading import dataset_status, describe_datasets, load_dataset
from gancourse.errors import DatasetUnavailableError, UnknownDatasetError

KNOWN_DATASETS = tuple(CATALOG)  # the names, in catalogue order

__all__ = [
    "CATALOG",
    "KNOWN_DATASETS",
    "SPLITS",
    "DatasetInfo",
    "DatasetUnavailableError",
    "ImageDataset",
    "ToyDataset",
    "UnknownDatasetError",
    "canonical_name",
    "class_names",
    "dataset_info",
    "dataset_names",
    "dataset_status",
    "describe_datasets",
    "image_dataset_names",
    "load_dataset",
]
