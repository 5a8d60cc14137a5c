"""The judge of the GAN metrics: a small CNN classifier, its training and its files."""

import os
from pathlib import Path

import pytest
import torch

import gancourse.metrics.classifier as classifier_module
from gancourse import runtime
from gancourse.data import ImageDataset, load_dataset
from gancourse.metrics.classifier import (
    SHIPPED_CLASSIFIERS,
    Classifier,
    ClassifierError,
    classifier_accuracy,
    default_epochs,
    load_classifier,
    predict,
    predict_probs,
    save_classifier,
    shipped_path,
    train_classifier,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def halves(n=160, seed=0):
    """Dark 16 px images with a bright bar on the left (class 0) or right (class 1)."""
    gen = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 2
    images = torch.full((n, 1, 16, 16), -1.0) + 0.1 * torch.rand(
        n, 1, 16, 16, generator=gen
    )
    for i, label in enumerate(labels):
        left = 1 + int(label) * 8 + int(torch.randint(0, 5, (1,), generator=gen))
        images[i, 0, 3:13, left : left + 2] = 1.0
    return ImageDataset("halves", images, labels, ["left", "right"])


@pytest.fixture(scope="module")
def trained():
    return train_classifier(halves(), epochs=4, batch_size=32, progress=False)


@pytest.fixture(scope="module")
def shipped():
    return load_classifier("mnist-5k")


def test_shapes_of_logits_and_features_for_grey_and_colour():
    for channels, size in ((1, 28), (3, 32), (3, 64)):
        model = Classifier(channels, 4, size).eval()
        x = torch.randn(5, channels, size, size)
        assert model(x).shape == (5, 4)
        assert model.features(x).shape == (5, Classifier.num_features)


def test_training_learns_an_easy_task_and_returns_eval_mode(trained):
    held_out = halves(seed=1)
    assert not trained.training
    assert trained.classes == ["left", "right"]
    assert classifier_accuracy(trained, held_out.images, held_out.labels) >= 0.95


def test_an_untrained_classifier_is_at_chance():
    held_out = halves(seed=1)
    untrained = Classifier(1, 2, 16).eval()
    accuracy = classifier_accuracy(untrained, held_out.images, held_out.labels)
    assert accuracy <= 0.75


def test_probabilities_are_rows_that_sum_to_one_and_mode_is_restored(trained):
    trained.train()
    probs = predict_probs(trained, halves().images[:7])
    assert trained.training  # the caller's mode comes back
    trained.eval()
    assert probs.shape == (7, 2)
    assert torch.allclose(probs.sum(dim=1), torch.ones(7), atol=1e-5)
    assert torch.equal(predict(trained, halves().images[:7]), probs.argmax(dim=1))


def test_save_and_load_give_the_same_predictions(trained, tmp_path):
    path = save_classifier(trained, tmp_path / "c.pt", {"note": "test"})
    loaded = load_classifier(path)
    images = halves(seed=2).images
    assert torch.allclose(predict_probs(loaded, images), predict_probs(trained, images))
    assert loaded.classes == ["left", "right"]
    assert loaded.info == {"note": "test"}
    assert not any(p.requires_grad for p in loaded.parameters())


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"epochs": 0}, "epochs must be a whole number"),
        ({"batch_size": 2.5}, "batch_size must be a whole number"),
        ({"lr": 0.0}, "lr must be above 0"),
    ],
)
def test_bad_training_options_are_refused_before_work(options, message):
    with pytest.raises(ValueError, match=message):
        train_classifier(halves(), progress=False, **options)


def test_one_class_data_is_refused():
    one = load_dataset("true_image")
    with pytest.raises(ValueError, match="at least 2 classes"):
        train_classifier(one, epochs=1, progress=False)


def test_images_of_the_wrong_shape_are_refused(trained):
    with pytest.raises(ClassifierError, match="1-channel images"):
        predict_probs(trained, torch.zeros(4, 3, 16, 16))


def test_missing_and_foreign_files_name_the_fix(tmp_path):
    with pytest.raises(ClassifierError, match="python -m gancourse classifier"):
        load_classifier("cifar10-not-shipped")
    foreign = tmp_path / "x.pt"
    torch.save({"weights": 1}, foreign)
    with pytest.raises(ClassifierError, match="not a gancourse classifier"):
        load_classifier(foreign)
    with pytest.raises(ClassifierError, match="no such file .*none.pt"):
        load_classifier(tmp_path / "none.pt")


def test_a_path_is_a_file_and_a_bare_word_a_shipped_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ClassifierError) as caught:
        load_classifier(Path("afile"))
    assert str(caught.value).startswith("no such file afile:")
    with pytest.raises(ClassifierError) as caught:
        load_classifier("afile")
    message = str(caught.value)
    assert "no shipped classifier for 'afile'" in message
    assert "ships one for mnist-5k, shapes" in message and "PosixPath" not in message
    for name in ("sub/afile", "afile.pt"):
        with pytest.raises(ClassifierError, match="no such file"):
            load_classifier(name)


@pytest.mark.parametrize("contents", ["random", "pickle"])
def test_a_file_torch_cannot_read_safely_never_suggests_weights_only_false(
    tmp_path, contents
):
    path = tmp_path / "clf.pt"
    if contents == "random":
        path.write_bytes(os.urandom(2048))
    else:  # a module needs pickle's code execution to load
        torch.save(torch.nn.Linear(2, 2), path)
    with pytest.raises(ClassifierError) as caught:
        load_classifier(path)
    message = str(caught.value)
    assert "not a classifier written by `python -m gancourse classifier`" in message
    assert "weights_only" not in message and "torch cannot read it" in message


def test_a_huge_file_is_not_read(tmp_path, monkeypatch):
    path = tmp_path / "clf.pt"
    path.write_bytes(b"0" * 2048)
    monkeypatch.setattr(classifier_module, "MAX_FILE_BYTES", 1024)
    with pytest.raises(ClassifierError, match="ours are under 1 MiB"):
        load_classifier(path)


@pytest.mark.parametrize(
    "change",
    [
        {"settings": {"channels": 2, "num_classes": 10, "image_size": 28}},
        {"settings": {"channels": 1, "num_classes": 10**9, "image_size": 28}},
        {"settings": {"channels": 1, "num_classes": "10", "image_size": 28}},
        {"classes": ["only one name"]},
        {"state_dict": {}},
    ],
)
def test_a_classifier_file_this_version_cannot_build_is_one_error(tmp_path, change):
    path = save_classifier(Classifier(), tmp_path / "clf.pt", {})
    state = torch.load(path, weights_only=True)
    torch.save(state | change, path)
    with pytest.raises(ClassifierError, match="this version cannot build"):
        load_classifier(path)


def test_the_shipped_names_are_the_shipped_files():
    files = sorted(runtime.PRETRAINED_DIR.glob("classifier_*.pt"))
    assert [shipped_path(name) for name in sorted(SHIPPED_CLASSIFIERS)] == files


def test_a_missing_shipped_classifier_says_how_to_restore_it(tmp_path, monkeypatch):
    monkeypatch.setattr(runtime, "PRETRAINED_DIR", tmp_path)
    with pytest.raises(ClassifierError) as caught:
        load_classifier("mnist-5k")
    message = str(caught.value)
    assert "the shipped classifier for 'mnist-5k' is missing" in message
    assert "ships with the course" in message
    assert f"`git checkout -- {tmp_path / 'classifier_mnist-5k.pt'}`" in message


def test_default_epochs_scale_with_the_data():
    assert default_epochs(4000) > default_epochs(60000) >= 3


def test_the_shipped_classifier_scores_97_percent_on_held_out_digits(shipped):
    test = load_dataset("mnist-5k", split="test")
    accuracy = classifier_accuracy(shipped, test.images, test.labels)
    assert accuracy >= 0.97
    assert shipped.classes == [str(d) for d in range(10)]
    assert shipped.info["dataset"] == "mnist-5k"
    assert abs(shipped.info["test_accuracy"] - accuracy) < 1e-6


def test_the_shipped_classifier_is_small_and_records_its_command():
    path = shipped_path("mnist-5k")
    assert path.stat().st_size < 1_000_000
    info = load_classifier(path).info
    assert "python -m gancourse classifier --dataset mnist-5k" in " ".join(
        info["command"]
    )
