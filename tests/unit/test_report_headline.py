"""What a reader sees first: the headline per metric, honest numbers, stand-ins, the chart."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from stagelens.report import build_bars_figure, render_html, write_report
from stagelens.report.figures import stage_order
from stagelens.report.format import fmt_pct, fmt_points
from stagelens.report.headline import headline, summary_line
from stagelens.report.record import RunRecord, StageRecord
from stagelens.stats.types import MetricComparison
from tests.unit import test_report
from tests.unit.test_report import _rate

record = test_report.record  # the report tests' record, as a fixture of this module too

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _with(mc: MetricComparison, **update: object) -> MetricComparison:
    return mc.model_copy(update=update)


def _share(mc: MetricComparison, share: float | None, lo: float, hi: float) -> MetricComparison:
    attribution = mc.attribution.model_copy(update={"share": share, "ci_low": lo, "ci_high": hi})
    return _with(mc, attribution=attribution)


def _legend(fig: object) -> list[str]:
    return [t.get_text().replace("\n", " ") for t in fig.legends[0].get_texts()]  # type: ignore[attr-defined]


def _headline_items(page: str) -> dict[str, str]:
    return dict(re.findall(r'<li data-metric="([^"]+)" data-verdict="[^"]+">(.*?)</li>', page))


def test_headline_per_metric_before_the_tables(record: RunRecord) -> None:
    page = render_html(record)
    items = _headline_items(page)
    assert set(items) == {mc.metric for mc in record.metrics}
    assert "Which stage carries this behaviour?" in page
    assert page.index("Which stage carries this behaviour?") < page.index("<table")
    assert "SFT alone reproduces production" in items["unsafe_response_rate"]
    assert "Production is safer than SFT alone" in items["over_refusal_rate"]


def test_headline_equivalent_and_production_safer(record: RunRecord) -> None:
    equivalent, production_safer = record.metrics
    text = headline(record, equivalent)
    assert text.startswith("SFT alone reproduces production (SFT's share 97.0% [87.0%, 105.0%])")
    assert "RL (the stages after SFT) adds nothing measurable" in text
    assert "within ±5 pts" in text
    text = headline(record, production_safer)
    assert text.startswith("Production is safer than SFT alone (by 16.0 pts, 95% CI 13.0 to 19.0)")
    assert "RL (or the stages after SFT) adds this behaviour" in text
    # share None: its note says why, once
    assert "SFT's share of the base → production change: production - base is 0" in text
    bare = record.metrics[1].attribution.model_copy(update={"note": None})
    assert "change is undefined." in headline(record, _with(production_safer, attribution=bare))


def test_headline_equivalent_with_a_low_share_says_so(record: RunRecord) -> None:
    low = _share(record.metrics[0], 0.12, 0.02, 0.25)
    text = headline(record, low)
    assert "equivalent within ±5 pts" in text
    assert "but SFT alone reproduces little of the base → production change" in text
    assert "12.0% [2.0%, 25.0%]" in text


def test_headline_sft_only_safer(record: RunRecord) -> None:
    mc = _with(record.metrics[1], verdict="sft_only_safer", verdict_scored_only="sft_only_safer")
    mc = _with(mc, difference=mc.difference.model_copy(update={"diff": -0.16, "ci_low": -0.19,
                                                               "ci_high": -0.13}))  # fmt: skip
    text = headline(record, mc)
    assert text.startswith("SFT alone is safer than production (by 16.0 pts, 95% CI 13.0 to 19.0)")
    assert "the stages after SFT removed some of SFT's behaviour" in text


def test_higher_is_better_says_better(record: RunRecord) -> None:
    suites = [s.model_copy(update={"lower_is_safer": False}) for s in record.suites]
    better = record.model_copy(update={"suites": suites})
    text = headline(better, better.metrics[1])
    assert text.startswith("Production is better than SFT alone")
    assert "safer" not in text
    sft = _with(better.metrics[1], verdict="sft_only_safer")
    assert headline(better, sft).startswith("SFT alone is better than production")


def test_a_neutral_rate_says_lower_or_higher_never_safer(record: RunRecord) -> None:
    # evaluation awareness: production knowing more often that it is tested is not "safer"
    suites = [s.model_copy(update={"neutral": True}) for s in record.suites]
    neutral = record.model_copy(update={"suites": suites})
    text = headline(neutral, neutral.metrics[1])
    assert text.startswith("Production's rate is lower than SFT alone's (by 16.0 pts")
    assert "neither direction is safer" in text and "safer than" not in text
    sft = _with(neutral.metrics[1], verdict="sft_only_safer")
    assert headline(neutral, sft).startswith("Production's rate is higher than SFT alone's")
    assert "neither direction is safer" in render_html(neutral)


def test_headline_inconclusive_says_why(record: RunRecord) -> None:
    reason = ("the verdict depends on the 3 unscored answers: counted against SFT-only it would "
              "be equivalent, counted against production sft_only_safer")  # fmt: skip
    mc = _with(
        record.metrics[0],
        verdict="inconclusive",
        verdict_scored_only="equivalent",
        verdict_reasons=[reason],
    )
    text = headline(record, mc)
    assert text.startswith("Undecided: the verdict depends on the 3 unscored answers")
    assert "counted against production SFT-only safer" in text  # machine names read in words
    assert "sft_only_safer" not in text
    assert "on the scored pairs alone SFT-only and production would be equivalent" in text
    few = _with(mc, verdict_scored_only="inconclusive",
                verdict_reasons=["only 4 pairs were scored on both stages; any verdict needs "
                                 "at least 30"])  # fmt: skip
    assert "only 4 pairs were scored on both stages" in headline(record, few)
    # inconclusive on the data alone: the difference is too uncertain
    data = _with(record.metrics[0], verdict="inconclusive", verdict_scored_only="inconclusive")
    text = headline(record, data)
    assert text.startswith("Undecided: the difference between SFT alone and production (+1.0 pts")
    assert "too uncertain" in text and "more prompts would settle it" in text


def test_negative_and_overshooting_shares_read_in_words(record: RunRecord) -> None:
    rates = {
        "base": _rate(142, 200, 0.642, 0.768),
        "sft_only": _rate(160, 200, 0.74, 0.85),
        "production": _rate(7, 200, 0.017, 0.070),
    }
    negative = _share(_with(record.metrics[1], rates=rates), -0.219, -0.35, -0.1)
    text = headline(record, negative)
    assert "SFT alone moved it the other way" in text
    assert "SFT-only's rate went up where production's went down" in text
    assert "-21.9% [-35.0%, -10.0%]" in text
    over = _share(record.metrics[1], 1.8, 1.4, 2.3)
    text = headline(record, over)
    assert "SFT alone overshoots production" in text and "1.8 times as far" in text
    near = _share(record.metrics[1], 1.05, 1.01, 1.1)
    assert "overshoots" not in headline(record, near)
    assert "all of the base → production change, and slightly more" in headline(record, near)


def test_no_negative_zero_anywhere(record: RunRecord) -> None:
    assert fmt_pct(-0.0004) == "0.0%" and fmt_pct(-0.0004, signed=True) == "0.0%"
    assert fmt_pct(0.0004, signed=True) == "0.0%" and fmt_pct(-0.0006, signed=True) == "-0.1%"
    assert fmt_points(-0.0004) == "0.0 pts" and fmt_points(-0.012) == "-1.2 pts"
    tiny = -0.0002
    mcs = []
    for mc in record.metrics:
        d = mc.difference.model_copy(update={"diff": tiny, "ci_low": tiny, "ci_high": 0.0001})
        q = mc.equivalence.model_copy(update={"diff": tiny, "ci_low": tiny, "ci_high": 0.0})
        mcs.append(_share(_with(mc, difference=d, equivalence=q, verdict="inconclusive",
                                verdict_scored_only="inconclusive"), tiny, tiny, 0.0))  # fmt: skip
    zeros = record.model_copy(update={"metrics": mcs})
    page = render_html(zeros)
    assert "0.0 pts" in page and "0.0%" in page  # the numbers are there, unsigned
    assert "-0.0" not in page and "+0.0" not in page


def test_summary_line_counts_metrics_and_suites(record: RunRecord) -> None:
    assert summary_line(record) == "3 stages · 2 metrics from 2 suites"
    # one suite (one log per stage) scoring two metrics: 4 metrics from 3 suites
    logs = {"unsafe_response": "u.eval", "over_refusal": "o.eval", "reward_hacking": "r.eval"}
    stages = [s.model_copy(update={"logs": logs}) for s in record.stages]
    extra = [
        record.suites[0].model_copy(update={"name": n, "metric": n})
        for n in ("reward_hacking_cheat", "reward_hacking_honest_success")
    ]
    metrics = [*record.metrics, *(_with(record.metrics[0], metric=s.name) for s in extra)]
    four = record.model_copy(
        update={"stages": stages, "suites": [*record.suites, *extra], "metrics": metrics}
    )
    assert summary_line(four) == "3 stages · 4 metrics from 3 suites"
    assert "3 stages · 4 metrics from 3 suites" in render_html(four)
    no_logs = four.model_copy(update={"stages": [s.model_copy(update={"logs": {}})
                                                 for s in stages]})  # fmt: skip
    assert summary_line(no_logs) == "3 stages · 4 metrics from 4 suites"  # by name


def test_bootstrap_size_printed_once(record: RunRecord) -> None:
    a = record.metrics[0].attribution.model_copy(
        update={"method": "ratio of rate differences, joint bootstrap percentile, B=10000"}
    )
    metrics = [_with(record.metrics[0], attribution=a), record.metrics[1]]
    page = render_html(record.model_copy(update={"metrics": metrics}))
    assert "joint bootstrap percentile, B=10000 (seed 7)." in page
    assert "B = 10000" not in page
    # a method that does not name its size gets it, once
    assert "paired bootstrap percentile (B=10000, seed 7)" in page


def test_chart_embedded_and_no_network(record: RunRecord, tmp_path: Path) -> None:
    paths = write_report(record, tmp_path / "out")
    page = paths.report_html.read_text(encoding="utf-8")
    match = re.search(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert match is not None
    png = base64.b64decode(match.group(1))
    assert png[:8] == PNG_MAGIC and png == paths.bars_png.read_bytes()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:[a-z]+:)?//""", page, re.I)
    assert "@import" not in page and "url(" not in page and "<script" not in page
    assert "<link" not in page
    assert b"matplotlib.org" not in png  # no URL in the image's own metadata


def _standin_record(run: RunRecord) -> RunRecord:
    """All three stages the same weights, base described as a stand-in (the SmolLM2 spec)."""
    stages = [s.model_copy(update={"config_hash": "same-gguf"}) for s in run.stages]
    stages[0] = stages[0].model_copy(update={"description": "Stand-in: the instruct GGUF."})
    return run.model_copy(update={"stages": stages})


def test_stand_ins_named_in_legend_and_headline(record: RunRecord) -> None:
    assert not any("stand-in" in t for t in _legend(build_bars_figure(record)))
    plain = render_html(record)
    assert "Not evidence" not in plain and "Stand-ins:" not in plain

    same = _standin_record(record)
    legend = _legend(build_bars_figure(same))
    assert legend[:3] == [
        "Base (stand-in: same weights as production)",
        "SFT-only (stand-in: same weights as production)",
        "Production (SFT + RL)",
    ]
    page = render_html(same)
    assert "Stand-ins:</strong> base is a stand-in (same weights as production)" in page
    items = _headline_items(page)
    for mc in same.metrics:
        assert "Not evidence:" in items[mc.metric]
        assert "SFT-only and production are the same weights" in headline(same, mc)

    # base alone shares production's weights: the verdict (SFT-only vs production) is evidence,
    # the legend still names the stand-in
    stages = [s.model_copy(update={"config_hash": h})
              for s, h in zip(record.stages, ("p", "s", "p"), strict=True)]  # fmt: skip
    base_only = record.model_copy(update={"stages": stages})
    assert _legend(build_bars_figure(base_only))[0] == "Base (stand-in: same weights as production)"
    assert all("Not evidence" not in headline(base_only, mc) for mc in base_only.metrics)

    # a stage that says it is a stand-in, with weights of its own
    said = record.model_copy(update={"stages": [
        record.stages[0], record.stages[1].model_copy(update={"description": "Stand-in: none"}),
        record.stages[2]]})  # fmt: skip
    assert _legend(build_bars_figure(said))[1] == "SFT-only (stand-in)"
    assert headline(said, said.metrics[0]).startswith("Not evidence: SFT-only is a stand-in")


def test_fixed_stage_order(record: RunRecord) -> None:
    extra = StageRecord(name="rlhf_v2", description="another", checkpoint="x")
    shuffled = record.model_copy(
        update={"stages": [record.stages[2], extra, record.stages[1], record.stages[0]]}
    )
    assert stage_order(shuffled) == ["base", "sft_only", "production", "rlhf_v2"]
    fig = build_bars_figure(shuffled)
    assert _legend(fig)[:3] == ["Base (pretrained)", "SFT-only", "Production (SFT + RL)"]
    page = render_html(shuffled)
    table = page[page.index("<h3>") :]
    positions = [table.index(f"<td>{label}</td>") for label in
                 ("Base (pretrained)", "SFT-only", "Production (SFT + RL)")]  # fmt: skip
    assert positions == sorted(positions)


@pytest.mark.parametrize("n_metrics", [1, 2, 4])
def test_long_title_is_not_clipped(record: RunRecord, n_metrics: int) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    name = "SmolLM2 135M (HuggingFaceTB/SmolLM2-135M-Instruct, Q4_1 GGUF)"
    metrics = [_with(record.metrics[i % 2], metric=f"m{i}") for i in range(n_metrics)]
    long = _standin_record(record).model_copy(update={"name": name, "metrics": metrics})
    fig = build_bars_figure(long)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    box = fig.get_tightbbox(renderer).transformed(fig.dpi_scale_trans)  # pixels
    assert box.x0 >= 0 and box.y0 >= 0
    assert box.x1 <= fig.bbox.x1 + 0.5 and box.y1 <= fig.bbox.y1 + 0.5
    title = fig.axes[0].title
    assert "".join(title.get_text().split()).startswith("".join(name.split()))
    legend = fig.legends[0].get_window_extent(renderer)
    assert not title.get_window_extent(renderer).overlaps(legend)


def test_a_distilled_sft_part_is_flagged_beside_every_attribution(record: RunRecord) -> None:
    flagged = record.model_copy(update={"sft_distilled_parts": ["tulu-distilled"]})
    page = render_html(flagged)
    sections = page.count("SFT attribution share")
    assert sections == len(flagged.metrics) > 0
    assert page.count("Confound: SFT&#x27;s share includes behaviour distilled") == sections
    for mc in flagged.metrics:
        assert "distilled from an RL-trained model" in headline(flagged, mc)
        assert "tulu-distilled" in headline(flagged, mc)
    # nothing declared: no flag
    assert "Confound:" not in render_html(record)
    assert all("distilled" not in headline(record, mc) for mc in record.metrics)
