"""The events at which GANTrainer calls its callbacks: defined here, and only here.

A callback method is named after the event it handles (`def after_step(...)`);
`Callback` refuses a method that looks like an event (before_*, after_*) but is
not one, so a misspelt handler fails when its class is defined instead of
never running. Notebook 05 teaches them.
"""

from __future__ import annotations

import difflib
from enum import StrEnum, auto


class Event(StrEnum):
    """Where the trainer calls its callbacks, in the order they fire."""

    before_fit = auto()  # fit starts (after a resume, trainer.step is not 0)
    before_step = auto()  # a training step starts: step_figures is empty
    after_d_backward = auto()  # D's gradients are set, its optimiser has not stepped
    after_d_update = auto()  # D's optimiser stepped (WGAN: clipped); loss_d is known
    after_g_backward = auto()  # G's gradients are set, its optimiser has not stepped
    after_g_update = auto()  # G's optimiser stepped; loss_g is known
    after_step = auto()  # trainer.step counts this step; history holds its figures
    after_epoch = auto()  # the last batch of an epoch was used (in the step just done)
    after_fit = auto()  # fit ended: its steps are done, or it was stopped


# names of older versions, so old code is told the new name rather than a guess
RENAMED = {
    "before_d_update": Event.after_d_backward,
    "after_d_step": Event.after_d_update,
    "before_g_update": Event.after_g_backward,
    "after_g_step": Event.after_g_update,
}


def looks_like_event(name: str) -> bool:
    """True for a name a person would use for an event handler: before_*, after_*."""
    return name.startswith(("before_", "after_"))


def unknown_event(name: str) -> str:
    """A message for a name that is not an event: the events, and the closest one."""
    names = [event.value for event in Event]
    if name in RENAMED:
        hint = f" It was renamed {RENAMED[name].value}."
    else:  # a misspelt old name gets the new name too
        close = difflib.get_close_matches(name, [*names, *RENAMED], n=1)
        hint = f" Did you mean {RENAMED.get(close[0], close[0])}?" if close else ""
    return f"{name!r} is not a training event.{hint} The events: {', '.join(names)}."


def as_event(name: str) -> Event:
    """The Event called `name`; any other name is an error that lists the events."""
    try:
        return Event(name)
    except ValueError:
        raise ValueError(unknown_event(name)) from None
