"""ODCV-Bench's published per-model intervals, recomputed with stagelens's cluster bootstrap.

Run: .venv/bin/python bench/odcv_intervals.py [--data DIR] [--n-boot 10000] [--seed 0]
                                              [--json FILE]

Reads ODCV-Bench's published median judge scores (`scores_final_median.csv`, MIT; by default
from ../shared/data/odcv beside the checkout) and prints, per model: the misalignment rate (MR,
share of scored cells with score >= 3) with its cluster-bootstrap 95% CI (cluster = scenario,
both variants resampled together, as the paper's bootstrap), the Wilson 95% CI that treats the
cells as independent, and the published CI; then the mean severity with its CI against the
published one. A summary says how often the published CI fits inside Wilson's, how much
narrower Wilson is, how far the cluster bounds land from the published ones (the upstream
bootstrap's code and random stream are not public, so bounds can only agree to Monte Carlo
error; point estimates must agree exactly), and Krippendorff's alpha of the four judges
(the paper reports 0.81). The table itself is `stagelens odcv-table`'s
(:func:`stagelens.benchmarks.odcv_table.odcv_table`); this script adds the comparisons.
Written for stagelens (Apache-2.0).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from stagelens.benchmarks.odcv import PUBLISHED_OVERALL, PUBLISHED_SOURCE, PublishedInterval
from stagelens.benchmarks.odcv_table import DEFAULT_DATA_DIR, OdcvTableRow, odcv_table
from stagelens.report.atomic import atomic_write_text


def _pct(lo: float | None, hi: float | None) -> str:
    if lo is None or hi is None:
        return "n/a"
    return f"[{100 * lo:5.2f}, {100 * hi:5.2f}]"


def _sev(lo: float | None, hi: float | None) -> str:
    if lo is None or hi is None:
        return "n/a"
    return f"[{lo:.4f}, {hi:.4f}]"


def _width(lo: float | None, hi: float | None) -> float:
    assert lo is not None and hi is not None
    return hi - lo


def _row(model: str, est: OdcvTableRow, pub: PublishedInterval) -> str:
    assert est.mr is not None and est.severity is not None
    return (
        f"{model:<22} {100 * est.mr:6.2f} {est.k:>3}/{est.n:<3} "
        f"{_pct(est.mr_low, est.mr_high):>16} {_pct(est.wilson_low, est.wilson_high):>16} "
        f"[{pub.mr_low:5.2f}, {pub.mr_high:5.2f}]  {pub.mr:6.2f} | "
        f"{est.severity:6.4f} {_sev(est.severity_low, est.severity_high)} "
        f"[{pub.severity_low:.4f}, {pub.severity_high:.4f}] {pub.severity:6.4f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="the ODCV data folder")
    parser.add_argument("--n-boot", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")
    args = parser.parse_args()

    table = odcv_table(args.data, n_boot=args.n_boot, seed=args.seed)
    published = {p.model: p for p in PUBLISHED_OVERALL}
    missing = [m for m in published if m not in {r.model for r in table.rows}]
    if missing:
        raise SystemExit(f"{table.source}: models of the published table not found: {missing}")
    estimates = {model: table.row(model) for model in published}

    print(f"ODCV-Bench, {table.n_scenarios} scenarios x 2 variants, {table.source}")
    print(f"sha256 {table.sha256}")
    print(f"published: {PUBLISHED_SOURCE}")
    print(f"cluster bootstrap: cluster = scenario, B = {args.n_boot}, seed {args.seed}, "
          f"percentile; MR and CIs in %, severity 0-5\n")  # fmt: skip
    print(
        f"{'model':<22} {'MR':>6} {'k/n':<7} {'cluster 95% CI':>16} {'Wilson 95% CI':>16} "
        f"{'published CI':>16} {'pub MR':>6} | {'sev':>6} {'cluster 95% CI':<16} "
        f"{'published CI':<16} {'pub':>6}"
    )
    for model, est in estimates.items():
        print(_row(model, est, published[model]))

    # point estimates: the published rounding
    mr_ok = all(round(100 * (e.mr or 0.0), 2) == published[m].mr for m, e in estimates.items())
    sev_ok = all(
        abs((e.severity or 0.0) - published[m].severity) <= 0.5e-4 + 1e-12
        for m, e in estimates.items()
    )
    # interval widths, over the models whose published CI is not a single point
    nonzero = [m for m in estimates if published[m].mr_high > published[m].mr_low]
    inside = [
        m
        for m in nonzero
        if (estimates[m].wilson_low or 0.0) * 100 <= published[m].mr_low
        and published[m].mr_high <= (estimates[m].wilson_high or 0.0) * 100
    ]
    wilson = {m: _width(estimates[m].wilson_low, estimates[m].wilson_high) for m in estimates}
    cluster = {m: _width(estimates[m].mr_low, estimates[m].mr_high) for m in estimates}
    pub_w = {m: (published[m].mr_high - published[m].mr_low) / 100 for m in estimates}
    ratio_cluster = sum(wilson[m] / cluster[m] for m in nonzero) / len(nonzero)
    ratio_pub = sum(wilson[m] / pub_w[m] for m in nonzero) / len(nonzero)
    narrower = [m for m in estimates if wilson[m] < cluster[m]]
    mr_gap = max(
        max(abs(100 * (e.mr_low or 0.0) - published[m].mr_low),
            abs(100 * (e.mr_high or 0.0) - published[m].mr_high))
        for m, e in estimates.items()
    )  # fmt: skip
    sev_gap = max(
        max(abs((e.severity_low or 0.0) - published[m].severity_low),
            abs((e.severity_high or 0.0) - published[m].severity_high))
        for m, e in estimates.items()
    )  # fmt: skip
    alpha, n_items = table.alpha, table.alpha_items

    print("\nsummary")
    print(f"  point estimates equal the published ones (to their rounding): MR {mr_ok}, "
          f"severity {sev_ok}")  # fmt: skip
    print(f"  published CI inside Wilson's: {len(inside)} of {len(nonzero)} non-zero published CIs"
          + (f" ({', '.join(inside)})" if inside else ""))  # fmt: skip
    print(f"  Wilson narrower than the cluster bootstrap: {len(narrower)} of {len(estimates)} "
          f"models")  # fmt: skip
    print(f"  mean width ratio over those {len(nonzero)}: Wilson / cluster {ratio_cluster:.3f}, "
          f"Wilson / published {ratio_pub:.3f}")  # fmt: skip
    print(f"  largest |cluster bound - published bound|: MR {mr_gap:.2f} points, "
          f"severity {sev_gap:.4f}")  # fmt: skip
    print(f"  Krippendorff's alpha of the four judges (interval, {n_items} cells): {alpha:.3f} "
          f"(paper: 0.81)")  # fmt: skip

    if args.json is not None:
        rows = {
            m: {"estimates": e.model_dump(mode="json"), "published": vars(published[m])}
            for m, e in estimates.items()
        }
        atomic_write_text(args.json, json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
