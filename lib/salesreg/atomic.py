"""Replace a shared file atomically, keep rotated backups, and never overwrite a newer save.

The new content goes to a temporary file in the same folder, is flushed to disk and verified,
and then takes the file's name in one rename. A program that opens the file, or a crash at
any moment, therefore finds either the old or the new file, never a mix. Just before the rename the file must still hold the bytes that were
read (their SHA-256), otherwise someone saved in between and ``RegisterChanged`` is raised.

POSIX has no rename that replaces a file only if it is unchanged. On Linux the final step
therefore swaps the two names with renameat2(RENAME_EXCHANGE) and checks the file it took
out of place: if that is not the one that was read, the swap is undone and the other save
stays. Elsewhere, and on file systems without that call, the check runs right before
``os.replace``, which leaves a window of microseconds in which a save can be overwritten.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import glob
import hashlib
import logging
import os
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from .errors import WorkbookBusy
from .i18n import _

log = logging.getLogger(__name__)

TEMP_PREFIX = ".~salesreg."
# A temporary file this old is left over from a run that was killed. A younger one may belong
# to a salesreg job on another computer that writes to the same shared folder.
LEFTOVER_SECONDS = 3600

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


class RegisterChanged(WorkbookBusy):
    """The file was saved by someone else after salesreg read it; nothing was written."""


def file_digest(path: Path) -> str:
    """Return the SHA-256 of the file's bytes, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def backup_path(path: Path, number: int) -> Path:
    """Return the name of the ``number``-th newest backup of ``path``: register.backup-1.xlsx is the newest."""
    return path.with_name(f"{path.stem}.backup-{number}{path.suffix}")


def newest_backup(path: Path) -> Path | None:
    """Return the newest backup of ``path`` that exists, or None."""
    numbered = []
    for candidate in path.parent.glob(glob.escape(f"{path.stem}.backup-") + "*" + glob.escape(path.suffix)):
        number = candidate.name[len(path.stem) + len(".backup-") : len(candidate.name) - len(path.suffix)]
        if number.isdigit():
            numbered.append((int(number), candidate))
    return min(numbered)[1] if numbered else None


def replace_file(
    path: Path,
    write: Callable[[BinaryIO], None],
    verify: Callable[[Path], None],
    expected_digest: str | None,
    backups: int,
    before_replace: Callable[[], None] = lambda: None,
) -> Path | None:
    """Replace ``path`` with what ``write`` produces, unless the file changed since it was read.

    ``write`` writes the new content into an open binary file. ``verify`` reads the finished
    temporary file back and raises when it is not right. ``before_replace`` runs just before
    the rename, where the caller checks lock files. ``expected_digest`` is the SHA-256 of the
    bytes the new content was made from; with None the file is replaced whatever it contains
    when the rename starts. ``backups`` rotated copies of earlier versions are kept as
    register.backup-1.xlsx (the newest) to register.backup-N.xlsx.

    Raise RegisterChanged when the file no longer contains those bytes; then ``path`` is left
    as it is. Return the path of the newest backup, or None when ``backups`` is 0 or there was
    no file before.
    """
    folder = path.parent
    _remove_leftovers(path)
    handle, temp_name = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{path.name}.", suffix=".tmp", dir=folder)
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        # mkstemp creates the file for its owner only; the register keeps its own permissions.
        with contextlib.suppress(OSError):
            os.chmod(temp, stat.S_IMODE(path.stat().st_mode))
        verify(temp)

        before_replace()
        if not path.exists():
            os.replace(temp, path)
            _sync_folder(folder)
            return None
        identity = _identity(path)
        current = file_digest(path)
        if expected_digest is None:
            expected_digest = current
        elif current != expected_digest:
            raise changed_error(path)
        ours = os.stat(temp).st_ino
        if _exchange(temp, path):
            _keep_or_undo(path, temp, ours, expected_digest, backups)
        else:
            _replace_with_check(path, temp, identity, expected_digest, backups)
        _sync_folder(folder)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    return backup_path(path, 1) if backups > 0 else None


def _identity(path: Path) -> tuple[int, int, int, int]:
    status = os.stat(path)
    return status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns


def _keep_or_undo(path: Path, previous: Path, ours: int, expected_digest: str, backups: int) -> None:
    """After a swap, keep ``previous`` as the newest backup, or undo the swap if it is not the file that was read.

    ``ours`` is the inode of the file written here, which now has the name ``path``.
    """
    if file_digest(previous) == expected_digest:
        _store_backup(path, previous, backups)
        return
    # Someone saved between the check and the swap, so ``previous`` contains that save.
    if os.stat(path).st_ino == ours and _exchange(previous, path):
        log.warning("%s was saved by someone else while salesreg replaced it; their save was put back.", path)
        raise changed_error(path)
    # A second save took the name in the meantime and stays; the first is kept beside it.
    conflict = path.with_name(f"{path.stem}.conflict-{datetime.now():%Y%m%d-%H%M%S-%f}{path.suffix}")
    os.replace(previous, conflict)
    log.error("%s was saved twice while salesreg replaced it; the newer save stays and the other is kept as %s.",
              path, conflict)
    raise changed_error(path)


def _replace_with_check(path: Path, temp: Path, identity: tuple[int, int, int, int], expected_digest: str, backups: int) -> None:
    """Copy the current file to the newest backup, then rename ``temp`` over ``path`` if the file is unchanged.

    ``identity`` (device, inode, size, modification time) was taken when the digest was checked.
    """
    if backups > 0:
        copy = path.with_name(f"{TEMP_PREFIX}{path.name}.{os.getpid()}.backup.tmp")
        shutil.copy2(path, copy)
        if file_digest(copy) != expected_digest:
            copy.unlink()
            raise changed_error(path)
        _store_backup(path, copy, backups)
    if _identity(path) != identity:
        raise changed_error(path)
    os.replace(temp, path)


def _store_backup(path: Path, previous: Path, backups: int) -> None:
    """Move ``previous`` to backup-1 after shifting the older backups up by one; drop the oldest."""
    if backups <= 0:
        previous.unlink()
        return
    for number in range(backups, 1, -1):
        older = backup_path(path, number - 1)
        if older.exists():
            os.replace(older, backup_path(path, number))
    os.replace(previous, backup_path(path, 1))


def changed_error(path: Path) -> RegisterChanged:
    """Return the error for a register that someone saved between this run's read and its write."""
    return RegisterChanged(
        _("{path} was saved by someone else during this run; nothing was written. Run again.").format(path=path)
    )





def _remove_leftovers(path: Path) -> None:
    """Delete temporary files that killed runs left beside ``path``."""
    limit = time.time() - LEFTOVER_SECONDS
    for leftover in path.parent.glob(glob.escape(f"{TEMP_PREFIX}{path.name}.") + "*.tmp"):
        with contextlib.suppress(OSError):
            if leftover.stat().st_mtime < limit:
                leftover.unlink()
                log.info("Removed %s, left over from an interrupted run.", leftover)


def _sync_folder(folder: Path) -> None:
    """Flush the folder's entries to disk so that the rename survives a power loss (POSIX only)."""
    if sys.platform == "win32":
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    except OSError as exc:
        # Some network file systems do not support fsync on a folder; the rename itself is done.
        log.debug("fsync of folder %s failed: %s", folder, exc)
    finally:
        os.close(descriptor)


def _load_renameat2() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.renameat2  # glibc 2.28 and later
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_renameat2 = _load_renameat2()


def _exchange(first: Path, second: Path) -> bool:
    """Swap two names atomically; return False where the system or the file system cannot."""
    if _renameat2 is None:
        return False
    if _renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EPERM):
        return False
    raise OSError(code, os.strerror(code), str(second))
