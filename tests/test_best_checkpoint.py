"""BestCheckpoint: the judge's FID during training, and the best state kept."""

import pytest
import torch

import gancourse.training.best as best_module
from gancourse.errors import GancourseError
from gancourse.training import GANTrainer, load_checkpoint
from gancourse.training.best import BestCheckpoint
from tests.test_training import make

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def real(held_out):
    return held_out.images[:200]


def test_it_keeps_the_lowest_fid_not_the_last(
    mnist, judge, real, tmp_path, monkeypatch
):
    scripted = iter([50.0, 30.0, 40.0, 60.0])  # the best is the second measurement
    monkeypatch.setattr(best_module, "fid_against", lambda metric, fake: next(scripted))
    keeper = BestCheckpoint(judge, real, tmp_path / "best.pt", every=2, n=20)
    trainer = make(mnist, callbacks=[keeper]).fit(steps=8)
    assert trainer.history["fid_step"] == [2, 4, 6, 8]
    assert trainer.history["fid"] == [50.0, 30.0, 40.0, 60.0]
    assert (keeper.best_step, keeper.best_fid) == (4, 30.0)
    saved = load_checkpoint(tmp_path / "best.pt")
    assert saved["step"] == 4 and saved["history"]["fid"] == [50.0, 30.0]
    again = GANTrainer.resume(tmp_path / "best.pt", mnist, progress=False)
    assert again.step == 4  # a usable checkpoint of that state


def test_measuring_leaves_the_run_unchanged(mnist, judge, real, tmp_path):
    keeper = BestCheckpoint(judge, real, tmp_path / "best.pt", every=2, n=20)
    measured = make(mnist, callbacks=[keeper]).fit(steps=4)
    plain = make(mnist).fit(steps=4)
    for key, value in plain.G.state_dict().items():
        assert torch.equal(value, measured.G.state_dict()[key]), key
    assert plain.history["loss_d"] == measured.history["loss_d"]
    assert all(f > 0 for f in measured.history["fid"])


def test_the_same_weights_give_the_same_fid(mnist, judge, real, tmp_path):
    """Fixed noise: two measurements differ only if G changed."""
    keeper = BestCheckpoint(judge, real, tmp_path / "best.pt", n=30)
    trainer = make(mnist)
    assert keeper.measure(trainer) == keeper.measure(trainer)
    trainer.fit(steps=2)
    assert keeper.measure(trainer) != trainer.history["fid"][0]


@pytest.mark.parametrize(
    ("setting", "match"), [({"every": 0}, "every"), ({"n": 1.5}, "n")]
)
def test_bad_settings_are_one_clear_error(judge, real, tmp_path, setting, match):
    with pytest.raises(GancourseError, match=match):
        BestCheckpoint(judge, real, tmp_path / "best.pt", **setting)


@pytest.mark.parametrize(
    "bad_real", [[[0.0]], torch.zeros(5, 3, 32, 32), torch.zeros(1, 1, 28, 28)]
)
def test_real_images_the_judge_cannot_read_are_one_clear_error(
    judge, tmp_path, bad_real
):
    with pytest.raises(GancourseError, match="real"):
        BestCheckpoint(judge, bad_real, tmp_path / "best.pt")
    assert not (tmp_path / "best.pt").exists()
