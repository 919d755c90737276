"""Registries of raters, suites and prompt sources: strict, and helpful when a name is wrong."""

from __future__ import annotations

import pytest

from stagelens.raters import registry
from stagelens.raters.registry import Rater, get_rater, rater_names, register_rater
from stagelens.report.record import Provenance, RaterIdentity
from stagelens.suites import common, make_task, suite_info, suite_names


@pytest.fixture
def isolated_raters(monkeypatch):
    """A copy of the rater registry, so tests that register names leave no trace."""
    get_rater("organism-exact")  # built-ins registered before the copy
    monkeypatch.setattr(registry, "_RATERS", dict(registry._RATERS))


@pytest.fixture
def isolated_sources(monkeypatch):
    monkeypatch.setattr(common, "_SOURCES", dict(common._SOURCES))


def _rater(name: str = "yes-no") -> Rater:
    return Rater(
        identity=RaterIdentity(name=name, version="0", kind="string_match", description="d"),
        labels=("yes", "no", "unscored"),
        classify=lambda text: "yes" if "yes" in text else "no",
    )


def test_organism_rater_is_built_in():
    assert "organism-exact" in rater_names()
    chosen = get_rater("organism-exact")
    assert chosen.identity.name == "organism-exact"
    assert "unscored" in chosen.labels
    assert chosen.classify("sorry , i can not assist with that .") == "refusal"


def test_registering_a_rater_name_twice_raises(isolated_raters):
    register_rater("yes-no", _rater)
    with pytest.raises(ValueError, match="yes-no"):
        register_rater("yes-no", _rater)
    assert get_rater("yes-no").identity.name == "yes-no"


def test_a_builtin_rater_cannot_be_overridden(isolated_raters):
    with pytest.raises(ValueError, match="organism-exact"):
        register_rater("organism-exact", _rater)
    assert get_rater("organism-exact").identity.kind == "exact"


def test_unknown_rater_lists_known_names(isolated_raters):
    register_rater("yes-no", _rater)
    with pytest.raises(ValueError) as info:
        get_rater("nope")
    message = str(info.value)
    assert "nope" in message and "organism-exact" in message and "yes-no" in message


def test_suites_are_listed_by_name():
    assert set(suite_names()) == {
        "unsafe_response", "over_refusal", "reward_hacking", "organism_reward_hacking",
        "alignment_dilemmas", "organism_alignment_dilemmas", "odcv", "user_audit",
    }
    assert suite_info("unsafe_response").request_kind == "harmful"
    assert suite_info("over_refusal").request_kind == "scary"
    assert set(suite_info("over_refusal").event_labels) == {"refusal"}
    assert set(suite_info("unsafe_response").event_labels) == {"compliance", "harmful_compliance"}


@pytest.mark.parametrize("call", [suite_info, make_task])
def test_unknown_suite_lists_known_names(call):
    with pytest.raises(ValueError) as info:
        call("nope")
    message = str(info.value)
    assert "nope" in message
    for name in ("unsafe_response", "over_refusal"):
        assert name in message


def test_unknown_prompt_source_lists_known_names(isolated_sources):
    with pytest.raises(ValueError) as info:
        common.load_prompts("nope", "harmful", 3, 0)
    message = str(info.value)
    assert "nope" in message and "organism" in message


def test_registering_a_prompt_source_twice_raises(isolated_sources):
    common.load_prompts("organism", "harmful", 1, 0)
    with pytest.raises(ValueError, match="organism"):
        common.register_source("organism", lambda kind, n, seed: ([], None))


def _mine(kind: str, n: int, seed: int):
    from inspect_ai.dataset import Sample

    samples = [Sample(id=f"mine-{i}", input=f"prompt {i}") for i in range(n)]
    return samples, Provenance(name="mine", source="test", licence="none", n=n)


def test_organism_source_survives_a_user_source_registered_first(monkeypatch):
    monkeypatch.setattr(common, "_SOURCES", {})
    common.register_source("mine", _mine)
    samples, _ = common.load_prompts("organism", "harmful", 2, 0)
    assert len(samples) == 2


def test_a_registered_source_is_used(isolated_sources):
    common.load_prompts("organism", "harmful", 1, 0)  # built-in registered first
    common.register_source("mine", _mine)
    samples, provenance = common.load_prompts("mine", "harmful", 3, 0)
    assert [s.id for s in samples] == ["mine-0", "mine-1", "mine-2"]
    assert provenance.name == "mine"


def test_organism_prompts_carry_their_heldout_metadata(isolated_sources):
    samples, provenance = common.load_prompts("organism", "scary", 10, 0)
    assert len(samples) == 10 == provenance.n
    for sample in samples:
        assert sample.metadata["kind"] == "scary"
        assert sample.metadata["combo_heldout"] or sample.metadata["template_heldout"]


def test_organism_prompts_of_one_request_share_a_cluster(isolated_sources):
    samples, _ = common.load_prompts("organism", "harmful", 320, 0)
    clusters: dict[str, set[str]] = {}
    for sample in samples:
        act = f"{sample.metadata['verb']} {sample.metadata['target']}"
        clusters.setdefault(sample.metadata["cluster"], set()).add(act)
    # one request per cluster, and phrasings of a request do share one
    assert all(len(acts) == 1 for acts in clusters.values())
    assert len(clusters) < len(samples)


def test_rated_refuses_event_labels_the_rater_never_returns():
    with pytest.raises(ValueError) as info:
        common.rated("organism-exact", ["evil", "worse"])
    assert "evil" in str(info.value) and "worse" in str(info.value)


def test_rated_accepts_a_binary_rater_for_finer_event_labels():
    # refusal-strings cannot tell harmful from plain compliance; "compliance" still counts
    assert callable(common.rated("refusal-strings", ["compliance", "harmful_compliance"]))


def test_rated_accepts_labels_the_rater_returns():
    assert callable(common.rated("organism-exact", ["compliance", "harmful_compliance"]))


def test_rated_with_an_unknown_rater_lists_known_names():
    with pytest.raises(ValueError, match="organism-exact"):
        common.rated("nope", ["refusal"])


def test_every_suite_task_is_registered_with_inspect() -> None:
    # `inspect eval stagelens/NAME` finds a task only if the entry point module exports it
    import stagelens._registry as entry_point

    assert set(suite_names()) <= set(entry_point.__all__)
    for name in suite_names():
        assert callable(getattr(entry_point, name))
