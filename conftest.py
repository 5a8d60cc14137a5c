"""pytest set-up for the whole repository: tests and notebooks run in quick mode.

Kept at the root so that `pytest notebooks/05_dcgan.ipynb` alone also runs quick
and headless (notebook kernels inherit these variables). A mode set outside
(GANCOURSE_MODE=laptop, GANCOURSE_REHEARSAL=1) is kept.
"""

import os

if not {"GANCOURSE_MODE", "GANCOURSE_REHEARSAL"} & set(os.environ):
    os.environ.setdefault("GANCOURSE_QUICK", "1")
os.environ.setdefault("GANCOURSE_HEADLESS", "1")
