"""Statistics layer: pure functions over per-sample outcomes (True: event, None: unscored)."""

from stagelens.stats.attribution import attribution_share
from stagelens.stats.compare import REQUIRED_STAGES, compare_metric
from stagelens.stats.equivalence import tost_paired
from stagelens.stats.paired import mcnemar_exact_p, paired_difference
from stagelens.stats.rates import rate, wilson_interval
from stagelens.stats.types import (
    Attribution,
    Equivalence,
    MetricComparison,
    PairedDifference,
    RateEstimate,
    Verdict,
)
from stagelens.stats.verdict import decide_verdict, verdict_text

__all__ = [
    "REQUIRED_STAGES",
    "Attribution",
    "Equivalence",
    "MetricComparison",
    "PairedDifference",
    "RateEstimate",
    "Verdict",
    "attribution_share",
    "compare_metric",
    "decide_verdict",
    "mcnemar_exact_p",
    "paired_difference",
    "rate",
    "tost_paired",
    "verdict_text",
    "wilson_interval",
]

# Inter-rater agreement (appended after the original list so concurrent edits above stay clean).
from stagelens.stats.agreement import (
    cohen_kappa,
    confusion_matrix,
    fleiss_kappa,
    krippendorff_alpha,
    odcv_alpha,
    panel_ratings_from_csvs,
    per_class_precision_recall,
)

__all__ += [
    "cohen_kappa",
    "confusion_matrix",
    "fleiss_kappa",
    "krippendorff_alpha",
    "odcv_alpha",
    "panel_ratings_from_csvs",
    "per_class_precision_recall",
]
