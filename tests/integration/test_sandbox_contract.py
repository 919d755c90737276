"""The `bwrap` sandbox as an Inspect provider: exec, files, cleanup, read-only paths, eval().

The final test runs a real `eval()` in a fresh interpreter, so the "bwrap" name must
resolve through the `inspect_ai` entry point (`stagelens._registry`).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from inspect_ai.util import OutputLimitExceededError
from inspect_ai.util._sandbox.environment import SandboxUserUnsupportedError
from inspect_ai.util._sandbox.limits import (
    override_max_exec_output_size,
    override_max_read_file_size,
)

from stagelens.sandbox import BwrapConfig, BwrapSandboxEnvironment, BwrapSandboxError
from tests.integration.test_sandbox import anyio_backend, sandbox, sh
from tests.integration.test_sandbox import pytestmark as pytestmark

__all__ = ["anyio_backend"]  # the anyio plugin looks the backend fixture up here


async def test_exec_stdin_cwd_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAGELENS_HOST_SECRET", "leaked")
    async with sandbox(env={"FROM_CONFIG": "c"}) as sb:
        await sb.write_file("sub/keep", "")
        echoed = await sb.exec(["cat"], input="hello stdin")
        where = await sb.exec(["pwd"], cwd="sub")
        env = await sb.exec(["env"], env={"FOO": "bar"})
        who = await sb.exec(["id", "-un"])
        missing = await sb.exec(["no-such-command"])
        with pytest.raises(SandboxUserUnsupportedError):
            await sb.exec(["true"], user="root")
    assert echoed.stdout == "hello stdin"
    assert where.stdout.strip() == "/workspace/sub"
    assert "FOO=bar" in env.stdout and "FROM_CONFIG=c" in env.stdout
    assert "HOME=/workspace" in env.stdout and "STAGELENS_HOST_SECRET" not in env.stdout
    assert who.stdout.strip() == "agent"
    assert missing.returncode == 127


async def test_python_and_stdlib_work() -> None:
    script = "import json, sqlite3, subprocess, sys; print(sys.version_info[:2], json.dumps([1]))"
    async with sandbox() as sb:
        result = await sb.exec(["python3", "-c", script])
    assert result.success, result.stderr
    assert "[1]" in result.stdout


async def test_write_and_read_files() -> None:
    blob = bytes(range(256)) * 4
    async with sandbox() as sb:
        await sb.write_file("a/b/c.txt", "line1\r\nline2\n")
        await sb.write_file("blob.bin", blob)
        await sb.write_file("/tmp/abs.txt", "in tmp")
        assert await sb.read_file("a/b/c.txt") == "line1\r\nline2\n"
        assert await sb.read_file("/workspace/blob.bin", text=False) == blob
        assert (await sb.exec(["cat", "/tmp/abs.txt"])).stdout == "in tmp"
        await sh(sb, "printf made-by-agent > agent.txt")
        assert await sb.read_file("agent.txt") == "made-by-agent"
        with pytest.raises(FileNotFoundError):
            await sb.read_file("nope.txt")
        with pytest.raises(IsADirectoryError):
            await sb.read_file("a")
        with pytest.raises(IsADirectoryError):
            await sb.write_file("a/b", "x")
        with pytest.raises(PermissionError):
            await sb.write_file("/usr/x", "x")
        with override_max_read_file_size(100), pytest.raises(OutputLimitExceededError):
            await sb.read_file("blob.bin", text=False)
        with override_max_exec_output_size(1000):
            flood = await sh(sb, "head -c 5000 /dev/zero | tr '\\0' x; echo END")
        assert len(flood.stdout) <= 1000 and flood.stdout.endswith("END\n")


async def test_workspace_removed_after_cleanup() -> None:
    async with sandbox() as sb:
        await sb.write_file("x.txt", "x")
        await sh(sb, "mkdir -p locked/deep && touch locked/deep/f && chmod -R 000 locked")
        root = sb.dirs.root
        assert root.exists()
    assert not root.exists()


async def test_task_cleanup_removes_interrupted_samples() -> None:
    config = BwrapConfig()
    envs = await BwrapSandboxEnvironment.sample_init("orphans", config, {})
    root = envs["default"].as_type(BwrapSandboxEnvironment).dirs.root
    await BwrapSandboxEnvironment.task_cleanup("orphans", config, cleanup=True)
    assert not root.exists()


async def test_readonly_paths() -> None:
    async with sandbox(readonly_paths=["tests", "timer.py", "bench/harness.py"]) as sb:
        await sb.write_file("tests/test_speed.py", "assert True\n")
        await sb.write_file("timer.py", "TIMER = 1\n")
        await sb.write_file("bench/harness.py", "HARNESS = 1\n")
        await sb.write_file("solution.py", "x = 1\n")
        attacks = [
            "echo hacked > timer.py",
            "echo hacked >> tests/test_speed.py",
            "rm -f tests/test_speed.py",
            "rm -rf tests",
            "mv tests tests_old",
            "chmod u+w timer.py && echo hacked > timer.py",
            "touch tests/conftest.py",
        ]
        for attack in attacks:
            result = await sh(sb, attack)
            assert not result.success, attack
        # renaming the parent of a nested read-only file moves the mount, but the next
        # exec binds the snapshot again, not the agent's replacement
        swap = "mv bench bench_old && mkdir bench && echo HACKED > bench/harness.py"
        assert (await sh(sb, swap)).success
        assert (await sh(sb, "cat bench/harness.py")).stdout == "HARNESS = 1\n"
        assert (await sh(sb, "echo ok >> solution.py")).success
        # Inspect (not the agent) may still update a read-only file
        await sb.write_file("timer.py", "TIMER = 2\n")
        assert (await sh(sb, "cat timer.py tests/test_speed.py")).stdout == (
            "TIMER = 2\nassert True\n"
        )
        assert await sb.read_file("timer.py") == "TIMER = 2\n"


async def test_missing_readonly_path_is_a_clear_error() -> None:
    async with sandbox(readonly_paths=["tests"]) as sb:
        with pytest.raises(BwrapSandboxError, match="tests"):
            await sb.exec(["true"])


@pytest.fixture
def no_new_sample_dirs() -> Iterator[None]:
    def dirs() -> set[Path]:
        return set(Path("/tmp").glob("stagelens-bwrap-*"))

    before = dirs()
    yield
    assert dirs() - before == set()


def test_inspect_eval_through_entry_point(tmp_path: Path, no_new_sample_dirs: None) -> None:
    # A fresh interpreter that never imports stagelens.sandbox: "bwrap" must resolve
    # through the `inspect_ai` entry point (stagelens._registry).
    config = tmp_path / "bwrap.json"
    config.write_text(json.dumps({"cpu_seconds": 10, "readonly_paths": ["hello.txt"]}))
    (tmp_path / "tiny.py").write_text(
        textwrap.dedent(f"""
        from inspect_ai import Task, task
        from inspect_ai.dataset import Sample
        from inspect_ai.scorer import Score, Target, accuracy, scorer
        from inspect_ai.solver import TaskState, solver
        from inspect_ai.util import sandbox

        @solver
        def run_in_sandbox():
            async def solve(state, generate):
                code = "print(open('hello.txt').read().upper() + open('setup.txt').read())"
                result = await sandbox().exec(["python3", "-c", code])
                state.metadata["out"] = result.stdout.strip()
                return state
            return solve

        @scorer(metrics=[accuracy()])
        def matches():
            async def score(state: TaskState, target: Target) -> Score:
                return Score(value=1 if state.metadata["out"] == target.text else 0)
            return score

        @task
        def tiny():
            sample = Sample(
                input="x",
                target="HELLO\\nsetup-ran",
                files={{"hello.txt": "hello\\n"}},
                setup="echo setup-ran > setup.txt",
            )
            return Task(
                dataset=[sample],
                solver=run_in_sandbox(),
                scorer=matches(),
                sandbox=("bwrap", {str(config)!r}),
            )
        """)
    )
    runner = textwrap.dedent(f"""
        import json, sys
        from inspect_ai import eval
        log = eval("tiny.py", model="mockllm/model",
                   log_dir={str(tmp_path / "logs")!r}, display="none")[0]
        sample = log.samples[0]
        print(json.dumps({{
            "status": log.status,
            "error": str(log.error) if log.error else None,
            "out": sample.metadata.get("out"),
            "score": sample.scores["matches"].value,
            "sandbox_module": sys.modules.get("stagelens.sandbox.bwrap") is not None,
        }}))
    """)
    finished = subprocess.run(
        [sys.executable, "-c", runner],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    report = json.loads(finished.stdout.strip().splitlines()[-1])
    assert report["status"] == "success", report["error"]
    assert report["out"] == "HELLO\nsetup-ran"
    assert report["score"] == 1
    assert report["sandbox_module"]
