"""What users can get wrong with data: hostile or damaged files, and slipped options.

Each is one clear error that names the file or option and the fix, raised before
any work, and nothing is written outside the data folder or left half-written.
"""

import io
import tarfile

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import datasets

import gancourse.data.archives as archives
import gancourse.data.imagefolder as imagefolder
import gancourse.data.mnist_5k as mnist_5k
from gancourse import runtime
from gancourse.cli import main
from gancourse.data import (
    DatasetUnavailableError,
    ImageDataset,
    dataset_status,
    load_dataset,
)
from gancourse.errors import UsageError, UsageTypeError
from tests.formats import (
    add_member,
    cifar_checksums,
    png_claiming_size,
    tar_gz,
    write_cifar,
    write_mnist,
)


def every_path(folder) -> set[str]:
    """Every file, folder and link under `folder`, relative to it."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


# ---- archives put in the data folder by hand: untrusted ----------------------


def _cifar_archive(tmp_path, monkeypatch, archive, n_per_batch=2):
    """Write a real-format CIFAR-10 archive (md5s accepted); return its folder."""
    staging = tmp_path / "staging"
    write_cifar(staging / "cifar-10-batches-py", n_per_batch)
    for attribute, value in cifar_checksums(staging / "cifar-10-batches-py").items():
        monkeypatch.setattr(datasets.CIFAR10, attribute, value)
    archive.parent.mkdir(parents=True, exist_ok=True)
    tar_gz(staging / "cifar-10-batches-py", archive)
    return staging / "cifar-10-batches-py"


@pytest.mark.parametrize(
    ("member", "link"),
    [
        ("../../escape.txt", ""),  # climbs out of the folder
        ("{outside}/abs.txt", ""),  # an absolute path (inside tmp_path, for safety)
        ("cifar-10-batches-py/passwd", "/etc/passwd"),  # a symlink outside
        ("cifar-10-batches-py/hard", "hard:../../outside.txt"),  # a hard link outside
    ],
)
def test_a_hostile_cifar_archive_writes_nothing_and_says_so(
    tmp_path, monkeypatch, no_network, member, link
):
    root = tmp_path / "course" / "data"
    archive = root / "cifar-10-python.tar.gz"
    batches = _cifar_archive(tmp_path, monkeypatch, archive)
    (tmp_path / "outside.txt").write_text("the user's own file")
    with tarfile.open(archive, "w:gz") as tar:  # the real files, then the hostile one
        tar.add(batches, arcname=batches.name)
        add_member(tar, member.format(outside=tmp_path), b"gotcha", link=link)
    before = every_path(tmp_path)
    with pytest.raises(DatasetUnavailableError) as info:
        load_dataset("cifar10", root=root)
    message = str(info.value)
    assert f"{archive} is unsafe to unpack" in message
    assert f"To fix: move {archive} aside" in message
    assert every_path(tmp_path) == before  # nothing written, in or out of root
    assert (tmp_path / "outside.txt").read_text() == "the user's own file"


def test_a_safe_archive_fills_in_only_the_missing_files(
    tmp_path, monkeypatch, no_network
):
    root = tmp_path / "data"
    batches = _cifar_archive(tmp_path, monkeypatch, root / "cifar-10-python.tar.gz")
    (root / "cifar-10-batches-py").mkdir()
    mine = root / "cifar-10-batches-py" / "test_batch"
    mine.write_bytes((batches / "test_batch").read_bytes())
    before = mine.stat().st_mtime_ns
    assert len(load_dataset("cifar10", root=root, split="train+test")) == 12
    assert mine.stat().st_mtime_ns == before  # the user's file was left alone
    assert sorted(p.name for p in root.iterdir()) == [
        "cifar-10-batches-py",
        "cifar-10-python.tar.gz",
    ]  # no staging folder left


def test_an_archive_that_would_unpack_too_big_is_refused(
    tmp_path, monkeypatch, no_network
):
    root = tmp_path / "data"
    archive = root / "cifar-10-python.tar.gz"
    _cifar_archive(tmp_path, monkeypatch, archive, n_per_batch=4)  # 12 kB a batch
    monkeypatch.setattr(archives, "MAX_UNPACKED_BYTES", 20_000)
    with pytest.raises(DatasetUnavailableError, match="more than 20,000 bytes"):
        load_dataset("cifar10", root=root)
    assert [p.name for p in root.iterdir()] == [archive.name]


@pytest.mark.parametrize("damage", ["truncated", "not a tar", "not cifar"])
def test_a_damaged_cifar_archive_is_one_clear_error(
    tmp_path, monkeypatch, no_network, damage
):
    root = tmp_path / "data"
    archive = root / "cifar-10-python.tar.gz"
    _cifar_archive(tmp_path, monkeypatch, archive)
    if damage == "truncated":
        archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    elif damage == "not a tar":
        archive.write_bytes(b"<html>404 Not Found</html>")
    else:
        with tarfile.open(archive, "w:gz") as tar:
            add_member(tar, "holiday/photo.jpg", b"not cifar")
    expected = "lacks data_batch_1" if damage == "not cifar" else "corrupt or truncated"
    with pytest.raises(DatasetUnavailableError) as info:
        load_dataset("cifar10", root=root)
    assert f"{archive} " in str(info.value) and expected in str(info.value)
    assert "To fix: move" in str(info.value)
    assert [p.name for p in root.iterdir()] == [archive.name]


def test_a_gzip_bomb_is_refused_and_leaves_no_file(tmp_path, monkeypatch):
    raw = tmp_path / "MNIST" / "raw"
    write_mnist(raw, n_train=20, n_test=10, gz=True)  # images: 15,696 bytes unpacked
    monkeypatch.setattr(archives, "MAX_UNPACKED_BYTES", 10_000)
    monkeypatch.setattr(archives, "CHUNK_BYTES", 1_000)
    with pytest.raises(DatasetUnavailableError, match="more than 10,000 bytes"):
        load_dataset("mnist", root=tmp_path, download=False)
    assert all(p.suffix == ".gz" for p in raw.iterdir())  # nothing half-written


def test_a_truncated_gz_leaves_no_partial_file_and_a_good_one_then_loads(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_mnist(raw, n_train=20, n_test=10, gz=True)
    packed = raw / "train-images-idx3-ubyte.gz"
    good = packed.read_bytes()
    packed.write_bytes(good[: len(good) // 2])
    with pytest.raises(DatasetUnavailableError) as info:
        load_dataset("mnist", root=tmp_path, download=False)
    assert f"{packed} is corrupt or truncated" in str(info.value)
    assert not (raw / "train-images-idx3-ubyte").exists()  # no partial file
    assert not [p for p in raw.iterdir() if p.name.startswith(".")]
    packed.write_bytes(good)  # the user puts an undamaged copy there
    assert len(load_dataset("mnist", root=tmp_path, download=False)) == 20


# ---- damaged dataset files ----------------------------------------------------


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("magic", "starts with the bytes 00 00 0c 03"),
        ("short", "holds 15,686 bytes where its header promises 15,696"),
        ("empty", "starts with the bytes (none)"),
    ],
)
def test_a_damaged_idx_file_is_named_with_the_fix(tmp_path, damage, expected):
    raw = tmp_path / "FashionMNIST" / "raw"
    write_mnist(raw, n_train=20, n_test=10, gz=False)
    images = raw / "train-images-idx3-ubyte"
    data = images.read_bytes()
    damaged = {
        "magic": data[:2] + b"\x0c" + data[3:],
        "short": data[:-10],
        "empty": b"",
    }[damage]
    images.write_bytes(damaged)
    with pytest.raises(DatasetUnavailableError) as info:
        load_dataset("fashion-mnist", root=tmp_path, download=False)
    message = str(info.value)
    assert f"{images} is not a valid 'fashion-mnist' file" in message
    assert expected in message
    assert f"To fix: move {tmp_path / 'FashionMNIST'} aside" in message


def test_images_and_labels_that_differ_in_number_are_refused(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_mnist(raw, n_train=20, n_test=10, gz=False)
    other = tmp_path / "other"
    write_mnist(other, n_train=15, n_test=10, gz=False)
    labels = "train-labels-idx1-ubyte"
    (raw / labels).write_bytes((other / labels).read_bytes())
    with pytest.raises(DatasetUnavailableError, match="20 images but 15 labels"):
        load_dataset("mnist", root=tmp_path, download=False)


def test_a_cut_cifar_batch_in_a_rehearsal_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(runtime, "REHEARSAL", True)  # no md5 checks
    write_cifar(tmp_path / "cifar-10-batches-py", 4)
    batch = tmp_path / "cifar-10-batches-py" / "data_batch_2"
    batch.write_bytes(batch.read_bytes()[:100])
    with pytest.raises(DatasetUnavailableError, match="incomplete or corrupt"):
        load_dataset("cifar10", root=tmp_path)


def _npz_bytes(**arrays) -> bytes:
    """An .npz file holding the arrays."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "damage", ["truncated", "text", "wrong shape", "bad labels", "pickled"]
)
def test_a_damaged_mnist_5k_says_how_to_restore_it(tmp_path, monkeypatch, damage):
    good = mnist_5k.MNIST_5K_FILE.read_bytes()
    images = np.zeros((10, 28, 28), np.uint8)
    content = {
        "truncated": good[: len(good) // 2],
        "text": b"version https://git-lfs.github.com/spec/v1\n",
        "wrong shape": _npz_bytes(images=np.zeros((10, 32, 32)), labels=np.zeros(10)),
        "bad labels": _npz_bytes(images=images, labels=np.full(10, 12)),
        "pickled": _npz_bytes(images=np.array([{"a": 1}]), labels=np.zeros(1)),
    }[damage]
    damaged = tmp_path / "mnist_5k.npz"
    damaged.write_bytes(content)
    monkeypatch.setattr(mnist_5k, "MNIST_5K_FILE", damaged)
    with pytest.raises(DatasetUnavailableError) as info:
        load_dataset("mnist-5k")
    message = str(info.value)
    assert message.startswith(f"{damaged} is damaged")
    assert "git checkout -- data/mnist_5k.npz" in message


def test_an_mnist_5k_that_would_unpack_too_big_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist_5k, "MAX_UNPACKED_BYTES", 1_000_000)
    with pytest.raises(DatasetUnavailableError, match="would unpack to 3,925,256"):
        load_dataset("mnist-5k")


# ---- image folders ------------------------------------------------------------


def _png(path, colour=(255, 0, 0), size=(24, 20)):
    """A solid-colour RGB PNG."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)
    return path


def _truncated_png(path):
    """A noisy PNG cut in half."""
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(noise).save(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("text", "cannot be read as an image"),
        ("truncated", "cannot be read as an image (image file is truncated"),
        ("bomb", "has more than 89,478,485 pixels"),
    ],
)
def test_an_unreadable_image_is_named_with_the_fix(tmp_path, damage, expected):
    for i in range(3):
        _png(tmp_path / "faces" / f"{i}.png")
    bad = tmp_path / "faces" / "1.png"
    if damage == "text":
        bad.write_text("this is a text file named .png")
    elif damage == "truncated":
        _truncated_png(bad)
    else:
        bad.write_bytes(png_claiming_size(30_000, 30_000))
    with pytest.raises(DatasetUnavailableError) as info:
        load_dataset("imagefolder", root=tmp_path, path="faces")
    message = str(info.value)
    assert message.startswith(f"{bad} ") and expected in message
    fix = f"To fix: replace it with a working image, or move it out of {bad.parent}"
    assert fix in message
    assert "load_dataset('shapes')" in message  # the offline alternative


def test_an_image_over_the_pixel_limit_is_refused_before_it_is_decoded(
    tmp_path, monkeypatch
):
    big = _png(tmp_path / "faces" / "big.png", size=(48, 40))
    monkeypatch.setattr(imagefolder, "MAX_PIXELS", 1_000)
    with pytest.raises(DatasetUnavailableError) as info:
        load_dataset("imagefolder", root=tmp_path, path="faces")
    assert str(info.value).startswith(f"{big} has more than 1,000 pixels")
    assert "(48x40)" in str(info.value)


def test_a_16_bit_grey_png_is_scaled_to_8_bits_not_clipped(tmp_path):
    folder = tmp_path / "scans"
    folder.mkdir()
    for level in (0, 25_700, 65_535):  # 8-bit 0, 100 and 255
        grey = np.full((16, 16), level, dtype=np.uint16)
        Image.fromarray(grey).save(folder / f"{level:05d}.png")  # mode I;16
    scans = load_dataset("imagefolder", path=folder, image_size=8, split="train+test")
    means = scans.images.mean(dim=(1, 2, 3))
    expected = torch.tensor([0, 100, 255]) / 127.5 - 1
    assert torch.allclose(means, expected, atol=1e-4), means


def test_images_beside_class_folders_are_refused_not_dropped(tmp_path):
    _png(tmp_path / "pets" / "cats" / "a.png")
    _png(tmp_path / "pets" / "dogs" / "b.png")
    stray = _png(tmp_path / "pets" / "stray.png")
    with pytest.raises(DatasetUnavailableError) as info:
        load_dataset("imagefolder", root=tmp_path, path="pets")
    message = str(info.value)
    assert f"{stray.parent} holds 1 images (such as stray.png)" in message
    assert "['cats', 'dogs']" in message and "move each image into" in message
    assert stray.exists()


def test_a_class_folder_without_images_is_named(tmp_path):
    _png(tmp_path / "pets" / "cats" / "a.png")
    (tmp_path / "pets" / "dogs").mkdir()
    (tmp_path / "pets" / "dogs" / "notes.txt").write_text("todo")
    with pytest.raises(DatasetUnavailableError, match=r"\['dogs'\].*hold no images"):
        load_dataset("imagefolder", root=tmp_path, path="pets")


def test_hidden_files_and_folders_are_skipped(tmp_path):
    _png(tmp_path / "pets" / "cats" / "a.png")
    _png(tmp_path / "pets" / "dogs" / "b.png")
    _png(tmp_path / "pets" / "dogs" / ".ipynb_checkpoints" / "b-checkpoint.png")
    (tmp_path / "pets" / ".ipynb_checkpoints").mkdir()
    (tmp_path / "pets" / "cats" / "._a.png").write_bytes(b"macOS resource fork")
    pets = load_dataset("imagefolder", root=tmp_path, path="pets", split="train+test")
    assert pets.classes == ["cats", "dogs"] and len(pets) == 2


def test_the_cli_reports_a_damaged_image_as_one_line(tmp_path, capsys):
    for i in range(3):
        _png(tmp_path / "faces" / f"{i}.png")
    bad = tmp_path / "faces" / "2.png"
    bad.write_text("not an image")
    data = ["--dataset", "imagefolder", "--data-path", tmp_path / "faces"]
    argv = ["train", "dcgan", *data, "--out", tmp_path / "run", "--steps", "1"]
    code = main([str(a) for a in argv])
    lines = capsys.readouterr().err.strip().splitlines()  # a progress bar, the error
    assert code == 2 and [line for line in lines if "error" in line] == lines[-1:]
    assert lines[-1].startswith(f"error: {bad} cannot be read as an image")
    assert not (tmp_path / "run").exists()  # refused before any work


# ---- options of the wrong type ------------------------------------------------


@pytest.mark.parametrize(
    ("name", "options", "expected"),
    [
        ("mnist-5k", {"flip": "no"}, "flip must be True or False, got 'no'"),
        ("ring8", {"flip": "no"}, "flip must be True or False"),
        ("mnist-5k", {"flip": 1}, "flip must be True or False, got 1"),
        ("mnist-5k", {"classes": {"3", "7"}}, "not a set .* Pass a list"),
        ("mnist-5k", {"classes": [3, 7]}, r"write classes=\['3', '7'\]"),
        ("mnist-5k", {"classes": "7"}, r"write classes=\['7'\]"),
        ("mnist-5k", {"classes": (c for c in "37")}, "classes must be a list"),
        ("mnist-5k", {"image_size": "32"}, "image_size must be an int"),
        ("mnist-5k", {"image_size": 32.0}, "image_size must be an int"),
        ("mnist-5k", {"image_size": True}, "image_size must be an int"),
        ("mnist-5k", {"split": ["train"]}, "split must be one of"),
        ("mnist", {"download": "no"}, "download must be True, False or None"),
        ("imagefolder", {"path": 5}, "path must be a folder"),
        ("mnist-5k", {"root": 5}, "root must be a folder"),
        ("ring8", {"n": 2.0}, r"n must be a whole number \(an int\)"),
        ("ring8", {"n": "100"}, r"n must be a whole number \(an int\)"),
        ("ring8", {"seed": 1.5}, r"seed must be a whole number \(an int\)"),
        ("ring8", {"seed": True}, r"seed must be a whole number \(an int\)"),
    ],
)
def test_an_option_of_the_wrong_type_is_one_type_error(name, options, expected):
    with pytest.raises(UsageTypeError, match=expected):
        load_dataset(name, **options)


@pytest.mark.parametrize(
    ("name", "options", "expected"),
    [
        ("mnist-5k", {"classes": ["3", "3"]}, "lists a name twice"),
        ("mnist-5k", {"classes": []}, "non-empty list"),
        ("mnist-5k", {"split": "validaton"}, "split must be one of"),
        ("mnist-5k", {"n": 100}, "n= and seed= only apply to the 2D toy"),
        ("shapes", {"seed": 3}, "n= and seed= only apply to the 2D toy"),
        ("imagefolder", {"path": ""}, "needs path="),
        ("ring8", {"n": 0}, "n must be a whole number of at least 1"),
        ("ring8", {"seed": -1}, "seed must be a whole number of at least 0"),
    ],
)
def test_an_option_of_the_wrong_value_is_one_usage_error(name, options, expected):
    with pytest.raises(UsageError, match=expected):
        load_dataset(name, **options)


def test_options_of_the_right_type_in_other_spellings_are_accepted():
    digits = load_dataset(
        "mnist-5k", split="test", classes=("7", "3"), image_size=np.int64(14)
    )
    assert digits.classes == ["7", "3"] and digits.image_shape == (1, 14, 14)
    assert len(load_dataset("ring8", n=np.int64(50), seed=np.int64(2))) == 50


def test_a_dataset_made_by_hand_refuses_arguments_of_the_wrong_type():
    images, labels = torch.zeros(2, 1, 4, 4), torch.zeros(2, dtype=torch.long)
    with pytest.raises(UsageTypeError, match=r"torch.as_tensor\(images\)"):
        ImageDataset("x", images.numpy(), labels, ["a"])
    with pytest.raises(UsageTypeError, match="classes must be a list"):
        ImageDataset("x", images, labels, {"a"})
    with pytest.raises(UsageTypeError, match="flip must be True or False"):
        ImageDataset("x", images, labels, ["a"], flip="yes")
    with pytest.raises(UsageTypeError, match="root must be a folder"):
        dataset_status(root=5)


def test_a_full_data_folder_while_unpacking_is_one_storage_error(tmp_path, monkeypatch):
    import errno
    import gzip

    from gancourse.data import archives
    from gancourse.errors import StorageError

    packed = tmp_path / "file.gz"
    packed.write_bytes(gzip.compress(b"x" * 10_000))

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(archives, "_copy_capped", full)
    with pytest.raises(StorageError, match="No space left on device. Free some space"):
        archives.gunzip(packed, tmp_path / "file", fix="put the file back")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.gz"]  # no partial
