"""A persistent cache of judge verdicts, so that a verdict is paid for once.

Keyed by (judge model, rubric, rubric version, prompt, response): the same answer graded by
the same judge with the same rubric gets the same verdict without a call. The key uses the
raw prompt and response, not the prompt sent to the judge, because every call wraps the
response in fresh random boundary markers (see prompts.py); Inspect's own model cache keys
on the sent messages, so it would never hit.

Only valid replies are stored: an invalid reply says nothing reusable, and a later re-score
should get the chance to obtain a verdict. SQLite gives atomic, concurrent-safe writes, so a
killed run leaves either a verdict or nothing, never half a row.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from pathlib import Path

ENV_VAR = "STAGELENS_JUDGE_CACHE"
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS verdicts (key TEXT PRIMARY KEY, judge TEXT, rubric TEXT, "
    "rubric_version TEXT, reply TEXT NOT NULL, created REAL)"
)


def default_cache_path() -> Path:
    """$STAGELENS_JUDGE_CACHE, else judgements.sqlite in stagelens's cache directory."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    from stagelens.training.cache import cache_root

    return cache_root() / "judgements.sqlite"


def verdict_key(judge: str, rubric: str, rubric_version: str, prompt: str, response: str) -> str:
    fields = [judge, rubric, rubric_version, prompt, response]
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()


class VerdictCache:
    """Valid judge replies by key; one SQLite file, shared by processes and threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(path, timeout=30, check_same_thread=False)
        with self._lock, self._connection:
            self._connection.execute(_SCHEMA)

    def get(self, key: str) -> str | None:
        with self._lock:
            row = self._connection.execute(
                "SELECT reply FROM verdicts WHERE key = ?", (key,)
            ).fetchone()
        return None if row is None else str(row[0])

    def put(self, key: str, judge: str, rubric: str, rubric_version: str, reply: str) -> None:
        with self._lock, self._connection:
            self._connection.execute(
                "INSERT OR REPLACE INTO verdicts "
                "(key, judge, rubric, rubric_version, reply, created) VALUES (?, ?, ?, ?, ?, ?)",
                (key, judge, rubric, rubric_version, reply, time.time()),
            )

    def __len__(self) -> int:
        with self._lock:
            (count,) = self._connection.execute("SELECT COUNT(*) FROM verdicts").fetchone()
        return int(count)


_OPEN: dict[Path, VerdictCache] = {}
_OPEN_LOCK = threading.Lock()


def open_cache(path: str | Path | None) -> VerdictCache:
    """One connection per file per process (scorers run concurrently on one event loop)."""
    resolved = Path(path).resolve() if path is not None else default_cache_path().resolve()
    with _OPEN_LOCK:
        if resolved not in _OPEN:
            _OPEN[resolved] = VerdictCache(resolved)
        return _OPEN[resolved]
