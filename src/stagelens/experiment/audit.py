"""The audit on real user prompts inside an experiment: task arguments, judge, summary.

Every stage answers the same prompts; the pipeline compares each category's per-sample flags
across stages like any suite's metric (paired on the same prompts). Beside them the record
keeps the audit's own summary (`audit_summary`): per category and stage the rate with its
Wilson 95% CI, the flagged examples side by side across stages (prompts and answers
redacted of e-mail addresses and phone numbers), and clusters of the flagged prompts
(MiniLM embeddings, hierarchical clustering) with how many each stage mishandled.
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stagelens.experiment.pipeline import SuiteRun
from stagelens.records import RaterIdentity

if TYPE_CHECKING:
    from stagelens.spec import ExperimentSpec

OFFLINE_RATERS = RaterIdentity(
    name="audit-offline",
    version="1",
    kind="string_match",
    description="refusal-strings on the answer (refusal) and awareness-patterns on the "
    "thoughts and the answer (evaluation awareness); offline, no model",
    developed_on="the raters' own written dev examples (src/stagelens/raters/data), not on "
    "any audited log",
)
MAX_EXAMPLES = 12  # flagged examples shown side by side
SHOWN_CHARS = 600


def suite_run(spec: ExperimentSpec) -> SuiteRun:
    """The user_audit suite as the pipeline runs it on every stage of the spec."""
    from stagelens.benchmarks.userlogs import read_userlogs
    from stagelens.evaluate.shards import auto_shards
    from stagelens.experiment.rating import with_judge

    au = spec.audit
    assert au is not None
    path = au.source.partition(":")[2]
    logs = read_userlogs(path, turns=au.turns, dedupe=au.dedupe, n=au.n, seed=au.seed,
                         language=au.language)  # fmt: skip
    args: dict[str, Any] = {
        "source": au.source, "n": au.n, "seed": au.seed, "turns": au.turns,
        "dedupe": au.dedupe, "language": au.language, "max_tokens": au.max_tokens,
    }  # fmt: skip
    generation = {
        "max_tokens": au.max_tokens, "temperature": 0.0, "turns": au.turns,
        "rows_read": logs.n_read, "rows_skipped": len(logs.skipped),
        "duplicates": logs.n_duplicates, "filtered_language": logs.n_filtered_language,
        "skipped_examples": [f"{s.file}:{s.line}: {s.reason}" for s in logs.skipped[:20]],
    }  # fmt: skip
    run = SuiteRun(
        suite="user_audit", args=args, data=logs.provenance, n_prompts=len(logs.prompts),
        generation=generation, rater=OFFLINE_RATERS, realtime=True,
        shards=au.shards or auto_shards(len(logs.prompts)),
        summary=partial(audit_summary, categories=list(au.categories)),
    )  # fmt: skip
    if au.judge is None:
        return run
    judge = spec.judge(au.judge)
    settings = {"rubric": "audit", "n_graders": len(judge.graders), "retries": judge.retries,
                "max_tokens": judge.max_tokens, "categories": au.taxonomy()}  # fmt: skip
    return with_judge(run, judge, settings)


def _short(text: str) -> str:
    from stagelens.benchmarks.userlogs import redact

    text = redact(text)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 3] + "..."


OFFLINE_NAMES = {"refusal_offline": "refusal", "eval_awareness_offline": "eval_awareness"}


def _flags(sample: Any, categories: list[str]) -> dict[str, float | None]:
    """Per category 1.0 / 0.0 / None (unscored) for one sample: the judge's categories and
    the offline raters' (`refusal_offline`, `eval_awareness_offline`)."""
    import math

    scores = sample.scores or {}
    out: dict[str, float | None] = {}
    for name in categories:
        scorer, key = (("audit_offline", OFFLINE_NAMES[name]) if name in OFFLINE_NAMES
                       else ("audit_judged", name))  # fmt: skip
        found = scores.get(scorer)
        value = found.value if found is not None and isinstance(found.value, dict) else {}
        v = value.get(key)
        out[name] = None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
    return out


def _shared(flags: dict[str, float | None], shared: dict[tuple[Any, ...], Any]) -> Any:
    """One dict object for equal flags (read-only once kept)."""
    return shared.setdefault(tuple(flags.items()), flags)


def audit_summary(logs: dict[str, Path], categories: list[str]) -> dict[str, Any]:
    """The audit's figures from each stage's log (see the module's docstring).

    Each log is read a sample at a time without transcripts and outputs, and the
    answers of the few examples shown are read one by one, so memory grows with the flags and
    prompts kept, not with the answers."""
    from inspect_ai.log import read_eval_log_sample

    from stagelens.evaluate.log_samples import NOT_SCORES, scored_samples
    from stagelens.stats.rates import wilson_interval

    skip = set(NOT_SCORES)
    everything = [*categories, *OFFLINE_NAMES]
    flags: dict[str, dict[str, dict[str, float | None]]] = {}
    prompts: dict[str, str] = {}
    ids: dict[str, Any] = {}  # the id as the log holds it (an int or a str)
    judged = False
    # a sample's flags are one of a few combinations: one shared dict each (150,000 samples)
    shared: dict[tuple[Any, ...], dict[str, float | None]] = {}
    for i, (stage, path) in enumerate(logs.items()):
        flags[stage] = {}
        for sample in scored_samples(path):
            sid = sys.intern(str(sample.id))  # one string per prompt, not one per stage
            ids[sid] = sample.id
            judged = judged or "audit_judged" in (sample.scores or {})
            flags[stage][sid] = _shared(_flags(sample, everything), shared)
            if i == 0:
                prompts[sid] = str((sample.metadata or {}).get("shown") or "")
    categories = [*(categories if judged else []), *OFFLINE_NAMES]
    flags = {stage: {sid: _shared({c: f[c] for c in categories}, shared)
                     for sid, f in per.items()}
             for stage, per in flags.items()}  # fmt: skip
    rates: dict[str, dict[str, Any]] = {}
    for stage, per in flags.items():
        rates[stage] = {}
        for name in categories:
            got = [f[name] for f in per.values()]
            scored = [v for v in got if v is not None]
            k, n = int(sum(scored)), len(scored)
            low, high = wilson_interval(k, n) if n else (None, None)
            rates[stage][name] = {
                "k": k, "n": n, "n_unscored": len(got) - n,
                "rate": k / n if n else None, "ci_low": low, "ci_high": high,
            }  # fmt: skip
    flagged = {stage: {sid for sid, f in per.items() if any(v == 1.0 for v in f.values())}
               for stage, per in flags.items()}  # fmt: skip
    shown_ids = sorted(set().union(*flagged.values()))[:MAX_EXAMPLES]
    answers: dict[str, dict[str, str]] = {stage: {} for stage in logs}
    for stage, path in logs.items():
        for sid in shown_ids:
            if sid in flags[stage]:
                sample = read_eval_log_sample(str(path), id=ids[sid],
                                              exclude_fields=skip - {"output"})  # fmt: skip
                answers[stage][sid] = sample.output.completion
    examples = []
    for sid in shown_ids:
        responses = {}
        for stage in logs:
            marks = [c for c, v in flags[stage].get(sid, {}).items() if v == 1.0]
            responses[stage] = {"text": _short(answers[stage].get(sid, "")), "flags": marks}
        cats = sorted({c for r in responses.values() for c in r["flags"]})
        examples.append({"id": sid, "prompt": _short(prompts.get(sid, "")), "categories": cats,
                         "responses": responses})  # fmt: skip
    return {"kind": "audit", "categories": categories, "stages": rates, "examples": examples,
            "n_flagged_any": {stage: len(ids) for stage, ids in flagged.items()},
            "interval": "Wilson 95% CI",
            # the prompts as the report shows them: redacted when read, shortened here
            "clusters": _clusters({k: _short(t) for k, t in prompts.items()}, flagged)}  # fmt: skip


def _clusters(prompts: dict[str, str], flagged: dict[str, set[str]]) -> list[dict[str, Any]]:
    """Clusters of the flagged prompts; [] when none are flagged or MiniLM is not installed
    (the record then has no clusters, and says nothing it did not compute)."""
    if not any(flagged.values()):
        return []
    from stagelens.experiment.audit_clusters import audit_clusters

    try:
        found = audit_clusters(prompts, flagged)
    except (ImportError, FileNotFoundError):
        return []
    return [c.model_dump() for c in found]


__all__ = ["OFFLINE_RATERS", "audit_summary", "suite_run"]
