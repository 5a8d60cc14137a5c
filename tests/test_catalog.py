"""The dataset catalogue: one table that load_dataset and the CLI both read."""

import dataclasses

import pytest
import torch

from gancourse.cli import build_parser, main
from gancourse.data import (
    CATALOG,
    DatasetInfo,
    DatasetUnavailableError,
    UnknownDatasetError,
    canonical_name,
    class_names,
    dataset_info,
    describe_datasets,
    image_dataset_names,
    load_dataset,
)
from gancourse.data.catalog import KINDS

pytestmark = pytest.mark.usefixtures("one_thread")


def stripes(image_size: int = 12):
    """A made-up shipped dataset: 2 classes of 40 grey stripe images each."""
    images = -torch.ones(80, 1, image_size, image_size)
    images[:40, :, ::3, :] = 1  # class 0: horizontal stripes
    images[40:, :, :, ::3] = 1  # class 1: vertical stripes
    images += 0.05 * torch.randn(
        images.shape, generator=torch.Generator().manual_seed(0)
    )
    return images.clamp(-1, 1), torch.arange(80) // 40


@pytest.fixture
def with_stripes(monkeypatch):
    """The catalogue with one more entry, as a newcomer adding a dataset writes it."""
    info = DatasetInfo(
        "stripes",
        "shipped",
        "80 grey stripes, horizontal or vertical",
        stripes,
        classes=("horizontal", "vertical"),
        image_size=12,
        channels=1,
        any_size=True,
    )
    monkeypatch.setitem(CATALOG, "stripes", info)
    return info


def test_every_entry_is_complete_and_named_in_one_spelling():
    for name, info in CATALOG.items():
        assert info.name == name and info.kind in KINDS
        assert name == name.lower() and "_" not in name and " " not in name
        assert info.description
        assert callable(info.loader) or info.kind == "download"
        if info.is_images:
            assert info.image_size and info.channels in (1, 3)
        if info.kind in ("download", "folder"):
            assert CATALOG[info.alternative].kind == "shipped"
        for alias in info.aliases:
            assert canonical_name(alias) == name


@pytest.mark.parametrize(
    ("spelling", "name"),
    [
        ("true_image", "true-image"),
        ("two_gaussians", "two-gaussians"),
        ("MNIST_5K", "mnist-5k"),
        ("fashion_mnist", "fashion-mnist"),
        ("cifar-10", "cifar10"),
        (" ring8 ", "ring8"),
        ("mnist-6k", None),
        (None, None),
    ],
)
def test_old_spellings_are_still_accepted(spelling, name):
    assert canonical_name(spelling) == name


def test_a_dataset_loads_under_its_old_spelling_with_the_new_name():
    assert load_dataset("true_image").name == "true-image"
    assert load_dataset("two_gaussians", n=10).name == "two-gaussians"
    with pytest.raises(UnknownDatasetError, match="unknown dataset 'mnist-6k'"):
        dataset_info("mnist-6k")


def test_the_catalogue_table_lists_every_entry_with_its_facts():
    lines = describe_datasets().splitlines()
    assert lines[0].split()[:3] == ["name", "status", "images"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert list(rows) == list(CATALOG)
    assert "1x28x28" in rows["mnist-5k"] and "yes" in rows["mnist-5k"]
    assert "3x32x32, any size" in rows["shapes"]
    assert "2D points" in rows["ring8"]
    for name, info in CATALOG.items():
        assert info.description in rows[name]


def test_an_added_dataset_loads_through_load_dataset(with_stripes):
    data = load_dataset("stripes", image_size=16, split="test")
    assert data.name == "stripes" and data.image_shape == (1, 16, 16)
    assert data.classes == ["horizontal", "vertical"] and len(data) == 16
    assert class_names("stripes") == ["horizontal", "vertical"]
    assert "stripes" in image_dataset_names()
    assert "80 grey stripes" in describe_datasets()


def test_an_added_dataset_is_accepted_by_every_cli_command(with_stripes, capsys):
    parser = build_parser()
    train = ["train", "dcgan", "--out", "o", "--steps", "1", "--dataset", "stripes"]
    assert parser.parse_args(train).dataset == "stripes"
    classify = ["classifier", "--out", "c.pt", "--dataset", "STRIPES"]
    assert parser.parse_args(classify).dataset == "stripes"
    for command in ("train", "classifier"):
        assert main([command, "--help"]) == 0
        assert "stripes" in capsys.readouterr().out
    assert main(["datasets"]) == 0
    assert "80 grey stripes" in capsys.readouterr().out


def test_the_cli_trains_on_an_added_dataset_at_a_size_the_catalogue_gives(
    with_stripes, tmp_path, capsys
):
    base = ["train", "dcgan", "--dataset", "stripes", "--steps", "2", "--quiet"]
    base += ["--width", "8", "--batch-size", "16", "--out"]
    # 12 px is not a size the models make: the catalogue's size is checked first
    assert main([*base, str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert "'stripes' images are 12x12 px" in err and "--image-size 28" in err
    assert not (tmp_path / "a").exists()
    # classes come from the catalogue too
    assert main([*base, str(tmp_path / "b"), "--classes", "diagonal"]) == 2
    assert "its classes are horizontal, vertical" in capsys.readouterr().err
    code = main([*base, str(tmp_path / "c"), "--image-size", "28"])
    assert code == 0, capsys.readouterr().err
    assert (tmp_path / "c" / "checkpoint.pt").is_file()


def test_a_dataset_removed_from_the_catalogue_is_refused_by_the_cli(
    monkeypatch, capsys
):
    monkeypatch.delitem(CATALOG, "shapes")
    code = main(["classifier", "--dataset", "shapes", "--out", "x.pt"])
    assert code == 2
    err = capsys.readouterr().err
    assert "unknown dataset 'shapes'" in err and "mnist-5k" in err


@pytest.mark.parametrize("name", ["imagefolder", "cifar10"])
def test_the_offline_alternative_in_errors_is_the_catalogues(
    name, monkeypatch, tmp_path
):
    info = CATALOG[name]
    monkeypatch.setitem(
        CATALOG, name, dataclasses.replace(info, alternative="digits10")
    )
    options = {"path": "nothing"} if info.kind == "folder" else {"download": False}
    with pytest.raises(DatasetUnavailableError) as error:
        load_dataset(name, root=tmp_path, **options)
    assert "use the shipped 'digits10' dataset" in str(error.value)
    assert "'shapes'" not in str(error.value)
