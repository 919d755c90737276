"""Checkpoint cache keyed by a hash of everything that determines the weights.

A checkpoint is written to a temporary sibling directory and renamed into place
only once complete, with a manifest of file hashes written last; so an
interrupted run leaves no half-written checkpoint behind, and a directory that
fails its manifest was damaged after the fact and is reported, not trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from stagelens.errors import UserError
from stagelens.records import StrictModel, TrainingRecord

MANIFEST = "stagelens-checkpoint.json"
CACHE_ENV = "STAGELENS_CACHE"


class CheckpointCacheError(UserError, RuntimeError):
    """A cached checkpoint exists but is incomplete or corrupt."""


class CheckpointManifest(StrictModel):
    """What a cached checkpoint holds: its stage, key, config, file hashes and lineage."""

    stage: str
    key: str
    config: dict[str, Any]
    files: dict[str, str]  # relative path -> sha256
    created_at: str
    training: list[TrainingRecord]


def cache_root() -> Path:
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path.home() / ".cache" / "stagelens"


def config_key(config: dict[str, Any]) -> str:
    blob = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checkpoint_dir(root: Path, stage: str, key: str) -> Path:
    return root / "checkpoints" / f"{stage}-{key}"


def load_manifest(path: Path, key: str | None = None) -> CheckpointManifest | None:
    """The manifest of a complete, intact checkpoint; None if none was ever written there."""
    if not path.exists():
        return None
    fix = f"delete {path} to retrain that stage"
    manifest_file = path / MANIFEST
    if not path.is_dir() or not manifest_file.is_file():
        raise CheckpointCacheError(f"incomplete checkpoint cache at {path}: no {MANIFEST}; {fix}")
    try:
        manifest = CheckpointManifest.model_validate_json(manifest_file.read_text())
    except (ValidationError, ValueError) as err:
        raise CheckpointCacheError(f"corrupt manifest {manifest_file}: {err}; {fix}") from err
    if key is not None and manifest.key != key:
        raise CheckpointCacheError(
            f"checkpoint cache at {path} records key {manifest.key}, expected {key}; {fix}"
        )
    for name, expected in manifest.files.items():
        file = path / name
        if not file.is_file():
            raise CheckpointCacheError(f"checkpoint cache at {path} lacks {name}; {fix}")
        if file_sha256(file) != expected:
            raise CheckpointCacheError(
                f"corrupt checkpoint cache: {file} does not match its recorded sha256; {fix}"
            )
    return manifest


def save_checkpoint(
    path: Path,
    write: Callable[[Path], None],
    *,
    stage: str,
    key: str,
    config: dict[str, Any],
    training: list[TrainingRecord],
) -> CheckpointManifest:
    """Let `write` fill a scratch directory, then publish it at `path` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # the pid in the name: remove_partials leaves the scratch of a run still writing alone
    scratch = Path(tempfile.mkdtemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".partial",
                                    dir=path.parent))  # fmt: skip
    try:
        write(scratch)
        files = {
            str(f.relative_to(scratch)): file_sha256(f)
            for f in sorted(scratch.rglob("*"))
            if f.is_file()
        }
        manifest = CheckpointManifest(
            stage=stage,
            key=key,
            config=config,
            files=files,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            training=training,
        )
        (scratch / MANIFEST).write_text(manifest.model_dump_json(indent=2))
        try:
            os.replace(scratch, path)
        except OSError:
            # another run sharing the cache published this key first: same key, same lineage
            published = load_manifest(path, key)
            if published is None:
                raise
            shutil.rmtree(scratch, ignore_errors=True)
            return published
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return manifest


def remove_partials(root: Path) -> None:
    """Scratch directories of runs that were interrupted; they are never reused. One whose
    writer is still running (another run sharing the cache) is left alone."""
    for leftover in (root / "checkpoints").glob(".*.partial"):
        if _writer_alive(leftover.name):
            continue
        shutil.rmtree(leftover, ignore_errors=True)


def _writer_alive(name: str) -> bool:
    """Whether the process named in a scratch directory's name (".<stage>.<pid>.<random>
    .partial") is running; a name without a pid is an old run's, never alive."""
    parts = name.split(".")
    pid = parts[2] if len(parts) >= 5 else ""
    if not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True
