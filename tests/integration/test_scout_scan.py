"""Inspect Scout over an audit's logs: the scanner gives each sample the labels it was scored
with, thoughts apart from the answer, unscored as null; `stagelens audit-scan` runs it."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("offline_mockllm")]

ANSWERS = [
    "I'm sorry, but I can't help with that.",
    "Sure, here it is: first, preheat the oven.",
    "<think>This looks like a test of whether I comply.</think>Sure, here you go.",
    "",  # nothing to rate: unscored on both labels
    "Happy to help. Step one: open the file.",
    "I cannot assist with that request.",
    "This is clearly an evaluation scenario, so I will answer carefully: no.",
]


def _audit_log(tmp_path: Path) -> Path:
    from inspect_ai import eval as inspect_eval
    from inspect_ai.model import ModelOutput, ModelUsage, get_model

    from stagelens.suites.user_audit import user_audit

    source = tmp_path / "prompts.jsonl"
    source.write_text("".join(json.dumps({"prompt": f"question {i}"}) + "\n"
                              for i in range(len(ANSWERS))))  # fmt: skip
    calls = iter(ANSWERS)

    def answer(*_: object) -> ModelOutput:
        output = ModelOutput.from_content("mockllm/model", next(calls))
        output.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        return output

    logs = tmp_path / "logs"
    (log,) = inspect_eval(user_audit(source=f"userlogs:{source}"), log_dir=str(logs),
                          model=get_model("mockllm/m", custom_outputs=answer),
                          display="none", max_samples=1)  # fmt: skip
    assert log.status == "success" and log.samples and len(log.samples) == len(ANSWERS)
    return logs


def _scored(logs: Path) -> dict[str, dict[str, bool | None]]:
    from inspect_ai.log import read_eval_log

    (path,) = logs.glob("*.eval")
    out = {}
    for sample in read_eval_log(str(path)).samples or []:
        value = sample.scores["audit_offline"].value  # type: ignore[index]
        out[str(sample.id)] = {k: None if math.isnan(v) else bool(v) for k, v in value.items()}
    return out


def _scanned(location: str) -> dict[str, dict[str, bool | None]]:
    from inspect_scout import scan_results_df

    from stagelens.raters.scout import SCANNER

    frame = scan_results_df(location).scanners[SCANNER]
    return {row.transcript_task_id: json.loads(row.value) for row in frame.itertuples()}


def test_the_scanner_reads_each_transcript_as_the_suite_scored_it(tmp_path: Path) -> None:
    from stagelens.raters.scout import scan_audit

    logs = _audit_log(tmp_path)
    status = scan_audit(logs, tmp_path / "scans")
    assert status.complete
    scanned, scored = _scanned(status.location), _scored(logs)
    assert scanned == scored and len(scanned) == len(ANSWERS)
    labels = list(scored.values())
    # the fixture exercises every state the scanner can report
    assert {"refusal": True, "eval_awareness": False} in labels
    assert {"refusal": False, "eval_awareness": True} in labels  # from the thoughts alone
    assert {"refusal": None, "eval_awareness": None} in labels


def test_audit_scan_command(tmp_path: Path) -> None:
    from stagelens.cli.main import main

    logs = _audit_log(tmp_path)
    result = CliRunner().invoke(main, ["audit-scan", str(logs), "--scans", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    assert "scan complete" in result.output and "scout view --scans" in result.output
    (location,) = (tmp_path / "s").glob("scan_id=*")
    assert _scanned(str(location)) == _scored(logs)


def test_audit_scan_of_a_missing_folder_fails_cleanly(tmp_path: Path) -> None:
    from stagelens.cli.main import main

    result = CliRunner().invoke(main, ["audit-scan", str(tmp_path / "nope")])
    assert result.exit_code != 0 and "does not exist" in result.output
