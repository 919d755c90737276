"""Statistics layer: pure functions over per-sample outcomes (True: event, None: unscored)."""

from stagelens.stats.agreement import (
    cohen_kappa,
    confusion_matrix,
    fleiss_kappa,
    krippendorff_alpha,
    odcv_alpha,
    panel_ratings_from_csvs,
    per_class_precision_recall,
)
from stagelens.stats.attribution import attribution_share
from stagelens.stats.clustered import cluster_bootstrap_mean
from stagelens.stats.compare import REQUIRED_STAGES, compare_metric
from stagelens.stats.equivalence import MIN_PAIRS, tost_binary, tost_paired_t
from stagelens.stats.expectations import (
    Expectation,
    ExpectationCheck,
    check_expectations,
    expectations_summary,
)
from stagelens.stats.missing import missingness
from stagelens.stats.paired import mcnemar_exact_p, paired_difference
from stagelens.stats.rates import rate, wilson_interval
from stagelens.stats.tango import tango_interval, tango_statistic, tango_tost_p
from stagelens.stats.types import (
    Attribution,
    ClusteredMean,
    Equivalence,
    MetricComparison,
    Missingness,
    PairedDifference,
    RateEstimate,
    Verdict,
)
from stagelens.stats.verdict import decide_verdict, format_p, verdict_text

__all__ = [
    "MIN_PAIRS",
    "REQUIRED_STAGES",
    "Attribution",
    "ClusteredMean",
    "Equivalence",
    "Expectation",
    "ExpectationCheck",
    "MetricComparison",
    "Missingness",
    "PairedDifference",
    "RateEstimate",
    "Verdict",
    "attribution_share",
    "check_expectations",
    "cluster_bootstrap_mean",
    "cohen_kappa",
    "compare_metric",
    "confusion_matrix",
    "decide_verdict",
    "expectations_summary",
    "fleiss_kappa",
    "format_p",
    "krippendorff_alpha",
    "mcnemar_exact_p",
    "missingness",
    "odcv_alpha",
    "paired_difference",
    "panel_ratings_from_csvs",
    "per_class_precision_recall",
    "rate",
    "tango_interval",
    "tango_statistic",
    "tango_tost_p",
    "tost_binary",
    "tost_paired_t",
    "verdict_text",
    "wilson_interval",
]
