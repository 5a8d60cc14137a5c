"""A Sphinx extension that keeps the book offline: local MathJax, no thebe.

- MathJax 2.7 comes from the `jupyter-server-mathjax` package (Jupyter's own copy,
  which the `book` extra installs). It is copied into the site's
  `_static/mathjax/` and `mathjax_path` points there, so the pages typeset their
  maths with no network, opened from the disk as well as from a server.
- sphinx-thebe (which Jupyter Book always loads) would add a script that fetches
  thebe from a CDN on a click, and adds its settings twice, a script error on
  every page; a static book runs no code, so its scripts are left out.
"""

from __future__ import annotations

import shutil
from pathlib import Path

# the one combined configuration the package ships: TeX in, HTML-CSS out
MATHJAX_PATH = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"


def mathjax_source() -> Path:
    """The folder of MathJax.js inside the jupyter-server-mathjax package."""
    import jupyter_server_mathjax

    return Path(jupyter_server_mathjax.__file__).parent / "static"


def use_local_mathjax(app, config) -> None:
    """Point mathjax_path at the copy this extension puts in _static."""
    config.mathjax_path = MATHJAX_PATH


def copy_mathjax(app, exception) -> None:
    """Copy MathJax into the built site once the pages are written."""
    if exception is None and app.builder.format == "html":
        target = Path(app.outdir) / "_static" / "mathjax"
        shutil.copytree(mathjax_source(), target, dirs_exist_ok=True)


def drop_thebe_scripts(app) -> None:
    """Disconnect sphinx-thebe's step that adds its scripts to every page."""
    for listener in list(app.events.listeners.get("env-before-read-docs", [])):
        if getattr(listener.handler, "__name__", "") == "init_thebe_core":
            app.disconnect(listener.id)


def setup(app):
    """Register the steps with Sphinx (after Jupyter Book's own extensions)."""
    app.connect("config-inited", use_local_mathjax, priority=900)
    app.connect("build-finished", copy_mathjax)
    drop_thebe_scripts(app)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
