"""A sample's host directory: created for its sandbox, removed after it, swept after a crash.

Below both the sandbox (`bwrap.py`) and the host probe (`select.py`), which each need a real
sample directory: the probe to run `true` in a sandbox, the sandbox for every sample.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from stagelens.sandbox._command import GROUP, PASSWD, SampleDirs, drops_privileges
from stagelens.sandbox.config import BwrapConfig


def create_sample_dirs(config: BwrapConfig) -> SampleDirs:
    """A fresh host directory for one sample, owned by the uid its sandbox runs as."""
    root = Path(tempfile.mkdtemp(prefix=ROOT_PREFIX, dir=config.root_dir))
    # which process owns it, so a later run can tell a dead run's directory from a live one
    (root / OWNER_FILE).write_text(str(os.getpid()), encoding="utf-8")
    dirs = SampleDirs(root)
    for path in (dirs.workspace, dirs.tmp, dirs.etc):
        path.mkdir()
    (dirs.etc / "passwd").write_text(PASSWD, encoding="utf-8")
    (dirs.etc / "group").write_text(GROUP, encoding="utf-8")
    dirs.tmp.chmod(0o1777)
    # a mount's folder must exist before bwrap can bind it
    mounted = [dirs.workspace / rel for rel in config.mounts.values()]
    for path in mounted:
        path.mkdir(parents=True, exist_ok=True)
    if drops_privileges():
        # root (0700) and etc stay unreadable to other host users; the sandbox uid owns
        # what it must write and traverse
        inside = {p for m in mounted for p in (m, *m.parents) if dirs.workspace in p.parents}
        for path in (dirs.root, dirs.workspace, dirs.tmp, *sorted(inside)):
            os.chown(path, config.host_uid, config.host_gid)
    return dirs


ROOT_PREFIX = "stagelens-bwrap-"
OWNER_FILE = "owner.pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def sweep_stale_sample_dirs(root_dir: str | None = None) -> list[Path]:
    """Remove sample directories whose owning process is gone; returns what was removed.

    Only directories carrying an owner file are considered: anything else under the same
    prefix was not made by this code and is left alone.
    """
    removed: list[Path] = []
    parent = Path(root_dir) if root_dir is not None else Path(tempfile.gettempdir())
    for root in parent.glob(f"{ROOT_PREFIX}*"):
        try:
            pid = int((root / OWNER_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if pid != os.getpid() and not _alive(pid):
            remove_sample_dirs(SampleDirs(root))
            removed.append(root)
    return removed


def remove_sample_dirs(dirs: SampleDirs) -> None:
    """Delete a sample's directory, whatever the agent did to its permissions."""

    def make_writable_and_retry(function: Callable[[str], object], path: str, _: object) -> None:
        # only matters when not root: the agent may have chmod'ed a directory 0500
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(path), 0o700)
            function(path)

    shutil.rmtree(dirs.root, onerror=make_writable_and_retry)
