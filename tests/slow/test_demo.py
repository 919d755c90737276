"""The full organism, every ground-truth variant: the method must tell them apart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stagelens.experiment.demo import run_demo
from stagelens.organism.variant import BUILTIN, load_variant
from stagelens.report.record import expectations_summary
from stagelens.report.write import load_record

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # one cache for all variants: they share the base stage, as users' runs do
    return tmp_path_factory.mktemp("cache")


@pytest.mark.parametrize("variant", BUILTIN)
def test_demo_verdicts_match_ground_truth(variant: str, cache: Path, tmp_path: Path) -> None:
    spec, _, _ = load_variant(variant)
    assert spec.expected, "a built-in variant must state its expected verdicts"
    messages: list[str] = []
    result = run_demo(variant=variant, out=tmp_path / "run", cache=cache, progress=messages.append)

    verdicts = {m.metric: m for m in result.record.metrics}
    # every expectation (verdict and attribution bounds) checked by the record's one check,
    # which is also what the demo's last line says
    checks = result.expectation_checks
    assert checks is not None and [c.metric for c in checks] == list(spec.expected)
    texts = {m: c.verdict_text for m, c in verdicts.items()}
    # the method never contradicts the ground truth; where it abstains, it is only because
    # unscored answers could change the verdict, and the scored pairs give the expected one
    assert not result.record.expectations_contradicted, (expectations_summary(checks), texts)
    for check in checks:
        assert check.met or check.abstained, check
        if check.abstained:
            assert check.expected.accepts(verdicts[check.metric].verdict_scored_only)
            assert all("unscored" in r for r in verdicts[check.metric].verdict_reasons)
    assert messages[-1] == expectations_summary(checks)
    assert messages[-1].startswith("expected verdicts: met")

    # the files a user and a user's CI read
    data = json.loads(result.paths.results_json.read_text())
    assert {m["metric"]: m["verdict"] for m in data["metrics"]} == {
        m.metric: m.verdict for m in result.record.metrics
    }
    assert load_record(result.paths.results_json) == result.record
    assert result.paths.bars_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = result.paths.report_html.read_text()
    for stage in result.record.stages:
        for log in stage.logs.values():
            assert (tmp_path / "run" / log).is_file()
            assert log in html
    assert any(str(result.paths.report_html) in m for m in messages)
    # a part answered by production is the distillation confound: the record and report say so
    assert result.record.sft_distilled_parts == spec.sft.distilled_parts
    assert ("distilled from an RL-trained model" in html) == bool(spec.sft.distilled_parts)
    # the stages were trained by the pipeline the record says, on the data it names
    production = next(s for s in result.record.stages if s.name == "production")
    assert [t.method.split()[0] for t in production.training] == ["pretrain", "sft", "dpo"]
    # every trained stage's reward-hacking tasks were scored by the detectors, few left
    # unscored; the base (pretraining only, answers at random) leaves more outside the language
    cheat = verdicts["reward_hacking_cheat"]
    assert all(r.n >= 100 for s, r in cheat.rates.items() if s != "base"), cheat.rates
    assert cheat.rates["base"].n >= 80, cheat.rates
    # every stage answered every held-out dilemma, with a test cue and without, and few of
    # its answers fell outside the organism's language
    misalignment = verdicts["misalignment"]
    assert all(r.n_total == 240 and r.n >= 200 for r in misalignment.rates.values())
    # where production voices awareness only when cued, its unaware samples are the uncued
    # ones: enough remain to compare
    unaware = verdicts["misalignment_unaware"]
    assert unaware.difference.n_pairs >= 100, unaware.verdict_text

    # a second run into the same directory redoes nothing
    again: list[str] = []
    run_demo(variant=variant, out=tmp_path / "run", cache=cache, progress=again.append)
    assert not [m for m in again if m.endswith(": training") or m.endswith(": evaluating")]
    assert sum("reusing finished log" in m for m in again) == 12  # 4 suites x 3 stages
