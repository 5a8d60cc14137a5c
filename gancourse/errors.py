"""The errors a user can cause: each derives from GancourseError and says the fix.

`python -m gancourse` prints a GancourseError as one `error: ...` line and exits
with status 2; any other exception is a bug in gancourse and keeps its traceback.
Each class also derives from the built-in error it refines (ValueError, ...), so
`except ValueError` keeps working.
"""


class GancourseError(Exception):
    """Something the user gave cannot work; the message names the problem and fix."""


class UsageError(GancourseError, ValueError):
    """A setting, option or argument that cannot work (a bad value or combination)."""


class UsageTypeError(GancourseError, TypeError):
    """An argument of the wrong type, or a setting name that does not exist."""


class UnknownDatasetError(UsageError):
    """The dataset name is not in the catalogue."""


class DatasetUnavailableError(GancourseError, RuntimeError):
    """A dataset has no local copy and could not be downloaded."""


class DeviceError(GancourseError, RuntimeError):
    """The device asked for (cuda, mps) is not available on this machine."""


class BusyError(GancourseError, RuntimeError):
    """The thing asked for is in use: e.g. a trainer that is already training."""


class CheckpointError(GancourseError, ValueError):
    """A checkpoint cannot be used: missing, corrupt, not ours, or for another model."""


class ClassifierError(GancourseError, ValueError):
    """A classifier file that is missing, foreign or does not fit the images."""


class StorageError(GancourseError, OSError):
    """A file could not be written: the disk is full, read-only, or a name too long."""
