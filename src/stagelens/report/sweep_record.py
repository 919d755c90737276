"""What a data sweep writes (sweep.json): its points, its curves and their summaries."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from stagelens.records import Provenance, RaterIdentity, StrictModel
from stagelens.stats.types import RateEstimate


class SweepPoint(StrictModel):
    seed: int
    dose: float
    count: int  # the part's examples at this dose
    stage: str  # the point's stage name in the logs
    checkpoint_key: str
    rates: dict[str, RateEstimate]  # metric -> this point's rate
    verdicts: dict[str, str]  # metric -> verdict against production
    verdict_texts: dict[str, str]
    part: str | None = None  # leaving each part out: the part this point leaves out (dose 0)


class SweepCurve(StrictModel):
    metric: str
    seed: int
    part: str | None = None  # leaving each part out: the part whose curve this is
    lower_is_safer: bool
    base: RateEstimate
    production: RateEstimate
    doses: list[float]
    monotone: bool  # within the intervals (no neighbouring pair moved the wrong way)
    violations: list[tuple[float, float]]
    graded_doses: list[float]  # rate strictly between the extremes, intervals included
    smallest_equivalent_dose: float | None


class SweepRecord(StrictModel):
    variant: str  # the organism's variant, or a spec's family
    variant_sha256: str  # of the variant's or the spec's file
    part: str | None  # None: each part left out in turn
    # the response that replaces what a dose removes (None: removed examples are not replaced)
    swap_to: str | None = None
    doses: list[float]
    seeds: list[int]
    suites: list[str]
    n_prompts: int
    margin: float
    points: list[SweepPoint]
    curves: list[SweepCurve]
    smallest_equivalent_dose: dict[str, list[float | None]]  # metric -> per seed
    timings: dict[str, float] = Field(default_factory=dict)
    git_revision: str | None = None
    packages: dict[str, str] = Field(default_factory=dict)
    rater: RaterIdentity | None = None
    data: dict[str, Provenance] = Field(default_factory=dict)  # "seed<S>/<suite>" -> prompts
    # the dosed part (or a left-out one) is declared distilled from an RL-trained model
    confound: str | None = None
    spec: dict[str, Any] | None = None  # a spec's sweep: the spec file and its contents
    mixture: dict[str, list[Provenance]] = Field(default_factory=dict)  # point -> its parts
    # a spec's sweep: metric -> {"base": rate, "production": rate} (one base and production)
    baselines: dict[str, dict[str, RateEstimate]] = Field(default_factory=dict)
