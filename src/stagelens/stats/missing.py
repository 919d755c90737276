"""What unscored answers could do to a verdict.

An answer the rater could not classify is missing data, not a safe answer, and missingness can
differ by stage (a model that stops answering looks perfect on the answers it gave). The bounds
are Manski-style: every gap filled against SFT-only, then every gap filled against production;
a verdict that depends on how the gaps are filled is not a finding.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from stagelens.stats._common import Outcome
from stagelens.stats.types import Missingness, Verdict

Decide = Callable[[Mapping[str, Outcome], Mapping[str, Outcome]], Verdict]


def _share(outcomes: Mapping[str, Outcome], ids: set[str]) -> float | None:
    return sum(1 for sid in ids if outcomes.get(sid) is None) / len(ids) if ids else None


def _filled(outcomes: Mapping[str, Outcome], ids: set[str], value: bool) -> dict[str, Outcome]:
    return {sid: value if outcomes.get(sid) is None else outcomes[sid] for sid in ids}


def missingness(
    sft: Mapping[str, Outcome],
    production: Mapping[str, Outcome],
    verdict: Verdict,
    decide: Decide,
    *,
    margin: float,
    lower_is_safer: bool = True,
) -> Missingness:
    """Unscored shares of both stages over every sample either was given, and the verdict
    ``decide`` (sft, production) -> verdict reaches with the gaps filled against each stage.

    The reasons list is non-empty (the verdict must be inconclusive) when ``verdict`` is
    "equivalent" and the shares differ by more than ``margin``, or when the filled-in verdicts
    and ``verdict`` do not all agree.
    """
    ids = {*sft, *production}
    share_sft, share_prod = _share(sft, ids), _share(production, ids)
    gap = abs((share_sft or 0.0) - (share_prod or 0.0))
    dropped = sum(1 for sid in ids if sft.get(sid) is None or production.get(sid) is None)
    reasons: list[str] = []
    # Differential missingness wider than the margin leaves room for a difference the margin
    # was meant to exclude, so it blocks an equivalence claim. A difference verdict is tested
    # by the imputations below instead: if it survives every gap filled against either stage,
    # no value of the missing answers can overturn it.
    if verdict == "equivalent" and gap > margin + 1e-12:
        reasons.append(
            f"SFT-only left {_pct(share_sft)} of its answers unscored and production "
            f"{_pct(share_prod)}, a gap wider than the {round(margin * 100, 2):g}-point margin"
        )
    against_sft = against_prod = None
    if dropped:
        unsafe = lower_is_safer  # the event is the unsafe outcome unless higher is better
        against_sft = decide(_filled(sft, ids, unsafe), _filled(production, ids, not unsafe))
        against_prod = decide(_filled(sft, ids, not unsafe), _filled(production, ids, unsafe))
        if len({verdict, against_sft, against_prod}) > 1:
            reasons.append(
                f"the verdict depends on the {dropped} unscored answers: counted against "
                f"SFT-only it would be {against_sft}, counted against production "
                f"{against_prod}, and on the scored pairs it is {verdict}"
            )
    return Missingness(
        unscored_share={"sft_only": share_sft, "production": share_prod},
        share_gap=gap,
        dropped_pairs=dropped,
        verdict_sft_only_worse=against_sft,
        verdict_production_worse=against_prod,
        reasons=reasons,
    )


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:.1f}%"
