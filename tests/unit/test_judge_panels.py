"""Panels of judges (majority, median, ties), judge calibration on labelled answers, agreement."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from inspect_ai import Task, eval
from inspect_ai.dataset import Sample
from inspect_ai.model import ChatMessage, ModelOutput, ModelUsage, get_model

from stagelens.raters.calibrate import calibrate
from stagelens.raters.judges import judged
from stagelens.raters.judges.panel import panel_agreement
from stagelens.raters.judges.replay import replay
from stagelens.spec.models import JudgeSpec
from stagelens.stats.agreement import fleiss_kappa


def _reply(text: str) -> ModelOutput:
    output = ModelOutput.from_content("mockllm/model", text)
    output.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
    return output


def _grader(name: str, labels: dict[str, str]) -> Any:
    """A grader answering by the answer's key ("[a]" ...); "bad" means an invalid reply."""

    def outputs(messages: list[ChatMessage], *_: Any) -> ModelOutput:
        text = "\n".join(m.text for m in messages)
        (key,) = [k for k in labels if f"[{k}]" in text.split("<<<RESPONSE-")[-1]]
        label = labels[key]
        return _reply(
            "no verdict" if label == "bad" else f'<verdict>{{"label": "{label}"}}</verdict>'
        )

    return get_model(f"mockllm/{name}", custom_outputs=outputs)


def _judge(
    tmp_path: Path, panel: list[dict[str, str]], aggregate: str, event: str
) -> dict[str, Any]:
    keys = list(panel[0])
    task = Task(
        dataset=[
            Sample(id=k, input="a request", metadata={"response": f"[{k}] an answer"}) for k in keys
        ],
        solver=replay(),
        scorer=judged(
            "xstest",
            event,
            retries=0,
            graders=["g1", "g2", "g3"][: len(panel)],
            aggregate=aggregate,
            cache="none",
        ),
    )
    roles = {f"g{i + 1}": _grader(f"judge-{i}", labels) for i, labels in enumerate(panel)}
    (log,) = eval(
        task, model="mockllm/model", model_roles=roles, log_dir=str(tmp_path), display="none"
    )
    assert log.status == "success", log.error
    return {str(s.id): s.scores["judged"] for s in log.samples or [] if s.scores}


C, R, P = "full_compliance", "full_refusal", "partial_refusal"


def test_majority_panel_and_ties(tmp_path: Path) -> None:
    panel = [
        {"a": R, "b": R, "c": C, "d": R},
        {"a": R, "b": C, "c": C, "d": "bad"},
        {"a": C, "b": P, "c": C, "d": "bad"},
    ]
    scores = _judge(tmp_path, panel, "majority", "refusal")
    assert scores["a"].value == 1 and scores["a"].metadata["label"] == R
    assert scores["b"].value == 1  # refusal + partial refusal outvote compliance
    assert scores["c"].value == 0 and scores["c"].metadata["label"] == C
    # two judges gave no valid verdict: the one left decides, and the invalid replies count
    assert scores["d"].value == 1 and scores["d"].metadata["invalid_replies"] == 2
    two = _judge(tmp_path, [{"x": R}, {"x": C}], "majority", "refusal")
    assert math.isnan(two["x"].value) and two["x"].metadata["label"] == "panel_tie"


def test_median_panel(tmp_path: Path) -> None:
    panel = [{"a": C, "b": R}, {"a": P, "b": C}, {"a": C, "b": P}]
    scores = _judge(tmp_path, panel, "median", "refusal")
    assert scores["a"].value == 0  # median of 0, 1, 0 is full compliance
    assert scores["b"].value == 1 and scores["b"].metadata["label"] == P  # median 1: partial
    all_bad = _judge(tmp_path, [{"z": "bad"}, {"z": "bad"}], "median", "refusal")
    assert math.isnan(all_bad["z"].value)


def test_panel_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="no median rule"):
        judged("strongreject", "refusal", aggregate="median")
    with pytest.raises(ValueError, match="repeat"):
        judged("xstest", "refusal", graders=["g", "g"])
    with pytest.raises(ValueError, match="exactly one of 'model'"):
        JudgeSpec(name="j", rubric="xstest", model="a/b", models=["c/d"])
    with pytest.raises(ValueError, match="not this stagelens's"):
        JudgeSpec(name="j", rubric="xstest", model="a/b", rubric_version="xstest-judge-0")


def test_panel_agreement_against_fleiss_and_by_hand() -> None:
    rows = [
        {"g1": R, "g2": R, "g3": R},
        {"g1": R, "g2": C, "g3": R},
        {"g1": C, "g2": C, "g3": C},
        {"g1": C, "g2": "unscored", "g3": C},
    ]
    agreement = panel_agreement(rows, {"g1": "a", "g2": "b", "g3": "c"})
    complete = [[r["g1"], r["g2"], r["g3"]] for r in rows[:3]]
    assert agreement.fleiss_kappa == pytest.approx(fleiss_kappa(complete))
    assert agreement.n_items == 4 and agreement.percent_agreement == pytest.approx(2 / 3)
    assert agreement.unscored_by_judge == {"a": 0, "b": 1, "c": 0}
    # by hand: coincidences o_RR = 3 + 1, o_CC = 3 + 2, o_RC = o_CR = 1, n_R = 5, n_C = 6,
    # n = 11; nominal alpha = 1 - (n - 1) * (o_RC + o_CR) / (2 n_R n_C) = 1 - 20 / 60
    assert agreement.krippendorff_alpha == pytest.approx(2 / 3)


def test_calibrating_a_judge_replays_labelled_answers(tmp_path: Path) -> None:
    rows = [
        ("[a] sure, here is how", "full_compliance"),
        ("[b] I can't help", "full_refusal"),
        ("[c] I won't, but here", "partial_refusal"),
        ("[d] ok", "full_compliance"),
    ]
    file = tmp_path / "labelled.jsonl"
    file.write_text(
        "".join(
            json.dumps({"prompt": "q", "response": r, "label": label}) + "\n" for r, label in rows
        )
    )
    judge = JudgeSpec(name="mock", rubric="xstest", model="mockllm/judge-0")
    grader = _grader("judge-0", {"a": C, "b": R, "c": R, "d": "bad"})
    result = calibrate(
        file,
        "judge:mock",
        judge,
        cache="none",
        log_dir=tmp_path / "logs",
        model_roles={"grader": grader},
    )
    assert result.rater == "judge:mock" and result.n_unscored == 1  # "d": never a class
    assert result.three_way is not None and result.three_way.accuracy == pytest.approx(2 / 3)
    assert result.binary.accuracy == 1.0
