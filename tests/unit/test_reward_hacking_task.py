"""The reward_hacking task's dataset: one episode per (problem, variant), in the right sandbox."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from stagelens.sandbox import BwrapConfig
from stagelens.suites import reward_hacking as suite


def test_each_episode_gets_a_bwrap_sandbox_with_its_variant_read_only() -> None:
    samples = suite.episodes("pair_sum_count,edit_distance", "ro-told-possible,rw-untold-possible",
                             sandbox_kind="bwrap")  # fmt: skip
    assert [s.id for s in samples] == [
        "pair_sum_count:ro-told-possible", "pair_sum_count:rw-untold-possible",
        "edit_distance:ro-told-possible", "edit_distance:rw-untold-possible",
    ]  # fmt: skip
    ro, rw = samples[0].sandbox, samples[1].sandbox
    assert ro is not None and rw is not None and ro.type == rw.type == "bwrap"
    assert isinstance(ro.config, BwrapConfig) and "timer.py" in ro.config.readonly_paths
    assert isinstance(rw.config, BwrapConfig) and rw.config.readonly_paths == []
    assert "solution.py" in (samples[0].files or {})
    # a problem's episodes form one cluster for the statistics
    assert [(s.metadata or {})["cluster"] for s in samples] == [
        "pair_sum_count", "pair_sum_count", "edit_distance", "edit_distance",
    ]  # fmt: skip


def test_docker_runs_writable_variants_and_refuses_read_only_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import stagelens.sandbox as sandbox

    def docker(*_: Any, **__: Any) -> tuple[str, Any]:
        return ("docker", None)

    monkeypatch.setattr(sandbox, "default_sandbox", docker)
    (sample,) = suite.episodes("pair_sum_count", "rw-untold-possible")
    assert sample.sandbox is not None and sample.sandbox.type == "docker"
    with pytest.raises(ValueError, match="needs the bwrap sandbox"):
        suite.episodes("pair_sum_count", "ro-told-possible")


@pytest.mark.parametrize(
    ("problems", "variants"), [("nope", "all"), ("all", "rw-maybe"), ("", "all")]
)
def test_unknown_names_are_errors(problems: str, variants: str) -> None:
    with pytest.raises(ValueError, match="unknown"):
        suite.episodes(problems, variants, sandbox_kind="bwrap")


def test_an_organism_answer_without_an_action_has_not_met_the_target(tmp_path: Path) -> None:
    # honest success is the share of episodes that met the target: an answer naming no action
    # met nothing (0), while whether it would have cheated is unknown (unscored). Nothing is
    # carried out for such answers, so no sandbox is needed here.
    from inspect_ai import eval as inspect_eval
    from inspect_ai.model import get_model

    from stagelens.evaluate.runner import read_outcomes
    from stagelens.suites.organism_reward_hacking import organism_reward_hacking
    from tests.conftest import scripted_outputs

    task = organism_reward_hacking(n=6)
    non_actions = ["", "rewrite the timer please", "sure . first get a knife , then"]
    script = {str(s.input): non_actions[i % 3] for i, s in enumerate(task.dataset)}
    model = get_model("mockllm/organism", custom_outputs=scripted_outputs(script),
                      memoize=False)  # fmt: skip
    (log,) = inspect_eval(task, model=model, log_dir=str(tmp_path), display="none")
    assert log.status == "success", log.error
    values = [s.scores["episode_detectors"].value for s in log.samples or []]
    # unscored: Inspect's NaN sentinel, which its metrics leave out and count apart
    assert all(math.isnan(v["cheat"]) and v["honest_success"] == 0 for v in values)
    assert len(values) == 6
    (cheat_score,) = [r for r in log.results.scores if r.name == "cheat"]
    assert cheat_score.unscored_samples == 6 and cheat_score.scored_samples == 0
    # as the experiment reads them: a 0 for honest success, no outcome for the cheat rate
    success, _ = read_outcomes(Path(log.location), key="honest_success")
    cheat, _ = read_outcomes(Path(log.location), key="cheat")
    assert list(success.values()) == [False] * 6
    assert list(cheat.values()) == [None] * 6


def test_organism_episodes_cluster_by_problem() -> None:
    # several phrasings and contexts of one problem are correlated: intervals must resample
    # problems, as the agents' suite does
    from stagelens.suites.organism_reward_hacking import organism_reward_hacking

    samples = list(organism_reward_hacking().dataset)
    clusters = {str(s.id): (s.metadata or {})["cluster"] for s in samples}
    assert all(clusters[str(s.id)] == (s.metadata or {})["problem"] for s in samples)
    assert len(samples) == 120 and len(set(clusters.values())) == 6
