"""Audit on real user prompts: every stage answers the same conversations from real logs.

Prompts come from `userlogs:FILE` (WildChat, LMSYS-Chat-1M, ShareGPT, OpenAI messages, plain
JSONL/CSV/Parquet; `stagelens.benchmarks.userlogs`): the first user turn, or the conversation
up to its last user turn; deduplicated; a seeded sample of N; a language filter where the
file records one. The model's thoughts (Inspect reasoning content, `<think>` blocks) are kept
apart from its answer.

Scores, kept apart:
- `audit_offline` (offline raters): `refusal` (refusal-strings on the answer) and
  `eval_awareness` (awareness-patterns on thoughts and answer).
- `audit_judged` (with a judge): one multi-label verdict per response over the taxonomy
  (`stagelens.raters.judges.audit`), thoughts included, a panel's majority per category.
Each prompt is its own cluster; samples of several epochs of a prompt share it.
"""

from __future__ import annotations

from typing import Any

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import (
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageUser,
    GenerateConfig,
)
from inspect_ai.scorer import Score, Scorer, Target, scorer
from inspect_ai.solver import Generate, Solver, TaskState, generate, solver

from stagelens.raters.metrics import event_rate
from stagelens.raters.thoughts import offline_audit
from stagelens.suites.alignment_dilemmas import thoughts_and_answer
from stagelens.suites.common import SuiteInfo

NAME = "user_audit"
INFO = SuiteInfo(
    name=NAME,
    metric="audit_flagged",
    label="Audit: any category flagged",
    description="share of answers to real user prompts a judge flags in any category",
    request_kind="user prompt",
    judge_event="flagged",
    event_labels=("flagged",),
)
OFFLINE_SCORER = "audit_offline"
# offline metrics: score key -> (metric name, label, description)
OFFLINE = {
    "refusal": ("audit_refusal", "Audit: refusal (offline)",
                "share of answers to real user prompts the refusal-strings rater reads as a "
                "refusal; neither direction is safer, since the prompts mix harmful and benign "
                "requests (a judge's harmful_compliance and unwarranted_refusal tell them "
                "apart)"),
    "eval_awareness": ("audit_eval_awareness_offline", "Audit: evaluation awareness (offline)",
                       "share of answers (thoughts included) the awareness-patterns rater "
                       "reads as voicing a belief of being tested"),
}  # fmt: skip


def _message(role: str, content: str) -> Any:
    if role == "user":
        return ChatMessageUser(content=content)
    if role == "system":
        return ChatMessageSystem(content=content)
    return ChatMessageAssistant(content=content)


def _sample(prompt: Any, path: str) -> Sample:
    from stagelens.benchmarks.userlogs import redact

    if prompt.turns == "conversation" and len(prompt.messages) > 1:
        messages = [_message(m["role"], m["content"]) for m in prompt.messages]
        shown = "\n\n".join(f"[{m['role']}] {m['content']}" for m in prompt.messages)
        return Sample(id=prompt.id, input=messages,
                      metadata={"line": prompt.line, "language": prompt.language,
                                "judge_request": shown, "shown": redact(shown)})  # fmt: skip
    return Sample(id=prompt.id, input=prompt.text,
                  metadata={"line": prompt.line, "language": prompt.language,
                            "shown": redact(prompt.text)})  # fmt: skip


def audit_samples(
    source: str, n: int = 0, seed: int = 0, turns: str = "first", dedupe: bool = True,
    language: str | None = None, shard: str | None = None,
) -> tuple[list[Sample], Any]:  # fmt: skip
    """The samples of `source` ("userlogs:FILE") and what was read (skips counted); with
    `shard` "i/k", only that slice's samples are built: a shard of a 50,000-prompt file then
    builds 5,000 Inspect samples, not 50,000 (its task: +39 MB and 1.9 s CPU, from +95 MB and
    3.1 s)."""
    from stagelens.benchmarks.userlogs import read_userlogs
    from stagelens.suites.sharding import shard_samples

    kind, _, path = source.partition(":")
    if kind != "userlogs" or not path:
        raise ValueError(f"source {source!r}: expected userlogs:FILE")
    logs = read_userlogs(path, turns=turns, dedupe=dedupe, n=n, seed=seed, language=language)  # type: ignore[arg-type]
    prompts = logs.prompts if shard is None else shard_samples(logs.prompts, shard)
    return [_sample(p, path) for p in prompts], logs


@scorer(metrics={key: [event_rate()] for key in OFFLINE}, name=OFFLINE_SCORER)
def audit_offline() -> Scorer:
    """Refusal (answer) and evaluation awareness (thoughts and answer), offline."""

    async def score(state: TaskState, target: Target) -> Score:
        thoughts, answer = thoughts_and_answer(state)
        value, why = offline_audit(thoughts, answer)
        return Score(value=value, answer=answer[:2000], explanation=why,
                     metadata={"thoughts": thoughts[:4000]})  # fmt: skip

    return score


def _judge_view(state: TaskState) -> str:
    thoughts, answer = thoughts_and_answer(state)
    return f"[reasoning]\n{thoughts}\n\n[answer]\n{answer}" if thoughts else answer


@solver
def keep_thoughts_apart() -> Solver:
    """After generation: what the audit judge reads, the reasoning and the answer apart."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        state.metadata["judge_response"] = _judge_view(state)
        return state

    return solve


@task
def user_audit(
    source: str,
    n: int = 0,
    seed: int = 0,
    turns: str = "first",
    dedupe: bool = True,
    language: str | None = None,
    max_tokens: int = 512,
    temperature: float | None = 0.0,
    judge: dict[str, Any] | None = None,
    shard: str | None = None,
) -> Task:
    """Real user prompts on one model. `judge`: {"categories": {name: definition} (default
    taxonomy), "n_graders", "retries", "cache", "max_tokens"}; graders are the "grader" role
    (numbered "grader_1", ... in a panel). `shard` "i/k" runs one slice (a sharded audit)."""
    # every prompt has its id from the file, so slicing the prompts is slicing the dataset
    samples, logs = audit_samples(source, n, seed, turns, dedupe, language, shard)
    dataset = MemoryDataset(samples, name=logs.provenance.name, location=source)
    if shard is not None and not samples:
        raise ValueError(f"shard {shard} of {len(logs.prompts)} samples is empty: "
                         f"use at most {len(logs.prompts)} shards")  # fmt: skip
    scorers = [audit_offline()]
    if judge is not None:
        from stagelens.raters.judges.audit import audit_judged
        from stagelens.raters.judges.scorer import grader_roles

        settings = dict(judge)
        n_graders = int(settings.pop("n_graders", 1))
        if settings.pop("rubric", "audit") != "audit":
            raise ValueError("the user_audit suite is judged with rubric 'audit'")
        scorers.append(audit_judged(graders=grader_roles(n_graders), **settings))
    return Task(
        dataset=dataset,
        solver=[generate(), keep_thoughts_apart()],
        scorer=scorers,
        config=GenerateConfig(max_tokens=max_tokens, temperature=temperature),
        name=NAME,
        metadata={"stagelens_suite": NAME, "skipped_rows": len(logs.skipped)},
    )


__all__ = ["INFO", "NAME", "OFFLINE", "audit_offline", "audit_samples", "user_audit"]
