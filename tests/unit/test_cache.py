"""Checkpoint cache: atomic publishing, manifests that catch damage, cache keys."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from stagelens.errors import UserError
from stagelens.report.record import Provenance, TrainingRecord
from stagelens.training.cache import (
    MANIFEST,
    CheckpointCacheError,
    checkpoint_dir,
    config_key,
    load_manifest,
    remove_partials,
    save_checkpoint,
)

FILES = {
    "model.safetensors": b"\x00\x01weights" * 100,
    "config.json": b'{"hidden_size": 32}',
    "tokenizer/tokenizer.json": b'{"vocab": ["a", "b"]}',
}
CONFIG = {"stage": "base", "seed": 0, "shape": {"hidden_size": 32}}


def _record() -> TrainingRecord:
    return TrainingRecord(
        method="pretrain", seed=0, steps=3, seconds=0.5, final_loss=1.25, config={"steps": 3},
        data=Provenance(name="corpus", source="test", licence="none", sha256="ab", n=2),
    )  # fmt: skip


def _writer(files: dict[str, bytes] = FILES):
    def write(target: Path) -> None:
        for name, blob in files.items():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            (target / name).write_bytes(blob)

    return write


def _save(root: Path, write=None) -> Path:
    path = checkpoint_dir(root, "base", "k123")
    save_checkpoint(path, write or _writer(), stage="base", key="k123", config=CONFIG,
                    training=[_record()])  # fmt: skip
    return path


def _leftovers(root: Path) -> list[Path]:
    folder = root / "checkpoints"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_checkpoint_dir_is_under_the_root_and_named_by_stage_and_key(tmp_path):
    path = checkpoint_dir(tmp_path, "sft_only", "abc")
    assert path.parent.parent == tmp_path
    assert "sft_only" in path.name and "abc" in path.name
    assert checkpoint_dir(tmp_path, "sft_only", "abd") != path


def test_save_then_load_round_trips(tmp_path):
    path = _save(tmp_path)
    for name, blob in FILES.items():
        assert (path / name).read_bytes() == blob
    manifest = load_manifest(path)
    assert manifest is not None
    assert manifest.stage == "base" and manifest.key == "k123"
    assert manifest.config == CONFIG
    assert manifest.training == [_record()]
    assert manifest.files == {
        name: hashlib.sha256(blob).hexdigest() for name, blob in FILES.items()
    }
    assert MANIFEST not in manifest.files
    assert (path / MANIFEST).is_file()
    # published in place: nothing else next to it
    assert _leftovers(tmp_path) == [path]


def test_nothing_there_is_none(tmp_path):
    assert load_manifest(tmp_path / "checkpoints" / "base-nothing") is None


def test_directory_without_manifest_is_an_error_naming_it(tmp_path):
    path = _save(tmp_path)
    (path / MANIFEST).unlink()
    with pytest.raises(CheckpointCacheError) as info:
        load_manifest(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, UserError)


def test_a_file_where_the_checkpoint_should_be_is_an_error(tmp_path):
    path = checkpoint_dir(tmp_path, "base", "k")
    path.parent.mkdir(parents=True)
    path.write_text("not a checkpoint")
    with pytest.raises(CheckpointCacheError, match=str(path)):
        load_manifest(path)


@pytest.mark.parametrize("name", list(FILES))
def test_a_flipped_byte_is_an_error_naming_the_file(tmp_path, name):
    path = _save(tmp_path)
    file = path / name
    blob = bytearray(file.read_bytes())
    blob[len(blob) // 2] ^= 0x01
    file.write_bytes(bytes(blob))
    with pytest.raises(CheckpointCacheError) as info:
        load_manifest(path)
    assert str(file) in str(info.value)


def test_a_deleted_file_is_an_error_naming_the_checkpoint_and_file(tmp_path):
    path = _save(tmp_path)
    (path / "model.safetensors").unlink()
    with pytest.raises(CheckpointCacheError) as info:
        load_manifest(path)
    assert str(path) in str(info.value)
    assert "model.safetensors" in str(info.value)


@pytest.mark.parametrize(
    "garbage",
    [b"", b"not json at all", b'{"stage": "base"}', b"[1, 2, 3]", b"\xff\xfe\x00garbage",
     b'{"stage": "base", "key": "k", "config": {}, "files": {}, "created_at": "t", '
     b'"training": [], "extra": 1}'],
)  # fmt: skip
def test_a_garbage_manifest_is_an_error_naming_it(tmp_path, garbage):
    path = _save(tmp_path)
    (path / MANIFEST).write_bytes(garbage)
    with pytest.raises(CheckpointCacheError) as info:
        load_manifest(path)
    assert str(path / MANIFEST) in str(info.value)


def test_manifest_is_written_last_as_valid_json(tmp_path):
    path = _save(tmp_path)
    data = json.loads((path / MANIFEST).read_text())
    assert set(data["files"]) == set(FILES)


def test_writer_exception_leaves_no_checkpoint_and_no_partials(tmp_path):
    def failing(target: Path) -> None:
        _writer()(target)
        raise RuntimeError("disk full")

    path = checkpoint_dir(tmp_path, "base", "k123")
    with pytest.raises(RuntimeError, match="disk full"):
        _save(tmp_path, failing)
    assert not path.exists()
    assert _leftovers(tmp_path) == []
    assert load_manifest(path) is None  # and so the stage is simply trained again


def test_interrupt_inside_writer_leaves_no_partials(tmp_path):
    def interrupted(target: Path) -> None:
        (target / "half.bin").write_bytes(b"x")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _save(tmp_path, interrupted)
    assert _leftovers(tmp_path) == []


def test_remove_partials_removes_only_leftovers(tmp_path):
    kept = _save(tmp_path)
    folder = tmp_path / "checkpoints"
    leftovers = [folder / f".{kept.name}.x1y2.partial", folder / ".production-k9.abc.partial"]
    for leftover in leftovers:
        (leftover / "sub").mkdir(parents=True)
        (leftover / "sub" / "model.safetensors").write_bytes(b"half")
    remove_partials(tmp_path)
    assert _leftovers(tmp_path) == [kept]
    assert load_manifest(kept) is not None


def test_remove_partials_on_an_empty_cache(tmp_path):
    remove_partials(tmp_path / "never-used")
    assert not (tmp_path / "never-used").exists()


def test_config_key_is_stable():
    same = {"b": [1, 2], "a": {"y": 1.5, "x": None}}
    reordered = {"a": {"x": None, "y": 1.5}, "b": [1, 2]}
    assert config_key(same) == config_key(dict(same)) == config_key(reordered)
    assert len(config_key(same)) == 16
    assert all(c in "0123456789abcdef" for c in config_key(same))


@pytest.mark.parametrize(
    "changed",
    [
        {"b": [1, 2], "a": {"y": 1.5, "x": 0}},
        {"b": [2, 1], "a": {"y": 1.5, "x": None}},
        {"b": [1, 2], "a": {"y": 1.50001, "x": None}},
        {"b": [1, 2], "a": {"y": 1.5, "x": None}, "c": None},
        {"b": [1, 2], "a": {"y": 1.5}},
        {"b": [1, "2"], "a": {"y": 1.5, "x": None}},
        {"B": [1, 2], "a": {"y": 1.5, "x": None}},
    ],
)
def test_config_key_is_sensitive_to_any_change(changed):
    assert config_key(changed) != config_key({"b": [1, 2], "a": {"y": 1.5, "x": None}})


def test_a_live_run_s_scratch_is_left_alone_and_a_dead_one_s_removed(tmp_path):
    import subprocess
    import sys

    folder = tmp_path / "checkpoints"
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    try:
        writing = folder / f".sft_only-k1.{live.pid}.abc123.partial"
        crashed = folder / f".sft_only-k2.{dead.pid}.def456.partial"
        for scratch in (writing, crashed):
            scratch.mkdir(parents=True)
            (scratch / "model.safetensors").write_bytes(b"half")
        remove_partials(tmp_path)  # another run sharing the cache starts
        assert writing.is_dir() and not crashed.exists()
    finally:
        live.kill()
        live.wait()
    remove_partials(tmp_path)  # its writer is gone now
    assert not writing.exists()


def test_two_runs_publishing_one_key_both_get_the_checkpoint(tmp_path):
    first = _save(tmp_path)
    manifest_before = (first / MANIFEST).read_text()
    # a second run that trained the same stage while the first one published it
    again = save_checkpoint(first, _writer(), stage="base", key="k123", config=CONFIG,
                            training=[_record()])  # fmt: skip
    assert again.key == "k123" and (first / MANIFEST).read_text() == manifest_before
    assert _leftovers(tmp_path) == [first]
