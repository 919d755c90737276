"""Equivalence of two stages: is the paired difference inside (-margin, margin)?

Binary outcomes: the (1 - 2 alpha) Tango score interval (equivalently Tango's two one-sided
score tests), or for clustered samples a cluster-bootstrap interval, never narrower than the
Tango interval (with no discordant pair the bootstrap's is [0, 0]). A paired t-test on 0/1
outcomes is the wrong tool: with every difference equal its standard error is 0 and two
identical pairs would prove equivalence. The paired t is kept for non-binary values
(``tost_paired_t``), where zero variance means the test cannot be done, not that it passed.
Below ``min_pairs`` pairs equivalence is never claimed, whatever the data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from stagelens.stats._common import Outcome, check_level, percentile_ci
from stagelens.stats.clustered import MIN_CLUSTERS, clustered
from stagelens.stats.paired import bootstrap_difference, pairing
from stagelens.stats.tango import at_least_tango, tango_interval, tango_tost_p
from stagelens.stats.types import Equivalence

MIN_PAIRS = 30


def _check(margin: float, alpha: float, min_pairs: int) -> None:
    if not margin > 0.0:
        raise ValueError(f"margin must be positive, got {margin!r}")
    check_level(alpha, "alpha")
    if alpha >= 0.5:
        raise ValueError(f"alpha must be below 0.5 for a (1 - 2 alpha) interval, got {alpha!r}")
    if min_pairs < 2:
        raise ValueError(f"min_pairs must be at least 2, got {min_pairs!r}")


def tost_binary(
    a: Mapping[str, Outcome],
    b: Mapping[str, Outcome],
    *,
    a_name: str,
    b_name: str,
    margin: float = 0.05,
    alpha: float = 0.05,
    clusters: Mapping[str, str] | None = None,
    min_pairs: int = MIN_PAIRS,
    n_boot: int = 10000,
    seed: int = 0,
) -> Equivalence:
    """Equivalence within ``margin`` of two stages' 0/1 outcomes on the samples scored in both.

    Equivalent when the (1 - 2 alpha) interval of the difference lies inside (-margin, margin)
    and at least ``min_pairs`` pairs were scored.
    """
    _check(margin, alpha, min_pairs)
    ids, _, _, _ = pairing(a, b)
    n = len(ids)
    diff = low = high = p_value = None
    reason: str | None = None
    is_clustered = clustered(ids, clusters)
    if is_clustered:
        method = ("(1 - 2 alpha) cluster bootstrap percentile interval, widened to the Tango "
                  f"score interval where narrower, in the margin, B={n_boot}")
    else:
        method = "Tango score interval (1 - 2 alpha) inside the margin; two one-sided score tests"
    if n > 0:
        only_a = sum(1 for sid in ids if a[sid] and not b[sid])
        only_b = sum(1 for sid in ids if b[sid] and not a[sid])
        diff = (only_a - only_b) / n
        if is_clustered:
            reps, g = bootstrap_difference(ids, a, b, clusters, n_boot, seed)
            method = f"{method}, {g} clusters"
            if g >= MIN_CLUSTERS:
                # with no discordant pair every replicate is 0 and the bootstrap interval
                # alone, [0, 0], would prove equivalence from min_pairs identical pairs
                low, high = at_least_tango(
                    percentile_ci(reps, 1.0 - 2.0 * alpha), only_a, only_b, n, 1.0 - 2.0 * alpha
                )
            else:
                reason = f"{g} cluster: a cluster bootstrap needs at least {MIN_CLUSTERS}"
        else:
            low, high = tango_interval(only_a, only_b, n, 1.0 - 2.0 * alpha)
            p_value = tango_tost_p(only_a, only_b, n, margin)
    if n < min_pairs:
        reason = f"{n} pairs scored on both stages; equivalence needs at least {min_pairs}"
    equivalent = (
        reason is None and low is not None and high is not None and -margin < low
        and high < margin
    )  # fmt: skip
    return Equivalence(a=a_name, b=b_name, margin=margin, diff=diff, ci_low=low, ci_high=high,
                       p_value=p_value, alpha=alpha, equivalent=equivalent, n_pairs=n,
                       min_pairs=min_pairs, method=method, reason=reason)  # fmt: skip


def tost_paired_t(
    a: Mapping[str, float | None],
    b: Mapping[str, float | None],
    *,
    a_name: str,
    b_name: str,
    margin: float,
    alpha: float = 0.05,
    min_pairs: int = MIN_PAIRS,
) -> Equivalence:
    """TOST with paired t-tests for non-binary values (as statsmodels' ``ttost_paired``).

    With zero variance of the differences the t statistics are undefined; equivalence is then
    not claimed (``reason`` says why), since a constant sample says nothing about its spread.
    """
    _check(margin, alpha, min_pairs)
    ids = sorted(s for s in {*a, *b} if a.get(s) is not None and b.get(s) is not None)
    n = len(ids)
    diff = low = high = p_value = None
    reason: str | None = None
    if n > 0:
        d = np.array([float(a[s]) - float(b[s]) for s in ids])  # type: ignore[arg-type]
        diff = float(d.mean())
        if n < 2 or np.all(d == d[0]):
            reason = "zero variance of the paired differences: the paired t-test is undefined"
        else:
            p_value, low, high = _tost(diff, float(d.std(ddof=1)), n, margin, alpha)
    if n < min_pairs:
        reason = f"{n} pairs scored on both stages; equivalence needs at least {min_pairs}"
    equivalent = reason is None and p_value is not None and p_value < alpha
    return Equivalence(a=a_name, b=b_name, margin=margin, diff=diff, ci_low=low, ci_high=high,
                       p_value=p_value, alpha=alpha, equivalent=equivalent, n_pairs=n,
                       min_pairs=min_pairs, reason=reason,
                       method="TOST, paired t (statsmodels ttost_paired)")  # fmt: skip


def _tost(
    mean: float, sd: float, n: int, margin: float, alpha: float
) -> tuple[float, float, float]:
    from scipy import stats

    se = sd / math.sqrt(n)
    df = n - 1
    # sf/cdf rather than 1 - cdf keeps precision in the tails, as statsmodels does.
    p_lower = float(stats.t.sf((mean + margin) / se, df))
    p_upper = float(stats.t.cdf((mean - margin) / se, df))
    half = float(stats.t.ppf(1.0 - alpha, df)) * se
    return max(p_lower, p_upper), mean - half, mean + half
