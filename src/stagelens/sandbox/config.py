"""Configuration of the `bwrap` sandbox: resource limits, extra mounts, read-only paths."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel, Field, field_validator

from stagelens.records import StrictModel

# Every sandbox command runs as this unprivileged uid/gid inside its user namespace.
SANDBOX_USER = "agent"
SANDBOX_UID = 1000
SANDBOX_GID = 1000


class BwrapConfig(StrictModel):
    """Limits and mounts of one `bwrap` sandbox; usable as `sandbox=("bwrap", BwrapConfig(...))`.

    Every limit applies to each `exec` separately (each exec is a fresh bwrap process tree).
    """

    cpu_seconds: int = Field(default=60, gt=0)
    """RLIMIT_CPU per process; SIGXCPU at the limit, SIGKILL two seconds later."""

    memory_mb: int = Field(default=1024, gt=0)
    """RLIMIT_AS (address space) per process, in MiB."""

    max_processes: int = Field(default=64, gt=1)
    """RLIMIT_NPROC of the sandbox uid inside the exec's own user namespace (threads count)."""

    wall_seconds: int = Field(default=120, gt=0)
    """Wall-clock limit of an exec when Inspect passes no `timeout`."""

    file_size_mb: int = Field(default=64, gt=0)
    """RLIMIT_FSIZE: largest file a sandbox process may write, in MiB."""

    open_files: int = Field(default=1024, gt=16)
    """RLIMIT_NOFILE per process."""

    shm_mb: int = Field(default=64, gt=0)
    """Size of the per-exec /dev/shm tmpfs (host memory), in MiB."""

    extra_ro_binds: list[str] = Field(default_factory=list)
    """Host paths bound read-only: `"/opt/data"` (same path inside) or `"/host/src:/dest"`.

    They must be readable by `host_uid` when stagelens runs as root."""

    readonly_paths: list[str] = Field(default_factory=list)
    """Workspace-relative paths the agent cannot modify (snapshotted at the first exec)."""

    env: dict[str, str] = Field(default_factory=dict)
    """Extra environment of every exec (the host environment is never inherited)."""

    host_uid: int = Field(default=65534, gt=0)
    """Host uid bwrap drops to when stagelens runs as root (root is exempt from RLIMIT_NPROC)."""

    host_gid: int = Field(default=65534, gt=0)

    root_dir: str | None = None
    """Host directory for per-sample sandbox directories (default: the system temp dir)."""

    mounts: dict[str, str] = Field(default_factory=dict)
    """Absolute sandbox paths backed by workspace folders: `{"/app": "app"}` shows the
    workspace's `app/` also at `/app` (a benchmark's image layout, e.g. ODCV's `/app` and
    `/usr/local/bin`). A mount whose folder is (or lies under) a `readonly_paths` entry is
    read-only there too."""

    workdir: str = "/workspace"
    """The working directory of every exec, and what relative file paths resolve against."""

    executable_paths: list[str] = Field(default_factory=list)
    """Workspace-relative files (or folders: every file in them) made executable before the
    first command: Inspect writes a sample's files without their mode bits."""

    @field_validator("mounts")
    @classmethod
    def _mounts(cls, mounts: dict[str, str]) -> dict[str, str]:
        reserved = ("/", "/workspace", "/tmp", "/proc", "/dev", "/etc")
        for dest, rel in mounts.items():
            where = PurePosixPath(dest)
            if not where.is_absolute() or ".." in where.parts or dest in reserved:
                raise ValueError(f"mount point {dest!r} must be an absolute path other than "
                                 f"{', '.join(reserved)}")  # fmt: skip
            _check_relative(rel, f"mount {dest!r}")
        return mounts

    @field_validator("workdir")
    @classmethod
    def _workdir(cls, workdir: str) -> str:
        if not PurePosixPath(workdir).is_absolute():
            raise ValueError(f"workdir {workdir!r} must be an absolute path")
        return workdir

    @field_validator("executable_paths")
    @classmethod
    def _executables(cls, paths: list[str]) -> list[str]:
        return [_check_relative(raw, "executable path") for raw in paths]

    @field_validator("readonly_paths")
    @classmethod
    def _relative_inside_workspace(cls, paths: list[str]) -> list[str]:
        return [_check_relative(raw, "readonly path") for raw in paths]

    @field_validator("extra_ro_binds")
    @classmethod
    def _absolute_binds(cls, binds: list[str]) -> list[str]:
        for bind in binds:
            if not all(part.startswith("/") for part in bind.split(":", 1)):
                raise ValueError(f"extra_ro_binds entry {bind!r} must use absolute paths")
        return binds

    def __hash__(self) -> int:
        # Inspect hashes per-sample sandbox configs; pydantic's own hash fails on list fields
        return hash(self.model_dump_json())

    def bind_pairs(self) -> list[tuple[str, str]]:
        """`extra_ro_binds` as (host source, sandbox destination) pairs."""
        pairs: list[tuple[str, str]] = []
        for bind in self.extra_ro_binds:
            src, _, dest = bind.partition(":")
            pairs.append((src, dest or src))
        return pairs


def _check_relative(raw: str, what: str) -> str:
    path = PurePosixPath(raw)
    if path.is_absolute() or ".." in path.parts or str(path) in ("", "."):
        raise ValueError(f"{what} {raw!r} must be relative and inside /workspace")
    return str(path)


def load_config(config: Any) -> BwrapConfig:
    """The `BwrapConfig` for what Inspect passes as `config`: a model, a dict, a path, or None.

    A string is a JSON, TOML or YAML file (by extension) holding the model's fields, which is
    how a config reaches the sandbox from the CLI or a serialised eval log.
    """
    if config is None:
        return BwrapConfig()
    if isinstance(config, BwrapConfig):
        return config
    if isinstance(config, BaseModel):
        return BwrapConfig.model_validate(config.model_dump())
    if isinstance(config, dict):
        return BwrapConfig.model_validate(config)
    if isinstance(config, str):
        path = Path(config)
        text = path.read_text(encoding="utf-8")
        suffix = path.suffix.lower()
        if suffix == ".toml":
            return BwrapConfig.model_validate(tomllib.loads(text))
        if suffix in (".yaml", ".yml"):
            import yaml  # Inspect depends on PyYAML; only YAML configs need it

            return BwrapConfig.model_validate(yaml.safe_load(text) or {})
        return BwrapConfig.model_validate(json.loads(text))
    raise TypeError(f"unsupported bwrap sandbox config: {type(config).__name__}")
