"""gancourse: the helpers the GAN course notebooks share.

Importing it needs no Jupyter: widget code is imported only where it is used.
"""

from gancourse.runtime import (
    MODE,
    QUICK,
    budget,
    expect,
    get_device,
    pick,
    seed_everything,
    setup,
)

__version__ = "0.1.0"
__all__ = [
    "MODE",
    "QUICK",
    "budget",
    "expect",
    "get_device",
    "pick",
    "seed_everything",
    "setup",
]
