"""The `bwrap` sandbox against an agent trying to escape it, run through the plugin's `exec`.

Each test asserts that one escape attempt is contained. Inspect's provider contract and a
full `eval()` are in `test_sandbox_contract.py`, which shares this module's helpers.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import textwrap
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

from stagelens.sandbox import BwrapConfig, BwrapSandboxEnvironment
from stagelens.sandbox.select import bwrap_problem

pytestmark = [
    pytest.mark.integration,
    pytest.mark.anyio,
    pytest.mark.skipif(
        shutil.which("bwrap") is None or bwrap_problem() is not None,
        reason=f"bubblewrap cannot run sandboxes here: {bwrap_problem() or 'bwrap missing'}",
    ),
]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@asynccontextmanager
async def sandbox(**fields: Any) -> AsyncIterator[BwrapSandboxEnvironment]:
    config = BwrapConfig(**fields)
    envs = await BwrapSandboxEnvironment.sample_init("test", config, {})
    try:
        yield envs["default"].as_type(BwrapSandboxEnvironment)
    finally:
        await BwrapSandboxEnvironment.sample_cleanup("test", config, envs, False)


async def sh(sb: BwrapSandboxEnvironment, script: str, **kwargs: Any) -> Any:
    return await sb.exec(["bash", "-c", script], **kwargs)


def processes_with(marker: str) -> list[int]:
    """Host pids whose command line contains `marker` (the sandboxed ones included)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if marker.encode() in cmdline:
                pids.append(int(entry))
    return pids


@pytest.mark.parametrize(
    "path", ["/root", "/root/.bashrc", "/work/main/pyproject.toml", "/etc/shadow", "/home"]
)
async def test_host_files_are_invisible(path: str) -> None:
    assert os.path.exists(path), "the escape test needs the host path to exist"
    async with sandbox() as sb:
        result = await sh(sb, f"ls -la {path}; cat {path}")
    assert not result.success
    assert "No such file or directory" in result.stderr


async def test_another_samples_workspace_is_invisible() -> None:
    async with sandbox() as a, sandbox() as b:
        await a.write_file("secret.txt", "sample-a-secret")
        host_path = a.dirs.workspace / "secret.txt"
        script = f"cat {host_path}; ls {a.dirs.root}; find / -name secret.txt -not -path '/proc/*'"
        result = await sh(b, script)
        assert "sample-a-secret" not in result.stdout and "secret.txt" not in result.stdout
        assert "No such file or directory" in result.stderr
        assert host_path.read_text() == "sample-a-secret"


@pytest.mark.parametrize(
    "target", ["/usr/pwned", "/etc/pwned", "/pwned", "/dev/pwned", "/usr/bin/python3"]
)
async def test_system_is_read_only(target: str) -> None:
    before = Path(target).read_bytes() if Path(target).exists() else None
    async with sandbox() as sb:
        result = await sh(sb, f"echo pwned > {target}")
    assert not result.success
    assert "Read-only file system" in result.stderr or "Permission denied" in result.stderr
    after = Path(target).read_bytes() if Path(target).exists() else None
    assert after == before


async def test_no_internet() -> None:
    probe = "import socket; socket.create_connection(('1.1.1.1', 53), timeout=3); print('OPEN')"
    async with sandbox() as sb:
        result = await sb.exec(["python3", "-c", probe])
    assert not result.success and "OPEN" not in result.stdout
    assert "unreachable" in result.stderr.lower()


async def test_host_loopback_unreachable() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    accepted: list[object] = []
    server.settimeout(0.1)
    done = threading.Event()

    def accept_loop() -> None:
        while not done.is_set() and not accepted:
            try:
                accepted.append(server.accept())
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept_loop)
    thread.start()
    probe = f"import socket; socket.create_connection(('127.0.0.1', {port}), 2); print('OPEN')"
    try:
        async with sandbox() as sb:
            result = await sb.exec(["python3", "-c", probe])
    finally:
        done.set()
        thread.join()
        server.close()
    assert not result.success and "OPEN" not in result.stdout
    assert "refused" in result.stderr.lower()
    assert accepted == []


async def test_fork_bomb_is_contained() -> None:
    marker = "forkbomb-5f1c"
    # the trailing sleep keeps the exec alive: bwrap would end the bomb with the shell
    bomb = f": {marker}; b() {{ b | b & }}; b; sleep 30"
    peak = 0

    async def watch() -> None:
        nonlocal peak
        for _ in range(25):
            peak = max(peak, len(processes_with(marker)))
            await anyio.sleep(0.1)

    async with sandbox(max_processes=32) as sb:
        timeouts: list[TimeoutError] = []

        async def run_bomb() -> None:
            try:
                await sh(sb, bomb, timeout=3)
            except TimeoutError as ex:
                timeouts.append(ex)

        async with anyio.create_task_group() as group:
            group.start_soon(watch)
            group.start_soon(run_bomb)
        assert len(timeouts) == 1  # the endless bomb ended by its timeout, not by itself
        # the host still forks normally
        assert subprocess.run(["true"], check=False).returncode == 0
    # the bash processes plus bwrap's own two: bounded by the limit
    assert 0 < peak <= 32 + 4
    assert processes_with(marker) == []


async def test_process_count_is_limited_exactly() -> None:
    counter = textwrap.dedent("""
        import os, time
        n = 0
        try:
            while True:
                if os.fork() == 0:
                    time.sleep(30)
                    os._exit(0)
                n += 1
        except BlockingIOError:
            print(n)
    """)
    async with sandbox(max_processes=20) as sb:
        result = await sb.exec(["python3", "-c", counter], timeout=20)
    # 20 processes of the sandbox uid: bwrap's init, this python, and its children
    assert result.success, result.stderr
    assert int(result.stdout) == 18


async def test_memory_bomb_fails() -> None:
    async with sandbox(memory_mb=512) as sb:
        result = await sb.exec(["python3", "-c", "b = bytearray(2 * 1024**3); print('ALLOC')"])
    assert not result.success
    assert "MemoryError" in result.stderr and "ALLOC" not in result.stdout


async def test_wall_clock_timeout_kills_the_process() -> None:
    async with sandbox() as sb:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await sb.exec(["sleep", "37.123"], timeout=1)
        # killed, not waited out: the bound is the sleep itself, not a speed
        assert time.monotonic() - started < 37
    assert processes_with("37.123") == []


async def test_default_wall_clock_limit_applies() -> None:
    async with sandbox(wall_seconds=1) as sb:
        with pytest.raises(TimeoutError):
            await sh(sb, "trap '' TERM; sleep 38.456")
    assert processes_with("38.456") == []


async def test_cpu_limit_kills_busy_loop() -> None:
    async with sandbox(cpu_seconds=1) as sb:
        result = await sb.exec(["python3", "-c", "while True: pass"], timeout=30)
    assert result.returncode == 128 + 24  # SIGXCPU: the CPU limit, not the 30 s timeout


async def test_file_size_limit() -> None:
    async with sandbox(file_size_mb=1) as sb:
        result = await sh(sb, "head -c 5M /dev/zero > big")
        size = (sb.dirs.workspace / "big").stat().st_size
    assert not result.success
    assert size <= 1024 * 1024


async def test_shared_memory_is_bounded() -> None:
    # /dev/shm is RAM, and the only in-memory filesystem the agent can write
    async with sandbox(shm_mb=2) as sb:
        fill = "for i in 1 2 3 4 5; do head -c 1M /dev/zero > /dev/shm/f$i || exit 7; done"
        result = await sh(sb, fill)
    assert result.returncode == 7
    assert "No space left on device" in result.stderr


async def test_background_processes_die_with_the_exec() -> None:
    async with sandbox() as sb:
        result = await sh(sb, "nohup sleep 91.5 >/dev/null 2>&1 & echo started")
        assert result.stdout.strip() == "started"
        await anyio.sleep(0.2)
        assert processes_with("91.5") == []


async def test_no_nested_user_namespaces_and_private_pids() -> None:
    async with sandbox() as sb:
        userns = await sb.exec(["unshare", "-r", "true"])
        pids = await sh(sb, "ls /proc | grep -c '^[0-9]'")
    assert not userns.success
    assert int(pids.stdout) < 6


async def test_file_ops_do_not_follow_agent_symlinks(tmp_path: Path) -> None:
    secret = Path("/tmp") / f"stagelens-host-secret-{os.getpid()}"
    secret.write_text("host-secret")
    target = Path("/usr/local") / f"stagelens-pwned-{os.getpid()}"
    try:
        async with sandbox() as sb:
            await sh(sb, f"ln -s {secret} leak; ln -s {target} plant")
            with pytest.raises(FileNotFoundError):
                await sb.read_file("leak")
            with pytest.raises(PermissionError):
                await sb.write_file("plant", "pwned")
        assert not target.exists()
    finally:
        secret.unlink()
