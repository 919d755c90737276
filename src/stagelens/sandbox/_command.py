"""The bwrap command line of one sandbox exec: mounts, namespaces, environment, rlimits."""

from __future__ import annotations

import functools
import glob
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from stagelens.sandbox.config import SANDBOX_GID, SANDBOX_UID, SANDBOX_USER, BwrapConfig

WORKSPACE = "/workspace"
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_MIB = 1024 * 1024

# /etc is not bound whole: it holds host secrets (shadow, ssh keys, credentials).
# These are the entries the dynamic loader, bash and Python actually read.
_ETC_ENTRIES = (
    "alternatives",
    "bash.bashrc",
    "hosts",
    "inputrc",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "nsswitch.conf",
    "profile",
    "profile.d",
)
_TOP_LEVEL = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")

PASSWD = (
    "root:x:0:0:root:/root:/usr/sbin/nologin\n"
    f"{SANDBOX_USER}:x:{SANDBOX_UID}:{SANDBOX_GID}:{SANDBOX_USER}:{WORKSPACE}:/bin/bash\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
)
GROUP = f"root:x:0:\n{SANDBOX_USER}:x:{SANDBOX_GID}:\nnogroup:x:65534:\n"


@dataclass(frozen=True)
class SampleDirs:
    """Host directories of one sample; only `workspace`, `tmp` and `etc` reach the sandbox."""

    root: Path

    @property
    def workspace(self) -> Path:
        return self.root / "workspace"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def etc(self) -> Path:
        return self.root / "etc"

    @property
    def readonly(self) -> Path:
        """Snapshots of `readonly_paths`, kept outside the workspace so the agent cannot
        swap the source of the read-only bind (e.g. by renaming a parent directory)."""
        return self.root / "readonly"


def executable(name: str) -> str:
    """Absolute host path of a required tool, or a RuntimeError naming it."""
    path = shutil.which(name, path="/usr/bin:/bin:/usr/sbin:/sbin:/usr/local/bin")
    if path is None:
        raise RuntimeError(f"the bwrap sandbox needs `{name}` on the host, and it is missing")
    return path


def drops_privileges() -> bool:
    """Whether bwrap must be started as an unprivileged host uid.

    The kernel exempts processes of host uid 0 from RLIMIT_NPROC even inside a user
    namespace, so as root the process limit would not contain a fork bomb.
    """
    return os.geteuid() == 0


@functools.cache
def _system_binds() -> tuple[str, ...]:
    args: list[str] = ["--ro-bind", "/usr", "/usr"]
    for name in _TOP_LEVEL:
        host = f"/{name}"
        # merged-/usr hosts make /bin and /lib symlinks; copy the link, not the tree
        if os.path.islink(host):
            args += ["--symlink", os.readlink(host), host]
        elif os.path.isdir(host):
            args += ["--ro-bind", host, host]
    etc = [f"/etc/{name}" for name in _ETC_ENTRIES] + sorted(glob.glob("/etc/python3*"))
    for path in etc:
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    return tuple(args)


def bwrap_argv(
    dirs: SampleDirs,
    config: BwrapConfig,
    cmd: Sequence[str],
    *,
    cwd: str = WORKSPACE,
    env: Mapping[str, str] | None = None,
    limits: bool = True,
    readonly_writable: bool = False,
) -> list[str]:
    """The full host argv running `cmd` in the sample's sandbox.

    `limits=False, readonly_writable=True` is the privileged variant used by
    `write_file`/`read_file`: Inspect's own file operations, which must reach the
    snapshots behind `readonly_paths` and must not be cut by the agent's file-size limit.
    """
    argv: list[str] = []
    if drops_privileges():
        argv += [
            executable("setpriv"),
            f"--reuid={config.host_uid}",
            f"--regid={config.host_gid}",
            "--clear-groups",
            "--",
        ]
    argv += [
        executable("bwrap"),
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--uid",
        str(SANDBOX_UID),
        "--gid",
        str(SANDBOX_GID),
        "--hostname",
        "sandbox",
        "--die-with-parent",
        "--new-session",
        *_system_binds(),
        "--ro-bind",
        str(dirs.etc / "passwd"),
        "/etc/passwd",
        "--ro-bind",
        str(dirs.etc / "group"),
        "/etc/group",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        # /dev is an unbounded tmpfs (half the host's RAM): give the one place meant for
        # writes, /dev/shm, a size, and make the rest read-only below
        "--perms",
        "1777",
        "--size",
        str(config.shm_mb * _MIB),
        "--tmpfs",
        "/dev/shm",
        "--bind",
        str(dirs.tmp),
        "/tmp",
        "--bind",
        str(dirs.workspace),
        WORKSPACE,
    ]
    # nested binds after the workspace bind, so they sit on top of it
    bind = "--bind" if readonly_writable else "--ro-bind"
    for rel in config.readonly_paths:
        snapshot = dirs.readonly / rel
        if os.path.lexists(snapshot):
            argv += [bind, str(snapshot), f"{WORKSPACE}/{rel}"]
    # a benchmark's image layout: workspace folders shown at absolute paths, with the
    # read-only snapshots bound over the parts that are read-only
    for dest, rel in config.mounts.items():
        argv += ["--bind", str(dirs.workspace / rel), dest]
        for ro in config.readonly_paths:
            inside = ro == rel or ro.startswith(rel + "/")
            snapshot = dirs.readonly / ro
            if inside and os.path.lexists(snapshot):
                argv += [bind, str(snapshot), dest + ro[len(rel):]]
    for src, dest in config.bind_pairs():
        argv += ["--ro-bind", src, dest]
    # bwrap builds / and /dev on tmpfs mounts: left writable, the agent could fill host RAM
    # through them and /etc would look writable. Non-recursive, so /workspace, /tmp and
    # /dev/shm stay writable.
    argv += ["--remount-ro", "/", "--remount-ro", "/dev"]
    argv += ["--chdir", cwd, "--clearenv"]
    for key, value in _environment(config, env).items():
        argv += ["--setenv", key, value]
    return [*argv, "--", *(_rlimits(config) if limits else []), *cmd]


def _environment(config: BwrapConfig, env: Mapping[str, str] | None) -> dict[str, str]:
    base = {
        "PATH": SYSTEM_PATH,
        "HOME": WORKSPACE,
        "LANG": "C.UTF-8",
        "USER": SANDBOX_USER,
        "LOGNAME": SANDBOX_USER,
        "SHELL": "/bin/bash",
        "TMPDIR": "/tmp",
    }
    return {**base, **config.env, **(env or {})}


def _rlimits(config: BwrapConfig) -> list[str]:
    # prlimit runs inside the namespace, so RLIMIT_NPROC counts only this exec's
    # processes (the kernel keeps NPROC per user namespace): concurrent execs and
    # samples sharing the host uid do not eat each other's process budget.
    return [
        executable("prlimit"),
        f"--nproc={config.max_processes}",
        f"--as={config.memory_mb * _MIB}",
        # soft limit sends SIGXCPU; the hard one SIGKILLs a process that ignores it
        f"--cpu={config.cpu_seconds}:{config.cpu_seconds + 2}",
        f"--fsize={config.file_size_mb * _MIB}",
        f"--nofile={config.open_files}",
        "--core=0",
        "--",
    ]
