"""Notebook 11's ladder: from the course's DCGAN to a modern GAN, one rung at a time.

Each rung keeps every change of the rungs below it and adds its own; the
settings are GANTrainer.from_preset("dcgan", ...) overrides: `d` for the
DiscriminatorConfig, the rest for the TrainConfig.
"""

from __future__ import annotations

from gancourse.errors import UsageError

# (rung name, what it adds)
LADDER: tuple[tuple[str, dict], ...] = (
    ("DCGAN", {}),
    (  # Miyato et al. 2018: D's layers 1-Lipschitz; BatchNorm would undo the bound
        "+ spectral norm, hinge",
        {"d": {"spectral_norm": True, "batchnorm": False}, "loss": "hinge"},
    ),
    ("+ TTUR", {"lr_d": 4e-4, "lr_g": 1e-4}),  # Heusel et al. 2017: D learns faster
    ("+ EMA", {"ema": 0.995}),  # sample from G's weights averaged over ~200 steps
    (  # Huang et al. 2024 (R3GAN): a relativistic pairing loss, R1 and R2, the
        # penalties every 4th step, 4 times as heavy (StyleGAN2's lazy regularisation)
        "+ relativistic, R1/R2",
        {"loss": "relativistic", "r1_gamma": 1.0, "r2_gamma": 1.0, "penalty_every": 4},
    ),
)
RUNGS = tuple(name for name, _ in LADDER)


def rung_settings(rung: str) -> dict:
    """The from_preset overrides of `rung`: its own and every rung's below it."""
    if rung not in RUNGS:
        raise UsageError(f"unknown rung {rung!r}: choose one of {list(RUNGS)}.")
    settings: dict = {"d": {}}
    for _, adds in LADDER[: RUNGS.index(rung) + 1]:
        settings["d"] |= adds.get("d", {})
        settings |= {key: value for key, value in adds.items() if key != "d"}
    return settings
