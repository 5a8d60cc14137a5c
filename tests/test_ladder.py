"""Notebook 11's ladder: each rung keeps the rungs below it and trains."""

import pytest

from gancourse.errors import GancourseError
from gancourse.training import GANTrainer
from gancourse.training.ladder import LADDER, RUNGS, rung_settings

pytestmark = pytest.mark.usefixtures("one_thread")


def test_each_rung_keeps_what_the_rungs_below_it_added():
    for i, rung in enumerate(RUNGS):
        settings = rung_settings(rung)
        for _, adds in LADDER[: i + 1]:
            assert adds.get("d", {}).items() <= settings["d"].items()
        own = {k: v for k, v in LADDER[i][1].items() if k != "d"}
        assert own.items() <= settings.items()  # its own change, as written
    top = rung_settings(RUNGS[-1])
    assert top["loss"] == "relativistic"  # the pairing loss replaced the hinge
    assert top["d"] == {"spectral_norm": True, "batchnorm": False}
    assert (top["lr_d"], top["lr_g"], top["ema"]) == (4e-4, 1e-4, 0.995)
    assert rung_settings("DCGAN") == {"d": {}}


def test_changing_a_rung_s_settings_leaves_the_ladder_alone():
    settings = rung_settings(RUNGS[1])
    settings["d"]["width"] = 8
    settings["loss"] = "minimax"
    assert rung_settings(RUNGS[1])["d"] == {"spectral_norm": True, "batchnorm": False}
    assert rung_settings(RUNGS[1])["loss"] == "hinge"


@pytest.mark.parametrize("rung", RUNGS)
def test_every_rung_trains(mnist, rung):
    settings = rung_settings(rung)
    trainer = GANTrainer.from_preset(
        "dcgan",
        mnist,
        g={"width": 8},
        d={"width": 8, **settings.pop("d")},
        batch_size=16,
        progress=False,
        **settings,
    ).fit(steps=2)
    assert trainer.step == 2 and trainer.config.loss == rung_settings(rung).get(
        "loss", "non-saturating"
    )
    assert (trainer.g_average is not None) == ("ema" in rung_settings(rung))


def test_an_unknown_rung_is_one_clear_error():
    with pytest.raises(GancourseError, match="unknown rung 'EMA'"):
        rung_settings("EMA")
