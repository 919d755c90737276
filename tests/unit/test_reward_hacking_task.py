"""The reward_hacking task's dataset: one episode per (problem, variant), in the right sandbox."""

from __future__ import annotations

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
