"""Replaying ODCV-Bench's published trajectories through the `judged` scorer (rubric "odcv"),
with Inspect's mockllm as the judge; and reading the trajectories, missing cells counted."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from inspect_ai.log import read_eval_log
from inspect_ai.model import ChatMessage, ModelOutput, ModelUsage, get_model

from stagelens.benchmarks.odcv import OdcvFormatError, read_odcv_scores
from stagelens.benchmarks.odcv_trajectories import AGENT_LOGS, read_trajectories
from stagelens.cli.main import main
from stagelens.errors import UserError
from stagelens.experiment.odcv_replay import replay_odcv
from stagelens.raters.judges import JudgeSpec, neutralise

ODCV_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "odcv"
BENCH = ODCV_DIR / "bench"
needs_bench = pytest.mark.skipif(
    not (BENCH / AGENT_LOGS).is_dir(), reason=f"ODCV-Bench trajectories not at {BENCH}"
)
MODEL = "gpt-oss-120b"
SCRIPT: list[int | None] = [4, 0, 3, None]  # per replayed run, in order; None: not JSON


def _reply(text: str) -> ModelOutput:
    output = ModelOutput.from_content("mockllm/model", text)
    output.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
    return output


class Judge:
    """Scores each run as SCRIPT says, recognising the run by the request it is shown."""

    def __init__(self, requests: list[str]) -> None:
        self.requests = [neutralise(r) for r in requests]
        self.calls: list[int] = []

    def __call__(self, messages: list[ChatMessage], *_: Any) -> ModelOutput:
        prompt = "\n".join(m.text for m in messages)
        block = re.search(r"<<<REQUEST-(\w+)>>>\n(.*?)\n<<<END-REQUEST-\1>>>", prompt, re.DOTALL)
        assert block is not None
        (index,) = [i for i, r in enumerate(self.requests) if r == block.group(2)]
        self.calls.append(index)
        score = SCRIPT[index]
        if score is None:
            return _reply('The agent seems fine. {"score": 0')
        verdict = json.dumps({"reasoning": "scripted", "score": score})
        return _reply(f"Reviewed.\n<verdict>{verdict}</verdict>")


@needs_bench
def test_scripted_scores_flow_into_mr_severity_and_agreement(tmp_path: Path) -> None:
    runs = [r for r in read_trajectories(BENCH).records if r.model == MODEL][: len(SCRIPT)]
    judge = Judge([r.judge_request() for r in runs])
    spec = JudgeSpec(name="scripted", rubric="odcv", model="mockllm/judge", retries=1)
    result = replay_odcv(
        BENCH, spec, tmp_path / "logs", cache="none", models=[MODEL], limit=len(SCRIPT),
        n_boot=200, model_roles={"grader": get_model("mockllm/judge", custom_outputs=judge)},
    )  # fmt: skip
    assert [(c.model, c.variant, c.scenario) for c in result.cells] == [
        (r.model, r.variant, r.scenario) for r in runs
    ]
    scored = [float(s) for s in SCRIPT if s is not None]
    assert [c.severity for c in result.cells] == [None if s is None else float(s) for s in SCRIPT]
    # the run that never got JSON: asked once and retried once, then unscored and counted
    assert result.n_unscored == 1 and result.invalid_replies == 2
    assert sorted(judge.calls) == sorted([0, 1, 2, 3, 3])
    assert result.cells[3].label == "unscored" and result.cells[3].invalid_replies == 2
    est = result.estimates[MODEL]
    assert est.k == sum(s >= 3 for s in scored) and est.n == len(scored) and est.n_missing == 1
    assert est.mr.estimate == est.k / est.n
    assert est.severity.estimate == pytest.approx(sum(scored) / len(scored))
    # against the published median of the same cells
    published = read_odcv_scores(ODCV_DIR / "scores_final_median.csv").model_cells(MODEL)
    theirs = [published[(r.scenario, r.variant)] for r in runs]
    assert [c.published for c in result.cells] == theirs
    pairs = [(float(s), p) for s, p in zip(SCRIPT, theirs, strict=True)
             if s is not None and p is not None]  # fmt: skip
    agreement = result.agreement
    assert agreement is not None and agreement.n == len(pairs)
    assert agreement.exact == sum(a == b for a, b in pairs) / len(pairs)
    assert agreement.violation == sum((a >= 3) == (b >= 3) for a, b in pairs) / len(pairs)
    assert result.published_source == str((ODCV_DIR / "scores_final_median.csv").resolve())
    pub_est = result.published_estimates[MODEL]
    assert pub_est.n == sum(p is not None for p in theirs)
    # the grader calls are in an ordinary Inspect log, one sample per run
    log = read_eval_log(result.log)
    assert log.eval.task == "odcv_replay" and len(log.samples or []) == len(SCRIPT)
    summary = result.format_summary()
    assert MODEL in summary and "unscored: 1 cells (2 invalid replies" in summary


@needs_bench
def test_the_published_trajectories_are_all_read() -> None:
    found = read_trajectories(BENCH)
    folders = sorted(p for p in (BENCH / AGENT_LOGS).iterdir() if p.is_dir())
    records = sorted((BENCH / AGENT_LOGS).glob("*/experiments/*/messages_record.txt"))
    assert len(found.records) + len(found.missing) >= len(records)
    assert len(found.records) == len(records) and not found.ignored
    assert {f"{r.model}-{r.variant}" for r in found.records} == {p.name for p in folders}
    first = found.records[0]
    assert first.transcript == Path(first.path).read_text(encoding="utf-8")
    assert first.n_steps >= 1 and first.system_prompt is not None
    assert first.system_prompt.strip()[:200] in first.transcript  # the record starts with it


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _prompt(system: Any = "You are X.", user: Any = "Do Y.") -> str:
    return json.dumps({"system_prompt": system, "user_prompt": user})


def test_missing_cells_and_prompts_are_counted_not_dropped(tmp_path: Path) -> None:
    runs = tmp_path / AGENT_LOGS / "m1-mandated" / "experiments"
    _write(runs / "A" / "messages_record.txt", "== Step 1 ==\nrole: system\ncontent: hi\n")
    (runs / "B").mkdir()  # a run folder without its record
    _write(runs / "C" / "messages_record.txt", "  \n")  # an empty record
    for scenario in ("A", "B", "C", "D"):  # D: a scenario no run was logged for
        _write(tmp_path / "mandated_scenarios" / scenario / "prompt.json", _prompt())
    _write(tmp_path / AGENT_LOGS / "m2-incentivized" / "experiments" / "A" /
           "messages_record.txt", "== Step 1 ==\n")  # fmt: skip
    (tmp_path / AGENT_LOGS / "notes").mkdir()
    found = read_trajectories(tmp_path)
    assert [r.cell_id for r in found.records] == ["m1-mandated/A", "m2-incentivized/A"]
    assert [(m.model, m.variant, m.scenario) for m in found.missing] == [
        ("m1", "mandated", "B"), ("m1", "mandated", "C"), ("m1", "mandated", "D"),
    ]  # fmt: skip
    assert "empty" in found.missing[1].reason and "messages_record.txt" in found.missing[2].reason
    assert found.missing_prompts == ["m2-incentivized/A"]  # no incentivized_scenarios folder
    assert found.ignored == [str(tmp_path / AGENT_LOGS / "notes")]
    first = found.records[0]
    assert first.n_steps == 1 and first.judge_request().endswith("User prompt:\nDo Y.")
    assert "prompt.json is absent" in found.records[1].judge_request()


def test_a_malformed_checkout_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(OdcvFormatError, match=re.escape(f"{tmp_path}: no {AGENT_LOGS}")):
        read_trajectories(tmp_path)
    _write(tmp_path / AGENT_LOGS / "m-mandated" / "experiments" / "A" / "messages_record.txt",
           "== Step 1 ==\n")  # fmt: skip
    prompt = tmp_path / "mandated_scenarios" / "A" / "prompt.json"
    _write(prompt, _prompt(user=3))
    with pytest.raises(OdcvFormatError, match=re.escape(f"{prompt}: field 'user_prompt' is 3")):
        read_trajectories(tmp_path)
    _write(prompt, '{"system_prompt": "x",\n "user_prompt": }')
    with pytest.raises(OdcvFormatError, match=re.escape(f"{prompt}:2: not JSON")):
        read_trajectories(tmp_path)


def test_a_replay_needs_the_odcv_rubric_and_known_models(tmp_path: Path) -> None:
    _write(tmp_path / AGENT_LOGS / "m-mandated" / "experiments" / "A" / "messages_record.txt",
           "== Step 1 ==\n")  # fmt: skip
    wrong = JudgeSpec(name="j", rubric="reward_hacking", model="mockllm/model")
    with pytest.raises(UserError, match="needs rubric 'odcv'"):
        replay_odcv(tmp_path, wrong, tmp_path / "logs")
    judge = JudgeSpec(name="j", rubric="odcv", model="mockllm/model")
    with pytest.raises(UserError, match=r"no published runs of \['x'\]; models: \['m'\]"):
        replay_odcv(tmp_path, judge, tmp_path / "logs", models=["x"])


@needs_bench
def test_the_command_replays_and_counts_unscored_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the command names its judge by model string; bind that role to a grader that never
    # gives a verdict (mockllm's own default reply would count tokens with a download)
    from stagelens.raters.judges import settings

    silent = get_model("mockllm/judge", custom_outputs=lambda *_: _reply("I cannot say."))
    monkeypatch.setattr(settings, "model_roles_for", lambda judge: {"grader": silent})
    args = ["odcv-replay", str(BENCH), "--judge-model", "mockllm/judge", "--model", MODEL,
            "--limit", "2", "--cache", "none", "--out", str(tmp_path / "logs"), "--n-boot", "50",
            "--json", str(tmp_path / "replay.json")]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    # JudgeSpec's default: two retries, so three replies per run, all invalid
    assert "unscored: 2 cells (6 invalid replies" in result.stdout
    assert f"{MODEL} " in result.stdout and "agreement with the published median" in result.stdout
    written = json.loads((tmp_path / "replay.json").read_text())
    assert [c["severity"] for c in written["cells"]] == [None, None]
    assert written["estimates"][MODEL]["mr"]["estimate"] is None
    assert written["agreement"]["n"] == 0
