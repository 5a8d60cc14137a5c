"""pytest set-up for the whole repository: tests and notebooks run in quick mode.

Kept at the root so that `pytest notebooks/05_dcgan.ipynb` alone also runs quick
and headless (notebook kernels inherit these variables). A mode set outside
(GANCOURSE_MODE=laptop, GANCOURSE_REHEARSAL=1) is kept. A rehearsal of full mode
without GANCOURSE_DATA gets stand-in MNIST, Fashion-MNIST and CIFAR-10 files in
their real formats (tests/standins.py), in a folder removed at the end.
"""

import os
import shutil
import tempfile

if not {"GANCOURSE_MODE", "GANCOURSE_REHEARSAL"} & set(os.environ):
    os.environ.setdefault("GANCOURSE_QUICK", "1")
os.environ.setdefault("GANCOURSE_HEADLESS", "1")
_STAND_INS: list[str] = []  # the folder this session made, to remove at the end


def pytest_configure(config):
    """Write the rehearsal's stand-in datasets before any kernel starts."""
    rehearsal = os.environ.get("GANCOURSE_REHEARSAL", "").strip().lower()
    if rehearsal in ("1", "true", "yes", "on") and not os.environ.get("GANCOURSE_DATA"):
        folder = tempfile.mkdtemp(prefix="gancourse-stand-ins-")
        os.environ["GANCOURSE_DATA"] = folder  # before gancourse reads it
        from tests.standins import write_standins

        write_standins(folder)
        _STAND_INS.append(folder)


def pytest_unconfigure(config):
    """Remove the stand-in datasets this session wrote."""
    for folder in _STAND_INS:
        shutil.rmtree(folder, ignore_errors=True)
