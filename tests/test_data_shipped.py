"""The shipped datasets and the options of load_dataset, all offline."""

import numpy as np
import pytest
import torch

from gancourse.data import (
    KNOWN_DATASETS,
    ImageDataset,
    ToyDataset,
    UnknownDatasetError,
    dataset_names,
    load_dataset,
)
from gancourse.errors import UsageError, UsageTypeError


def test_unknown_name_lists_every_known_name():
    with pytest.raises(UnknownDatasetError) as info:
        load_dataset("cifar11")
    message = str(info.value)
    assert "unknown dataset 'cifar11'" in message
    for name in KNOWN_DATASETS:
        assert name in message


def test_mnist_5k_is_500_real_digits_per_class_in_minus_one_one():
    full = load_dataset("mnist-5k", split="train+test")
    assert isinstance(full, ImageDataset)
    assert len(full) == 5000 and full.image_shape == (1, 28, 28)
    assert full.classes == [str(d) for d in range(10)]
    assert set(full.class_counts().values()) == {500}
    assert full.images.dtype == torch.float32
    assert full.images.min() == -1 and full.images.max() == 1
    # real digits: mostly background, a stroke in the middle, no two alike
    assert (full.images == -1).float().mean() > 0.7
    assert full.images[:, :, 10:18, 10:18].mean() > full.images[:, :, :3, :].mean()
    assert len(torch.unique(full.images.flatten(1), dim=0)) == 5000


def test_shipped_splits_are_disjoint_and_stratified():
    train = load_dataset("mnist-5k", split="train")
    test = load_dataset("mnist-5k", split="test")
    assert len(train) == 4000 and len(test) == 1000
    assert set(test.class_counts().values()) == {100}
    train_rows = {row.numpy().tobytes() for row in train.images.flatten(1)}
    assert not any(
        row.numpy().tobytes() in train_rows for row in test.images.flatten(1)
    )


def test_class_subset_keeps_only_those_classes_relabelled_in_order():
    full = load_dataset("mnist-5k")
    subset = load_dataset("mnist-5k", classes=["7", "3"])
    assert subset.classes == ["7", "3"]
    assert subset.class_counts() == {"7": 400, "3": 400}
    sevens = full.images[full.labels == 7]
    assert torch.equal(subset.images[subset.labels == 0], sevens)


@pytest.mark.parametrize("classes", [["7", "eleven"], [], ["3", "3"]])
def test_bad_class_subsets_are_refused(classes):
    with pytest.raises(ValueError, match="class"):
        load_dataset("mnist-5k", classes=classes)


@pytest.mark.parametrize("classes", ["7", {"3", "7"}, [7], {"7": 1}])
def test_class_subsets_that_are_not_a_list_of_names_are_refused(classes):
    with pytest.raises(UsageTypeError, match="class"):
        load_dataset("mnist-5k", classes=classes)


def test_image_size_resizes_and_keeps_the_range():
    big = load_dataset("mnist-5k", split="test", image_size=32)
    assert big.images.shape == (1000, 1, 32, 32)
    assert big.images.min() >= -1 and big.images.max() <= 1


@pytest.mark.parametrize("bad", [0, 3, 600])
def test_bad_image_size_is_refused(bad):
    with pytest.raises(ValueError, match="image_size"):
        load_dataset("mnist-5k", image_size=bad)


@pytest.mark.parametrize("bad", [28.0, "32", True])
def test_an_image_size_of_the_wrong_type_is_refused(bad):
    with pytest.raises(UsageTypeError, match="image_size must be an int"):
        load_dataset("mnist-5k", image_size=bad)


def test_bad_split_is_refused():
    with pytest.raises(ValueError, match="split must be one of"):
        load_dataset("mnist-5k", split="validation")


def test_flip_mirrors_about_half_the_items():
    plain = load_dataset("mnist-5k", split="test")
    flipping = load_dataset("mnist-5k", split="test", flip=True)
    torch.manual_seed(0)
    flipped = sum(
        torch.equal(flipping[i][0], plain.images[i].flip(-1)) for i in range(400)
    )
    assert 150 < flipped < 250
    image, label = flipping[0]
    assert image.shape == (1, 28, 28) and label.item() == plain.labels[0].item()


@pytest.mark.parametrize("size", [32, 64])
def test_shapes_is_a_colour_dataset_with_four_classes_at_any_size(size):
    shapes = load_dataset("shapes", image_size=size, split="train+test")
    assert shapes.image_shape == (3, size, size)
    assert shapes.num_classes >= 4
    assert set(shapes.class_counts().values()) == {1250}
    assert shapes.images.min() >= -1 and shapes.images.max() <= 1
    # colour: the channels differ; varied: images differ from one another
    assert (shapes.images[:, 0] - shapes.images[:, 1]).abs().mean() > 0.05
    assert shapes.images.std(dim=0).mean() > 0.1


def test_shapes_classes_differ_in_shape_not_only_in_colour():
    shapes = load_dataset("shapes", split="train+test")
    # how much of the image the shape covers, per class: circles fill more than crosses
    foreground = shapes.images.std(dim=1) + (shapes.images.mean(dim=1) > -0.2).float()
    coverage = {
        name: (foreground[shapes.labels == i] > 0.5).float().mean().item()
        for i, name in enumerate(shapes.classes)
    }
    assert coverage["cross"] < coverage["circle"]
    assert coverage["triangle"] < coverage["square"]


def test_shapes_are_the_same_every_time():
    first = load_dataset("shapes", split="test")
    second = load_dataset("shapes", split="test")
    assert torch.equal(first.images, second.images)


def test_true_image_and_digits10_are_10x10_and_binary():
    true_image = load_dataset("true_image")
    digits = load_dataset("digits10")
    assert true_image.images.shape == (1, 1, 10, 10)
    assert digits.images.shape == (10, 1, 10, 10)
    assert digits.labels.tolist() == list(range(10))
    for images in (true_image.images, digits.images):
        assert set(images.unique().tolist()) == {-1.0, 1.0}
    # a square with its diagonal: border and diagonal lit, the rest dark
    square = true_image.images[0, 0]
    assert (square[0] == 1).all() and (square[:, -1] == 1).all()
    assert (square.diagonal() == 1).all() and square[2, 6] == -1
    assert len(torch.unique(digits.images.flatten(1), dim=0)) == 10
    with pytest.raises(ValueError, match="no test split"):
        load_dataset("digits10", split="test")


@pytest.mark.parametrize("name", dataset_names("toy"))
def test_toy_sets_sample_around_their_mode_centres(name):
    toy = load_dataset(name, n=4000, seed=1)
    assert isinstance(toy, ToyDataset)
    assert toy.points.shape == (4000, 2)
    distances = np.linalg.norm(toy.points[:, None] - toy.centres[None], axis=2)
    nearest = distances.min(axis=1)
    assert nearest.max() <= 5 * toy.std + 1e-12
    assert len(np.unique(distances.argmin(axis=1))) == toy.num_modes
    fresh = toy.sample(100, rng=2)
    assert fresh.shape == (100, 2)
    assert np.array_equal(fresh, toy.sample(100, rng=2))


def test_ring8_and_grid25_are_as_specified():
    ring = load_dataset("ring8")
    assert ring.num_modes == 8 and ring.std == 0.02
    assert np.allclose(np.linalg.norm(ring.centres, axis=1), 2.0)
    grid = load_dataset("grid25")
    assert grid.num_modes == 25 and grid.std == 0.05
    assert sorted(set(grid.centres.ravel())) == [-4, -2, 0, 2, 4]
    spread = load_dataset("ring8", n=20000).points - ring.centres[0]
    near_first = spread[np.linalg.norm(spread, axis=1) < 0.5]
    assert np.isclose(near_first.std(), 0.02, rtol=0.1)


def test_image_options_on_a_toy_set_are_refused():
    with pytest.raises(ValueError, match="2D toy dataset: image_size, flip"):
        load_dataset("ring8", image_size=32, flip=True)


@pytest.mark.parametrize("size", [3, 513, 100_000])
def test_an_image_size_out_of_range_is_one_error_before_any_work(size):
    with pytest.raises(UsageError, match="image_size must be an int from 4 to 512"):
        load_dataset("shapes", image_size=size)
