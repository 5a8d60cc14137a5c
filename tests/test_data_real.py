"""The real torchvision loaders, run on small files written in the real formats."""

import io
import shutil
import urllib.request

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import datasets

from gancourse import runtime
from gancourse.data import DatasetUnavailableError, dataset_status, load_dataset
from tests.formats import cifar_checksums, md5, tar_gz, write_cifar, write_mnist

MNIST_LIKE = [("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST")]


def scaled(pixels: np.ndarray) -> torch.Tensor:
    """uint8 pixels as the loader should give them: float in [-1, 1]."""
    return torch.from_numpy(pixels).float() / 127.5 - 1


@pytest.mark.parametrize(("name", "folder"), MNIST_LIKE)
@pytest.mark.parametrize("gz", [True, False])
def test_mnist_like_loads_the_idx_files(tmp_path, no_network, name, folder, gz):
    written = write_mnist(tmp_path / folder / "raw", n_train=20, n_test=10, gz=gz)
    train = load_dataset(name, root=tmp_path)
    assert train.image_shape == (1, 28, 28) and len(train) == 20
    assert torch.equal(train.images[:, 0], scaled(written["train"][0]))
    assert train.labels.tolist() == written["train"][1].tolist()
    test = load_dataset(name, root=tmp_path, split="test")
    assert torch.equal(test.images[:, 0], scaled(written["test"][0]))
    both = load_dataset(name, root=tmp_path, split="train+test")
    assert len(both) == 30
    assert dataset_status(tmp_path)[name] == "downloaded"


def test_mnist_options_subset_and_resize(tmp_path, no_network):
    write_mnist(tmp_path / "MNIST" / "raw", n_train=40, n_test=10, gz=True)
    subset = load_dataset("mnist", root=tmp_path, classes=["1", "4"], image_size=32)
    assert subset.classes == ["1", "4"]
    assert subset.images.shape == (8, 1, 32, 32)
    assert subset.labels.tolist() == [0, 1] * 4


def _cifar(tmp_path, monkeypatch, n_per_batch=6):
    """Write CIFAR-10 files and let torchvision's md5 check accept them."""
    written = write_cifar(tmp_path / "cifar-10-batches-py", n_per_batch)
    for attribute, value in cifar_checksums(tmp_path / "cifar-10-batches-py").items():
        monkeypatch.setattr(datasets.CIFAR10, attribute, value)
    return written


def test_cifar10_loads_the_pickled_batches(tmp_path, monkeypatch, no_network):
    written = _cifar(tmp_path, monkeypatch)
    train = load_dataset("cifar10", root=tmp_path)
    assert train.image_shape == (3, 32, 32) and len(train) == 30
    expected = np.concatenate([written[f"data_batch_{i}"][0] for i in range(1, 6)])
    assert torch.equal(train.images, scaled(expected))
    assert "horse" in train.classes and len(train.classes) == 10
    merged = load_dataset("cifar10", root=tmp_path, split="train+test")
    assert len(merged) == 36
    assert torch.equal(merged.images[30:], scaled(written["test_batch"][0]))


def test_cifar10_class_subset_as_in_the_pegasus_project(
    tmp_path, monkeypatch, no_network
):
    written = _cifar(tmp_path, monkeypatch, n_per_batch=40)
    labels = np.concatenate([written[f"data_batch_{i}"][1] for i in range(1, 6)])
    subset = load_dataset(
        "cifar10", root=tmp_path, classes=["horse", "bird"], flip=True
    )
    assert subset.classes == ["horse", "bird"]
    assert len(subset) == int(np.isin(labels, [7, 2]).sum())
    assert subset.class_counts()["horse"] == int((labels == 7).sum())
    with pytest.raises(ValueError, match="'plane'.*airplane"):
        load_dataset("cifar10", root=tmp_path, classes=["horse", "plane"])


def test_cifar10_archive_put_in_by_hand_is_unpacked(tmp_path, monkeypatch, no_network):
    staging = tmp_path / "elsewhere"
    written = write_cifar(staging / "cifar-10-batches-py", 4)
    for attribute, value in cifar_checksums(staging / "cifar-10-batches-py").items():
        monkeypatch.setattr(datasets.CIFAR10, attribute, value)
    root = tmp_path / "data"
    root.mkdir()
    tar_gz(staging / "cifar-10-batches-py", root / "cifar-10-python.tar.gz")
    test = load_dataset("cifar10", root=root, split="test")
    assert torch.equal(test.images, scaled(written["test_batch"][0]))


def test_corrupt_cifar10_is_reported_and_left_alone(tmp_path, monkeypatch, no_network):
    _cifar(tmp_path, monkeypatch)
    batch = tmp_path / "cifar-10-batches-py" / "data_batch_3"
    batch.write_bytes(batch.read_bytes()[:-10])
    before = sorted(p.name for p in (tmp_path / "cifar-10-batches-py").iterdir())
    with pytest.raises(DatasetUnavailableError, match="incomplete or corrupt"):
        load_dataset("cifar10", root=tmp_path)
    after = sorted(p.name for p in (tmp_path / "cifar-10-batches-py").iterdir())
    assert before == after


@pytest.mark.parametrize(
    ("name", "alternative", "where"),
    [
        ("cifar10", "shapes", "cifar-10-batches-py"),
        ("mnist", "mnist-5k", "MNIST/raw"),
        ("fashion-mnist", "mnist-5k", "FashionMNIST/raw"),
    ],
)
def test_offline_without_a_copy_is_one_clear_error(
    tmp_path, no_network, name, alternative, where
):
    with pytest.raises(DatasetUnavailableError) as info:
        load_dataset(name, root=tmp_path, download=True)
    message = str(info.value)
    assert f"{name!r} is not available" in message
    assert "download failed" in message
    assert str(tmp_path / where) in message  # where to put the files
    assert f"load_dataset({alternative!r})" in message  # the shipped alternative
    assert list(tmp_path.iterdir()) == []  # nothing partial left behind


@pytest.mark.parametrize("mode", ["full", "laptop", "quick"])
def test_offline_in_full_mode_says_first_how_to_switch_to_laptop(
    tmp_path, no_network, monkeypatch, mode
):
    monkeypatch.setattr(runtime, "MODE", mode)
    with pytest.raises(DatasetUnavailableError) as info:
        load_dataset("mnist", root=tmp_path, download=True)
    first = str(info.value).splitlines()[0]
    assert first.startswith("'mnist' is not available")
    assert ("GANCOURSE_MODE=laptop make lab" in first) == (mode == "full")


def _forbid_downloads(monkeypatch):
    """Fail the test if torchvision tries to download anything."""

    def download(self):
        raise AssertionError("a download was attempted")

    monkeypatch.setattr(datasets.MNIST, "download", download)


def test_download_false_never_touches_the_network(tmp_path, monkeypatch):
    _forbid_downloads(monkeypatch)
    with pytest.raises(DatasetUnavailableError, match="no local copy"):
        load_dataset("mnist", root=tmp_path, download=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("quick", "downloads"), [(True, False), (False, True)])
def test_quick_mode_does_not_download_by_default(
    tmp_path, monkeypatch, quick, downloads
):
    attempts = []
    monkeypatch.setattr(datasets.MNIST, "download", lambda self: attempts.append(1))
    monkeypatch.setattr(runtime, "QUICK", quick)
    with pytest.raises(DatasetUnavailableError):
        load_dataset("mnist", root=tmp_path)
    assert bool(attempts) == downloads


class _FakeResponse(io.BytesIO):
    """Just enough of urllib's response for torchvision's downloader."""

    def __init__(self, url: str, data: bytes):
        super().__init__(data)
        self.url, self.length = url, len(data)


def _serve(monkeypatch, files: dict[str, bytes], fail_on: str | None = None):
    """Answer torchvision's HTTP requests from `files`, keyed by file name."""

    def urlopen(request, *args, **kwargs):
        url = request.full_url if hasattr(request, "full_url") else request
        name = url.rsplit("/", 1)[-1]
        if name == fail_on:
            raise OSError("connection reset by peer (simulated)")
        return _FakeResponse(url, files[name])

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)


def _mnist_server_files(tmp_path):
    """gzipped IDX files as MNIST's mirror serves them, and their md5s."""
    served = tmp_path / "server"
    write_mnist(served, n_train=12, n_test=6, gz=True)
    files = {p.name: p.read_bytes() for p in served.iterdir()}
    resources = [(name, md5(served / name)) for name in sorted(files)]
    shutil.rmtree(served)
    return files, resources


def test_download_lands_complete_in_the_data_folder(tmp_path, monkeypatch):
    files, resources = _mnist_server_files(tmp_path)
    monkeypatch.setattr(datasets.MNIST, "resources", resources)
    _serve(monkeypatch, files)
    root = tmp_path / "data"
    train = load_dataset("mnist", root=root, download=True)
    assert len(train) == 12
    assert sorted(p.name for p in root.iterdir()) == ["MNIST"]  # no staging left


def test_a_download_that_breaks_midway_leaves_nothing(tmp_path, monkeypatch):
    files, resources = _mnist_server_files(tmp_path)
    monkeypatch.setattr(datasets.MNIST, "resources", resources)
    _serve(monkeypatch, files, fail_on="t10k-images-idx3-ubyte.gz")
    root = tmp_path / "data"
    with pytest.raises(DatasetUnavailableError, match="download failed"):
        load_dataset("mnist", root=root, download=True)
    assert list(root.iterdir()) == []


def _write_png(path, colour, size=(48, 40)):
    """A solid-colour PNG of the given (width, height)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)


def test_imagefolder_with_class_subfolders(tmp_path):
    for i in range(3):
        _write_png(tmp_path / "faces" / "cats" / f"{i}.png", (255, 0, 0))
        _write_png(tmp_path / "faces" / "dogs" / f"{i}.jpg", (0, 0, 255))
    faces = load_dataset(
        "imagefolder", root=tmp_path, path="faces", image_size=32, split="train+test"
    )
    assert faces.classes == ["cats", "dogs"] and faces.image_shape == (3, 32, 32)
    assert faces.class_counts() == {"cats": 3, "dogs": 3}
    red = faces.images[faces.labels == 0]
    assert torch.allclose(red[:, 0], torch.ones(3, 32, 32), atol=0.02)
    assert torch.allclose(red[:, 2], -torch.ones(3, 32, 32), atol=0.02)


def test_imagefolder_flat_folder_is_one_class_centre_cropped(tmp_path):
    for i in range(5):
        _write_png(tmp_path / "anime" / f"{i}.png", (0, 255, 0), size=(80, 60))
    anime = load_dataset(
        "imagefolder", path=tmp_path / "anime", image_size=16, split="train+test"
    )
    assert anime.classes == ["anime"] and anime.images.shape == (5, 3, 16, 16)


def test_imagefolder_missing_folder_says_what_to_do(tmp_path):
    with pytest.raises(DatasetUnavailableError, match="(?s)does not exist.*'shapes'"):
        load_dataset("imagefolder", root=tmp_path, path="celeba")
    with pytest.raises(ValueError, match="needs path="):
        load_dataset("imagefolder")
