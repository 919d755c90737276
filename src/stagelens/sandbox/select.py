"""Pick the sandbox an agentic eval runs in: bubblewrap where it works, else Docker."""

from __future__ import annotations

import functools
import shutil
import subprocess
from typing import Any

from stagelens.sandbox._command import bwrap_argv
from stagelens.sandbox.config import BwrapConfig
from stagelens.sandbox.dirs import create_sample_dirs, remove_sample_dirs

_PROBE_TIMEOUT = 30


class NoSandboxError(RuntimeError):
    """Neither bubblewrap nor a Docker engine can run sandboxes on this host."""


@functools.cache
def bwrap_problem() -> str | None:
    """Why the bwrap sandbox cannot run here, or None when a real sandbox ran `true`.

    Cached: the answer depends on the host (binaries, user namespaces), not on the call.
    """
    missing = [tool for tool in ("bwrap", "prlimit", "setpriv") if shutil.which(tool) is None]
    if missing:
        return f"missing host tools: {', '.join(missing)}"
    config = BwrapConfig()
    dirs = create_sample_dirs(config)
    try:
        result = subprocess.run(
            bwrap_argv(dirs, config, ["true"]),
            capture_output=True,
            text=True,
            timeout=_PROBE_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as ex:
        return f"bwrap failed to start: {ex}"
    finally:
        remove_sample_dirs(dirs)
    if result.returncode != 0:
        # typically user namespaces are disabled (kernel.unprivileged_userns_clone=0,
        # or a container without CAP_SYS_ADMIN / a seccomp profile blocking clone)
        return f"bwrap exited {result.returncode}: {result.stderr.strip()}"
    return None


def docker_available() -> bool:
    """Whether a Docker engine answers `docker info`."""
    if shutil.which("docker") is None:
        return False
    try:
        result = subprocess.run(
            ["docker", "info"], capture_output=True, timeout=_PROBE_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def default_sandbox(
    config: BwrapConfig | None = None, docker_config: str | None = None
) -> tuple[str, Any]:
    """The `sandbox=` value for an agentic task: `("bwrap", config)` or `("docker", ...)`.

    bubblewrap is preferred: it starts in milliseconds and needs no daemon. Docker's config
    is a compose file or Dockerfile path (None: Inspect's default image).
    """
    bwrap_reason = bwrap_problem()
    if bwrap_reason is None:
        return ("bwrap", config or BwrapConfig())
    if docker_available():
        return ("docker", docker_config)
    raise NoSandboxError(
        "no sandbox for agentic evals on this host: bubblewrap is unusable "
        f"({bwrap_reason}) and `docker info` fails. Install bubblewrap (apt-get install "
        "bubblewrap) on a kernel allowing unprivileged user namespaces, or start Docker."
    )
