"""What a run record says about the code and machine that produced it."""

from __future__ import annotations

import shlex
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

KEY_PACKAGES = (
    "stagelens",
    "inspect-ai",
    "torch",
    "transformers",
    "trl",
    "peft",
    "accelerate",
    "datasets",
    "tokenizers",
    "numpy",
    "scipy",
    "statsmodels",
    "pydantic",
)


def package_versions() -> dict[str, str]:
    versions = {}
    for name in KEY_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def git_revision() -> str | None:
    """The source checkout's commit, with "+dirty" when it has uncommitted changes."""
    here = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(here), "status", "--porcelain", "--", "."],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{rev}+dirty" if dirty else rev


def record_header() -> dict[str, Any]:
    """The RunRecord fields that describe when, with what code and how a run was made."""
    packages = package_versions()
    return {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "stagelens_version": packages.get("stagelens", "unknown"),
        "git_revision": git_revision(),
        "python": sys.version.split()[0],
        "packages": packages,
        "command": shlex.join(sys.argv),
    }
