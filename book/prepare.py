"""Turn an executed notebook into a page of the book: solutions, widgets, no errors.

A static page runs no kernel and may be read offline, so before Jupyter Book sees
a notebook:

- a solution cell (between `### BEGIN SOLUTION` and `### END SOLUTION`) is hidden
  behind a click, or shown as the student's stub (SOLUTIONS=remove);
- a widget output (live controls) becomes the pictures and text it showed last,
  with a note that says so; a tqdm progress bar becomes one line of text;
- an error output stops the build: a page must never publish a traceback;
- an HTML output's style sheet from the internet is dropped: the page is offline.
"""

from __future__ import annotations

import base64
import html
import re

import nbformat

from gancourse.student import BEGIN, END, clear_solutions

SOLUTION_CHOICES = ("hide", "remove")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
SHOW_PROMPT = "Show the solution"
HIDE_PROMPT = "Hide the solution"
# widget models that only show something: everything else is a control
DISPLAY_MODELS = {
    "BoxModel",
    "HBoxModel",
    "VBoxModel",
    "GridBoxModel",
    "HTMLModel",
    "LabelModel",
    "ImageModel",
    "FloatProgressModel",
    "IntProgressModel",
}
_TAG = re.compile(r"<[^>]+>")
_REMOTE_STYLESHEET = re.compile(r"<link\b[^>]*\bhref=[\"']https?://[^>]*>")
_NOTEBOOK_LINK = re.compile(r"\[([^\]]*)\]\((\d\d_\w+)\.ipynb(#[^)]*)?\)")


class BookError(Exception):
    """A notebook or an option the book cannot be built from; says what to fix."""


def has_solution(cell) -> bool:
    """True for a code cell with a marked solution in it."""
    return cell.cell_type == "code" and (BEGIN in cell.source or END in cell.source)


def check_solutions(solutions: str) -> None:
    """Raise a one-line BookError unless solutions is 'hide' or 'remove'."""
    if solutions not in SOLUTION_CHOICES:
        raise BookError(
            f"SOLUTIONS={solutions!r} is not understood: use SOLUTIONS=hide "
            "or SOLUTIONS=remove."
        )


def treat_solutions(notebook, solutions: str) -> int:
    """Hide (behind a click) or remove every solution; return how many cells."""
    check_solutions(solutions)
    cells = [cell for cell in notebook.cells if has_solution(cell)]
    for cell in cells:
        if solutions == "remove":
            cell.source = clear_solutions(cell.source)
        else:
            tags = cell.metadata.setdefault("tags", [])
            if "hide-input" not in tags:
                tags.append("hide-input")
            cell.metadata["mystnb"] = {
                "code_prompt_show": SHOW_PROMPT,
                "code_prompt_hide": HIDE_PROMPT,
            }
    return len(cells)


def first_error(notebook) -> tuple[int, str] | None:
    """(cell number counted from 1, 'Name: message') of the first error output."""
    for number, cell in enumerate(notebook.cells, start=1):
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                return number, f"{output.ename}: {output.evalue}"
    return None


def widget_models(notebook) -> dict:
    """The widget models nbclient saved in the notebook, by model id."""
    state = notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {})
    return state.get("state", {})


def _model_tree(models: dict, model_id: str) -> list[dict]:
    """The model and every model under it (its children), depth first."""
    model = models.get(model_id)
    if model is None:
        return []
    tree = [model]
    for child in model["state"].get("children", []):
        tree += _model_tree(models, child.removeprefix("IPY_MODEL_"))
    return tree


def _picture(model: dict) -> nbformat.NotebookNode | None:
    """An image widget's last picture as an image output, or None if empty."""
    for buffer in model.get("buffers", []):
        if buffer["path"] == ["value"] and buffer["data"]:
            kind = model["state"].get("format", "png")
            mime = "image/svg+xml" if kind == "svg+xml" else f"image/{kind}"
            data = buffer["data"]
            if mime == "image/svg+xml":
                data = base64.b64decode(data).decode()
            return nbformat.v4.new_output("display_data", data={mime: data})
    return None


def _plain(text: str) -> str:
    """The text of a little HTML: tags dropped, entities decoded."""
    return html.unescape(_TAG.sub(" ", text)).replace("\xa0", " ").strip()


def _progress_line(tree: list[dict]) -> str:
    """A tqdm bar as one line: 'dcgan: 100% |##########| 40/40 [00:02<00:00]'."""
    parts = []
    for model in tree:
        state = model["state"]
        if model["model_name"] in ("FloatProgressModel", "IntProgressModel"):
            full = state.get("max") or 1
            done = round(10 * min(max(state.get("value", 0) / full, 0), 1))
            parts.append("|" + "#" * done + " " * (10 - done) + "|")
        elif model["model_name"] == "HTMLModel" and _plain(state.get("value", "")):
            parts.append(_plain(state["value"]))
    return " ".join(parts)


def note_for(pictures: int, texts: int) -> str:
    """The note above a widget cell, true to what the page shows in its place."""
    shown = []
    if pictures == 1:
        shown.append("its last figure")
    elif pictures > 1:
        shown.append(f"its last {pictures} figures")
    if texts:
        shown.append("its last readout")
    if not shown:
        what = "this static page cannot show them."
    else:
        what = "here is " + " and ".join(shown) + "."
    return (
        "```{note}\nIn Jupyter the next cell shows live controls (sliders and "
        f"buttons) that train as you move them; {what}\n```"
    )


def static_outputs(models: dict, model_id: str) -> tuple[list, bool]:
    """The outputs standing in for one widget view, and whether it had controls."""
    tree = _model_tree(models, model_id)
    if not tree:
        return [], False  # a view of a model that was not saved: nothing to show
    names = {model["model_name"] for model in tree}
    controls = bool(names - DISPLAY_MODELS)
    if not controls and names & {"FloatProgressModel", "IntProgressModel"}:
        line = _progress_line(tree) + "\n"
        return [nbformat.v4.new_output("stream", name="stdout", text=line)], False
    outputs = [picture for model in tree if (picture := _picture(model)) is not None]
    for model in tree:
        value = model["state"].get("value", "")
        if model["model_name"] in ("HTMLModel", "LabelModel") and _plain(value):
            html_output = {"text/html": value}
            outputs.append(nbformat.v4.new_output("display_data", data=html_output))
    return outputs, controls


def _is_picture(output) -> bool:
    """True for an output that holds an image."""
    return any(mime.startswith("image/") for mime in output.get("data", {}))


def replace_widgets(notebook) -> int:
    """Replace widget outputs by static ones, note live controls; return how many."""
    models = widget_models(notebook)
    notes = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        outputs, shown, controls = [], [], False
        for output in cell.outputs:
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view is None:
                outputs.append(output)
                continue
            replacement, has_controls = static_outputs(models, view["model_id"])
            outputs += replacement
            if has_controls:
                controls, shown = True, shown + replacement
        cell.outputs = outputs
        if controls:
            pictures = sum(_is_picture(output) for output in shown)
            notes.append((index, note_for(pictures, len(shown) - pictures)))
    for index, note in reversed(notes):
        notebook.cells.insert(index, nbformat.v4.new_markdown_cell(note))
    notebook.metadata.pop("widgets", None)  # no widget manager: nothing live to load
    return len(notes)


def unlink_absent(markdown: str, names: list[str]) -> str:
    """Links to notebooks left out of the book (NOTEBOOKS=...) become plain text."""

    def keep_or_unlink(link: re.Match) -> str:
        return link.group(0) if link.group(2) in names else link.group(1)

    return _NOTEBOOK_LINK.sub(keep_or_unlink, markdown)


def drop_remote_stylesheets(notebook) -> int:
    """Remove style sheets that HTML outputs load from the internet; return how many.

    Matplotlib's JavaScript animations link Font Awesome from a CDN for their
    buttons' icons; the book's theme ships Font Awesome itself.
    """
    dropped = 0
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            html_text = output.get("data", {}).get("text/html")
            if html_text:
                cleaned, count = _REMOTE_STYLESHEET.subn("", html_text)
                output.data["text/html"], dropped = cleaned, dropped + count
    return dropped


def prepare(notebook, solutions: str, names: list[str]) -> dict[str, int]:
    """Make an executed notebook ready to publish; `names`: the book's notebooks."""
    error = first_error(notebook)
    if error is not None:
        number, message = error
        raise BookError(f"cell {number} has an error output ({message})")
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = unlink_absent(cell.source, names)
    return {
        "solutions": treat_solutions(notebook, solutions),
        "widget cells": replace_widgets(notebook),
        "remote style sheets": drop_remote_stylesheets(notebook),
    }
