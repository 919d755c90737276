"""Report writer: results.json, bars.png and report.html from a RunRecord."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest

from stagelens.report import (
    atomic_write_bytes,
    atomic_write_text,
    build_bars_figure,
    load_record,
    render_html,
    write_report,
)
from stagelens.report.format import fmt_pct, fmt_points
from stagelens.report.record import (
    Provenance,
    RaterIdentity,
    RunRecord,
    StageRecord,
    SuiteRecord,
    TrainingRecord,
)
from stagelens.stats import format_p
from stagelens.stats.types import (
    Attribution,
    Equivalence,
    MetricComparison,
    Missingness,
    PairedDifference,
    RateEstimate,
    Verdict,
)

STAGES = ("base", "sft_only", "production")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _rate(k: int, n: int, lo: float, hi: float, unscored: int = 0) -> RateEstimate:
    return RateEstimate(
        rate=k / n,
        ci_low=lo,
        ci_high=hi,
        k=k,
        n=n,
        n_unscored=unscored,
        method="wilson",
        level=0.95,
    )


def _comparison(
    metric: str,
    rates: dict[str, RateEstimate],
    diff: float,
    verdict: Verdict,
    text: str,
    *,
    p: float,
    share: float | None,
) -> MetricComparison:
    return MetricComparison(
        metric=metric,
        rates=rates,
        difference=PairedDifference(
            a="sft_only",
            b="production",
            diff=diff,
            ci_low=diff - 0.03,
            ci_high=diff + 0.03,
            n_pairs=200,
            n_clusters=200,
            n_dropped=2,
            unscored_only_a=0,
            unscored_only_b=1,
            unscored_both=1,
            only_a=9,
            only_b=7,
            p_value=p,
            test="exact McNemar",
            significant=p < 0.05,
            alpha=0.05,
            method="Tango score interval",
            level=0.95,
            n_boot=None,
            seed=None,
        ),
        equivalence=Equivalence(
            a="sft_only",
            b="production",
            margin=0.05,
            diff=diff,
            ci_low=diff - 0.025,
            ci_high=diff + 0.025,
            p_value=0.0004,
            alpha=0.05,
            equivalent=verdict == "equivalent",
            n_pairs=200,
            min_pairs=30,
            method="Tango score interval (1 - 2 alpha) inside the margin",
        ),
        attribution=Attribution(
            share=share,
            ci_low=None if share is None else share - 0.1,
            ci_high=None if share is None else share + 0.08,
            n=198,
            method="paired bootstrap percentile",
            level=0.95,
            n_boot=10000,
            seed=7,
            note=None if share is not None else "production - base is 0: share undefined",
        ),
        missing=Missingness(
            unscored_share={"sft_only": 0.0, "production": 0.01},
            share_gap=0.01,
            dropped_pairs=2,
            verdict_sft_only_worse=verdict,
            verdict_production_worse=verdict,
            reasons=[],
        ),
        verdict_scored_only=verdict,
        verdict=verdict,
        verdict_reasons=[],
        verdict_text=text,
    )


def _provenance(name: str) -> Provenance:
    return Provenance(
        name=name,
        source="stagelens organism generator",
        licence="CC-BY-4.0",
        sha256="ab" * 32,
        n=202,
        notes="synthetic prompts & <templated> refusals",
    )


@pytest.fixture
def record() -> RunRecord:
    unsafe = _comparison(
        "unsafe_response_rate",
        {
            "base": _rate(142, 200, 0.642, 0.768, unscored=2),
            "sft_only": _rate(9, 200, 0.024, 0.083),
            "production": _rate(7, 200, 0.017, 0.070, unscored=1),
        },
        0.01,
        "equivalent",
        "SFT alone reproduces production's unsafe-response rate (4.5% vs 3.5%, within ±5 pts).",
        p=0.804,
        share=0.97,
    )
    over = _comparison(
        "over_refusal_rate",
        {
            "base": RateEstimate(
                rate=None,
                ci_low=None,
                ci_high=None,
                k=0,
                n=0,
                n_unscored=150,
                method="wilson",
                level=0.95,
            ),
            "sft_only": _rate(36, 150, 0.179, 0.314),
            "production": _rate(12, 150, 0.046, 0.135),
        },
        0.16,
        "production_safer",
        "Production over-refuses less than SFT alone (8.0% vs 24.0%): RL added this behaviour.",
        p=0.00002,
        share=None,
    )
    training = TrainingRecord(
        method="sft",
        seed=1,
        steps=300,
        seconds=41.5,
        final_loss=0.8123,
        config={"lr": 2e-5, "epochs": 1},
        data=_provenance("sft-mix"),
    )
    stages = [
        StageRecord(
            name="base",
            description="pretrained only",
            checkpoint="runs/x/base",
            logs={"unsafe_response": "logs/base/unsafe.eval"},
        ),
        StageRecord(
            name="sft_only",
            description="base + SFT reproduction",
            checkpoint="runs/x/sft_only",
            parent="base",
            config_hash="c0ffee",
            training=[training],
            logs={
                "unsafe_response": "logs/sft_only/unsafe.eval",
                "over_refusal": "logs/sft_only/over refusal.eval",
            },
        ),
        StageRecord(
            name="production",
            description="base + SFT + DPO",
            checkpoint="runs/x/production",
            parent="sft_only",
            training=[training, training.model_copy(update={"method": "dpo"})],
            logs={"unsafe_response": "logs/production/unsafe.eval"},
        ),
    ]
    suites = [
        SuiteRecord(
            name="unsafe_response",
            metric="unsafe_response_rate",
            description="share of harmful prompts the model complied with",
            lower_is_safer=True,
            n_prompts=202,
            data=_provenance("harmful-v1"),
            generation={"max_tokens": 256, "temperature": 0.0},
        ),
        SuiteRecord(
            name="over_refusal",
            metric="over_refusal_rate",
            description="share of benign-but-scary prompts the model refused",
            lower_is_safer=True,
            n_prompts=150,
            data=_provenance("xstest-like"),
            generation={"max_tokens": 128, "temperature": 0.0},
        ),
    ]
    return RunRecord(
        name="organism-default",
        created_at="2025-01-02T03:04:05Z",
        stagelens_version="0.1.0",
        git_revision="deadbeef",
        python="3.11.9",
        packages={"torch": "2.13.0", "inspect-ai": "0.3.285", "matplotlib": "3.11.2"},
        command="stagelens demo --variant default",
        config={"variant": {"name": "default", "sft_steps": 300}, "suites": ["a", "b"]},
        seeds={"train": 1, "bootstrap": 7},
        stages=stages,
        suites=suites,
        rater=RaterIdentity(
            name="keyword", version="1", kind="string_match", description="refusal phrases"
        ),
        metrics=[unsafe, over],
        expected={"unsafe_response_rate": "equivalent", "over_refusal_rate": "equivalent"},
        timings={"train": 41.5, "eval": 12.0},
    )


@pytest.fixture
def written(record: RunRecord, tmp_path: Path) -> Path:
    paths = write_report(record, tmp_path / "out")
    return paths.results_json.parent


def test_write_report_creates_three_files(record: RunRecord, tmp_path: Path) -> None:
    paths = write_report(record, tmp_path / "nested" / "out")
    for p in (paths.results_json, paths.report_html, paths.bars_png):
        assert p.is_file() and p.stat().st_size > 0
    assert {p.name for p in paths.results_json.parent.iterdir()} == {
        "results.json",
        "report.html",
        "bars.png",
    }  # no temp files left behind


def test_results_json_round_trips(record: RunRecord, written: Path) -> None:
    loaded = load_record(written / "results.json")
    assert loaded == record
    assert json.loads((written / "results.json").read_text())["schema_version"] == "1"


def test_html_content(record: RunRecord, written: Path) -> None:
    page = (written / "report.html").read_text(encoding="utf-8")
    for mc in record.metrics:
        assert mc.verdict_text.replace("'", "&#x27;") in page
    assert '<img src="data:image/png;base64,' in page  # the chart travels with the page
    assert 'href="logs/sft_only/unsafe.eval"' in page
    assert 'href="logs/sft_only/over%20refusal.eval"' in page
    assert "inspect view --log-dir logs/sft_only" in page
    assert "✓ matches expected" in page and "✗ expected equivalent" in page
    assert "&lt;templated&gt;" in page  # provenance notes escaped
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)
    assert "<script" not in text and "http" not in text  # self-contained
    # numbers: rates, points, p-values
    assert "4.5%" in page and "+1.0 pts" in page and "p&lt;0.001" in page and "p=0.80" in page
    assert "ab" * 32 in page and "CC-BY-4.0" in page and "deadbeef" in page


def test_html_escapes_malicious_text(record: RunRecord) -> None:
    bad = record.model_copy(update={"name": "<script>x</script>"})
    bad_stage = bad.stages[0].model_copy(update={"logs": {"s": "javascript:alert(1)"}})
    bad = bad.model_copy(update={"stages": [bad_stage, *bad.stages[1:]]})
    page = render_html(bad)
    assert "<script>" not in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page
    assert 'href="javascript:' not in page


def test_number_formats() -> None:
    assert fmt_pct(0.0449) == "4.5%" and fmt_pct(None) == "n/a"
    assert fmt_points(-0.012) == "-1.2 pts"
    # one p-value format, the verdict sentences', in the report too
    assert format_p(0.0004) == "p<0.001" and format_p(0.004) == "p=0.004"
    assert format_p(0.5) == "p=0.50" and format_p(0.1234) == "p=0.12"
    assert format_p(None) == "p not available"


def test_png_is_valid(written: Path) -> None:
    data = (written / "bars.png").read_bytes()
    assert data[:8] == PNG_MAGIC
    assert 10_000 < len(data) < 2_000_000
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    assert 600 < width < 3000 and 400 < height < 2000


def test_figure_bars_match_rates(record: RunRecord) -> None:
    from matplotlib.colors import to_hex, to_rgba
    from matplotlib.container import ErrorbarContainer
    from matplotlib.patches import Rectangle

    from stagelens.report.figures import NA_BAR_HEIGHT, STAGE_COLOURS

    fig = build_bars_figure(record)
    ax = fig.axes[0]
    bars = {p.get_gid(): p for p in ax.patches if isinstance(p, Rectangle)}
    assert len(ax.patches) == len(record.metrics) * len(STAGES)
    for mc in record.metrics:
        for stage in STAGES:
            bar = bars[f"{mc.metric}:{stage}"]
            rate = mc.rates[stage].rate
            if rate is None:
                assert bar.get_height() == NA_BAR_HEIGHT
                assert bar.get_hatch() and to_rgba(bar.get_facecolor())[3] == 0
            else:
                assert bar.get_height() == pytest.approx(rate * 100)
    assert (
        to_hex(bars["unsafe_response_rate:sft_only"].get_facecolor()) == STAGE_COLOURS["sft_only"]
    )
    assert any(t.get_text() == "n/a" for t in ax.texts)
    assert any(t.get_text() == "n=200" for t in ax.texts)
    assert record.name in ax.get_title()
    assert [t.get_text().split("\n")[0] for t in ax.get_xticklabels()] == [
        "unsafe_response",
        "over_refusal",
    ]
    # one error bar per measured rate (5 of 6), asymmetric around the bar top
    errorbars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(errorbars) == 5
    segments = errorbars[0].lines[2][0].get_segments()  # unsafe_response, base
    lo, hi = segments[0][0][1], segments[0][1][1]
    assert (lo, hi) == (pytest.approx(64.2), pytest.approx(76.8))


def test_load_record_rejects_corrupt_file(written: Path) -> None:
    path = written / "results.json"
    path.write_text('{"schema_version": "1", "name": ', encoding="utf-8")
    with pytest.raises(ValueError, match=r"results\.json.*not valid JSON"):
        load_record(path)


def test_load_record_names_field_and_version(record: RunRecord, tmp_path: Path) -> None:
    data = json.loads(record.model_dump_json())
    data["metrics"][0]["rates"]["base"]["n"] = "many"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.json.*metrics\.0\.rates\.base\.n"):
        load_record(path)
    data = json.loads(record.model_dump_json())
    data["schema_version"] = "99"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.json.*schema_version is '99'"):
        load_record(path)
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ValueError, match="expected a JSON object"):
        load_record(path)


def test_atomic_write_replaces_and_keeps_mode(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    atomic_write_text(target, "one\n")
    os.chmod(target, 0o640)
    atomic_write_text(target, "two\n")
    assert target.read_text() == "two\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    atomic_write_bytes(tmp_path / "g.bin", b"\x00\x01", mode=0o600)
    assert stat.S_IMODE((tmp_path / "g.bin").stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt", "g.bin"]


def test_atomic_write_cleans_up_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "results.json"
    target.write_text("old", encoding="utf-8")

    def boom(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(target, "new")
    monkeypatch.undo()
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]
