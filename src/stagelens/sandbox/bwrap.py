"""`bwrap`: an Inspect sandbox built on bubblewrap, for agents that run code we do not trust.

Threat model: the agent (an LLM with bash and file tools) may try, deliberately or by
accident, to read or change things outside its task, reach the network, or exhaust the
host. Every `exec` is a fresh bubblewrap process tree:

Contained
  - filesystem: only the sample's workspace (`/workspace`, read-write, the cwd) and a
    per-sample `/tmp` are writable; `/usr`, the `/bin` `/lib*` links and a handful of
    `/etc` files are read-only; `/root`, `/home`, `/work`, the rest of `/etc` (shadow,
    keys) and other samples' directories are simply not mounted. `readonly_paths` are
    snapshotted outside the workspace and bound read-only over it.
  - network: a private network namespace with only loopback (no host loopback, no
    abstract unix sockets of the host, no internet).
  - processes: private pid, ipc, uts and user namespaces, `--new-session` (no TIOCSTI
    into the host terminal), `--die-with-parent`; when the command exits, or the
    wall-clock limit fires and bwrap is killed, the whole pid namespace dies with it, so
    no background process outlives an exec. No nested user namespaces.
  - resources, per exec: RLIMIT_NPROC inside the exec's own user namespace (started as
    an unprivileged host uid, because host root is exempt from RLIMIT_NPROC), RLIMIT_AS,
    RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_NOFILE, no core dumps, and a wall-clock timeout.
  - Inspect's own `read_file`/`write_file` run inside the sandbox too, so a symlink the
    agent planted resolves in the sandbox's view and cannot make the host read or write
    host files.

Not contained
  - kernel exploits (no seccomp filter; the kernel's attack surface is that of any
    unprivileged user with user namespaces);
  - disk usage: the total size of the workspace and `/tmp` is unbounded (only each file
    is capped), and so is the number of files;
  - aggregate memory and CPU: limits are per process, so a tree may use up to
    `max_processes` times `memory_mb`; wall clock bounds the CPU an exec can take;
  - side channels (timing, /proc/cpuinfo, the kernel version) and host information in
    the bound system files (installed packages);
  - the agent bricking its own sandbox, e.g. by replacing a parent directory of a
    nested read-only path with a symlink, after which every exec fails.

Every exec starts from scratch: background processes, shell state and environment
changes do not persist between calls; files in `/workspace` and `/tmp` do.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
from pathlib import Path, PurePosixPath
from typing import Literal, overload

from inspect_ai.util import (
    ExecResult,
    OutputLimitExceededError,
    SandboxEnvironment,
    SandboxEnvironmentConfigType,
    SandboxEnvironmentLimits,
    sandboxenv,
    subprocess,
)
from inspect_ai.util._sandbox.environment import (
    SandboxUnavailableError,
    SandboxUserUnsupportedError,
)
from inspect_ai.util._subprocess import run_subprocess
from pydantic import BaseModel
from typing_extensions import override

from stagelens.sandbox import select
from stagelens.sandbox._command import WORKSPACE, SampleDirs, bwrap_argv, drops_privileges
from stagelens.sandbox.config import SANDBOX_UID, SANDBOX_USER, BwrapConfig, load_config
from stagelens.sandbox.dirs import create_sample_dirs, remove_sample_dirs, sweep_stale_sample_dirs

logger = logging.getLogger(__name__)

# Inspect's file operations are ours, not the agent's; docker gives them 600 seconds too.
_FILE_OP_TIMEOUT = 600

# Distinct exit codes let the file scripts report errno-like failures through the shell.
_ENOENT, _EACCES, _EISDIR = 2, 13, 21
_READ_SCRIPT = """f=$1
[ -d "$f" ] && exit 21
[ -e "$f" ] || exit 2
[ -r "$f" ] || exit 13
exec head -c "$2" -- "$f"
"""
_WRITE_SCRIPT = """f=$1
[ -d "$f" ] && exit 21
mkdir -p -- "$(dirname -- "$f")" || exit 13
cat > "$f" || exit 13
"""


class BwrapSandboxError(RuntimeError):
    """The sandbox is misconfigured (as opposed to a command failing inside it)."""


@sandboxenv(name="bwrap")
class BwrapSandboxEnvironment(SandboxEnvironment):
    """One sample's bubblewrap sandbox: a host directory plus the config to run in it."""

    # sample roots not yet cleaned, by task, for task_cleanup after interrupted samples
    _live_roots: dict[str, set[Path]] = {}  # noqa: RUF012 - shared registry by design
    # sample roots' parents already swept by this process (None: the system temp directory)
    _swept: set[str | None] = set()  # noqa: RUF012 - shared registry by design

    def __init__(self, task_name: str, dirs: SampleDirs, config: BwrapConfig) -> None:
        super().__init__()
        self.task_name = task_name
        self.dirs = dirs
        self.config = config
        self._sealed = False

    @override
    @classmethod
    def config_deserialize(cls, config: dict[str, object]) -> BaseModel:
        return BwrapConfig.model_validate(config)

    @override
    @classmethod
    async def task_init(cls, task_name: str, config: SandboxEnvironmentConfigType | None) -> None:
        problem = select.bwrap_problem()
        if problem is not None:
            raise BwrapSandboxError(f"the bwrap sandbox cannot run here: {problem}")
        cls._sweep(load_config(config).root_dir)

    @classmethod
    def _sweep(cls, root_dir: str | None) -> None:
        # a run killed outright (SIGKILL, a lost machine) never reached its cleanup
        removed = sweep_stale_sample_dirs(root_dir)
        cls._swept.add(root_dir)
        if removed:
            logger.info("removed %d bwrap sample directories of dead runs", len(removed))

    @override
    @classmethod
    async def sample_init(
        cls,
        task_name: str,
        config: SandboxEnvironmentConfigType | None,
        metadata: dict[str, str],
    ) -> dict[str, SandboxEnvironment]:
        resolved = load_config(config)
        if resolved.root_dir not in cls._swept:
            # callers that make sandboxes without a task (the organism's actions) sweep here
            cls._sweep(resolved.root_dir)
        dirs = create_sample_dirs(resolved)
        cls._live_roots.setdefault(task_name, set()).add(dirs.root)
        return {"default": cls(task_name, dirs, resolved)}

    @override
    @classmethod
    async def sample_cleanup(
        cls,
        task_name: str,
        config: SandboxEnvironmentConfigType | None,
        environments: dict[str, SandboxEnvironment],
        interrupted: bool,
    ) -> None:
        for environment in environments.values():
            sandbox = environment.as_type(BwrapSandboxEnvironment)
            remove_sample_dirs(sandbox.dirs)
            cls._live_roots.get(sandbox.task_name, set()).discard(sandbox.dirs.root)

    @override
    @classmethod
    async def task_cleanup(
        cls, task_name: str, config: SandboxEnvironmentConfigType | None, cleanup: bool
    ) -> None:
        roots = cls._live_roots.pop(task_name, set())
        for root in roots:
            if cleanup:
                remove_sample_dirs(SampleDirs(root))
            else:
                logger.info("bwrap sandbox kept (--no-sandbox-cleanup): %s", root)

    @override
    def default_polling_interval(self) -> float:
        # exec is a local process start (~10 ms), like the local sandbox
        return 0.2

    @override
    async def exec(
        self,
        cmd: list[str],
        input: str | bytes | None = None,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        user: str | None = None,
        timeout: int | None = None,
        timeout_retry: bool = True,
        concurrency: bool = True,
    ) -> ExecResult[str]:
        _check_user(user)
        self._seal_readonly_paths()
        argv = bwrap_argv(
            self.dirs, self.config, cmd, cwd=self._path(cwd), env=env
        )
        limit = timeout if timeout is not None else self.config.wall_seconds
        # No retry on timeout (unlike docker's daemon hangs, a timeout here is the command's
        # own): re-running a non-idempotent agent command would be wrong.
        try:
            result = await subprocess(
                argv,
                input=input,
                timeout=limit,
                output_limit=SandboxEnvironmentLimits.MAX_EXEC_OUTPUT_SIZE,
                concurrency=concurrency,
            )
        except TimeoutError as ex:
            raise TimeoutError(f"Command timed out after {limit} seconds") from ex
        _raise_if_bwrap_failed(result.returncode, result.stderr)
        return result

    @override
    async def write_file(self, file: str, contents: str | bytes) -> None:
        path = self._path(file)
        data = contents.encode("utf-8") if isinstance(contents, str) else contents
        argv = self._file_op_argv(["/bin/sh", "-c", _WRITE_SCRIPT, "sh", path])
        run = await run_subprocess(argv, text=True, input=data, timeout=_FILE_OP_TIMEOUT)
        _raise_if_bwrap_failed(run.result.returncode, run.result.stderr)
        _raise_file_error(run.result.returncode, path, run.result.stderr)

    @overload
    async def read_file(self, file: str, text: Literal[True] = True) -> str: ...

    @overload
    async def read_file(self, file: str, text: Literal[False]) -> bytes: ...

    @override
    async def read_file(self, file: str, text: bool = True) -> str | bytes:
        path = self._path(file)
        limit = SandboxEnvironmentLimits.MAX_READ_FILE_SIZE
        # read one byte past the limit: that byte's presence is how we see an oversize file
        argv = self._file_op_argv(["/bin/sh", "-c", _READ_SCRIPT, "sh", path, str(limit + 1)])
        run = await run_subprocess(
            argv, text=False, timeout=_FILE_OP_TIMEOUT, output_limit=limit + 1
        )
        stderr = run.result.stderr.decode(errors="replace")
        _raise_if_bwrap_failed(run.result.returncode, stderr)
        _raise_file_error(run.result.returncode, path, stderr)
        if len(run.result.stdout) > limit:
            raise OutputLimitExceededError(
                limit_str=SandboxEnvironmentLimits.MAX_READ_FILE_SIZE_STR, truncated_output=None
            )
        return run.result.stdout.decode("utf-8") if text else run.result.stdout

    def _path(self, path: str | None) -> str:
        return _sandbox_path(path, self.config.workdir)

    def _file_op_argv(self, cmd: list[str]) -> list[str]:
        # once sealed, the snapshots are bound read-write here, so Inspect's writes to a
        # read-only path land where the agent's execs will see them
        return bwrap_argv(self.dirs, self.config, cmd, limits=False, readonly_writable=True)

    def _seal_readonly_paths(self) -> None:
        """Snapshot `readonly_paths` at the first exec, i.e. before any agent command.

        Until then Inspect writes the sample's files straight into the workspace; from then
        on the read-only binds come from the snapshots, which the agent cannot reach.
        """
        if self._sealed:
            return
        missing = [
            rel
            for rel in self.config.readonly_paths
            if not os.path.lexists(self.dirs.workspace / rel)
        ]
        if missing:
            raise BwrapSandboxError(
                f"readonly_paths {missing} do not exist in the workspace when the first "
                "command runs; provide them as Sample.files (or write_file them first)"
            )
        for rel in self.config.executable_paths:
            _make_executable(self.dirs.workspace / rel)
        for rel in self.config.readonly_paths:
            _snapshot(self.dirs.workspace / rel, self.dirs.readonly / rel, self.config)
        self._sealed = True


def _make_executable(path: Path) -> None:
    # never through a link: a planted symlink must not make the host chmod host files
    if path.is_symlink() or not path.exists():
        return
    for item in [path, *(path.rglob("*") if path.is_dir() else [])]:
        if item.is_file() and not item.is_symlink():
            item.chmod(item.stat().st_mode | 0o555)


def _snapshot(source: Path, target: Path, config: BwrapConfig) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    # symlinks are copied as links: the host must never follow a link into host files
    if source.is_dir() and not source.is_symlink():
        shutil.copytree(source, target, symlinks=True)
    else:
        shutil.copy2(source, target, follow_symlinks=False)
    if drops_privileges():
        # Inspect's write_file reaches the snapshot as the sandbox uid
        for path in [target, *(target.rglob("*") if target.is_dir() else [])]:
            os.lchown(path, config.host_uid, config.host_gid)


def _sandbox_path(path: str | None, workdir: str = WORKSPACE) -> str:
    if path is None:
        return workdir
    posix = PurePosixPath(path)
    return str(posix if posix.is_absolute() else PurePosixPath(workdir) / posix)


def _check_user(user: str | None) -> None:
    if user is None or user in (SANDBOX_USER, str(SANDBOX_UID)):
        return
    raise SandboxUserUnsupportedError(
        f"the bwrap sandbox runs every command as {SANDBOX_USER!r} (uid {SANDBOX_UID}), "
        f"not {user!r}"
    )


def _raise_if_bwrap_failed(returncode: int, stderr: str) -> None:
    # bwrap reports its own setup failures as exit 1 with a "bwrap: " message; a wrong
    # cwd is the caller's mistake and stays an ordinary failed result
    if returncode == 1 and stderr.startswith("bwrap: ") and "Can't chdir" not in stderr:
        raise SandboxUnavailableError(f"bubblewrap could not start the sandbox: {stderr.strip()}")


def _raise_file_error(returncode: int, path: str, stderr: str) -> None:
    if returncode == 0:
        return
    if returncode == _ENOENT:
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
    if returncode == _EISDIR:
        raise IsADirectoryError(errno.EISDIR, "Is a directory", path)
    if returncode == _EACCES:
        raise PermissionError(errno.EACCES, f"Permission denied: {stderr.strip()}", path)
    raise OSError(
        errno.EIO, f"sandbox file operation failed ({returncode}): {stderr.strip()}", path
    )
