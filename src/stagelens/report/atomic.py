"""Atomic file writes.

A reader (another process, a browser refreshing the report, a crashed run being
resumed) must see either the old file or the complete new one, never a
truncated mix. So data goes to a temporary file in the target's own directory
(``os.replace`` is atomic only within one filesystem), is flushed to disk, and
is then renamed over the target.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

__all__ = ["atomic_write_bytes", "atomic_write_text"]

_MAX_NAME_TRIES = 100


def _open_temp(target: Path) -> tuple[int, Path]:
    # Not tempfile.mkstemp: it creates files 0o600, and a report or results.json
    # should get the usual permissions. Opening with 0o666 lets the process
    # umask apply without reading it via os.umask, which is racy under threads.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(_MAX_NAME_TRIES):
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file next to {target}")


def _fsync_dir(directory: Path) -> None:
    # Without syncing the directory the rename itself may be lost on power
    # failure. Some platforms cannot open a directory (Windows), hence best effort.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path | str, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` atomically.

    ``mode`` sets the file's permissions. When omitted, an existing target keeps
    its permissions and a new file gets 0o666 minus the umask, as ``open`` would.
    On any failure the temporary file is removed and the target is untouched.
    """
    target = Path(path)
    fd, tmp = _open_temp(target)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        keep = mode if mode is not None else _existing_mode(target)
        if keep is not None:
            os.chmod(tmp, keep)
        os.replace(tmp, target)
    except BaseException:
        # BaseException too: a KeyboardInterrupt mid-write must not leave
        # hidden temp files behind.
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(target.parent)


def atomic_write_text(
    path: Path | str, text: str, *, encoding: str = "utf-8", mode: int | None = None
) -> None:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write_bytes`).

    Newlines are written as given, with no platform translation, so the bytes on
    disk do not depend on the OS that wrote them.
    """
    atomic_write_bytes(path, text.encode(encoding), mode=mode)


def _existing_mode(target: Path) -> int | None:
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        return None
