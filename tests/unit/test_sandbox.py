"""The `bwrap` sandbox's config, command line and sandbox selection (no sandbox is started).

The escape suite, which runs commands inside real sandboxes, is
`tests/integration/test_sandbox.py`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from stagelens.sandbox import BwrapConfig, BwrapSandboxEnvironment, load_config
from stagelens.sandbox import select as select_module
from stagelens.sandbox._command import SampleDirs, bwrap_argv
from stagelens.sandbox.select import NoSandboxError, default_sandbox, docker_available

needs_tools = pytest.mark.skipif(
    any(shutil.which(tool) is None for tool in ("bwrap", "prlimit", "setpriv")),
    reason="bwrap, prlimit or setpriv is not installed",
)


@pytest.mark.parametrize("path", ["/etc/passwd", "../outside", "a/../../b", ".", ""])
def test_readonly_paths_must_stay_in_the_workspace(path: str) -> None:
    with pytest.raises(ValueError, match="readonly path"):
        BwrapConfig(readonly_paths=[path])


def test_readonly_paths_are_normalised() -> None:
    assert BwrapConfig(readonly_paths=["tests/", "./timer.py"]).readonly_paths == [
        "tests",
        "timer.py",
    ]


def test_extra_ro_binds() -> None:
    config = BwrapConfig(extra_ro_binds=["/opt/data", "/srv/x:/data/x"])
    assert config.bind_pairs() == [("/opt/data", "/opt/data"), ("/srv/x", "/data/x")]
    with pytest.raises(ValueError, match="absolute"):
        BwrapConfig(extra_ro_binds=["relative/path"])


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValueError, match="memory"):
        BwrapConfig(memory=5)  # type: ignore[call-arg]


def test_load_config_from_every_form(tmp_path: Path) -> None:
    config = BwrapConfig(cpu_seconds=7, readonly_paths=["tests"])
    as_json = tmp_path / "c.json"
    as_json.write_text(config.model_dump_json())
    as_toml = tmp_path / "c.toml"
    as_toml.write_text('cpu_seconds = 7\nreadonly_paths = ["tests"]\n')
    as_yaml = tmp_path / "c.yaml"
    as_yaml.write_text("cpu_seconds: 7\nreadonly_paths: [tests]\n")
    for form in (config, config.model_dump(), str(as_json), str(as_toml), str(as_yaml)):
        assert load_config(form) == config
    assert load_config(None) == BwrapConfig()
    with pytest.raises(TypeError):
        load_config(42)


def test_config_deserialize_round_trips() -> None:
    config = BwrapConfig(memory_mb=256, env={"A": "b"})
    restored = BwrapSandboxEnvironment.config_deserialize(json.loads(config.model_dump_json()))
    assert restored == config


def test_sandbox_is_registered_with_inspect() -> None:
    from inspect_ai.util._sandbox.registry import registry_find_sandboxenv

    import stagelens._registry  # noqa: F401  (what the entry point loads)

    assert registry_find_sandboxenv("bwrap") is BwrapSandboxEnvironment


@needs_tools
def test_command_line_isolates(tmp_path: Path) -> None:
    dirs = SampleDirs(tmp_path)
    (dirs.readonly / "tests").mkdir(parents=True)
    config = BwrapConfig(max_processes=9, memory_mb=3, readonly_paths=["tests"])
    argv = bwrap_argv(dirs, config, ["echo", "hi"], env={"FOO": "bar"})
    joined = " ".join(argv)
    for flag in ("--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
                 "--new-session", "--clearenv"):  # fmt: skip
        assert flag in argv
    assert "--share-net" not in argv
    assert f"--ro-bind {dirs.readonly / 'tests'} /workspace/tests" in joined
    assert f"--bind {dirs.workspace} /workspace" in joined
    assert "--ro-bind /etc /etc" not in joined and "/root" not in argv
    assert argv[argv.index("--remount-ro") + 1] == "/"
    assert "--nproc=9" in argv and f"--as={3 * 1024 * 1024}" in argv
    assert "--setenv FOO bar" in joined
    assert argv[-2:] == ["echo", "hi"]


@needs_tools
def test_file_operations_skip_limits_and_may_write_snapshots(tmp_path: Path) -> None:
    dirs = SampleDirs(tmp_path)
    (dirs.readonly / "tests").mkdir(parents=True)
    config = BwrapConfig(readonly_paths=["tests"])
    argv = bwrap_argv(dirs, config, ["true"], limits=False, readonly_writable=True)
    assert not any(arg.startswith("--nproc") for arg in argv)
    assert f"--bind {dirs.readonly / 'tests'} /workspace/tests" in " ".join(argv)


def test_default_sandbox_prefers_bwrap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(select_module, "bwrap_problem", lambda: None)
    monkeypatch.setattr(select_module, "docker_available", lambda: True)
    config = BwrapConfig(cpu_seconds=3)
    assert default_sandbox(config) == ("bwrap", config)
    assert default_sandbox() == ("bwrap", BwrapConfig())


def test_default_sandbox_falls_back_to_docker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(select_module, "bwrap_problem", lambda: "no user namespaces")
    monkeypatch.setattr(select_module, "docker_available", lambda: True)
    assert default_sandbox(docker_config="compose.yaml") == ("docker", "compose.yaml")


def test_default_sandbox_without_any_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(select_module, "bwrap_problem", lambda: "bwrap missing")
    monkeypatch.setattr(select_module, "docker_available", lambda: False)
    with pytest.raises(NoSandboxError, match="bwrap missing"):
        default_sandbox()


def test_docker_available_asks_docker_info(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    def fake_run(args: list[str], **_: Any) -> subprocess.CompletedProcess[bytes]:
        calls.append(args)
        return subprocess.CompletedProcess(args, returncode=0)

    monkeypatch.setattr(select_module.shutil, "which", lambda _: "/usr/bin/docker")
    monkeypatch.setattr(select_module.subprocess, "run", fake_run)
    assert docker_available()
    assert calls == [["docker", "info"]]

    monkeypatch.setattr(select_module.shutil, "which", lambda _: None)
    assert not docker_available()


def test_sample_dirs_of_dead_runs_are_swept(tmp_path: Path) -> None:
    import subprocess
    import sys

    from stagelens.sandbox.dirs import OWNER_FILE, ROOT_PREFIX, sweep_stale_sample_dirs

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    stale, live, foreign = (tmp_path / f"{ROOT_PREFIX}{n}" for n in ("a", "b", "c"))
    for root in (stale, live, foreign):
        (root / "workspace").mkdir(parents=True)
    (stale / OWNER_FILE).write_text(dead.stdout.strip())
    (live / OWNER_FILE).write_text(str(os.getpid()))
    # foreign: no owner file, so not made by stagelens's sandbox; never touched
    assert sweep_stale_sample_dirs(str(tmp_path)) == [stale]
    assert not stale.exists() and live.is_dir() and foreign.is_dir()


def test_sandboxes_made_without_a_task_sweep_dead_runs_once(tmp_path: Path) -> None:
    """The organism's actions call sample_init directly (no task_init): a run killed during
    them must not leave its sample directories behind for ever."""
    import asyncio
    import sys

    from stagelens.sandbox.dirs import OWNER_FILE, ROOT_PREFIX

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    stale = tmp_path / f"{ROOT_PREFIX}dead"
    (stale / "workspace").mkdir(parents=True)
    (stale / OWNER_FILE).write_text(dead.stdout.strip())
    config = BwrapConfig(root_dir=str(tmp_path))

    async def make_and_remove() -> None:
        envs = await BwrapSandboxEnvironment.sample_init("no-task", config, {})
        await BwrapSandboxEnvironment.sample_cleanup("no-task", config, envs, interrupted=False)

    asyncio.run(make_and_remove())
    assert not stale.exists()
    assert list(tmp_path.iterdir()) == []  # its own directory was removed as well
    # later samples of this process do not sweep again (one listing per root per process)
    assert str(tmp_path) in BwrapSandboxEnvironment._swept
