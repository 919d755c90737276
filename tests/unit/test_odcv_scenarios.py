"""ODCV-Bench scenarios read from a checkout: the Dockerfile interpreted into a layout, and
every scenario that cannot be laid out reported with its file, line and reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stagelens.benchmarks.odcv_scenarios import bench_dir, layout_scenario, load_odcv
from stagelens.suites.odcv import evidence, scenario_samples

ODCV = Path(__file__).resolve().parents[3] / "shared" / "data" / "odcv"
shared = pytest.mark.skipif(not ODCV.is_dir(), reason=f"no shared ODCV data at {ODCV}")

DOCKERFILE = """FROM debian:bullseye-slim
WORKDIR /app
RUN apt-get update && apt-get install -y python3 bc jq && rm -rf /var/lib/apt/lists/*
COPY requirements.txt /app/requirements.txt
RUN mkdir -p /app/output /app/data/
COPY records.csv /app/data/records.csv
COPY ./*.sh /usr/local/bin/
COPY raw /app/data/raw
RUN mv /app/data/records.csv /app/data/records.tmp && \\
    mv /app/data/records.tmp /app/data/final.csv
RUN rm -f /app/data/raw/*.log
RUN dos2unix /usr/local/bin/*.sh
COPY ./task_executor_api.py /app/task_executor_api.py
RUN chmod +x /usr/local/bin/*.sh
RUN chmod -R 555 /usr/local/bin
CMD ["python3", "/app/task_executor_api.py"]
"""


def _scenario(root: Path, name: str, dockerfile: str = DOCKERFILE, prompt: object = None) -> Path:
    folder = root / "mandated_scenarios" / name
    (folder / "raw").mkdir(parents=True)
    (folder / "raw" / "a.txt").write_text("a\n")
    (folder / "raw" / "old.log").write_text("log\n")
    (folder / "records.csv").write_text("id,value\n1,5\n")
    (folder / "validate.sh").write_bytes(b"#!/bin/bash\r\necho PASS\r\n")
    (folder / "Dockerfile").write_text(dockerfile)
    if prompt is None:
        prompt = {"system_prompt": "You are an agent.", "user_prompt": "Do the task."}
    if prompt != "absent":
        (folder / "prompt.json").write_text(
            prompt if isinstance(prompt, str) else json.dumps(prompt)
        )
    return folder


def test_dockerfile_is_laid_out_as_the_image_would_be(tmp_path: Path) -> None:
    s = layout_scenario(_scenario(tmp_path, "Good"), "mandated")
    assert s.workdir == "/app" and s.id == "Good:mandated"
    assert set(s.files) == {"/app/data/final.csv", "/app/data/raw/a.txt",
                            "/usr/local/bin/validate.sh"}  # fmt: skip
    assert s.files["/usr/local/bin/validate.sh"] == b"#!/bin/bash\necho PASS\n"  # dos2unix
    assert "/app/output" in s.dirs and "/usr/local/bin" in s.read_only
    assert "/usr/local/bin/validate.sh" in s.executables
    assert s.is_tool("/usr/local/bin/validate.sh") and not s.is_tool("/app/data/final.csv")
    # what the sandbox provides instead, and the upstream harness's files, are said, not lost
    assert any("apt-get" in step for step in s.not_reproduced)
    assert any("task_executor_api.py" in step for step in s.not_reproduced)


BAD = {
    "NoPrompt": (DOCKERFILE, "absent", "prompt.json: missing"),
    "BrokenPrompt": (DOCKERFILE, '{"system_prompt": ', "prompt.json:1: not JSON"),
    "NoUserPrompt": (DOCKERFILE, {"system_prompt": "x"}, "field 'user_prompt' is missing"),
    "MissingCopy": (DOCKERFILE.replace("COPY records.csv", "COPY gone.csv"), None,
                    "Dockerfile:6: COPY source 'gone.csv' is missing"),
    "UnknownRun": (DOCKERFILE + "RUN curl http://example.com\n", None,
                   "Dockerfile:17: RUN 'curl' is not reproduced"),
    "OutsideRoots": (DOCKERFILE + "COPY records.csv /etc/records.csv\n", None,
                     "Dockerfile:17: path '/etc/records.csv' is outside"),
}  # fmt: skip


def test_scenarios_that_cannot_be_laid_out_are_skipped_counted_and_explained(
    tmp_path: Path,
) -> None:
    _scenario(tmp_path, "Good")
    for name, (dockerfile, prompt, _) in BAD.items():
        _scenario(tmp_path, name, dockerfile, prompt)
    scenarios, skipped, provenance = load_odcv(tmp_path, ("mandated",))
    assert [s.name for s in scenarios] == ["Good"]
    reasons = {s.name: s.reason for s in skipped}
    assert set(reasons) == set(BAD)
    for name, (_, _, expected) in BAD.items():
        assert expected in reasons[name], reasons[name]
        assert str(tmp_path) in reasons[name]  # the file is named
    assert provenance.n == 1 and "6 scenario-variant(s) skipped" in (provenance.notes or "")


def test_a_folder_without_scenarios_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="mandated_scenarios"):
        bench_dir(tmp_path)
    with pytest.raises(ValueError, match="expected odcv:DIR"):
        scenario_samples(f"jsonl:{tmp_path}")
    with pytest.raises(ValueError, match="unknown ODCV variant"):
        load_odcv(tmp_path, ("secret",))


@shared
def test_the_shared_copy_lays_out_39_of_40_scenarios_in_both_variants() -> None:
    scenarios, skipped, provenance = load_odcv(ODCV)
    assert len(scenarios) == 78 and provenance.n == 78
    assert {(s.name, s.variant) for s in skipped} == {
        ("Health-Data-Compliance-Analyst", v) for v in ("mandated", "incentivized")
    }
    assert all("access_logs_october.csv" in s.reason for s in skipped)
    # every laid-out scenario has its tools read-only and its prompts
    assert all("/usr/local/bin" in s.read_only and s.user_prompt for s in scenarios)
    by_variant = {(s.name, s.variant): s for s in scenarios}
    pairs = [n for n, v in by_variant if v == "mandated"]
    # the two variants differ only in the user prompt
    differ = [n for n in pairs if by_variant[(n, "mandated")].files
              != by_variant[(n, "incentivized")].files]  # fmt: skip
    assert not differ


@shared
def test_samples_draw_whole_scenarios_with_a_seed() -> None:
    samples = scenario_samples(f"odcv:{ODCV}", n=3, seed=1)
    names = {s.metadata["scenario"] for s in samples if s.metadata}
    assert len(names) == 3 and len(samples) == 6  # both variants of each
    again = scenario_samples(f"odcv:{ODCV}", n=3, seed=1)
    assert [s.id for s in samples] == [s.id for s in again]
    assert {s.metadata["cluster"] for s in samples if s.metadata} == names
    with pytest.raises(ValueError, match="only 39 scenarios"):
        scenario_samples(f"odcv:{ODCV}", n=40)


def test_evidence_separates_data_tools_and_shadow_copies() -> None:
    before = {"/app/data/x.csv": "h1", "/usr/local/bin/v.sh": "h2", "/app/run.py": "h3"}
    tools = {"/usr/local/bin/v.sh", "/app/run.py"}
    untouched = evidence(before, dict(before), [*before, "/app/output/r.json"], tools)
    assert untouched == {"data_modified": [], "validator_modified": [], "tool_shadowed": []}
    after = {"/app/data/x.csv": None, "/usr/local/bin/v.sh": "h2", "/app/run.py": "other"}
    found = evidence(before, after, ["/app/v.sh", "/usr/local/bin/v.sh"], tools)
    assert found == {"data_modified": ["/app/data/x.csv"], "validator_modified": ["/app/run.py"],
                     "tool_shadowed": ["/app/v.sh"]}  # fmt: skip
