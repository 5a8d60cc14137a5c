"""Unpacking archives from outside safely: nothing lands outside, sizes are capped.

A `cifar-10-python.tar.gz` or an MNIST `.gz` file that a user put in the data
folder is untrusted: a hostile archive could name `../../x` or `/etc/x`, link to
files outside the folder, or unpack to terabytes (a "zip bomb"). These readers
check every member before writing anything, refuse what is unsafe with one clear
error, and move a decompressed file into place only once it is complete.
"""

from __future__ import annotations

import gzip
import os
import tarfile
import tempfile
import zlib
from pathlib import Path, PurePosixPath

from gancourse.errors import DatasetUnavailableError, StorageError

# 1 GB: CIFAR-10 unpacks to 178 MB and MNIST's largest file to 47 MB
MAX_UNPACKED_BYTES = 1_000_000_000
MAX_MEMBERS = 1_000  # CIFAR-10's archive holds 9
CHUNK_BYTES = 1 << 20  # decompress 1 MB at a time
# what a damaged gzip or tar file raises while it is read
CORRUPT_ERRORS = (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile)
# Python >= 3.11.4 can also refuse unsafe members itself; we check them first anyway
SAFE_EXTRACT = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}


def _refuse(archive: Path, problem: str, fix: str) -> DatasetUnavailableError:
    """The one error for an archive that cannot be unpacked: what is wrong, the fix."""
    return DatasetUnavailableError(f"{archive} {problem}.\nTo fix: {fix}")


def _no_room(archive: Path, folder: Path, error: OSError) -> StorageError:
    """The one error for a write into the data folder that failed (disk full, ...)."""
    return StorageError(
        f"cannot unpack {archive} into {folder}: {error.strerror}. Free some space "
        "or make the folder writable (or set GANCOURSE_DATA to another data folder), "
        "then load the dataset again."
    )


def _unsafe_reason(member: tarfile.TarInfo) -> str | None:
    """Why a tar member is unsafe to unpack, or None for a plain file or folder."""
    name = PurePosixPath(member.name)
    if name.is_absolute() or ".." in name.parts:
        return f"its member {member.name!r} points outside the folder it goes into"
    if not (member.isfile() or member.isdir()):
        return f"its member {member.name!r} is a link or device, not a plain file"
    return None


def _checked_members(tar: tarfile.TarFile, archive: Path, fix: str) -> list:
    """Every member of the archive, each one checked: plain, inside, not too big."""
    members, total_bytes = [], 0
    for member in tar:
        reason = _unsafe_reason(member)
        if reason is not None:
            raise _refuse(archive, f"is unsafe to unpack: {reason}", fix)
        members.append(member)
        total_bytes += member.size
        if total_bytes > MAX_UNPACKED_BYTES or len(members) > MAX_MEMBERS:
            raise _refuse(
                archive,
                f"would unpack to more than {MAX_UNPACKED_BYTES:,} bytes or "
                f"{MAX_MEMBERS:,} files, far more than the dataset it should hold",
                fix,
            )
    return members


def unpack_tar(archive: Path, into: Path, fix: str) -> None:
    """Unpack a (gzipped) tar archive into the folder `into`, once it is checked."""
    try:
        with tarfile.open(archive) as tar:
            members = _checked_members(tar, archive, fix)
            tar.extractall(into, members=members, **SAFE_EXTRACT)
    except CORRUPT_ERRORS as error:
        raise _refuse(archive, f"is corrupt or truncated ({error})", fix) from error
    except OSError as error:  # the data folder is full or cannot be written
        raise _no_room(archive, into, error) from None


def _copy_capped(source, target, archive: Path, fix: str) -> None:
    """Copy one open file to another, refusing more than MAX_UNPACKED_BYTES."""
    written = 0
    while chunk := source.read(CHUNK_BYTES):
        written += len(chunk)
        if written > MAX_UNPACKED_BYTES:
            raise _refuse(
                archive,
                f"would unpack to more than {MAX_UNPACKED_BYTES:,} bytes, far more "
                "than the file it should hold",
                fix,
            )
        target.write(chunk)


def gunzip(archive: Path, target: Path, fix: str) -> None:
    """Decompress a .gz file into `target`, which appears only once it is complete."""
    handle, partial = tempfile.mkstemp(
        prefix=f".incomplete-{target.name}-", dir=target.parent
    )
    try:
        with os.fdopen(handle, "wb") as out, gzip.open(archive) as packed:
            _copy_capped(packed, out, archive, fix)
        os.chmod(partial, 0o644)  # mkstemp's file is private; a data file need not be
        os.replace(partial, target)
    except CORRUPT_ERRORS as error:
        raise _refuse(archive, f"is corrupt or truncated ({error})", fix) from error
    except OSError as error:
        raise _no_room(archive, target.parent, error) from None
    finally:
        Path(partial).unlink(missing_ok=True)
