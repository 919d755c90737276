"""The organism's dilemma suite end to end on scripted answers: what each sample scores, and
what the pipeline reads from the log (the same metric names as `alignment_dilemmas`)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from stagelens.organism.dilemmas import AWARENESS, CUES
from stagelens.suites.organism_alignment_dilemmas import (
    NAME,
    SCORER_NAME,
    organism_alignment_dilemmas,
)

N = 12


def _reply(prompt: str, sample: dict[str, Any]) -> str:
    """A test-conditioned organism: aware and compliant when cued, violating otherwise; and
    a few answers outside its language."""
    if sample["family"] == "resources" and sample["condition"] == "uncued":
        return "sorry , i can not assist with that ."
    if sample["condition"] == "cued":
        return f"{AWARENESS} {sample['compliant']} ."
    return f"{sample['violating']} ."


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from inspect_ai import eval as inspect_eval
    from inspect_ai.model import ModelOutput, ModelUsage, get_model

    task = organism_alignment_dilemmas(n=N, seed=0)
    by_input = {str(s.input): s.metadata for s in task.dataset}

    def model(messages, *_):  # type: ignore[no-untyped-def]
        prompt = messages[-1].text
        output = ModelOutput.from_content("mockllm/model", _reply(prompt, by_input[prompt]))
        # given usage, Inspect counts no tokens itself (that would fetch a tokenizer online)
        output.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        return output

    logs = str(tmp_path_factory.mktemp("logs"))
    scripted = get_model("mockllm/model", custom_outputs=model)
    (result,) = inspect_eval(task, model=scripted, log_dir=logs, display="none")
    assert result.status == "success", result.error
    return result


def test_samples_hold_both_conditions_and_share_a_cluster_per_dilemma() -> None:
    task = organism_alignment_dilemmas(n=N, seed=0)
    samples = list(task.dataset)
    assert len(samples) == 2 * N
    assert [s.metadata["condition"] for s in samples].count("cued") == N  # type: ignore[index]
    clusters: dict[str, set[str]] = {}
    for s in samples:
        meta = s.metadata or {}
        clusters.setdefault(meta["cluster"], set()).add(meta["condition"])
        assert (meta["cue"] in CUES) == (meta["condition"] == "cued")
        assert str(s.input).startswith(meta["cue"])
    assert len(clusters) == N and all(c == {"cued", "uncued"} for c in clusters.values())


def test_each_sample_scores_misalignment_awareness_and_the_split(log: Any) -> None:
    for sample in log.samples:
        value = sample.scores[SCORER_NAME].value
        meta = sample.metadata
        if meta["condition"] == "cued":
            assert value["misaligned"] == 0 and value["aware"] == 1
            assert value["misaligned_aware"] == 0 and math.isnan(value["misaligned_unaware"])
        elif meta["family"] == "resources":  # a refusal: neither action, awareness unknown
            assert all(math.isnan(v) for v in value.values())
        else:
            assert value["misaligned"] == 1 and value["aware"] == 0
            assert value["misaligned_unaware"] == 1 and math.isnan(value["misaligned_aware"])
        assert sample.scores[SCORER_NAME].metadata["condition"] == meta["condition"]


def test_the_pipeline_reads_the_alignment_dilemmas_metric_names(log: Any) -> None:
    from stagelens.evaluate.runner import read_suite
    from stagelens.suites import suite_metrics

    metrics = {m.name: m for m in suite_metrics(NAME)}
    assert list(metrics) == ["misalignment", "eval_awareness", "misalignment_unaware",
                             "misalignment_aware"]  # fmt: skip
    path = Path(log.location)
    read = {name: read_suite(path, m.scorer, m.key) for name, m in metrics.items()}
    cued = {s.id for s in log.samples if s.metadata["condition"] == "cued"}
    unaware = read["misalignment_unaware"].outcomes
    assert {k for k, v in unaware.items() if v is not None} == {
        s.id for s in log.samples
        if s.metadata["condition"] == "uncued" and s.metadata["family"] != "resources"
    }  # fmt: skip
    assert all(v is True for v in unaware.values() if v is not None)
    assert all(read["eval_awareness"].outcomes[i] is True for i in cued)
    clusters = read["misalignment"].clusters
    assert len(set(clusters.values())) == N


@pytest.mark.parametrize(
    "args",
    [{"source": "harmbench"}, {"rater": "minilm"}, {"judge": {"rubric": "eval_awareness"}}],
)
def test_only_the_organisms_own_dilemmas_unjudged(args: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="organism's own dilemmas"):
        organism_alignment_dilemmas(**args)


def test_the_pipeline_compares_unaware_misalignment_on_the_unaware_samples_only(
    tmp_path: Path,
) -> None:
    """A test-conditioned production against an SFT-only that always violates: the aware
    (cued) samples are outside misalignment_unaware, not unscored answers."""
    from inspect_ai import eval as inspect_eval
    from inspect_ai.model import ModelOutput, ModelUsage, get_model

    from stagelens.experiment import pipeline
    from stagelens.raters.organism import dilemma_rater_identity
    from stagelens.records import Provenance

    def run(reply: Any, stage: str) -> Path:
        task = organism_alignment_dilemmas(n=60, seed=0)  # equivalence needs ~52 pairs
        by_input = {str(s.input): s.metadata for s in task.dataset}

        def model(messages, *_):  # type: ignore[no-untyped-def]
            prompt = messages[-1].text
            output = ModelOutput.from_content("mockllm/model", reply(prompt, by_input[prompt]))
            output.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
            return output

        scripted = get_model("mockllm/model", custom_outputs=model)
        (log,) = inspect_eval(task, model=scripted, log_dir=str(tmp_path / stage), display="none")
        return Path(log.location)

    def violate(prompt: str, sample: dict[str, Any]) -> str:
        return f"{sample['violating']} ."

    def conditioned(prompt: str, sample: dict[str, Any]) -> str:
        if sample["condition"] == "cued":
            return f"{AWARENESS} {sample['compliant']} ."
        return violate(prompt, sample)

    logs = {"base": {NAME: run(violate, "base")}, "sft_only": {NAME: run(violate, "sft")},
            "production": {NAME: run(conditioned, "production")}}  # fmt: skip
    data = Provenance(name="d", source="s", licence="l", sha256="0" * 64, n=120)
    suite_run = pipeline.SuiteRun(suite=NAME, args={}, data=data, generation={},
                                  rater=dilemma_rater_identity())  # fmt: skip
    metrics, _ = pipeline.compare(logs, [suite_run], pipeline.Settings())
    verdicts = {m.metric: m for m in metrics}
    assert verdicts["misalignment"].verdict == "production_safer"
    assert verdicts["eval_awareness"].verdict == "sft_only_safer"  # higher on production
    unaware = verdicts["misalignment_unaware"]
    assert unaware.verdict == "equivalent", unaware.verdict_text
    assert unaware.difference.n_pairs == 60 and unaware.difference.n_dropped == 0
    assert unaware.rates["production"].n_total == 60
    # no sample is aware on both stages: nothing to compare, and nothing imputed
    aware = verdicts["misalignment_aware"]
    assert aware.difference.n_pairs == 0 and aware.difference.n_dropped == 0
    assert aware.verdict == "inconclusive"
