"""The `bwrap` sandbox with ODCV's image layout (workspace folders mounted at /app and
/usr/local/bin, the tool folder read-only, /app as the working directory) still contains an
agent trying to escape: the escape checks of test_sandbox.py, again with these mounts."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from stagelens.sandbox.select import bwrap_problem
from tests.integration.test_sandbox import sandbox, sh

pytestmark = [
    pytest.mark.integration,
    pytest.mark.anyio,
    pytest.mark.skipif(
        shutil.which("bwrap") is None or bwrap_problem() is not None,
        reason=f"bubblewrap cannot run sandboxes here: {bwrap_problem() or 'bwrap missing'}",
    ),
]

LAYOUT: dict[str, Any] = {
    "mounts": {"/app": "app", "/usr/local/bin": "usr/local/bin"},
    "workdir": "/app",
    "readonly_paths": ["usr/local/bin"],
    "executable_paths": ["usr/local/bin"],
}
TOOL = "#!/bin/bash\necho PASS\n"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _with_tool(sb: Any) -> None:
    await sb.write_file("/usr/local/bin/validate.sh", TOOL)
    await sb.write_file("/app/data/records.csv", "id,value\n1,5\n")


@pytest.mark.parametrize("path", ["/root", "/work/main/pyproject.toml", "/etc/shadow", "/home"])
async def test_host_files_are_invisible(path: str) -> None:
    assert os.path.exists(path), "the escape test needs the host path to exist"
    async with sandbox(**LAYOUT) as sb:
        result = await sh(sb, f"ls -la {path}; cat {path}")
    assert not result.success and "No such file or directory" in result.stderr


@pytest.mark.parametrize(
    "target",
    ["/usr/local/bin/validate.sh", "/usr/local/bin/new.sh", "/usr/pwned", "/etc/pwned",
     "/pwned", "/workspace/usr/local/bin/validate.sh"],
)  # fmt: skip
async def test_tools_and_system_are_read_only(target: str) -> None:
    async with sandbox(**LAYOUT) as sb:
        await _with_tool(sb)
        result = await sh(sb, f"echo pwned > {target}")
        assert not result.success and "Read-only file system" in result.stderr
        # the tool still runs, unchanged, from the PATH
        ran = await sh(sb, "validate.sh && cat /usr/local/bin/validate.sh")
        assert ran.stdout == "PASS\n" + TOOL
        removed = await sh(sb, "rm -rf /usr/local/bin/validate.sh /app; ls /usr/local/bin")
        assert "validate.sh" in removed.stdout


async def test_writes_to_app_stay_in_the_samples_own_workspace() -> None:
    async with sandbox(**LAYOUT) as a, sandbox(**LAYOUT) as b:
        await _with_tool(a)
        result = await sh(a, "pwd; echo changed >> data/records.csv")
        assert result.stdout == "/app\n"
        assert (a.dirs.workspace / "app/data/records.csv").read_text().endswith("changed\n")
        seen = await sh(b, f"ls /app; cat {a.dirs.workspace}/app/data/records.csv")
        assert "records.csv" not in seen.stdout and "No such file" in seen.stderr


async def test_no_internet() -> None:
    probe = "import socket; socket.create_connection(('1.1.1.1', 53), timeout=3); print('OPEN')"
    async with sandbox(**LAYOUT) as sb:
        result = await sb.exec(["python3", "-c", probe])
    assert not result.success and "OPEN" not in result.stdout
    assert "unreachable" in result.stderr.lower()


async def test_file_ops_do_not_follow_symlinks_planted_in_app() -> None:
    secret = Path("/tmp") / f"stagelens-host-secret-{os.getpid()}"
    secret.write_text("host-secret")
    target = Path("/usr/local") / f"stagelens-pwned-{os.getpid()}"
    try:
        async with sandbox(**LAYOUT) as sb:
            await _with_tool(sb)
            await sh(sb, f"ln -s {secret} /app/leak; ln -s {target} /app/plant")
            with pytest.raises(FileNotFoundError):
                await sb.read_file("/app/leak")
            with pytest.raises(PermissionError):
                await sb.write_file("/app/plant", "pwned")
        assert not target.exists() and secret.read_text() == "host-secret"
    finally:
        secret.unlink()


def test_a_mount_point_must_be_absolute_and_not_a_system_folder() -> None:
    from pydantic import ValidationError

    from stagelens.sandbox import BwrapConfig

    for bad in ({"app": "app"}, {"/etc": "etc"}, {"/tmp": "t"}, {"/app": "../host"}):
        with pytest.raises(ValidationError):
            BwrapConfig(mounts=bad)
