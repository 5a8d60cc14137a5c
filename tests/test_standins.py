"""The rehearsal's stand-in datasets: real formats, every class, read without md5."""

from __future__ import annotations

import pytest

from gancourse import runtime
from gancourse.data import DatasetUnavailableError, load_dataset
from tests.standins import TEST, TRAIN, write_standins


@pytest.fixture(scope="module")
def stand_ins(tmp_path_factory):
    """The three stand-in datasets, written once for this module."""
    return write_standins(tmp_path_factory.mktemp("stand-ins"))


@pytest.fixture
def rehearsal(monkeypatch):
    """This process as a rehearsal of full mode."""
    monkeypatch.setattr(runtime, "REHEARSAL", True)
    monkeypatch.setattr(runtime, "MODE", "full")


@pytest.mark.parametrize(
    ("name", "shape"),
    [("mnist", (1, 28, 28)), ("fashion-mnist", (1, 28, 28)), ("cifar10", (3, 32, 32))],
)
def test_each_stand_in_loads_like_the_real_dataset(stand_ins, rehearsal, name, shape):
    train = load_dataset(name, root=stand_ins, split="train")
    test = load_dataset(name, root=stand_ins, split="test")
    assert (len(train), len(test)) == (TRAIN, TEST)
    assert train.image_shape == test.image_shape == shape
    assert all(count > 0 for count in test.class_counts().values())  # every class
    assert train.images.std() > 0.3  # pictures, not a constant
    assert len(load_dataset(name, root=stand_ins, split="train+test")) == TRAIN + TEST


def test_full_mode_class_subsets_and_sizes_work_on_the_stand_ins(stand_ins, rehearsal):
    subset = load_dataset(
        "cifar10", root=stand_ins, split="train+test", image_size=64, flip=True,
        classes=["horse", "bird", "airplane"],
    )  # fmt: skip
    assert subset.image_shape == (3, 64, 64) and subset.num_classes == 3
    assert len(subset) == 3 * (TRAIN + TEST) // 10


def test_a_rehearsal_never_downloads(tmp_path, rehearsal, no_network):
    with pytest.raises(DatasetUnavailableError, match="downloads are off"):
        load_dataset("mnist", root=tmp_path)


def test_outside_a_rehearsal_cifar10_still_checks_its_md5_sums(stand_ins, monkeypatch):
    monkeypatch.setattr(runtime, "REHEARSAL", False)
    with pytest.raises(DatasetUnavailableError, match="incomplete or corrupt"):
        load_dataset("cifar10", root=stand_ins)
