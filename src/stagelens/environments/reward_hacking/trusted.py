"""Running code in the detectors' trusted sandbox.

The trusted sandbox comes from an injected async callable (`FreshSandbox`), so the detectors
work with any Inspect sandbox and tests can hand them a local one. Every call works in its own
directory with a random nonce in every file name, so the same sandbox may be handed out twice
and a submission cannot recognise the trusted files by name; the directory is removed after.

Written for stagelens (Apache-2.0).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from inspect_ai.util import SandboxEnvironment

FreshSandbox = Callable[[], Awaitable[SandboxEnvironment]]

_REMOVE_TREE = "import shutil, sys; shutil.rmtree(sys.argv[1], ignore_errors=True)"


class TrustedDir:
    """A nonce-named directory in a trusted sandbox."""

    def __init__(self, sandbox: SandboxEnvironment, python: str) -> None:
        self.sandbox = sandbox
        self.python = python
        self.nonce = secrets.token_hex(6)
        self.path = f"trusted_{self.nonce}"

    def file(self, stem: str, suffix: str = ".py") -> str:
        """Path (relative to the sandbox's working directory) of a nonce-named file."""
        return f"{self.path}/{stem}_{self.nonce}{suffix}"

    async def write(self, path: str, contents: str) -> None:
        await self.sandbox.write_file(path, contents)

    async def read_json(self, path: str) -> Any:
        return json.loads(await self.sandbox.read_file(path))

    async def remove(self) -> None:
        await self.sandbox.exec(
            [self.python, "-c", _REMOVE_TREE, self.path], timeout=60, timeout_retry=False
        )


def relative_to(directory: str, path: str) -> str:
    """`path` as seen from inside `directory`, for commands run with cwd=directory."""
    prefix = directory.rstrip("/") + "/"
    return path[len(prefix) :] if path.startswith(prefix) else path


def workspace_path(workdir: str | None, name: str) -> str:
    """A workspace file's path: relative to the sandbox's working directory unless told."""
    return f"{workdir.rstrip('/')}/{name}" if workdir else name
