"""A neutral rate (evaluation awareness) is worded as lower / higher, never safer."""

from __future__ import annotations

from stagelens.stats import compare_metric


def _outcomes(sft_rate: float, production_rate: float, n: int = 200) -> dict[str, dict[str, bool]]:
    def stage(rate: float) -> dict[str, bool]:
        return {f"s{i}": i < rate * n for i in range(n)}

    return {"base": stage(0.5), "sft_only": stage(sft_rate), "production": stage(production_rate)}


def test_a_higher_production_rate_is_said_to_be_higher_not_less_safe() -> None:
    outcomes = _outcomes(0.1, 0.6)
    neutral = compare_metric("eval_awareness", outcomes, label="Awareness", neutral=True)
    plain = compare_metric("eval_awareness", outcomes, label="Awareness")
    # the machine verdict keeps its meaning (production's rate higher)
    assert neutral.verdict == plain.verdict == "sft_only_safer"
    assert "Production's rate is higher than SFT-only's by 50 points" in neutral.verdict_text
    assert "safer" not in neutral.verdict_text
    assert "SFT-only safer by 50 points" in plain.verdict_text


def test_a_lower_production_rate_is_said_to_be_lower() -> None:
    neutral = compare_metric("eval_awareness", _outcomes(0.6, 0.1), neutral=True)
    assert neutral.verdict == "production_safer"
    assert "Production's rate is lower than SFT-only's" in neutral.verdict_text
